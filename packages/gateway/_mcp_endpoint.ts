// Internal: the gateway's MCP endpoint (Streamable HTTP at `path`), serving both protocol eras on one URL. The router
// has already checked Host/Origin and limited the body (a request reaching here has a bounded body); the token is
// checked here through the guard, the one place that verifies tokens. Each POST's body is read once; a `tools/call`
// the plain way takes is recognised as sent (`legacyPlainCall`, `ModernEndpoint.plainRequest`), everything else is
// classified by the SDK's dual-era rules (`classifyInboundRequest`): 2026-07-28 requests (and malformed claims to it)
// go to the stateless modern path (_modern_endpoint.ts); everything else is 2025-11-25 traffic on client sessions
// (open, rebuild on this replica from a sealed session id, idle sweep, close), with the subject binding of every
// session, the draining rule, and CORS. GET and DELETE are session operations, hence 2025-era.
import type { Logger } from "../core/logger.ts";
import { isRequest } from "../core/_jsonrpc.ts";
import { instrumentServerTransport } from "../core/_telemetry.ts";
import { classifyInboundRequest, type JSONRPCMessage, WebStandardStreamableHTTPServerTransport } from "../core/_sdk.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import type { SessionClaims } from "../cluster/session_tokens.ts";
import { createClientSession } from "./_client_session.ts";
import { interceptLegacyTasks } from "./_tasks.ts";
import { MemoryEventStore } from "./_event_store.ts";
import { type HttpGuard, rpcError } from "./_http_guard.ts";
import type { ClientSession, SessionHub } from "./_hub.ts";
import type { ResolvedGatewayOptions } from "./_options.ts";
import type { RequestTracker } from "./_request_tracker.ts";
import { JSON_WINDOW_MS, type SessionLink } from "./_session_link.ts";
import { initializeParams } from "./_initialize_params.ts";
import { requestJson } from "./_request_json.ts";
import { answerLegacyPlainCall, legacyPlainCall, plainSession, watchPlainCancellations } from "./_legacy_plain_call.ts";
import type { PlainToolCall } from "./_plain_call.ts";
import { TimeWindows } from "../core/_time_windows.ts";
import type { SharedSessions } from "./_shared_sessions.ts";
import type { SessionReservation } from "./_session_quota.ts";
import type { ModernEndpoint, ModernRequest } from "./_modern_endpoint.ts";

/** The requests of a 2025-11-25 session traced at its transport (the catalog handlers trace theirs). */
const SESSION_TRACED_METHODS: ReadonlySet<string> = new Set([
  "initialize",
  "ping",
  "logging/setLevel",
  "resources/subscribe",
  "resources/unsubscribe",
]);

interface HttpSession {
  id: string;
  /** The session's transport on this replica (in front of the SDK's). */
  link: SessionLink;
  client: ClientSession;
  /** The `sub` of the token that opened the session: later requests must carry the same. */
  subject: string | undefined;
}

const CORS_ALLOW_HEADERS =
  "authorization, content-type, mcp-session-id, mcp-protocol-version, last-event-id, mcp-method, mcp-name";
/** The headers a preflight may ask for: the fixed ones and the `Mcp-Param-*` ones a 2026-07-28 tool declares. */
function allowedHeaders(request: Request): string {
  const asked = (request.headers.get("access-control-request-headers") ?? "").split(",").map((name) => name.trim());
  const params = asked.filter((name) => /^mcp-param-[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name)).slice(0, 32);
  return [CORS_ALLOW_HEADERS, ...params.map((name) => name.toLowerCase())].join(", ");
}
const CORS_EXPOSE_HEADERS = "mcp-session-id, mcp-protocol-version, www-authenticate";

/** What the endpoint works with. */
export interface McpEndpointContext {
  options: ResolvedGatewayOptions;
  proxy: FederationProxy;
  hub: SessionHub;
  guard: HttpGuard;
  shared: SharedSessions;
  requests: RequestTracker;
  /** SSE keep-alive comment interval of the streams the endpoint writes itself, in ms. */
  keepAliveMs: number;
  /** The 2026-07-28 path. */
  modern: ModernEndpoint;
  logger: Logger;
  /** Whether the gateway refuses new work (draining or closing). */
  draining: () => boolean;
}

function shuttingDown(): Response {
  return rpcError(503, -32000, "The gateway is shutting down", { "retry-after": "1" });
}

/** The MCP endpoint and its client sessions. */
export class McpEndpoint {
  #ctx: McpEndpointContext;
  #sessions = new Map<string, HttpSession>();
  #restoring = new Map<string, Promise<HttpSession | Response>>();
  #sweep: ReturnType<typeof setInterval> | undefined;
  /** The JSON window of plain calls' answers. */
  #window = new TimeWindows(JSON_WINDOW_MS);

  constructor(ctx: McpEndpointContext) {
    this.#ctx = ctx;
  }

  /** Starts the idle sweep: called once the gateway listens, so that a gateway that cannot listen leaves no timer. */
  start(): void {
    const idle = this.#ctx.options.sessionIdleTimeout;
    if (this.#sweep === undefined && Number.isFinite(idle)) {
      this.#sweep = setInterval(() => this.#closeIdle(), Math.min(Math.max(idle / 2, 10), 60_000));
    }
  }

  /** Client sessions open on this replica. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Serves one request to the MCP endpoint, with CORS headers for allowed origins. */
  async handle(request: Request): Promise<Response> {
    return withCors(request, await this.#handle(request));
  }

  async #handle(request: Request): Promise<Response> {
    const { guard, options } = this.#ctx;
    if (request.method === "OPTIONS") return new Response(null, { status: 204 });
    const claims = await guard.authenticate(request, "mcp");
    if (claims instanceof Response) return claims;
    const subject = typeof claims.sub === "string" ? claims.sub : undefined;
    let body: unknown;
    let plain: PlainToolCall | undefined;
    if (request.method === "POST") {
      try {
        body = await requestJson(request);
      } catch {
        return rpcError(400, -32700, "Parse error: invalid JSON");
      }
      plain = request.headers.has("mcp-session-id") ? legacyPlainCall(request.headers, body) : undefined;
    }
    // A call the plain way may serve is a 2025-11-25 or a 2026-07-28 one as sent: the SDK's classification (zod parses
    // of the body as each kind of JSON-RPC message, and of the envelope) is for everything else.
    if (request.method === "POST" && !plain) {
      const modern = this.#ctx.modern.plainRequest(request, body);
      if (modern) {
        if (this.#ctx.draining()) return shuttingDown();
        const caller = { token: bearerToken(request), sub: subject };
        return await this.#ctx.modern.handle(request, body, modern.message, caller, modern.call);
      }
      const inbound: Parameters<typeof classifyInboundRequest>[0] = { httpMethod: "POST", body };
      const version = request.headers.get("mcp-protocol-version");
      const method = request.headers.get("mcp-method");
      const name = request.headers.get("mcp-name");
      if (version !== null) inbound.protocolVersionHeader = version;
      if (method !== null) inbound.mcpMethodHeader = method;
      if (name !== null) inbound.mcpNameHeader = name;
      const route = classifyInboundRequest(inbound);
      if (route.kind !== "legacy") {
        const message: ModernRequest | undefined = route.kind === "modern" && route.messageKind === "request"
          ? {
            id: route.message.id,
            method: route.message.method,
            params: route.message.params as Record<string, unknown> | undefined,
          }
          : undefined;
        if (message && this.#ctx.draining()) return shuttingDown();
        return await this.#ctx.modern.handle(request, body, message, { token: bearerToken(request), sub: subject });
      }
    }
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId !== null) {
      let session = this.#sessions.get(sessionId);
      if (!session) {
        const restored = await this.#restore(request, sessionId, subject);
        if (restored instanceof Response) return restored;
        session = restored;
      }
      if (session.subject !== subject) {
        return rpcError(403, -32000, "Forbidden: the session belongs to another subject");
      }
      session.client.lastActive = performance.now();
      if (request.method !== "POST") return await session.link.handleRequest(request);
      // Draining: responses to members' requests and notifications (cancellations) still pass; new requests do not.
      if (this.#ctx.draining() && (Array.isArray(body) ? body : [body]).some(isRequest)) return shuttingDown();
      const answered = plain && plainSession(session.client) &&
        answerLegacyPlainCall(plain, request, session.client, session.link, {
          window: this.#window,
          keepAliveMs: this.#ctx.keepAliveMs,
          retryMs: this.#ctx.options.sseRetryInterval,
          events: this.#ctx.shared,
        }, () => this.#ctx.requests.hold());
      if (answered) {
        this.#ctx.shared.counters.plainCalls++;
        return await answered;
      }
      return await session.link.handleRequest(request, { parsedBody: body });
    }
    if (request.method === "GET" || request.method === "DELETE") {
      return rpcError(400, -32000, "Bad Request: Mcp-Session-Id header is required");
    }
    if (request.method !== "POST") {
      return rpcError(405, -32000, "Method not allowed", { allow: "GET, POST, DELETE" });
    }
    if (this.#ctx.draining()) return shuttingDown();
    if (this.#sessions.size >= options.maxSessions) {
      return rpcError(503, -32000, `Too many sessions (limit ${options.maxSessions})`, { "retry-after": "5" });
    }
    const admitted = this.#ctx.shared.admit(subject);
    if (admitted instanceof Response) return admitted;
    return await this.#open(request, body, subject, admitted).finally(admitted.release);
  }

  /** Opens a session from its initialize request: a new one, or (`identity` given) one rebuilt on this replica. */
  async #open(
    request: Request,
    body: unknown,
    subject: string | undefined,
    reservation: SessionReservation,
    identity?: { token: string; claims: SessionClaims },
  ): Promise<Response> {
    const { hub, shared, options, requests, logger } = this.#ctx;
    const init = initializeParams(body, subject);
    if (init instanceof Response) return init;
    if (!init) return rpcError(400, -32000, "Bad Request: Server not initialized");
    identity ??= await shared.issue(init, subject);
    const { token } = identity;
    const client = createClientSession({
      hub,
      serverInfo: options.serverInfo,
      instructions: options.instructions,
      callTimeout: options.callTimeout,
      identity: subject === undefined ? undefined : { sub: subject, iss: this.#ctx.guard.issuer },
    });
    let session: HttpSession | undefined;
    const events = options.replayBuffer > 0
      ? shared.eventStore(new MemoryEventStore(options.replayBuffer, undefined, shared.counters))
      : undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => token,
      onsessioninitialized: (id) => {
        session = { id, link, client, subject };
        this.#sessions.set(id, session);
        hub.add(client);
        logger.debug("Client session opened", { sessions: this.#sessions.size });
      },
      ...(events ? { eventStore: events, retryInterval: options.sseRetryInterval } : {}),
    });
    const link = shared.link(transport, { ...identity, events }, reservation);
    link.onclose = () => {
      requests.forget(link);
      if (session) void this.#close(session);
    };
    await client.server.connect(link);
    // The catalog handlers trace their own requests; these are answered by the SDK or the session's own handlers.
    instrumentServerTransport(link, { protocol: "http", methods: SESSION_TRACED_METHODS });
    const tasksIdentity = subject === undefined ? undefined : { sub: subject, iss: this.#ctx.guard.issuer };
    interceptLegacyTasks(link, () => ({
      proxy: hub.proxy,
      sealer: this.#ctx.modern.sealer,
      identity: tasksIdentity,
      callTimeout: options.callTimeout,
      relate: (id) => hub.relate(client, id),
    }));
    watchPlainCancellations(link);
    requests.watch(link);
    const response = await transport.handleRequest(request, { parsedBody: body as JSONRPCMessage });
    if (!session) await client.server.close().catch(() => {});
    return response;
  }

  /**
   * A session seen for the first time on this replica: rebuilt from its id, or refused (404, 403, 503). The subject
   * is checked for each caller; concurrent callers share the rebuild, and each gets its own response.
   */
  async #restore(request: Request, token: string, subject: string | undefined): Promise<HttpSession | Response> {
    const claims = await this.#ctx.shared.open(token);
    if (!claims) return rpcError(404, -32001, "Session not found");
    if (claims.subject !== subject) return rpcError(403, -32000, "Forbidden: the session belongs to another subject");
    let pending = this.#restoring.get(token);
    if (!pending) {
      // Rebuilt by another caller while this one was checked.
      const open = this.#sessions.get(token);
      if (open) return open;
      pending = this.#rebuild(request.url, token, claims).finally(() => this.#restoring.delete(token));
      this.#restoring.set(token, pending);
    }
    const outcome = await pending;
    // A refusal is shared as a template: each caller reads its own copy.
    return outcome instanceof Response ? outcome.clone() : outcome;
  }

  /** Rebuilds the session of a checked session id on this replica (its `initialize`, then `initialized`). */
  async #rebuild(url: string, token: string, claims: SessionClaims): Promise<HttpSession | Response> {
    const { shared, options, logger } = this.#ctx;
    if (this.#ctx.draining()) return shuttingDown();
    if (this.#sessions.size >= options.maxSessions) {
      return rpcError(503, -32000, `Too many sessions (limit ${options.maxSessions})`, { "retry-after": "5" });
    }
    const [initialize, initialized] = shared.restoreRequests(url, token, claims);
    let body: unknown;
    try {
      body = await initialize.json();
    } catch {
      return rpcError(400, -32700, "Parse error: invalid JSON");
    }
    const admitted = shared.admit(claims.subject);
    if (admitted instanceof Response) return admitted;
    await (await this.#open(initialize, body, claims.subject, admitted, { token, claims }).finally(admitted.release))
      .text();
    const session = this.#sessions.get(token);
    if (!session) return rpcError(404, -32001, "Session not found");
    await (await session.link.handleRequest(initialized)).text();
    logger.debug("Client session rebuilt on this replica", { sessions: this.#sessions.size });
    return session;
  }

  async #close(session: HttpSession): Promise<void> {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    await this.#ctx.hub.remove(session.client);
    await session.client.server.close().catch(() => {});
  }

  #closeIdle(): void {
    const now = performance.now();
    for (const session of this.#sessions.values()) {
      if (
        session.client.inflight.size === 0 && now - session.client.lastActive > this.#ctx.options.sessionIdleTimeout
      ) {
        this.#ctx.logger.debug("Closing an idle client session", {
          idleMs: Math.round(now - session.client.lastActive),
        });
        void this.#close(session);
      }
    }
  }

  /** Closes every session and stops the idle sweep. */
  async closeAll(): Promise<void> {
    clearInterval(this.#sweep);
    await Promise.all([...this.#sessions.values()].map((session) => this.#close(session)));
    await this.#ctx.modern.close();
  }
}

/** The bearer token of a request (already verified by the guard), handed to the SDK as `authInfo.token`. */
function bearerToken(request: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1];
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
      response.headers.set("access-control-allow-headers", allowedHeaders(request));
      response.headers.set("access-control-max-age", "600");
    }
  } catch {
    // immutable headers: serve the response as it is
  }
  return response;
}
