/**
 * The public types of the member package: what `serveMember()` takes and returns, and what it asks of the MCP
 * server it serves. They live apart from `serve_member.ts` so that its internals can use them without importing
 * it back.
 *
 * @module
 */

import type { AuthManager, JsonWebKeySet } from "../core/auth.ts";
import type { RemoteJwksAlgorithm } from "../core/remote_jwks.ts";
import type { Logger } from "../core/logger.ts";
import type { HmacAlgorithm } from "../core/types.ts";

/**
 * The transport a {@link SessionServer} is connected to: an MCP SDK `Transport` (the member's WebSocket transport
 * on the control endpoint, the SDK's `WebStandardStreamableHTTPServerTransport` on the data endpoint).
 */
export interface SessionTransport {
  /** Starts the transport (the SDK server calls it from `connect`). */
  start(): Promise<void>;
  /** Closes the transport. */
  close(): Promise<void>;
}

/**
 * The MCP server of one session, as `serveMember()` uses it: the MCP SDK's `McpServer` and its low-level
 * `Server` both fit. Only those (of the v2 SDK, `@modelcontextprotocol/server`) serve 2026-07-28 clients too; any
 * other object of this shape serves 2025-11-25 sessions only.
 */
export interface SessionServer {
  /**
   * Connects the server to the session's transport and starts it.
   *
   * @param transport The session's transport.
   * @returns When started.
   */
  connect(transport: SessionTransport): Promise<void>;
  /**
   * Closes the server and its transport.
   *
   * @returns When closed.
   */
  close(): Promise<void>;
}

/**
 * Who a session is for, handed to {@link ServeMemberOptions.server}: its channel and the `sub`/`iss` of the token
 * that opened it. A server that keeps state per client (such as the sidecar, one upstream per proxy) keys it on
 * `subject` and `issuer`.
 */
export interface SessionInfo {
  /** The endpoint of the session. */
  channel: "control" | "data";
  /** `sub` claim of the token that opened the session. */
  subject: string | undefined;
  /** `iss` claim of the token that opened the session. */
  issuer: string | undefined;
}

/** Where one endpoint listens. */
export interface MemberEndpointOptions {
  /**
   * TCP port; `0` picks a free one. An endpoint without a port shares the other endpoint's listener; both
   * endpoints on the same non-zero port share one listener; `port: 0` on both gives two listeners.
   */
  port?: number | undefined;
  /** URL path of the endpoint. @default {"/"} */
  path?: string | undefined;
}

/** Where the data endpoint listens, and how it answers. */
export interface MemberDataEndpointOptions extends MemberEndpointOptions {
  /**
   * Answer POSTed requests with one JSON body instead of an SSE stream (Streamable HTTP allows both; clients
   * accept both). Progress notifications of a request are dropped in this mode, in both eras (on 2026-07-28 the
   * SDK says so once on the console when the member starts); `subscriptions/listen` streams stay SSE.
   * @default {false}
   */
  jsonResponse?: boolean | undefined;
}

/**
 * A verifier that fetches the proxy's public keys from a URL (a gateway's `/.well-known/jwks.json`, or an identity
 * provider's `jwks_uri`): cached, refetched when a token names an unknown key, so the proxy rotates its signing
 * key without a member redeploy. Tokens must still carry `aud` = the member's serverId.
 */
export interface MemberJwksUrlVerifier {
  /** `https:`, or `http:` on a loopback host. */
  jwksUrl: string;
  /** Required `iss` (the proxy's id). @default {the member's `issuer` option, else none required} */
  issuer?: string | undefined;
  /** Algorithms keys may be pinned to. @default {every asymmetric JWS algorithm} */
  algorithms?: readonly RemoteJwksAlgorithm[] | undefined;
  /** Least time between two refetches caused by an unknown `kid`, in ms. @default {30000} */
  minRefetchInterval?: number | undefined;
  /** Apply the outbound guard to the URL before every fetch (cloud metadata addresses refused). @default {true} */
  outboundGuard?: boolean | undefined;
}

/** Options of `serveMember()`. */
export interface ServeMemberOptions {
  /** The member's id (`^[A-Za-z0-9_-]{1,32}$`, no `__`); tokens must carry it as `aud`. */
  serverId: string;
  /**
   * Builds a NEW MCP SDK server (`McpServer` or `Server`) for each session; a server serves one session: a
   * 2025-11-25 session, one control connection, or one 2026-07-28 request on the data endpoint (so it should be
   * cheap to build, and keep lasting state outside). It gets the session's {@link SessionInfo} (channel, token
   * subject and issuer).
   */
  server: (session: SessionInfo) => SessionServer;
  /**
   * How tokens are verified: the shared secret (string or bytes; keys are imported once), an {@link AuthManager},
   * a JWKS (verify-only: the member cannot mint tokens), or `{ jwksUrl }`: the proxy's published JWKS, fetched and
   * refreshed on rotation ({@link MemberJwksUrlVerifier}).
   */
  verifier: string | Uint8Array | AuthManager | JsonWebKeySet | MemberJwksUrlVerifier;
  /** HMAC algorithm of tokens signed with a shared-secret `verifier`: pinned, no other is accepted. @default {"HS512"} */
  algorithm?: HmacAlgorithm | undefined;
  /** When set, tokens must carry this `iss`. */
  issuer?: string | undefined;
  /** Interface to listen on. @default {"127.0.0.1"} */
  hostname?: string | undefined;
  /** The WebSocket control endpoint, or `false` for none. @default {{ path: "/" }} */
  control?: MemberEndpointOptions | false | undefined;
  /** The Streamable HTTP data endpoint, or `false` for none. @default {{ path: "/" }} */
  data?: MemberDataEndpointOptions | false | undefined;
  /** Largest message, in bytes: a larger WebSocket frame closes the socket (1009), a larger POST gets 413. @default {4194304} */
  maxMessageBytes?: number | undefined;
  /** Most concurrent sessions per endpoint; more get WebSocket close 1013 or HTTP 503. @default {1000} */
  maxSessions?: number | undefined;
  /**
   * Milliseconds without traffic after which a session is closed: a WebSocket with close 4002, an HTTP session
   * deleted. A request in progress or an open GET stream keeps a session active. `Infinity` disables.
   * @default {300000}
   */
  idleTimeout?: number | undefined;
  /** Where log lines go; none contains a token or an `Authorization` header. @default {consoleLogger("warn")} */
  logger?: Logger | undefined;
  /** PEM certificate chain and key: serve `https://` and `wss://`. */
  tls?: { cert: string; key: string } | undefined;
  /** Aborting it closes the member, like {@link MemberHandle.close}. */
  signal?: AbortSignal | undefined;
  /** Clock in milliseconds since the epoch, for token expiry and idle checks. @default {Date.now} */
  now?: (() => number) | undefined;
  /**
   * Refuse `tools/call`, `resources/read`, `prompts/get` and `completion/complete` made without a user identity
   * (a token minted for a user, with an `act` claim: the request's `Authorization` on the data channel, its
   * `_meta["io.github.federated-mcp/user-token"]` on the control channel) with a JSON-RPC error (-32001). Lists,
   * pings and notifications stay allowed. Handlers read the identity with `userIdentity(ctx)`.
   * @default {false}
   */
  requireUserIdentity?: boolean | undefined;
}

/**
 * Announces changes of a member's tools, prompts and resources to its clients, in both protocol eras: on the
 * `subscriptions/listen` streams of 2026-07-28 clients that asked for that kind of change (a 2026-07-28 server
 * lives for one request, so its own `sendToolListChanged()` reaches no one), and as a notification on every
 * 2025-11-25 session served by a v2 SDK server (whose `sendToolListChanged()` works too). A server of another kind
 * (such as the sidecar's relay) announces its own changes.
 */
export interface MemberNotifier {
  /** `notifications/tools/list_changed`. */
  toolsChanged(): void;
  /** `notifications/prompts/list_changed`. */
  promptsChanged(): void;
  /** `notifications/resources/list_changed`. */
  resourcesChanged(): void;
  /**
   * `notifications/resources/updated` for `uri`: to the 2026-07-28 listen streams that named it, and to every
   * 2025-11-25 session (whether or not it subscribed).
   *
   * @param uri The resource that changed.
   */
  resourceUpdated(uri: string): void;
}

/** A running member, from `serveMember()`. */
export interface MemberHandle extends AsyncDisposable {
  /** The member's id. */
  readonly serverId: string;
  /** URL of the control endpoint (`ws://127.0.0.1:PORT/`, with the real port), or `undefined` when disabled. */
  readonly controlUrl: string | undefined;
  /** URL of the data endpoint (`http://127.0.0.1:PORT/`), or `undefined` when disabled. */
  readonly dataUrl: string | undefined;
  /** `GET` answers 200 `{"status":"ok"}` without authentication (503 `{"status":"draining"}` once draining). */
  readonly healthUrl: string;
  /** Announces tool, prompt and resource changes to the member's clients, in both eras. */
  readonly notify: MemberNotifier;
  /**
   * Open sessions per endpoint.
   *
   * @returns The counts.
   */
  sessionCount(): { control: number; data: number };
  /**
   * Closes every session now (WebSocket close 1001 "Server shutting down", HTTP sessions and their streams
   * ended) and stops listening. Idempotent.
   *
   * @returns When every listener has stopped.
   */
  close(): Promise<void>;
  /**
   * Stops accepting sessions and requests (HTTP 503, JSON-RPC error -32003 on open control sessions), waits for
   * the requests in progress (at most 5 s), then closes. Idempotent; after {@link MemberHandle.close} it waits for
   * that close.
   *
   * @returns When every listener has stopped.
   */
  drain(): Promise<void>;
  /**
   * Resolves when every listener has stopped, however the member was stopped (close, drain, signal). Never
   * rejects.
   *
   * @returns When stopped.
   */
  closed(): Promise<void>;
  /** Drains ({@link MemberHandle.drain}), so that `await using member = …` lets requests in progress finish. */
  [Symbol.asyncDispose](): Promise<void>;
}
