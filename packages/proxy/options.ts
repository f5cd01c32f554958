/**
 * Options of a {@link FederationProxy}: timeouts, heartbeat, backoff and routing policies as plain data.
 *
 * @example
 * ```ts
 * import { DEFAULT_BACKOFF, type FederationProxyOptions } from "@federated-mcp/federation/proxy";
 *
 * const options: FederationProxyOptions = {
 *   proxyId: "proxy-eu-1",
 *   heartbeatInterval: 5_000,
 *   backoff: { ...DEFAULT_BACKOFF, initialDelay: 100 },
 *   routing: "auto",
 * };
 * console.log(options.routing);
 * ```
 * @module
 */

import type { Logger } from "../core/logger.ts";
import type { Implementation } from "../core/mcp_types.ts";
import type { ServerRequestHandler } from "./server_requests.ts";
import type { CatalogOptions } from "./catalog/types.ts";
import type { OutboundGuardOptions } from "../core/outbound_guard.ts";
import type { BackoffPolicy } from "../core/backoff.ts";

export { type BackoffPolicy, DEFAULT_BACKOFF } from "../core/backoff.ts";

/**
 * Default of `maxStdioMembers`: stdio members one proxy runs at most.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_STDIO_MEMBERS } from "@federated-mcp/federation/proxy";
 *
 * console.log(DEFAULT_MAX_STDIO_MEMBERS); // 32
 * ```
 */
export const DEFAULT_MAX_STDIO_MEMBERS: number = 32;

/** Which channel carries requests: the data channel, the control channel, or the faster healthy one. */
export type RoutingPolicy = "auto" | "data" | "control";

/** Which protocol era a proxy speaks first with a member that serves both (see `FederationProxyOptions.eraPreference`). */
export type EraPreference = "legacy" | "modern";

/** Options of a {@link FederationProxy}. Every field has a documented default. */
export interface FederationProxyOptions {
  /** This proxy's id: the `iss` of the tokens it mints. @default {"federation-proxy"} */
  proxyId?: string;
  /** The `sub` of the tokens it mints. @default {proxyId} */
  subject?: string;
  /** Name and version announced in MCP `initialize`. @default {{ name: "federated-mcp", version: "0.1.0" }} */
  clientInfo?: Implementation;
  /** Time allowed to connect and initialize one channel, in ms. @default {10000} */
  connectTimeout?: number;
  /** Default per-request timeout, in ms (progress notifications reset it). @default {60000} */
  requestTimeout?: number;
  /** Interval between heartbeats (`ping`) on each channel, in ms. @default {15000} */
  heartbeatInterval?: number;
  /** Time a heartbeat may take before the channel is marked down, in ms. @default {5000} */
  heartbeatTimeout?: number;
  /**
   * Largest message sent to a member, in bytes (UTF-8 JSON): a larger call fails alone with `ProtocolError`
   * `ERR_MESSAGE_TOO_LARGE` before anything is sent, instead of making the member close the control socket (1009,
   * every call on it lost) or answer 413. Also the largest message accepted on the control channel. Set it to the
   * smallest `maxMessageBytes` of your members. @default {4194304} (4 MiB, a member's default)
   */
  maxMessageBytes?: number;
  /**
   * Most stdio members (local processes the proxy spawns and supervises) registered at once: one more is refused
   * by `registerServer` with a `ConfigError` (`ERR_CONFIG_INVALID`, field `endpoints.stdio`). Each costs a process
   * (tens of MB for a Node.js server). @default {32}
   */
  maxStdioMembers?: number;
  /** How long `removeServer`/`drain` let in-flight calls finish, in ms. @default {5000} */
  drainTimeout?: number;
  /** Reconnection policy. @default {DEFAULT_BACKOFF} */
  backoff?: Partial<BackoffPolicy>;
  /** Routing policy. @default {"auto"} */
  routing?: RoutingPolicy;
  /**
   * Which protocol era the proxy speaks with a member that serves both (every member's era is found when it connects,
   * and again on every reconnection, and shown in its status):
   * - `"legacy"`: MCP 2025-11-25 (`initialize`) first; a member that refuses it (a 2026-07-28-only server) is spoken
   *   to in 2026-07-28. A dual-era member keeps everything a 2025-11-25 server offers, server-to-client requests
   *   sent during a call included (a server written with `ctx.mcpReq.send` cannot send them in 2026-07-28).
   * - `"modern"`: 2026-07-28 first (`server/discover`, falling back to `initialize` on anything that is not modern
   *   evidence), as the specification's versioning rules describe: stateless calls, no session, no standing stream.
   * @default {"legacy"}
   */
  eraPreference?: EraPreference;
  /** Default token lifetime when a config gives none. @default {"1h"} */
  tokenLifetime?: string | number;
  /** Renew a token when this fraction of its lifetime has passed. @default {0.75} */
  renewAt?: number;
  /** Reject shared secrets shorter than 32 bytes. @default {false} */
  strictSecrets?: boolean;
  /** Where log lines go. @default {consoleLogger("warn")} */
  logger?: Logger;
  /** Answers members' server-to-client requests (sampling, elicitation, roots). @default {none: such requests get an error} */
  onServerRequest?: ServerRequestHandler;
  /** Options of the federated catalog, `proxy.catalog` (naming, list timeouts). @default {{}} */
  catalog?: CatalogOptions;
  /**
   * Which member URLs `registerServer` accepts, checked before any connection: link-local and cloud-metadata
   * addresses are refused unless `allowMetadata` is set, and `allowHosts` restricts members to a list (see
   * `outbound_guard.ts`). `false` turns the guard off.
   * @default {{}}: on, refusing only link-local and metadata addresses (loopback, private and public hosts pass)
   */
  outboundGuard?: OutboundGuardOptions | false;
  /** Closes the proxy when aborted. */
  signal?: AbortSignal;
  /** Clock in ms, for token lifetimes. @default {Date.now} */
  now?: () => number;
  /**
   * Uniform numbers in [0, 1) for the reconnection backoff's jitter (tests pass a fixed one to make delays exact).
   * @default {Math.random}
   */
  random?: () => number;
}
