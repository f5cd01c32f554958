// Internal: the data endpoint, MCP Streamable HTTP in both protocol eras. Each POST is classified by the SDK's
// `classifyInboundRequest`: 2025-11-25 traffic (and GET/DELETE) goes to the sessionful path, one
// WebStandardStreamableHTTPServerTransport and one new server per session, keyed by Mcp-Session-Id and bound to the
// subject (`sub`, `iss`) of the token that created it; 2026-07-28 traffic goes to the SDK's stateless
// `createMcpHandler`, one new server per request; a request the classification ladder refuses gets its status and
// JSON-RPC error.

import { classifyInboundRequest, createMcpHandler, isJsonContentType, LEGACY_PROTOCOL_VERSIONS } from "../core/_sdk.ts";
import type { McpHttpHandler, McpRequestContext, ServerNotifier } from "../core/_sdk.ts";
import { WebStandardStreamableHTTPServerTransport } from "../core/_sdk.ts";
import { authInfoOf, sameIdentity, USER_METHODS } from "./_auth_guard.ts";
import type { Grant, Identity } from "./_auth_guard.ts";
import { isRequest } from "../core/_jsonrpc.ts";
import { isEventStream, jsonResponse, rpcErrorResponse } from "../core/_http.ts";
import { readLimitedBody } from "../core/_limited_body.ts";
import { TimeWindows } from "../core/_time_windows.ts";
import { watchClient } from "../core/_client_watch.ts";
import type { EndpointContext } from "./_context.ts";
import type { SessionServer } from "./types.ts";
import { Deadline } from "./_deadline.ts";
import { TrackedBody } from "./_tracked_body.ts";
import { answerJsonWhenOnlyResponse, JSON_ANSWER_WINDOW_MS } from "./_json_answer.ts";
import { advertiseControlChannel, announce, isDualEraServer } from "./_dual_era.ts";
import type { DualEraServer, MemberChange } from "./_dual_era.ts";
import { instrumentServer, type ServerTransportInfo } from "../core/_telemetry.ts";

interface HttpSession {
  id: string | undefined;
  transport: WebStandardStreamableHTTPServerTransport;
  server: SessionServer;
  owner: Identity;
  /** Requests and GET streams in progress. */
  active: number;
  idle: Deadline;
  /** Token deadlines of open GET streams. */
  streams: Set<Deadline>;
  closing: Promise<void> | undefined;
}

// A session starts with an `initialize` request, alone or as a batch of one.
function isInitialize(body: unknown): boolean {
  const message = Array.isArray(body) && body.length === 1 ? body[0] : body;
  return isRequest(message) && message.method === "initialize";
}

// The member's MCP server sees the request without the Authorization header, so that a tool that logs its
// request info cannot leak the token. `body` replaces a body already read.
function withoutAuthorization(req: Request, body?: Uint8Array, signal?: AbortSignal): Request {
  const headers = new Headers(req.headers);
  headers.delete("authorization");
  // Built from parts, not `new Request(req)`: that would copy (and so touch) the request's abort signal; a caller
  // that needs it (a 2026-07-28 exchange, cancelled by closing its request) passes it.
  const init: RequestInit = { method: req.method, headers, ...(signal ? { signal } : {}) };
  if (body !== undefined) init.body = body as Uint8Array<ArrayBuffer>;
  else if (req.body !== null) init.body = req.body;
  return new Request(req.url, init);
}

/** A POST's body: its bytes and, when they are JSON, its value. */
type PostBody = { bytes: Uint8Array; parsed: unknown; json: boolean };

function parseBody(bytes: Uint8Array): PostBody {
  try {
    return { bytes, parsed: JSON.parse(new TextDecoder().decode(bytes)), json: true };
  } catch {
    return { bytes, parsed: undefined, json: false };
  }
}

function headerOf(req: Request, name: string): string | undefined {
  return req.headers.get(name) ?? undefined;
}

/** The id of the request a body carries, for an error answer (null when it carries none). */
function requestIdOf(body: unknown): string | number | null {
  return isRequest(body) ? body.id : null;
}

/** The JSON-RPC error answer of a refused request, with the id of the request when it has one. */
function rpcRefusal(status: number, body: unknown, error: { code: number; message: string; data?: unknown }): Response {
  return jsonResponse(status, { jsonrpc: "2.0", id: requestIdOf(body), error });
}

function tooLarge(maxBytes: number): Response {
  return rpcErrorResponse(413, -32000, `Payload Too Large: Request body must not exceed ${maxBytes} bytes`);
}

/**
 * The answer to a POST that carries a call needing a user identity and came without one, or `undefined` when none
 * needs it. Every request of such a batch gets an answer: the calls that need a user their refusal, the others an
 * error naming the refused call (the batch is not run; its notifications are not delivered).
 */
function refuseWithoutUser(body: unknown): Response | undefined {
  const messages = Array.isArray(body) ? body : [body];
  const calls = messages.filter((m) => isRequest(m) && USER_METHODS.has(m.method));
  if (calls.length === 0) return undefined;
  const message = "This member requires a user identity: the call must be made on behalf of a user";
  const withBatch = "Refused with its batch: the batch carries a call that requires a user identity";
  // A JSON-RPC error for each request (HTTP 200): the calls fail, the session and the channel stay up.
  const answers = messages.filter(isRequest).map((m) => ({
    jsonrpc: "2.0",
    id: m.id,
    error: { code: -32001, message: USER_METHODS.has(m.method) ? message : withBatch },
  }));
  return Response.json(Array.isArray(body) ? answers : answers[0]);
}

/** JSON-RPC error code of an unsupported protocol version (2026-07-28). */
const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** How long a 2026-07-28 request runs before its client is watched, in ms (`_client_watch.ts`). */
const CLIENT_WATCH_MS = 1_000;

/** `{ [key]: value }`, or nothing when the value is undefined (for exactOptionalPropertyTypes). */
function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function sessionNotFound(): Response {
  return rpcErrorResponse(404, -32001, "Session not found");
}

/** What the member's server spans of this endpoint say (with OpenTelemetry on). */
function spanInfo(serverId: string): ServerTransportInfo {
  return { protocol: "http", attributes: { "federation.member.id": serverId, "federation.channel": "data" } };
}

/** Serves MCP Streamable HTTP sessions to authenticated requests. */
export class DataEndpoint {
  #ctx: EndpointContext;
  #jsonResponse: boolean;
  #byId = new Map<string, HttpSession>();
  #all = new Set<HttpSession>();

  /** The SDK's stateless handler of 2026-07-28 requests. */
  #modernHandler: McpHttpHandler;
  /** The grant of each 2026-07-28 request being served, for the factory. */
  #grants = new WeakMap<Request, Grant>();
  /** Response bodies of 2026-07-28 requests and listen streams in progress. */
  #modernStreams = new Set<TrackedBody>();
  /** Whether the factory builds v2 SDK servers; unknown until it built one. */
  #modernCapable: boolean | undefined;
  /** When 2026-07-28 requests start watching their client (`_client_watch.ts`). */
  #clientWatch = new TimeWindows(CLIENT_WATCH_MS);

  constructor(ctx: EndpointContext, options: { jsonResponse: boolean }) {
    this.#ctx = ctx;
    this.#jsonResponse = options.jsonResponse;
    this.#modernHandler = createMcpHandler((request) => this.#modernServer(request), {
      legacy: "reject",
      responseMode: options.jsonResponse ? "json" : "auto",
      maxRequestBodySize: ctx.maxMessageBytes,
      onerror: (error) =>
        ctx.logger.debug("2026-07-28 request refused or failed", {
          serverId: ctx.serverId,
          error: String(error),
        }),
    });
  }

  /** Initialized sessions. */
  get size(): number {
    return this.#byId.size;
  }

  /** Answers one authenticated request. */
  async handle(req: Request, grant: Grant): Promise<Response> {
    const method = req.method;
    if (method !== "POST" && method !== "GET" && method !== "DELETE") {
      return rpcErrorResponse(405, -32000, "Method not allowed.", { allow: "GET, POST, DELETE" });
    }
    let body: PostBody | undefined;
    if (method === "POST") {
      const read = await readLimitedBody(req, this.#ctx.maxMessageBytes);
      if (read.tooLarge) return tooLarge(this.#ctx.maxMessageBytes);
      body = parseBody(read.bytes);
      // A body that is not JSON (or not sent as JSON) claims no era: the 2025-11-25 path answers it as before.
      if (body.json && isJsonContentType(req.headers.get("content-type"))) {
        const route = classifyInboundRequest({
          httpMethod: method,
          body: body.parsed,
          ...optional("protocolVersionHeader", headerOf(req, "mcp-protocol-version")),
          ...optional("mcpMethodHeader", headerOf(req, "mcp-method")),
          ...optional("mcpNameHeader", headerOf(req, "mcp-name")),
        });
        if (route.kind === "reject") {
          return rpcRefusal(route.httpStatus, body.parsed, {
            code: route.code,
            message: route.message,
            ...(route.data === undefined ? {} : { data: route.data }),
          });
        }
        if (route.kind === "modern") return await this.#modern(req, grant, body);
      }
    }
    const sessionId = req.headers.get("mcp-session-id");
    if (sessionId === null) {
      if (body === undefined) return rpcErrorResponse(400, -32000, "Bad Request: Mcp-Session-Id header is required");
      return await this.#initialize(req, grant, body);
    }
    const session = this.#byId.get(sessionId);
    // A session of another subject answers exactly like one that does not exist.
    if (!session || session.closing || !sameIdentity(session.owner, grant)) return sessionNotFound();
    // The user a delegated token names reaches the handlers as `ctx.http.authInfo`, for this request only.
    const authInfo = authInfoOf(grant);
    if (this.#ctx.requireUserIdentity && !grant.user && body?.json) {
      const refused = refuseWithoutUser(body.parsed);
      if (refused) return refused;
    }
    const options = {
      ...(authInfo ? { authInfo } : {}),
      ...(body?.json ? { parsedBody: body.parsed } : {}),
    };
    // A POST of one request may be answered with plain JSON when its stream would carry nothing but the response.
    const single = !this.#jsonResponse && body?.json === true && isRequest(body.parsed);
    return await this.#run(
      session,
      method === "GET" ? "stream" : "request",
      grant,
      () => session.transport.handleRequest(withoutAuthorization(req, body?.bytes), options),
      single,
    );
  }

  /**
   * Announces a change: on the `subscriptions/listen` streams of 2026-07-28 clients that asked for it, and as a
   * notification on every 2025-11-25 session served by a v2 SDK server.
   */
  announce(change: MemberChange): void {
    const notify: ServerNotifier = this.#modernHandler.notify;
    switch (change.kind) {
      case "tools":
        notify.toolsChanged();
        break;
      case "prompts":
        notify.promptsChanged();
        break;
      case "resources":
        notify.resourcesChanged();
        break;
      case "resource":
        notify.resourceUpdated(change.uri);
        break;
    }
    for (const session of this.#byId.values()) {
      if (session.closing || !isDualEraServer(session.server)) continue;
      announce(session.server, change).catch((error) =>
        this.#ctx.logger.debug("Could not announce a change", { serverId: this.#ctx.serverId, error: String(error) })
      );
    }
  }

  // A 2026-07-28 request: no session; one server per request, built by the SDK's handler from the factory.
  async #modern(req: Request, grant: Grant, body: PostBody): Promise<Response> {
    const ctx = this.#ctx;
    if (ctx.requireUserIdentity && !grant.user) {
      const refused = refuseWithoutUser(body.parsed);
      if (refused) return refused;
    }
    if (!(await this.#servesModern(grant))) {
      // Not a v2 SDK server: 2025-11-25 only. A negotiating client falls back to `initialize` on this answer.
      return rpcRefusal(400, body.parsed, {
        code: UNSUPPORTED_PROTOCOL_VERSION,
        message: "Unsupported protocol version: this member serves 2025-11-25 only",
        data: { supported: [...LEGACY_PROTOCOL_VERSIONS], requested: "2026-07-28" },
      });
    }
    // The client's going away goes along: a 2026-07-28 call is cancelled by closing its request, and the SDK reads
    // that from the request it is given. It is watched once the request has run a while (`_client_watch.ts`).
    const client = watchClient(req, this.#clientWatch);
    const forwarded = withoutAuthorization(req, body.bytes, client.signal);
    this.#grants.set(forwarded, grant);
    const authInfo = authInfoOf(grant);
    const listen = isRequest(body.parsed) && body.parsed.method === "subscriptions/listen";
    return await this.#track(
      listen ? "stream" : "request",
      grant,
      () => this.#modernHandler.fetch(forwarded, { parsedBody: body.parsed, ...(authInfo ? { authInfo } : {}) }),
      client.stop,
    );
  }

  // Whether the factory builds v2 SDK servers, learnt from the first server it built (built here for the purpose
  // when no other was built yet).
  async #servesModern(grant: Grant): Promise<boolean> {
    if (this.#modernCapable !== undefined) return this.#modernCapable;
    let probe: SessionServer;
    try {
      probe = this.#ctx.factory({ channel: "data", subject: grant.sub, issuer: grant.iss });
    } catch {
      return true; // The handler calls the factory again and answers its failure.
    }
    this.#modernCapable = isDualEraServer(probe);
    await probe.close().catch(() => {});
    return this.#modernCapable;
  }

  // The factory of the 2026-07-28 handler: a new server for one request, for the subject of its token.
  #modernServer(request: McpRequestContext): DualEraServer {
    const grant = request.requestInfo ? this.#grants.get(request.requestInfo) : undefined;
    const server = this.#ctx.factory({ channel: "data", subject: grant?.sub, issuer: grant?.iss });
    if (!isDualEraServer(server)) {
      this.#modernCapable = false;
      void server.close().catch(() => {});
      throw new TypeError("The server factory returned a server of another kind than the SDK's McpServer or Server");
    }
    this.#modernCapable = true;
    if (this.#ctx.controlChannel) advertiseControlChannel(server);
    return instrumentServer(server, spanInfo(this.#ctx.serverId));
  }

  // Counts a 2026-07-28 request as in progress until its response ends; a listen stream is not a request in
  // progress, and it ends when the token that opened it expires (the client opens a new one with a fresh token).
  async #track(
    kind: "request" | "stream",
    grant: Grant,
    handle: () => Promise<Response>,
    onEnd: () => void,
  ): Promise<Response> {
    const ctx = this.#ctx;
    if (kind === "request") ctx.inflight.add();
    let ended = false;
    let expiry: Deadline | undefined;
    const tracked: { body?: TrackedBody } = {};
    const end = () => {
      if (ended) return;
      ended = true;
      onEnd();
      expiry?.clear();
      if (tracked.body) this.#modernStreams.delete(tracked.body);
      if (kind === "request") ctx.inflight.done();
    };
    let response: Response;
    try {
      response = await handle();
    } catch (error) {
      end();
      ctx.logger.error("Data request failed", { serverId: ctx.serverId, error: String(error) });
      return rpcErrorResponse(500, -32603, "Internal error");
    }
    // Only an SSE answer is still being written; any other is complete (the SDK builds a JSON answer from its
    // message), so the request has ended, and its body goes out as it is, with its length.
    if (!isEventStream(response)) {
      end();
      return response;
    }
    const body = new TrackedBody(response.body, end);
    tracked.body = body;
    this.#modernStreams.add(body);
    if (kind === "stream") {
      expiry = new Deadline(ctx.now, () => body.close());
      expiry.set(grant.exp * 1000);
    }
    return new Response(body.stream, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  /** Closes every session and 2026-07-28 stream (their SSE streams end) and waits for them. */
  async closeAll(): Promise<void> {
    for (const stream of this.#modernStreams) stream.close();
    this.#modernStreams.clear();
    await Promise.all([
      ...[...this.#all].map((session) => this.#close(session)),
      this.#modernHandler.close().catch(() => {}),
    ]);
  }

  async #initialize(req: Request, grant: Grant, body: PostBody): Promise<Response> {
    const ctx = this.#ctx;
    if (!body.json) return rpcErrorResponse(400, -32700, "Parse error: Invalid JSON");
    const parsed = body.parsed;
    if (!isInitialize(parsed)) {
      return rpcErrorResponse(400, -32000, "Bad Request: Mcp-Session-Id header is required");
    }
    if (this.#all.size >= ctx.maxSessions) {
      ctx.logger.warn("Refused a data session: too many sessions", {
        serverId: ctx.serverId,
        maxSessions: ctx.maxSessions,
      });
      return rpcErrorResponse(503, -32000, "Service Unavailable: too many sessions", { "retry-after": "1" });
    }
    let server: SessionServer;
    try {
      server = ctx.factory({ channel: "data", subject: grant.sub, issuer: grant.iss });
    } catch (error) {
      ctx.logger.error("The server factory threw", { serverId: ctx.serverId, error: String(error) });
      return rpcErrorResponse(500, -32603, "Internal error");
    }
    this.#modernCapable = isDualEraServer(server);
    if (ctx.controlChannel && isDualEraServer(server)) advertiseControlChannel(server);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      enableJsonResponse: this.#jsonResponse,
      maxRequestBodySize: ctx.maxMessageBytes,
      onsessioninitialized: (id) => {
        session.id = id;
        this.#byId.set(id, session);
        ctx.logger.debug("Data session opened", { serverId: ctx.serverId, sessions: this.#byId.size });
      },
    });
    const session: HttpSession = {
      id: undefined,
      transport,
      server,
      owner: { sub: grant.sub, iss: grant.iss },
      active: 0,
      idle: new Deadline(ctx.now, () => this.#reap(session)),
      streams: new Set(),
      closing: undefined,
    };
    transport.onclose = () => this.#forget(session);
    this.#all.add(session);
    try {
      await instrumentServer(server, spanInfo(ctx.serverId)).connect(transport);
    } catch (error) {
      ctx.logger.error("Data session failed to start", { serverId: ctx.serverId, error: String(error) });
      void this.#close(session);
      return rpcErrorResponse(500, -32603, "Internal error");
    }
    const response = await this.#run(
      session,
      "request",
      grant,
      () => transport.handleRequest(withoutAuthorization(req, body.bytes), { parsedBody: parsed }),
    );
    if (session.id === undefined) void this.#close(session);
    return response;
  }

  // Runs one request of a session, counting it as activity until its response body ends. A GET stream also
  // ends when the token that opened it expires: the client reconnects it with a fresh token.
  async #run(
    session: HttpSession,
    kind: "request" | "stream",
    grant: Grant,
    handle: () => Promise<Response>,
    single = false,
  ): Promise<Response> {
    const ctx = this.#ctx;
    session.active++;
    session.idle.clear();
    if (kind === "request") ctx.inflight.add();
    let ended = false;
    let expiry: Deadline | undefined;
    const end = () => {
      if (ended) return;
      ended = true;
      if (expiry) {
        expiry.clear();
        session.streams.delete(expiry);
      }
      if (kind === "request") ctx.inflight.done();
      session.active--;
      if (session.active === 0 && session.closing === undefined && this.#all.has(session)) {
        session.idle.set(ctx.now() + ctx.idleTimeout);
      }
    };
    let response: Response;
    try {
      response = await handle();
    } catch (error) {
      end();
      ctx.logger.error("Data request failed", { serverId: ctx.serverId, error: String(error) });
      return rpcErrorResponse(500, -32603, "Internal error");
    }
    let streaming = isEventStream(response);
    if (streaming && single) {
      try {
        response = await answerJsonWhenOnlyResponse(response, JSON_ANSWER_WINDOW_MS);
      } catch (error) {
        end();
        ctx.logger.error("Data request failed", { serverId: ctx.serverId, error: String(error) });
        return rpcErrorResponse(500, -32603, "Internal error");
      }
      streaming = isEventStream(response);
    }
    if (!streaming || response.body === null) {
      end();
      return response;
    }
    const body = new TrackedBody(response.body, end);
    if (kind === "stream") {
      expiry = new Deadline(ctx.now, () => {
        ctx.logger.debug("Closing a GET stream: its token expired", { serverId: ctx.serverId });
        body.close();
      });
      session.streams.add(expiry);
      expiry.set(grant.exp * 1000);
    }
    return new Response(body.stream, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  #reap(session: HttpSession): void {
    if (session.active > 0 || session.closing) return;
    this.#ctx.logger.info("Closing an idle data session", { serverId: this.#ctx.serverId });
    void this.#close(session);
  }

  #close(session: HttpSession): Promise<void> {
    session.closing ??= session.server.close().catch((error) => {
      this.#ctx.logger.warn("Closing a data session failed", { serverId: this.#ctx.serverId, error: String(error) });
    }).finally(() => this.#forget(session));
    return session.closing;
  }

  #forget(session: HttpSession): void {
    if (!this.#all.delete(session)) return;
    if (session.id !== undefined) this.#byId.delete(session.id);
    session.idle.clear();
    for (const expiry of session.streams) expiry.clear();
    session.streams.clear();
    this.#ctx.logger.debug("Data session closed", { serverId: this.#ctx.serverId, sessions: this.#byId.size });
  }
}
