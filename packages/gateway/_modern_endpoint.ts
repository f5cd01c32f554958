// Internal: the 2026-07-28 ("modern") side of the gateway's MCP endpoint. Stateless: every request carries its
// version, client capabilities and client info in `_meta`; nothing is kept between requests, so any replica serves
// any request (a Multi Round-Trip retry carries its member inside the sealed `requestState`).
//
// One request's way (after the endpoint's guard: Host/Origin, body limit, token): a `tools/call` that needs no stream
// is recognised before any classification (`plainRequest`); otherwise the SDK's classification said "modern" →
// `subscriptions/listen` is answered by the gateway's own fan-out (`serveListen`), a `tools/call` has its
// `Mcp-Param-*` headers checked against the federated tool's `x-mcp-header` declarations (400 / -32020), a call that
// needs no stream is answered without a per-request server (`_modern_plain_call.ts`), and everything else goes to the
// SDK's `createMcpHandler` (version, envelope and header checks, `server/discover`,
// `resultType`, per-request SSE), whose factory builds a cheap `Server` with the shared catalog handlers. A `-32022`
// answer lists the modern versions only, as `server/discover`'s `supportedVersions` does (the conformance suite
// requires the two to agree); 2025-11-25 clients never see it, they take the sessionful path.
import type { Logger } from "../core/logger.ts";
import { jsonResponse } from "../core/_http.ts";
import { type McpOperation, traceServerOperation } from "../core/_telemetry.ts";
import {
  createMcpHandler,
  type Implementation,
  type McpHttpHandler,
  type McpRequestContext,
  type RequestId,
  type Server,
} from "../core/_sdk.ts";
import { createModernServer, modernScope } from "./_client_session.ts";
import { catalogHandlers } from "./_catalog_handlers.ts";
import { modernPlainCall, PlainCalls } from "./_modern_plain_call.ts";
import type { PlainToolCall } from "./_plain_call.ts";
import type { SharedSessionCounters } from "./_session_metrics.ts";
import type { CallIdentity } from "../proxy/call_options.ts";
import type { SessionHub } from "./_hub.ts";
import { HEADER_MISMATCH, paramHeaderMismatch } from "./_mcp_param.ts";
import type { RequestTracker } from "./_request_tracker.ts";
import type { RequestStateSealer } from "./_sealed_state.ts";
import { serveListen } from "./_listen.ts";
import type { InputBridge } from "./_input_bridge.ts";
import { serveModernTask } from "./_tasks.ts";

/** The revision served on this path. */
export const MODERN_VERSION = "2026-07-28";

/** How long a plain call runs before its client's connection is watched, in ms (see `PlainCalls.answer`). */
const CLIENT_WATCH_MS = 1_000;

/** What the modern path needs. */
export interface ModernEndpointSettings {
  hub: SessionHub;
  serverInfo: Implementation;
  instructions: string | undefined;
  callTimeout: number | undefined;
  /** The issuer the gateway requires of client tokens (the identity calls are made for). */
  issuer: string | undefined;
  /** Seals and opens the `requestState` of Multi Round-Trip Requests (a key every replica has). */
  sealer: RequestStateSealer;
  /** Parks the calls of 2025-11-25 members that ask the client (rounds of `input_required`). */
  bridge?: InputBridge | undefined;
  /** SSE keep-alive comment interval of streams, in ms. */
  keepAliveMs: number;
  /** Requests in progress (a drain waits for them; `subscriptions/listen` streams are not waited for). */
  requests: RequestTracker;
  /** Where the calls answered without a per-request server are counted (`/metrics`). */
  counters: Pick<SharedSessionCounters, "plainCalls">;
  logger: Logger;
}

/** The verified caller of one request. */
export interface ModernCaller {
  /** The bearer token as sent (handed to the SDK as `authInfo.token`, never logged). */
  token: string | undefined;
  /** The token's subject. */
  sub: string | undefined;
}

/** A modern request as the classification proved it. */
export interface ModernRequest {
  id: RequestId | undefined;
  method: string;
  params: Record<string, unknown> | undefined;
}

/** A `tools/call` recognised as one that needs no stream, and no classification (`ModernEndpoint.plainRequest`). */
export interface ModernPlainRequest {
  message: ModernRequest;
  call: PlainToolCall;
}

/** The gateway's 2026-07-28 request handling. */
export class ModernEndpoint {
  #settings: ModernEndpointSettings;
  #handler: McpHttpHandler;
  /** Aborted on close: ends the open `subscriptions/listen` streams. */
  #closing = new AbortController();
  /** The calls that need no stream in progress (`_modern_plain_call.ts`). */
  #plainCalls = new PlainCalls(CLIENT_WATCH_MS);

  constructor(settings: ModernEndpointSettings) {
    this.#settings = settings;
    this.#handler = createMcpHandler((context) => this.#build(context), {
      legacy: "reject",
      keepAliveMs: settings.keepAliveMs,
      onerror: (error) => settings.logger.debug("Modern request refused or failed", { error: error.message }),
    });
  }

  /** Builds the server of one request, on behalf of the token's subject. */
  #build(context: McpRequestContext): Server {
    const { hub, serverInfo, instructions, callTimeout, sealer, bridge } = this.#settings;
    const extra = context.authInfo?.extra;
    const sub = typeof extra?.sub === "string" ? extra.sub : undefined;
    return createModernServer({
      hub,
      serverInfo,
      instructions,
      callTimeout,
      identity: this.#identity(sub),
      sealer,
      bridge,
    });
  }

  /** The user calls are made for: the token's subject, with the issuer the gateway requires. */
  #identity(sub: string | undefined): CallIdentity | undefined {
    const issuer = this.#settings.issuer;
    return sub === undefined ? undefined : { sub, ...(issuer === undefined ? {} : { iss: issuer }) };
  }

  /** Answers a call that needs no stream without the SDK's per-request server (`_modern_plain_call.ts`). */
  async #answerPlain(call: PlainToolCall, request: Request, caller: ModernCaller): Promise<Response> {
    const { hub, callTimeout, sealer, bridge, serverInfo, counters } = this.#settings;
    const handlers = catalogHandlers(
      modernScope({ hub, callTimeout, identity: this.#identity(caller.sub), sealer, bridge }),
    );
    counters.plainCalls++;
    return await this.#plainCalls.answer(call, request, handlers, serverInfo);
  }

  /**
   * The POST, when it is a 2026-07-28 `tools/call` that needs no stream: its version header names this path's
   * revision and `modernPlainCall` takes it. It is served by `handle` without the SDK's classification.
   *
   * @param request The HTTP request.
   * @param body Its parsed body.
   */
  plainRequest(request: Request, body: unknown): ModernPlainRequest | undefined {
    if (!declaresModern(request)) return undefined;
    const plain = modernPlainCall(request.headers, body);
    return plain && { message: { id: plain.call.id, method: "tools/call", params: plain.params }, call: plain.call };
  }

  /**
   * Serves one request the classification routed to the modern path (or refused: the SDK words the refusal), or one
   * `plainRequest` recognised.
   *
   * @param request The HTTP request (its body already read: `body`).
   * @param body The parsed body.
   * @param message The classified request, when it is one (not a notification or a refusal).
   * @param caller The verified token's subject.
   * @param plain The call, when `plainRequest` recognised it (`message` is then its request).
   */
  async handle(
    request: Request,
    body: unknown,
    message: ModernRequest | undefined,
    caller: ModernCaller,
    plain?: PlainToolCall,
  ): Promise<Response> {
    if (message && declaresModern(request)) {
      if (message.method === "subscriptions/listen" && request.headers.get("mcp-method") === message.method) {
        // The span covers opening the stream (the stream itself lasts as long as the client listens).
        return traceServerOperation(
          operationOf(message),
          message.params?._meta,
          () =>
            Promise.resolve(serveListen({ id: message.id ?? 0, params: message.params ?? {} }, {
              hub: this.#settings.hub,
              signal: AbortSignal.any([request.signal, this.#closing.signal]),
              keepAliveMs: this.#settings.keepAliveMs,
            })),
        );
      }
      if (message.method === "tools/call") {
        const refused = await this.#checkParamHeaders(request, message);
        if (refused) return refused;
      }
      // Task requests are answered here (the SDK refuses task results), and calls that need no stream; a drain
      // waits for both.
      const held = this.#settings.requests.hold();
      try {
        const task = await serveModernTask(request, message, caller, this.#settings);
        if (task) return task;
        if (plain) return await this.#answerPlain(plain, request, caller);
      } finally {
        held();
      }
    }
    const authInfo = {
      token: caller.token ?? "",
      clientId: caller.sub ?? "anonymous",
      scopes: [],
      extra: caller.sub === undefined ? {} : { sub: caller.sub },
    };
    const end = this.#settings.requests.hold();
    try {
      const answer = () => this.#handler.fetch(request, { authInfo, parsedBody: body });
      // The SDK answers `server/discover` itself: its span is made here, where the method is known.
      const traced = message?.method === "server/discover" && declaresModern(request);
      const response = traced
        ? await traceServerOperation(operationOf(message), message.params?._meta, answer)
        : await answer();
      return untilDone(response, end);
    } catch (error) {
      end();
      throw error;
    }
  }

  /** Refuses a `tools/call` whose `Mcp-Param-*` headers disagree with its arguments (400 / -32020). */
  async #checkParamHeaders(request: Request, message: ModernRequest): Promise<Response | undefined> {
    const name = message.params?.name;
    if (typeof name !== "string") return undefined;
    let inputSchema: unknown;
    try {
      inputSchema = (await this.#settings.hub.tools.find(name))?.inputSchema;
    } catch {
      return undefined;
    }
    if (inputSchema === undefined) return undefined;
    const mismatch = paramHeaderMismatch(request.headers, inputSchema, message.params?.arguments);
    if (mismatch === undefined) return undefined;
    return jsonResponse(400, {
      jsonrpc: "2.0",
      id: message.id ?? null,
      error: { code: HEADER_MISMATCH, message: mismatch },
    });
  }

  /** The sealer of this path's round trips (its tagging key names task ids too). */
  get sealer(): RequestStateSealer {
    return this.#settings.sealer;
  }

  /** Ends the open modern exchanges and listen streams. */
  async close(): Promise<void> {
    this.#closing.abort();
    this.#plainCalls.close();
    this.#settings.bridge?.close();
    await this.#handler.close();
  }
}

/** The span of a request answered at this endpoint (the catalog handlers trace the others). */
function operationOf(message: ModernRequest): McpOperation {
  return {
    method: message.method,
    requestId: message.id,
    protocolVersion: MODERN_VERSION,
    attributes: { "network.protocol.name": "http", "network.transport": "tcp" },
  };
}

/** Whether the request's version header names the revision this path serves (else the SDK answers the refusal). */
function declaresModern(request: Request): boolean {
  return request.headers.get("mcp-protocol-version") === MODERN_VERSION;
}

/** `response`, calling `end` once its body has been sent, has failed or was cancelled (at once when it has none). */
function untilDone(response: Response, end: () => void): Response {
  if (response.body === null) {
    end();
    return response;
  }
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (!done) return controller.enqueue(value);
        end();
        controller.close();
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
