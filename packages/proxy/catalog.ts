/**
 * The federated catalog's public entry: {@link FederatedCatalog} (in `catalog/federated_catalog.ts`), the
 * {@link CatalogSource} it is built over, its options and origins (`catalog/types.ts`) and its events
 * (`catalog/events.ts`).
 *
 * @example List and call across the federation
 * ```ts ignore
 * import { FederationProxy } from "@federated-mcp/federation/proxy";
 *
 * await using proxy = new FederationProxy(Deno.env.get("MCP_SECRET_KEY")!);
 * await proxy.registerServer({ serverId: "a", endpoints: { control: "ws://localhost:3000" } });
 * const origin = await proxy.catalog.resolveTool("a__echo");
 * const result = await proxy.catalog.callTool("a__echo", { text: "hi" }, { origin });
 * console.log(origin.serverId, result.content);
 * ```
 * @module
 */

export { FederatedCatalog } from "./catalog/federated_catalog.ts";
export type { CatalogSource } from "./catalog/source.ts";
export {
  type CacheHint,
  type CatalogCallOptions,
  type CatalogFailure,
  type CatalogList,
  type CatalogOptions,
  type NameCallOptions,
  type NameOrigin,
  ORIGIN_META_KEY,
  type PrefixMode,
  type UriCallOptions,
  type UriOrigin,
} from "./catalog/types.ts";
export {
  CatalogEvent,
  type CatalogEventInit,
  type CatalogEventListener,
  type CatalogEventMap,
  type CatalogEventType,
  CatalogListChangedEvent,
  type CatalogListChangeType,
  CatalogListFailedEvent,
  type CatalogListFailedEventInit,
  CatalogMessageEvent,
  type CatalogMessageEventInit,
  CatalogRequestEvent,
  type CatalogRequestEventInit,
  type RequestOutcome,
  ResourceUpdatedEvent,
  type ResourceUpdatedEventInit,
} from "./catalog/events.ts";
