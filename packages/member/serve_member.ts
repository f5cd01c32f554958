/**
 * {@link serveMember}: serve any MCP server (built with the MCP SDK) as a federation member, on a WebSocket
 * control endpoint and a Streamable HTTP data endpoint, both guarded by JWT verification.
 *
 * @example Serve a member on one free port
 * ```ts
 * import { McpServer } from "npm:@modelcontextprotocol/server@2.4.0";
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
import { checkOutboundUrl } from "../core/outbound_guard.ts";
import { errorResponse, jsonResponse } from "../core/_http.ts";
import { CancelledError, ConfigError, ConnectionError } from "../core/errors.ts";
import type { Channel } from "../core/errors.ts";
import { CloseCode } from "../core/websocket_transport.ts";
import { AuthGuard } from "./_auth_guard.ts";
import type { EndpointContext } from "./_context.ts";
import { ControlEndpoint } from "./_control_endpoint.ts";
import { DataEndpoint } from "./_data_endpoint.ts";
import { InflightCounter } from "./_inflight.ts";
import { HEALTH_PATH, resolveOptions } from "./_options.ts";
import type { ListenerPlan, ResolvedOptions } from "./_options.ts";
import type { MemberHandle, MemberNotifier, ServeMemberOptions } from "./types.ts";
import type { MemberChange } from "./_dual_era.ts";
import { errorMessage } from "../core/_error_message.ts";

/** Longest drain() waits for requests in progress. */
const DRAIN_TIMEOUT_MS = 5_000;
/** Longest close() waits for WebSocket closing handshakes. */
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
    if ("jwksUrl" in verifier) {
      const { jwksUrl, algorithms, minRefetchInterval, outboundGuard = true } = verifier;
      const issuer = verifier.issuer ?? resolved.issuer;
      return AuthManager.fromJwksUrl(jwksUrl, {
        audience: serverId,
        now,
        warn: (message, fields) => logger.warn(message, { serverId, ...fields }),
        ...(issuer === undefined ? {} : { issuer }),
        ...(algorithms === undefined ? {} : { algorithms }),
        ...(minRefetchInterval === undefined ? {} : { minRefetchInterval }),
        ...(outboundGuard ? { checkUrl: (url: string, signal: AbortSignal) => checkOutboundUrl(url, { signal }) } : {}),
      });
    }
    return await AuthManager.fromJwks(verifier, { now });
  } catch (error) {
    throw new ConfigError(
      `Invalid verifier of member '${serverId}': ${errorMessage(error)}`,
      { field: "verifier", serverId, cause: error },
    );
  }
}

class Member implements MemberHandle {
  readonly serverId: string;

  #options: ResolvedOptions;
  #guard: AuthGuard;
  #inflight = new InflightCounter();
  #control: ControlEndpoint | undefined;
  #data: DataEndpoint | undefined;
  #listeners: Deno.HttpServer<Deno.NetAddr>[] = [];
  #stopped = Promise.withResolvers<void>();
  #urls: { control: string | undefined; data: string | undefined; health: string } | undefined;
  #draining = false;
  #closing: Promise<void> | undefined;
  #drain: Promise<void> | undefined;
  #onAbort = () => {
    this.close().catch((error) =>
      this.#options.logger.error("Close failed", { serverId: this.serverId, error: String(error) })
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
        `Cannot listen on ${where} for member '${options.serverId}': ${errorMessage(error)}`,
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
      requireUserIdentity: options.requireUserIdentity,
      controlChannel: options.listeners.some((p) => p.controlPath !== undefined),
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

  readonly notify: MemberNotifier = {
    toolsChanged: () => this.#announce({ kind: "tools" }),
    promptsChanged: () => this.#announce({ kind: "prompts" }),
    resourcesChanged: () => this.#announce({ kind: "resources" }),
    resourceUpdated: (uri: string) => this.#announce({ kind: "resource", uri }),
  };

  #announce(change: MemberChange): void {
    this.#control?.announce(change);
    this.#data?.announce(change);
  }

  sessionCount(): { control: number; data: number } {
    return { control: this.#control?.size ?? 0, data: this.#data?.size ?? 0 };
  }

  close(): Promise<void> {
    this.#closing ??= this.#stop();
    return this.#closing;
  }

  closed(): Promise<void> {
    return this.#stopped.promise;
  }

  drain(): Promise<void> {
    if (this.#closing) return this.#closing;
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
      await this.close();
    })();
    return this.#drain;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.drain();
  }

  async #stop(): Promise<void> {
    this.#draining = true;
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    await Promise.all([
      this.#control?.closeAll(CloseCode.GOING_AWAY, "Server shutting down", CLOSE_TIMEOUT_MS),
      this.#data?.closeAll(),
    ]);
    await Promise.all(this.#listeners.map((listener) => listener.shutdown().catch(() => {})));
    await this.#stopped.promise;
    this.#options.logger.debug("Stopped", { serverId: this.serverId });
  }

  #listen(plan: ListenerPlan): Deno.HttpServer<Deno.NetAddr> {
    const options = this.#options;
    const handler = async (req: Request): Promise<Response> => {
      try {
        return await this.#route(req, plan);
      } catch (error) {
        options.logger.error("Request failed", { serverId: this.serverId, error: String(error) });
        return errorResponse(500, "internal_error", "Internal error");
      }
    };
    const serveOptions: Deno.ServeTcpOptions & Partial<Deno.TlsCertifiedKeyPem> = {
      hostname: options.hostname,
      port: plan.port,
      onListen: () => {},
      onError: (error) => {
        options.logger.error("Request failed", { serverId: this.serverId, error: String(error) });
        return errorResponse(500, "internal_error", "Internal error");
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
      return errorResponse(404, "not_found", "Not found");
    }
    if (this.#draining) {
      return errorResponse(503, "unavailable", "The member is shutting down", { headers: { "retry-after": "1" } });
    }
    const auth = await this.#guard.authenticate(req, channel);
    if (!auth.ok) return auth.response;
    if (this.#draining) {
      return errorResponse(503, "unavailable", "The member is shutting down", { headers: { "retry-after": "1" } });
    }
    return channel === "control" ? this.#control!.handle(req, auth.grant) : await this.#data!.handle(req, auth.grant);
  }
}

/**
 * Serves an MCP server as a federation member, to clients of both protocol eras (2025-11-25 and 2026-07-28).
 *
 * - **Control endpoint** (WebSocket, subprotocol `mcp`): one connection per socket, served by a new server from
 *   `server()` in the era of its first message: an `initialize` opens a 2025-11-25 session, a request with the
 *   2026-07-28 `_meta` envelope pins the connection to 2026-07-28 (`server/discover` and `subscriptions/listen`
 *   answered). The connection closes with 4001 when its token expires, unless renewed with
 *   `federation/renewToken` (see `RENEW_TOKEN_METHOD`). Specified in `docs/control-channel.md`; advertised under
 *   `capabilities.extensions["io.github.federated-mcp/websocket-control"]` (`CONTROL_CHANNEL_EXTENSION`).
 * - **Data endpoint** (MCP Streamable HTTP): 2025-11-25 sessions keyed by `Mcp-Session-Id`, each bound to the
 *   `sub`/`iss` of the token that created it; 2026-07-28 requests served without a session, one new server per
 *   request. Every request is authenticated.
 * - **Both eras need a v2 SDK server**: `McpServer` or `Server` of `@modelcontextprotocol/server`. A server of
 *   another kind (any object with `connect`/`close`, such as the sidecar's relay) is served on 2025-11-25 only:
 *   a 2026-07-28 request gets the unsupported-version error (-32022), on which negotiating clients fall back.
 * - **Changes** of tools, prompts and resources reach 2026-07-28 clients through `member.notify`, since their
 *   servers live for one request.
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
 * import { McpServer } from "npm:@modelcontextprotocol/server@2.4.0";
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
 * await member.closed();
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
  if (resolved.signal?.aborted) await member.close();
  return member;
}
