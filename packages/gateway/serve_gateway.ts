/**
 * {@link serveGateway}: serves a federation as one MCP server over Streamable HTTP, with health, readiness and
 * Prometheus metrics endpoints.
 *
 * @example Serve a proxy's federation on loopback
 * ```ts ignore
 * import { FederationProxy } from "@federated-mcp/federation/proxy";
 * import { serveGateway } from "@federated-mcp/federation/gateway";
 *
 * const secret = Deno.env.get("MCP_SECRET_KEY")!;
 * await using proxy = new FederationProxy(secret);
 * await proxy.registerServer({ serverId: "server-1", endpoints: { control: "ws://localhost:3000" } });
 * await using gateway = await serveGateway(proxy, { auth: { secret }, port: 8080 });
 * console.log(`MCP clients connect to ${gateway.url}`);
 * await gateway.finished;
 * ```
 * @module
 */

import { ConfigError, ConnectionError } from "../core/errors.ts";
import { consoleLogger } from "../core/logger.ts";
import { type JSONRPCMessage, WebStandardStreamableHTTPServerTransport } from "../core/_sdk.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import type { SessionClaims } from "../cluster/session_tokens.ts";
import { ADMIN_PREFIX, AdminApi } from "./_admin_api.ts";
import { createClientSession } from "./_client_session.ts";
import { ClusterRuntime } from "./_cluster_runtime.ts";
import { MemoryEventStore } from "./_event_store.ts";
import { HttpGuard, isLoopback, rpcError } from "./_http_guard.ts";
import { type ClientSession, hubFor } from "./_hub.ts";
import { GatewayMetrics } from "./_metrics.ts";
import { RequestTracker } from "./_request_tracker.ts";
import { DEFAULT_SERVER_INFO } from "./_server_info.ts";
import type { SessionLink } from "./_session_link.ts";
import { initializeParams, SharedSessions } from "./_shared_sessions.ts";
import type { GatewayHandle, GatewayOptions } from "./options.ts";

interface HttpSession {
  id: string;
  /** The session's transport on this replica (in front of the SDK's). */
  link: SessionLink;
  client: ClientSession;
  /** The `sub` of the token that opened the session: later requests must carry the same. */
  subject: string | undefined;
}

const CORS_ALLOW_HEADERS = "authorization, content-type, mcp-session-id, mcp-protocol-version, last-event-id";
const CORS_EXPOSE_HEADERS = "mcp-session-id, mcp-protocol-version, www-authenticate";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

function isRequest(message: unknown): boolean {
  const m = message as { method?: unknown; id?: unknown } | null;
  return typeof m === "object" && m !== null && typeof m.method === "string" && m.id !== undefined;
}

function positive(value: number | undefined, fallback: number, field: string, allowZero = false): number {
  const n = value ?? fallback;
  if (!(n > 0 || (allowZero && n === 0)) || Number.isNaN(n)) {
    throw new ConfigError(`Invalid ${field} ${n}: must be a number ${allowZero ? ">= 0" : "> 0"}`, { field });
  }
  return n;
}

/**
 * Serves a federation as one MCP server: Streamable HTTP at `path` (sessions, SSE, the GET notification stream and
 * DELETE), plus `GET /healthz` (always 200), `GET /readyz` (200 when at least one member is usable, else 503)
 * and `GET /metrics` (Prometheus text). Every client session gets its own MCP server whose handlers use
 * `proxy.catalog`; members' progress, log messages, resource updates and list changes reach the clients, and
 * members' sampling, elicitation and roots requests are forwarded to a client that supports them.
 *
 * Requests to the MCP endpoint need `Authorization: Bearer <JWT>` (401 otherwise) unless `auth` is `false`, and an
 * allowed `Origin`/`Host` (403 otherwise). A session is bound to the `sub` of the token that opened it.
 *
 * Session ids are sealed tokens that carry the client's `initialize` parameters, so any replica sharing
 * `cluster.key` serves any session (see {@link GatewayClusterOptions}); `/admin/members` is the membership API
 * (tokens with the `federation:admin` scope) and `/readyz` and `/metrics` report the registry store.
 *
 * @param proxy The federation to serve. The gateway never closes it.
 * @param options `auth` (required), listen address, origins, limits, timeouts.
 * @returns The running gateway.
 * @throws {ConfigError} For missing `auth` or an invalid option.
 * @throws {ConnectionError} When it cannot listen (the port is taken).
 * @example Connect an SDK client
 * ```ts ignore
 * const gateway = await serveGateway(proxy, { auth: false, port: 0 });
 * const client = new Client({ name: "app", version: "1.0.0" });
 * await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
 * console.log((await client.listTools()).tools.map((t) => t.name));
 * await gateway.drain();
 * ```
 */
export async function serveGateway(proxy: FederationProxy, options: GatewayOptions): Promise<GatewayHandle> {
  const logger = options.logger ?? consoleLogger("warn");
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`Invalid port ${port}: must be an integer from 0 to 65535`, { field: "port" });
  }
  const path = options.path ?? "/mcp";
  if (!path.startsWith("/")) throw new ConfigError(`Invalid path '${path}': must start with '/'`, { field: "path" });
  const maxSessions = positive(options.maxSessions, 1000, "maxSessions");
  const idleTimeout = positive(options.sessionIdleTimeout, 1_800_000, "sessionIdleTimeout");
  const replayBuffer = positive(options.replayBuffer, 256, "replayBuffer", true);
  const retryInterval = positive(options.sseRetryInterval, 1_000, "sseRetryInterval");
  const drainTimeout = positive(options.drainTimeout, 10_000, "drainTimeout", true);
  const serverRequestTimeout = positive(options.serverRequestTimeout, 300_000, "serverRequestTimeout");
  const guard = new HttpGuard({
    auth: options.auth,
    hostname,
    allowedOrigins: options.allowedOrigins ?? [],
    allowedHosts: options.allowedHosts ?? [],
    logger,
  });
  if (!guard.authenticates && !isLoopback(hostname)) {
    logger.warn("Gateway authentication is off on a non-loopback interface", { hostname });
  }

  const hub = hubFor(proxy);
  hub.acquire(serverRequestTimeout);
  const sessions = new Map<string, HttpSession>();
  let cluster: ClusterRuntime;
  try {
    cluster = await ClusterRuntime.create(proxy, options.cluster ?? {}, {
      logger,
      sessions: () => sessions.size,
      memberSecretEnv: options.memberSecretEnv,
    });
  } catch (error) {
    hub.release();
    throw error;
  }
  const shared = new SharedSessions(cluster, {
    logger,
    catalog: proxy.catalog,
    maxSessionsPerSubject: options.maxSessionsPerSubject,
  });
  const admin = new AdminApi({ guard, proxy, runtime: cluster, logger });
  const restoring = new Map<string, Promise<HttpSession | Response>>();
  const metrics = new GatewayMetrics(proxy, () => sessions.size);
  const requests = new RequestTracker();
  let draining = false;
  let stopping: Promise<void> | undefined;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);

  async function closeSession(session: HttpSession): Promise<void> {
    if (sessions.get(session.id) !== session) return;
    sessions.delete(session.id);
    await hub.remove(session.client);
    await session.client.server.close().catch(() => {});
  }

  /** Opens a session from its initialize request: a new one, or (`identity` given) one rebuilt on this replica. */
  async function openSession(
    request: Request,
    subject: string | undefined,
    identity?: { token: string; claims: SessionClaims },
  ): Promise<Response> {
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return rpcError(400, -32700, "Parse error: invalid JSON");
    }
    const init = initializeParams(body, subject);
    if (init instanceof Response) return init;
    if (!init) return rpcError(400, -32000, "Bad Request: Server not initialized");
    identity ??= await shared.issue(init, subject);
    const { token } = identity;
    const client = createClientSession({
      hub,
      serverInfo: options.serverInfo ?? DEFAULT_SERVER_INFO,
      instructions: options.instructions,
      callTimeout: options.callTimeout,
    });
    let session: HttpSession | undefined;
    const events = replayBuffer > 0 ? shared.eventStore(new MemoryEventStore(replayBuffer)) : undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => token,
      onsessioninitialized: (id) => {
        session = { id, link, client, subject };
        sessions.set(id, session);
        hub.add(client);
        logger.debug("Client session opened", { sessions: sessions.size });
      },
      ...(events ? { eventStore: events, retryInterval } : {}),
    });
    const link = shared.link(transport, { ...identity, events });
    link.onclose = () => {
      requests.forget(link);
      if (session) void closeSession(session);
    };
    await client.server.connect(link);
    requests.watch(link);
    const response = await transport.handleRequest(request, { parsedBody: body as JSONRPCMessage });
    if (!session) await client.server.close().catch(() => {});
    return response;
  }

  /** A session seen for the first time on this replica: rebuilt from its id, or refused (404, 403, 503). */
  function restoreSession(
    request: Request,
    token: string,
    subject: string | undefined,
  ): Promise<HttpSession | Response> {
    let pending = restoring.get(token);
    if (pending) return pending;
    pending = (async (): Promise<HttpSession | Response> => {
      const claims = await shared.open(token);
      if (!claims) return rpcError(404, -32001, "Session not found");
      if (claims.subject !== subject) return rpcError(403, -32000, "Forbidden: the session belongs to another subject");
      if (draining) return rpcError(503, -32000, "The gateway is shutting down", { "retry-after": "1" });
      if (sessions.size >= maxSessions) {
        return rpcError(503, -32000, `Too many sessions (limit ${maxSessions})`, { "retry-after": "5" });
      }
      const admitted = shared.admit(claims.subject);
      if (admitted instanceof Response) return admitted;
      const [initialize, initialized] = shared.restoreRequests(request.url, token, claims);
      await (await openSession(initialize, claims.subject, { token, claims }).finally(admitted)).text();
      const session = sessions.get(token);
      if (!session) return rpcError(404, -32001, "Session not found");
      await (await session.link.handleRequest(initialized)).text();
      logger.debug("Client session rebuilt on this replica", { sessions: sessions.size });
      return session;
    })().finally(() => restoring.delete(token));
    restoring.set(token, pending);
    return pending;
  }

  async function handleMcp(request: Request): Promise<Response> {
    const refused = guard.checkOrigin(request);
    if (refused) return refused;
    if (request.method === "OPTIONS") return new Response(null, { status: 204 });
    const claims = await guard.authenticate(request);
    if (claims instanceof Response) return claims;
    const subject = typeof claims.sub === "string" ? claims.sub : undefined;
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId !== null) {
      let session = sessions.get(sessionId);
      if (!session) {
        const restored = await restoreSession(request, sessionId, subject);
        if (restored instanceof Response) return restored;
        session = restored;
      }
      if (session.subject !== subject) {
        return rpcError(403, -32000, "Forbidden: the session belongs to another subject");
      }
      session.client.lastActive = performance.now();
      if (draining && request.method === "POST") {
        // Responses to members' requests and notifications (cancellations) still pass; new requests do not.
        let body: unknown;
        try {
          body = await request.json();
        } catch {
          return rpcError(400, -32700, "Parse error: invalid JSON");
        }
        if ((Array.isArray(body) ? body : [body]).some(isRequest)) {
          return rpcError(503, -32000, "The gateway is shutting down", { "retry-after": "1" });
        }
        return await session.link.handleRequest(request, { parsedBody: body });
      }
      return await session.link.handleRequest(request);
    }
    if (request.method === "GET" || request.method === "DELETE") {
      return rpcError(400, -32000, "Bad Request: Mcp-Session-Id header is required");
    }
    if (request.method !== "POST") {
      return rpcError(405, -32000, "Method not allowed", { allow: "GET, POST, DELETE" });
    }
    if (draining) return rpcError(503, -32000, "The gateway is shutting down", { "retry-after": "1" });
    if (sessions.size >= maxSessions) {
      return rpcError(503, -32000, `Too many sessions (limit ${maxSessions})`, { "retry-after": "5" });
    }
    const admitted = shared.admit(subject);
    if (admitted instanceof Response) return admitted;
    return await openSession(request, subject).finally(admitted);
  }

  function withCors(request: Request, response: Response): Response {
    const origin = request.headers.get("origin");
    if (origin === null || response.status === 403) return response;
    try {
      response.headers.set("access-control-allow-origin", origin);
      response.headers.set("access-control-expose-headers", CORS_EXPOSE_HEADERS);
      response.headers.append("vary", "origin");
      if (request.method === "OPTIONS") {
        response.headers.set("access-control-allow-methods", "GET, POST, DELETE, OPTIONS");
        response.headers.set("access-control-allow-headers", CORS_ALLOW_HEADERS);
        response.headers.set("access-control-max-age", "600");
      }
    } catch {
      // immutable headers: serve the response as it is
    }
    return response;
  }

  async function handle(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === path) return withCors(request, await handleMcp(request));
    if (pathname.startsWith(ADMIN_PREFIX)) return await admin.handle(request, pathname);
    if (request.method !== "GET") return json(405, { error: "Method not allowed" });
    switch (pathname) {
      case "/healthz":
        return json(200, { status: "ok" });
      case "/readyz": {
        const usable = proxy.getConnectedServers().length;
        const ready = usable > 0 && !draining && !stopping;
        return json(ready ? 200 : 503, {
          status: ready ? "ready" : "not ready",
          members: { usable, registered: proxy.getStatus().length },
          store: cluster.readiness(),
        });
      }
      case "/metrics":
        return new Response(metrics.render() + [...cluster.metricLines(), ...shared.metricLines()].join("\n") + "\n", {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" },
        });
      default:
        return json(404, { error: `Not found: ${pathname}` });
    }
  }

  let listener: Deno.HttpServer<Deno.NetAddr>;
  try {
    listener = Deno.serve({
      hostname,
      port,
      ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
      onListen: () => {},
      onError: (error) => {
        logger.error("Gateway request failed", { error: error instanceof Error ? error.message : String(error) });
        return rpcError(500, -32603, "Internal error");
      },
    }, handle);
  } catch (error) {
    metrics.close();
    hub.release();
    await cluster.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConnectionError(`Cannot listen on ${hostname}:${port}: ${reason}`, { cause: error });
  }

  cluster.start();
  shared.start();

  const sweep = Number.isFinite(idleTimeout)
    ? setInterval(() => {
      const now = performance.now();
      for (const session of sessions.values()) {
        if (session.client.inflight.size === 0 && now - session.client.lastActive > idleTimeout) {
          logger.debug("Closing an idle client session", { idleMs: Math.round(now - session.client.lastActive) });
          void closeSession(session);
        }
      }
    }, Math.min(Math.max(idleTimeout / 2, 10), 60_000))
    : undefined;

  function shutdown(): Promise<void> {
    stopping ??= (async () => {
      clearInterval(sweep);
      options.signal?.removeEventListener("abort", onAbort);
      await Promise.all([...sessions.values()].map(closeSession));
      await shared.close();
      await cluster.close();
      metrics.close();
      hub.release();
      await listener.shutdown();
      logger.info("Gateway stopped", {});
      resolveFinished();
    })();
    return stopping;
  }

  async function drain(): Promise<void> {
    draining = true;
    if (!await requests.idle(drainTimeout)) {
      logger.warn("Drain timed out: closing sessions with requests in progress", { requests: requests.size });
    }
    await shutdown();
  }

  const onAbort = () => void shutdown();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) void shutdown();

  const addr = listener.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const url = `${options.tls ? "https" : "http"}://${host}:${addr.port}${path}`;
  logger.info("Gateway listening", { url, auth: guard.authenticates });
  return {
    url,
    finished,
    sessionCount: () => sessions.size,
    shutdown,
    drain,
    [Symbol.asyncDispose]: shutdown,
  };
}
