/**
 * The plain data of the federated catalog: its options, the lists it federates, failures, and the origin of a
 * federated name or URI (which member, and what it is called there).
 *
 * @example Options
 * ```ts
 * import type { CatalogOptions } from "@federated-mcp/federation/proxy";
 *
 * const options: CatalogOptions = { prefix: "on-collision", listTimeout: 2_000 };
 * console.log(options.prefix);
 * ```
 * @module
 */

import type { FederationError } from "../../core/errors.ts";
import type { PrefixMode } from "../_naming.ts";
import type { CallOptions } from "../call_options.ts";

export type { PrefixMode } from "../_naming.ts";

/** `_meta` key under which every federated entry names its member and its name (or URI) there. */
export const ORIGIN_META_KEY = "io.github.federated-mcp/origin";

/** Options of a {@link FederatedCatalog}. */
export interface CatalogOptions {
  /**
   * `"always"`: every tool and prompt is `serverId__name`. `"on-collision"`: a name offered by one member only is
   * used as is, and prefixed only when two members offer it.
   * @default {"always"}
   */
  prefix?: PrefixMode | undefined;
  /**
   * `"always"`: every resource URI and URI template is `federated://<serverId>/<uri>`, so it stays the same when a
   * member offering the same URI joins or leaves. `"on-collision"`: a URI offered by one member only is used as is,
   * and rewritten only while another member offers it too. The gateway's config file defaults to `"always"`.
   * @default {"on-collision"}
   */
  resourcePrefix?: PrefixMode | undefined;
  /** Time one member may take to answer one list request (each page), in ms. @default {5000} */
  listTimeout?: number | undefined;
  /**
   * After a member failed to list, how long its last good list (or nothing) is served before asking again, in ms; a
   * list that was listed and failed transiently (a lost connection, a timeout) is then fetched again by itself (at
   * least 100 ms later), and a change is announced; one the member refused with an error answer is asked again by
   * the next listing.
   * @default {5000}
   */
  retryAfter?: number | undefined;
  /**
   * How many members' list requests the catalog has in flight at once (a cold listing of a large federation asks
   * the members in waves of this size rather than all at the same moment). @default {64}
   */
  listConcurrency?: number | undefined;
  /** Clock in ms, for `retryAfter`. @default {performance.now} */
  now?: (() => number) | undefined;
}

/** The kinds of lists the catalog federates. */
export type CatalogList = "tools" | "resources" | "resourceTemplates" | "prompts";

/** A member's list that could not be fetched; the catalog serves the member's last good list meanwhile. */
export interface CatalogFailure {
  /** The member. */
  serverId: string;
  /** Which list. */
  list: CatalogList;
  /** Why. */
  error: FederationError;
  /** When, from the catalog's clock (ms). */
  at: number;
}

/** Where a federated tool or prompt lives. */
export interface NameOrigin {
  /** The member. */
  serverId: string;
  /** The name on the member. */
  name: string;
}

/** Where a federated resource lives. */
export interface UriOrigin {
  /** The member. */
  serverId: string;
  /** The URI on the member. */
  uri: string;
}

/** Options of calls through the catalog. */
export interface CatalogCallOptions extends CallOptions {
  /** `_meta` to send along (e.g. a `traceparent`); the progress token is managed for you and dropped from it. */
  meta?: Record<string, unknown> | undefined;
}

/**
 * Options of a call on a federated name: with `origin`, as returned by the catalog's `resolveTool` or
 * `resolvePrompt` for that name, the name is not resolved again (resolve once, call once).
 */
export interface NameCallOptions extends CatalogCallOptions {
  /** The name's origin, already resolved. */
  origin?: NameOrigin | undefined;
}

/**
 * Options of a call on a federated URI: with `origin`, as returned by the catalog's `resolveResource` for that
 * URI, the URI is not resolved again.
 */
export interface UriCallOptions extends CatalogCallOptions {
  /** The URI's origin, already resolved. */
  origin?: UriOrigin | undefined;
}

/**
 * How long a list result stays fresh and who may share it (MCP 2026-07-28 cache hints): for the federation, the
 * merge of members' hints ({@link FederatedCatalog.cacheHint}).
 */
export interface CacheHint {
  /** Freshness lifetime in ms (`0`: stale at once). */
  ttlMs: number;
  /** `public`: any client may be served it; `private`: only the authorization context that asked. */
  cacheScope: "public" | "private";
}
