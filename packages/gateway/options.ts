/**
 * Options of {@link serveGateway} and {@link serveGatewayStdio}, and the handle they return.
 *
 * @example Loopback gateway with a shared-secret JWT check
 * ```ts
 * import type { GatewayOptions } from "@federated-mcp/federation/gateway";
 *
 * const options: GatewayOptions = {
 *   auth: { secret: "a-secret-of-at-least-thirty-two-bytes!!", audience: "gateway" },
 *   hostname: "127.0.0.1",
 *   port: 8080,
 *   allowedOrigins: ["https://app.example.com"],
 * };
 * console.log(options.port);
 * ```
 * @module
 */

import type { AuthManager } from "../core/auth.ts";
import type { RemoteJwksAlgorithm } from "../core/remote_jwks.ts";
import type { Logger } from "../core/logger.ts";
import type { HmacAlgorithm } from "../core/types.ts";
import type { Implementation } from "../core/mcp_types.ts";
import type { GatewayClusterOptions } from "./cluster_options.ts";

/**
 * The `aud` claim client tokens must carry when {@link GatewaySecretAuth.audience} is not set. Tokens the proxy
 * sends to members carry the member's serverId instead, so they are never valid client tokens.
 *
 * @example Mint a client token for a gateway with the default audience
 * ```ts
 * import { AuthManager } from "@federated-mcp/federation/core";
 * import { DEFAULT_GATEWAY_AUDIENCE } from "@federated-mcp/federation/gateway";
 *
 * const clients = new AuthManager("a-client-secret-of-at-least-thirty-two-bytes");
 * const token = await clients.createToken({}, { subject: "alice", audience: DEFAULT_GATEWAY_AUDIENCE });
 * console.log(token.split(".").length); // 3
 * ```
 */
export const DEFAULT_GATEWAY_AUDIENCE: string = "federated-mcp-gateway";

/** A shared secret the gateway verifies inbound tokens with, and the claims it requires. */
export interface GatewaySecretAuth {
  /** The shared secret (at least 32 bytes recommended). */
  secret: string | Uint8Array;
  /** HMAC algorithm tokens must be signed with. @default {"HS512"} */
  algorithm?: HmacAlgorithm | undefined;
  /**
   * Required `aud` claim. Client tokens must be addressed to the gateway: a token addressed to a member (its `aud`
   * is the member's serverId, as every token the proxy sends) is refused even when it verifies.
   * @default {"federated-mcp-gateway"}
   */
  audience?: string | undefined;
  /** Required `iss` claim. @default {none required} */
  issuer?: string | undefined;
}

/** The scope a client token needs to use the MCP endpoint when none is configured. */
export const DEFAULT_MCP_SCOPE: string = "mcp:tools";

/**
 * The gateway as an OAuth 2.1 resource server (the MCP authorization specification): access tokens from an
 * authorization server, verified against its JWKS ({@link AuthManager.fromJwksUrl}: cached, refetched on an
 * unknown `kid`), addressed to the gateway's resource URL (RFC 8707), with scopes mapped to what a client may do.
 * The gateway publishes `/.well-known/oauth-protected-resource` (RFC 9728) and answers 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"` so that clients discover where to get a token.
 *
 * @example A gateway behind an organisation's authorization server
 * ```ts
 * import type { GatewayOAuthAuth } from "@federated-mcp/federation/gateway";
 *
 * const auth: GatewayOAuthAuth = {
 *   jwksUrl: "https://id.example.com/.well-known/jwks.json",
 *   issuer: "https://id.example.com",
 *   resource: "https://mcp.example.com/mcp",
 * };
 * console.log(auth.resource);
 * ```
 */
export interface GatewayOAuthAuth {
  /** The authorization server's JWKS (`jwks_uri`): `https:`, or `http:` on a loopback host. */
  jwksUrl: string;
  /** Required `iss`: the authorization server's issuer identifier. */
  issuer: string;
  /**
   * The gateway's resource identifier (RFC 8707/9728), e.g. `https://mcp.example.com/mcp`: published as `resource`
   * and, unless `audience` is set, the `aud` tokens must carry.
   * @default {the MCP endpoint's URL as the request reached it (then `audience` is required)}
   */
  resource?: string | undefined;
  /** Required `aud`. @default {resource} */
  audience?: string | undefined;
  /** `authorization_servers` published in the metadata. @default {[issuer]} */
  authorizationServers?: readonly string[] | undefined;
  /**
   * Scope a token needs to use the MCP endpoint (list and call tools, read resources, get prompts), or `false` for
   * none. The admin API needs the cluster's `adminScope` (default `federation:admin`).
   * @default {"mcp:tools"}
   */
  mcpScope?: string | false | undefined;
  /** Algorithms the provider's keys may be pinned to (never HMAC, never `none`). @default {every asymmetric one} */
  algorithms?: readonly RemoteJwksAlgorithm[] | undefined;
  /** Least time between two JWKS fetches caused by an unknown `kid` or a failure, in ms. @default {30000} */
  minRefetchInterval?: number | undefined;
  /** Check the JWKS URL with the outbound guard before every fetch (metadata addresses refused). @default {true} */
  outboundGuard?: boolean | undefined;
}

/**
 * How inbound requests are authenticated: an {@link AuthManager} (its `audience`/`issuer` options are required
 * claims; tokens without `aud` are refused), a shared secret, an authorization server's JWKS
 * ({@link GatewayOAuthAuth}), or `false` (no authentication: only for loopback or stdio use, and it must be said).
 * The secret must differ from every secret the proxy signs member tokens with.
 */
export type GatewayAuth = AuthManager | GatewaySecretAuth | GatewayOAuthAuth | false;

/** Which environment variables members added at run time may name as their secret ({@link GatewayOptions}). */
export interface MemberSecretEnvPolicy {
  /** Allowed name prefixes. @default {["MCP_MEMBER_"]} */
  prefixes?: readonly string[] | undefined;
  /** Allowed names. @default {[]} */
  names?: readonly string[] | undefined;
}

/** Options shared by the HTTP and stdio gateways. */
export interface GatewayBaseOptions {
  /** Name and version announced to clients in `initialize`. @default {{ name: "federated-mcp-gateway", version: "0.1.0" }} */
  serverInfo?: Implementation | undefined;
  /** Instructions announced to clients in `initialize`. @default {none} */
  instructions?: string | undefined;
  /**
   * Time a client may take to answer a member's request (sampling, elicitation, roots) forwarded to it, in ms.
   * Elicitation waits for a person, so this is long.
   * @default {300000}
   */
  serverRequestTimeout?: number | undefined;
  /** Per-call timeout of calls to members, in ms (progress resets it). @default {the proxy's requestTimeout} */
  callTimeout?: number | undefined;
  /** How long {@link GatewayHandle.drain} waits for requests in progress, in ms. @default {10000} */
  drainTimeout?: number | undefined;
  /** Where log lines go; none contains a token. @default {consoleLogger("warn")} */
  logger?: Logger | undefined;
  /** Aborting it closes the gateway. */
  signal?: AbortSignal | undefined;
}

/** Options of {@link serveGateway}. */
export interface GatewayOptions extends GatewayBaseOptions {
  /** Inbound authentication; required. `false` turns it off and must be given explicitly. */
  auth: GatewayAuth;
  /** Interface to listen on. @default {"127.0.0.1"} */
  hostname?: string | undefined;
  /** TCP port; `0` picks a free one. @default {8080} */
  port?: number | undefined;
  /** Path of the MCP endpoint. @default {"/mcp"} */
  path?: string | undefined;
  /**
   * Origins allowed to call the MCP endpoint, besides loopback ones (`http://localhost:*`, `http://127.0.0.1:*`,
   * `http://[::1]:*`) and requests without an `Origin` header. Others get 403 (DNS-rebinding protection).
   * `"*"` allows every origin.
   * @default {[]}
   */
  allowedOrigins?: string[] | undefined;
  /**
   * `Host` header values allowed besides loopback names when the gateway listens on a loopback interface; others get
   * 403. On other interfaces the `Host` header is checked only when this is set.
   * @default {[]}
   */
  allowedHosts?: string[] | undefined;
  /** Most concurrent client sessions; more get 503. @default {1000} */
  maxSessions?: number | undefined;
  /** A session without any request for this long is closed (its client re-initializes), in ms. @default {1800000} */
  sessionIdleTimeout?: number | undefined;
  // Session quotas: also settable in the config file's `gateway` section.
  /**
   * Most sessions one subject (the `sub` of client tokens) may hold on one replica; more get 429. Without gateway
   * authentication only `maxSessions` applies.
   * @default {100}
   */
  maxSessionsPerSubject?: number | undefined;
  /**
   * Environment variables a member added through `/admin/members` may name as `auth.config.secretEnv`: names that
   * start with one of `prefixes`, or are one of `names`. Any other name is refused with the same message as an unset
   * variable, so the API neither reads the gateway's own secrets nor tells which variables exist.
   * @default {{ prefixes: ["MCP_MEMBER_"], names: [] }}
   */
  memberSecretEnv?: MemberSecretEnvPolicy | undefined;
  /** Events kept per session so that a client resumes a cut SSE stream with `Last-Event-ID`; `0` disables. @default {256} */
  replayBuffer?: number | undefined;
  /** Reconnection delay suggested to clients in SSE `retry:` fields, in ms. @default {1000} */
  sseRetryInterval?: number | undefined;
  /**
   * Largest request body, in bytes, on every route (the MCP endpoint and the admin API). It is counted while the
   * body streams; a larger body gets 413 and is not read further. Below the members' 4 MiB, so that a request the
   * gateway accepts is never refused by a member for its size.
   * @default {1048576}
   */
  maxBodyBytes?: number | undefined;
  /**
   * Requests handled at once across every connection; more get 503 (`Retry-After: 1`) without being read. Long
   * SSE streams count while they are open.
   * @default {4096}
   */
  maxConcurrentRequests?: number | undefined;
  /** PEM certificate chain and key: serve `https://`. */
  tls?: { cert: string; key: string } | undefined;
  /**
   * What this gateway shares with other replicas of it: the registry store (members added through
   * `/admin/members`, live replicas, the message bus) and the key that makes session ids valid on every replica.
   * @default {{}}: an in-process store and a random key (one replica)
   */
  cluster?: GatewayClusterOptions | undefined;
}

/** Options of {@link serveGatewayStdio}. */
export interface GatewayStdioOptions extends GatewayBaseOptions {
  /** Where JSON-RPC messages are read from. @default {process.stdin} */
  stdin?: import("node:stream").Readable | undefined;
  /** Where JSON-RPC messages are written to. @default {process.stdout} */
  stdout?: import("node:stream").Writable | undefined;
}

/** A running gateway. */
export interface GatewayHandle extends AsyncDisposable {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8080/mcp` (`stdio:` for the stdio gateway). */
  readonly url: string;
  /**
   * Number of client sessions open now.
   *
   * @returns The count.
   */
  sessionCount(): number;
  /**
   * Closes every session and stops listening now. Does not close the proxy. Idempotent.
   *
   * @returns When closed.
   */
  close(): Promise<void>;
  /**
   * Refuses new sessions and requests (503), lets requests in progress finish (up to `drainTimeout`), then closes.
   * Idempotent.
   *
   * @returns When closed.
   */
  drain(): Promise<void>;
  /**
   * Resolves when the gateway has closed (by {@link GatewayHandle.close}, {@link GatewayHandle.drain}, `signal`,
   * or the end of stdin for the stdio gateway). Never rejects.
   *
   * @returns When closed.
   */
  closed(): Promise<void>;
  /** Drains ({@link GatewayHandle.drain}), for `await using`. Idempotent. */
  [Symbol.asyncDispose](): Promise<void>;
}
