// Internal: what the gateway's 2026-07-28 path reads from the proxy beyond the 2025 surface, in one place: the
// merged cache hint of a list (`catalog.cacheHint`), members' instructions and capabilities (for `server/discover`),
// and the call options of a Multi Round-Trip Request (`allowInputRequired`, `inputResponses`, `requestState`).
// Read structurally, so that a proxy without them still serves (no hints: 0/private; no instructions).
import type { ServerCapabilities } from "../core/_sdk.ts";
import type { CatalogCallOptions, FederatedCatalog } from "../proxy/catalog.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import type { DiscoverSource } from "./_discover.ts";

/** The lists that carry cache hints. */
export type CacheableList = "tools" | "resources" | "resourceTemplates" | "prompts";

/** A cache hint (2026-07-28): how long, and for whom, a result may be reused. */
export interface CacheHint {
  ttlMs: number;
  cacheScope: "public" | "private";
}

/** Call options of a modern request: the catalog's, with the round-trip fields of a Multi Round-Trip Request. */
export type ModernCallOptions = CatalogCallOptions & {
  /** An `input_required` result is returned, not fulfilled by the proxy. */
  allowInputRequired?: boolean;
  /** The client's answers to the member's last `inputRequests` (a retry). */
  inputResponses?: Record<string, unknown>;
  /** The member's own `requestState` of the last round (a retry). */
  requestState?: string;
};

const NO_HINT: CacheHint = { ttlMs: 0, cacheScope: "private" };

/** The merged cache hint of a list across members (0/private when the proxy knows none). */
export function cacheHint(catalog: FederatedCatalog, list: CacheableList): CacheHint {
  const read = (catalog as unknown as { cacheHint?: (list: CacheableList) => CacheHint }).cacheHint;
  if (typeof read !== "function") return NO_HINT;
  const hint = read.call(catalog, list);
  return hint.ttlMs >= 0 && (hint.cacheScope === "public" || hint.cacheScope === "private") ? hint : NO_HINT;
}

/** The proxy as the source of `server/discover`'s merge. */
export function discoverSource(proxy: FederationProxy): DiscoverSource {
  const extra = proxy as unknown as {
    getServerInstructions?: (serverId: string) => string | undefined;
    getServerCapabilities?: (serverId: string) => ServerCapabilities | undefined;
  };
  return {
    getConnectedServers: () => proxy.getConnectedServers(),
    getServerInstructions: (serverId) => extra.getServerInstructions?.call(proxy, serverId),
    getServerCapabilities: (serverId) => extra.getServerCapabilities?.call(proxy, serverId),
  };
}
