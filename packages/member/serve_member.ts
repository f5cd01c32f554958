/**
 * {@link serveMember}: serve any MCP server (built with the MCP SDK) as a federation member, on a WebSocket
 * control endpoint and a Streamable HTTP data endpoint, both guarded by JWT verification.
 *
 * @example Serve a member on one free port
 * ```ts
 * import { McpServer } from "npm:@modelcontextprotocol/sdk@1.32.2/server/mcp.js";
 * import { serveMember } from "@federated-mcp/federation/member";
 *
 * await using member = await serveMember({
 *   serverId: "server-1",
 *   server: () => new McpServer({ name: "server-1", version: "1.0.0" }),
 *   verifier: "a-secret-of-at-least-thirty-two-bytes!!",
 *   control: { port: 0 },
 *   data: { port: 0 },
 * });
 * console.log(member.controlUrl, member.dataUrl);
 * ```
 * @module
 */

import { AuthManager } from "../core/auth.ts";
import type { JsonWebKeySet } from "../core/auth.ts";
import { CancelledError, ConfigError, ConnectionError } from "../core/errors.ts";
import type { Channel } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { HmacAlgorithm } from "../core/types.ts";
import { CloseCode } from "../core/websocket_transport.ts";
import { AuthGuard } from "./_auth_guard.ts";
import { jsonResponse } from "./_context.ts";
import type { EndpointContext } from "./_context.ts";
import { ControlEndpoint } from "./_control_endpoint.ts";
import { DataEndpoint } from "./_data_endpoint.ts";
import { InflightCounter } from "./_inflight.ts";
import { HEALTH_PATH, resolveOptions } from "./_options.ts";
import type { ListenerPlan, ResolvedOptions } from "./_options.ts";

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
 * The MCP server of one session, as {@link serveMember} uses it: the MCP SDK's `McpServer` and its low-level
 * `Server` both fit.
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
   * accept both). Progress notifications of a request are dropped in this mode.
   * @default {false}
   */
  jsonResponse?: boolean | undefined;
}

/** Options of {@link serveMember}. */
export interface ServeMemberOptions {
  /** The member's id (`^[A-Za-z0-9_-]{1,32}$`, no `__`); tokens must carry it as `aud`. */
  serverId: string;
  /** Builds a NEW MCP SDK server (`McpServer` or `Server`) for each session; a server serves one session. */
  server: () => SessionServer;
  /**
   * How tokens are verified: the shared secret (string or bytes; keys are imported once), an {@link AuthManager},
   * or a JWKS (verify-only: the member cannot mint tokens).
   */
  verifier: string | Uint8Array | AuthManager | JsonWebKeySet;
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
  /** Aborting it shuts the member down, like {@link MemberHandle.shutdown}. */
  signal?: AbortSignal | undefined;
  /** Clock in milliseconds since the epoch, for token expiry and idle checks. @default {Date.now} */
  now?: (() => number) | undefined;
}

/** A running member, from {@link serveMember}. */
export interface MemberHandle extends AsyncDisposable {
  /** The member's id. */
  readonly serverId: string;
  /** URL of the control endpoint (`ws://127.0.0.1:PORT/`, with the real port), or `undefined` when disabled. */
  readonly controlUrl: string | undefined;
  /** URL of the data endpoint (`http://127.0.0.1:PORT/`), or `undefined` when disabled. */
  readonly dataUrl: string | undefined;
  /** `GET` answers 200 `{"status":"ok"}` without authentication (503 `{"status":"draining"}` once draining). */
  readonly healthUrl: string;
  /** Resolves when every listener has stopped. Never rejects. */
  readonly finished: Promise<void>;
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
  shutdown(): Promise<void>;
  /**
   * Stops accepting sessions and requests (HTTP 503, JSON-RPC error -32003 on open control sessions), waits for
   * the requests in progress (at most 5 s), then shuts down.
   *
   * @returns When every listener has stopped.
   */
  drain(): Promise<void>;
}

/** Longest drain() waits for requests in progress. */
const DRAIN_TIMEOUT_MS = 5_000;
/** Longest shutdown() waits for WebSocket closing handshakes. */
const CLOSE_TIMEOUT_MS = 2_000;

function urlHost(hostname: string): string {
  if (hostname === "0.0.0.0") return "127.0.0.1";
  if (hostname === "::" || hostname === "[::]") return "[::1]";
  return hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
}

function isUpgrade(req: Request): boolean {
  return req.headers.get("upgrade")?.toLowerCase() === "websocket";
}

async function buildManager(resolved: ResolvedOptions): Promise<AuthManager> {
  const { verifier, algorithm, now, serverId, logger } = resolved;
  if (verifier instanceof AuthManager) return verifier;
  try {
    if (typeof verifier === "string" || verifier instanceof Uint8Array) {
      return new AuthManager(verifier, { algorithm, now, warn: (message) => logger.warn(message) });
    }
    return await AuthManager.fromJwks(verifier, { now });
  } catch (error) {
    throw new ConfigError(
      `Invalid verifier of member '${serverId}': ${error instanceof Error ? error.message : String(error)}`,
      { field: "verifier", serverId, cause: error },
    );
  }
}

class Member implements MemberHandle {
  readonly serverId: string;
  readonly finished: Promise<void>;

  #options: ResolvedOptions;
  #guard: AuthGuard;
  #inflight = new InflightCounter();
  #control: ControlEndpoint | undefined;
  #data: DataEndpoint | undefined;
  #listeners: Deno.HttpServer<Deno.NetAddr>[] = [];
  #stopped = Promise.withResolvers<void>();
  #urls: { control: string | undefined; data: string | undefined; health: string } | undefined;
  #draining = false;
  #shutdown: Promise<void> | undefined;
  #drain: Promise<void> | undefined;
  #onAbort = () => {
    this.shutdown().catch((error) =>
      this.#options.logger.error("Shutdown failed", { serverId: this.serverId, error: String(error) })
    );
  };

  /** Builds the endpoints and starts listening; on failure, closes what was opened and throws. */
  static async start(options: ResolvedOptions, manager: AuthManager): Promise<Member> {
    const member = new Member(options, manager);
    const plans = options.listeners;
    try {
      for (const plan of plans) member.#listeners.push(member.#listen(plan));
    } catch (error) {
      await Promise.all(member.#listeners.map((listener) => listener.shutdown().catch(() => {})));
      member.#stopped.resolve();
      const where = `${options.hostname}:${plans[member.#listeners.length]?.port}`;
      throw new ConnectionError(
        `Cannot listen on ${where} for member '${options.serverId}': ${
          error instanceof Error ? error.message : String(error)
        }`,
        { serverId: options.serverId, cause: error },
      );
    }
    const stopped = () => member.#stopped.resolve();
    Promise.all(member.#listeners.map((l) => l.finished)).then(stopped, stopped);
    const secure = options.tls !== undefined;
    const host = urlHost(options.hostname);
    const origin = (index: number, scheme: "ws" | "http") =>
      `${scheme}${secure ? "s" : ""}://${host}:${member.#listeners[index]!.addr.port}`;
    const controlIndex = plans.findIndex((p) => p.controlPath !== undefined);
    const dataIndex = plans.findIndex((p) => p.dataPath !== undefined);
    member.#urls = {
      control: controlIndex < 0 ? undefined : origin(controlIndex, "ws") + plans[controlIndex]!.controlPath,
      data: dataIndex < 0 ? undefined : origin(dataIndex, "http") + plans[dataIndex]!.dataPath,
      health: origin(dataIndex < 0 ? controlIndex : dataIndex, "http") + HEALTH_PATH,
    };
    options.signal?.addEventListener("abort", member.#onAbort, { once: true });
    return member;
  }

  constructor(options: ResolvedOptions, manager: AuthManager) {
    this.#options = options;
    this.serverId = options.serverId;
    this.finished = this.#stopped.promise;
    this.#guard = new AuthGuard(manager, {
      audience: options.serverId,
      issuer: options.issuer,
      now: options.now,
      logger: options.logger,
    });
    const context: EndpointContext = {
      serverId: options.serverId,
      factory: options.factory,
      guard: this.#guard,
      logger: options.logger,
      maxMessageBytes: options.maxMessageBytes,
      maxSessions: options.maxSessions,
      idleTimeout: options.idleTimeout,
      now: options.now,
      inflight: this.#inflight,
      draining: () => this.#draining,
    };
    const plans = options.listeners;
    if (plans.some((p) => p.controlPath !== undefined)) this.#control = new ControlEndpoint(context);
    if (plans.some((p) => p.dataPath !== undefined)) {
      this.#data = new DataEndpoint(context, { jsonResponse: options.jsonResponse });
    }
  }

  get controlUrl(): string | undefined {
    return this.#urls?.control;
  }

  get dataUrl(): string | undefined {
    return this.#urls?.data;
  }

  get healthUrl(): string {
    return this.#urls?.health ?? "";
  }

  sessionCount(): { control: number; data: number } {
    return { control: this.#control?.size ?? 0, data: this.#data?.size ?? 0 };
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#stop();
    return this.#shutdown;
  }

  drain(): Promise<void> {
    if (this.#shutdown) return this.#shutdown;
    this.#drain ??= (async () => {
      this.#draining = true;
      this.#options.logger.info("Draining", { serverId: this.serverId, inflight: this.#inflight.count });
      const settled = await this.#inflight.idle(DRAIN_TIMEOUT_MS);
      if (!settled) {
        this.#options.logger.warn("Drain timed out: closing with requests in progress", {
          serverId: this.serverId,
          inflight: this.#inflight.count,
        });
      }
      await this.shutdown();
    })();
    return this.#drain;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  async #stop(): Promise<void> {
    this.#draining = true;
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    await Promise.all([
      this.#control?.closeAll(CloseCode.GOING_AWAY, "Server shutting down", CLOSE_TIMEOUT_MS),
      this.#data?.closeAll(),
    ]);
    await Promise.all(this.#listeners.map((listener) => listener.shutdown().catch(() => {})));
    await this.finished;
    this.#options.logger.debug("Stopped", { serverId: this.serverId });
  }

  #listen(plan: ListenerPlan): Deno.HttpServer<Deno.NetAddr> {
    const options = this.#options;
    const handler = async (req: Request): Promise<Response> => {
      try {
        return await this.#route(req, plan);
      } catch (error) {
        options.logger.error("Request failed", { serverId: this.serverId, error: String(error) });
        return jsonResponse(500, { error: "internal_error" });
      }
    };
    const serveOptions: Deno.ServeTcpOptions & Partial<Deno.TlsCertifiedKeyPem> = {
      hostname: options.hostname,
      port: plan.port,
      onListen: () => {},
      onError: (error) => {
        options.logger.error("Request failed", { serverId: this.serverId, error: String(error) });
        return jsonResponse(500, { error: "internal_error" });
      },
    };
    if (options.tls) {
      serveOptions.cert = options.tls.cert;
      serveOptions.key = options.tls.key;
    }
    return Deno.serve(serveOptions, handler);
  }

  // On a listener serving both endpoints on one path, WebSocket upgrades go to control and everything else to
  // data. Authentication comes before any upgrade or MCP processing.
  async #route(req: Request, plan: ListenerPlan): Promise<Response> {
    const path = new URL(req.url).pathname;
    let channel: Channel | undefined;
    if (plan.controlPath === path && (isUpgrade(req) || plan.dataPath !== path)) channel = "control";
    else if (plan.dataPath === path) channel = "data";
    if (channel === undefined) {
      if (path === HEALTH_PATH && (req.method === "GET" || req.method === "HEAD")) {
        return this.#draining
          ? jsonResponse(503, { status: "draining" }, { "retry-after": "1" })
          : jsonResponse(200, { status: "ok" });
      }
      return jsonResponse(404, { error: "not_found" });
    }
    if (this.#draining) return jsonResponse(503, { error: "unavailable" }, { "retry-after": "1" });
    const auth = await this.#guard.authenticate(req, channel);
    if (!auth.ok) return auth.response;
    if (this.#draining) return jsonResponse(503, { error: "unavailable" }, { "retry-after": "1" });
    return channel === "control" ? this.#control!.handle(req, auth.grant) : await this.#data!.handle(req, auth.grant);
  }
}

/**
 * Serves an MCP server as a federation member.
 *
 * - **Control endpoint** (WebSocket, subprotocol `mcp`): one MCP session per connection, each with a new server
 *   from `server()`. The connection closes with 4001 when its token expires, unless renewed with
 *   `federation/renewToken` (see `RENEW_TOKEN_METHOD`).
 * - **Data endpoint** (MCP Streamable HTTP): sessions keyed by `Mcp-Session-Id`, each bound to the `sub`/`iss` of
 *   the token that created it; every request is re-authenticated.
 * - **Authentication** before any upgrade or MCP processing: `Authorization: Bearer <JWT>` with the pinned
 *   algorithm, `exp`, `aud` = `serverId`, `iss` when configured; anything else gets 401 with
 *   `WWW-Authenticate: Bearer error="invalid_token"`.
 * - `GET /healthz` on every listener answers without authentication.
 *
 * Close codes of the control socket: 1001 shutdown, 1009 message too big, 1011 server failed to start, 1013 too
 * many sessions, 4001 token expired, 4002 idle.
 *
 * @param options Server factory, serverId, verifier, endpoints, limits.
 * @returns The running member, once listening.
 * @throws {ConfigError} For an invalid option, naming the field (e.g. `serverId`, `control.port`, `verifier`).
 * @throws {TypeError} When `server` is not a function (or `logger`, `signal`, `now` have the wrong type).
 * @throws {ConnectionError} When a port cannot be bound.
 * @throws {CancelledError} When `signal` is already aborted.
 * @example Control on port 3000, data on port 3001 (the usage guide's layout)
 * ```ts ignore
 * import { McpServer } from "npm:@modelcontextprotocol/sdk@1.32.2/server/mcp.js";
 * import { serveMember } from "@federated-mcp/federation/member";
 *
 * const member = await serveMember({
 *   serverId: "server-1",
 *   server: () => new McpServer({ name: "server-1", version: "1.0.0" }),
 *   verifier: Deno.env.get("MCP_SECRET_KEY")!,
 *   control: { port: 3000 },
 *   data: { port: 3001 },
 * });
 * console.log(member.controlUrl, member.dataUrl); // ws://127.0.0.1:3000/ http://127.0.0.1:3001/
 * Deno.addSignalListener("SIGTERM", () => void member.drain());
 * await member.finished;
 * ```
 */
export async function serveMember(options: ServeMemberOptions): Promise<MemberHandle> {
  const resolved = resolveOptions(options);
  if (resolved.signal?.aborted) {
    throw new CancelledError(`Serving member '${resolved.serverId}' was cancelled`, {
      serverId: resolved.serverId,
      cause: resolved.signal.reason,
    });
  }
  const manager = await buildManager(resolved);
  const member = await Member.start(resolved, manager);
  if (resolved.signal?.aborted) await member.shutdown();
  return member;
}
