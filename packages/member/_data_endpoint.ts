// Internal: the data endpoint. MCP Streamable HTTP in stateful mode with the SDK's
// WebStandardStreamableHTTPServerTransport: one transport and one new server per session, keyed by
// Mcp-Session-Id and bound to the subject (`sub`, `iss`) of the token that created it.

import { WebStandardStreamableHTTPServerTransport } from "../core/_sdk.ts";
import { authInfoOf, sameIdentity, USER_METHODS } from "./_auth_guard.ts";
import type { Grant, Identity } from "./_auth_guard.ts";
import { isRequest } from "../core/_jsonrpc.ts";
import { rpcErrorResponse } from "../core/_http.ts";
import { readLimitedBody } from "../core/_limited_body.ts";
import type { EndpointContext } from "./_context.ts";
import type { SessionServer } from "./types.ts";
import { Deadline } from "./_deadline.ts";
import { TrackedBody } from "./_tracked_body.ts";

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
// request info cannot leak the token.
function withoutAuthorization(req: Request, bodyUsed: boolean): Request {
  const headers = new Headers(req.headers);
  headers.delete("authorization");
  // Built from parts, not `new Request(req)`: that would copy (and so touch) the request's abort signal.
  const init: RequestInit = { method: req.method, headers };
  if (!bodyUsed && req.body !== null) init.body = req.body;
  return new Request(req.url, init);
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

function sessionNotFound(): Response {
  return rpcErrorResponse(404, -32001, "Session not found");
}

/** Serves MCP Streamable HTTP sessions to authenticated requests. */
export class DataEndpoint {
  #ctx: EndpointContext;
  #jsonResponse: boolean;
  #byId = new Map<string, HttpSession>();
  #all = new Set<HttpSession>();

  constructor(ctx: EndpointContext, options: { jsonResponse: boolean }) {
    this.#ctx = ctx;
    this.#jsonResponse = options.jsonResponse;
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
    if (method === "POST" && Number(req.headers.get("content-length")) > this.#ctx.maxMessageBytes) {
      return tooLarge(this.#ctx.maxMessageBytes);
    }
    const sessionId = req.headers.get("mcp-session-id");
    if (sessionId === null) {
      if (method !== "POST") return rpcErrorResponse(400, -32000, "Bad Request: Mcp-Session-Id header is required");
      return await this.#initialize(req, grant);
    }
    const session = this.#byId.get(sessionId);
    // A session of another subject answers exactly like one that does not exist.
    if (!session || session.closing || !sameIdentity(session.owner, grant)) return sessionNotFound();
    // The user a delegated token names reaches the handlers as `ctx.http.authInfo`, for this request only.
    const authInfo = authInfoOf(grant);
    let parsedBody: unknown;
    if (this.#ctx.requireUserIdentity && !grant.user && method === "POST") {
      const body = await readLimitedBody(req, this.#ctx.maxMessageBytes);
      if (body.tooLarge) return tooLarge(this.#ctx.maxMessageBytes);
      try {
        parsedBody = JSON.parse(new TextDecoder().decode(body.bytes));
      } catch {
        return rpcErrorResponse(400, -32700, "Parse error: Invalid JSON");
      }
      const refused = refuseWithoutUser(parsedBody);
      if (refused) return refused;
    }
    const options = {
      ...(authInfo ? { authInfo } : {}),
      ...(parsedBody === undefined ? {} : { parsedBody }),
    };
    return await this.#run(
      session,
      method === "GET" ? "stream" : "request",
      grant,
      () => session.transport.handleRequest(withoutAuthorization(req, parsedBody !== undefined), options),
    );
  }

  /** Closes every session (their SSE streams end) and waits for them. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#all].map((session) => this.#close(session)));
  }

  async #initialize(req: Request, grant: Grant): Promise<Response> {
    const ctx = this.#ctx;
    const body = await readLimitedBody(req, ctx.maxMessageBytes);
    if (body.tooLarge) return tooLarge(ctx.maxMessageBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body.bytes));
    } catch {
      return rpcErrorResponse(400, -32700, "Parse error: Invalid JSON");
    }
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
      await server.connect(transport);
    } catch (error) {
      ctx.logger.error("Data session failed to start", { serverId: ctx.serverId, error: String(error) });
      void this.#close(session);
      return rpcErrorResponse(500, -32603, "Internal error");
    }
    const response = await this.#run(
      session,
      "request",
      grant,
      () => transport.handleRequest(withoutAuthorization(req, true), { parsedBody: parsed }),
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
    const streaming = response.body !== null &&
      (response.headers.get("content-type") ?? "").startsWith("text/event-stream");
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
