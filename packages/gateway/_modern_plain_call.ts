// Internal: a 2026-07-28 `tools/call` that needs no stream, answered without the SDK's per-request server.
//
// The SDK's `createMcpHandler` serves each request with a new `Server`, a per-request transport and protocol
// instance, and checks the request and the result again with zod. A call that can produce nothing but its answer —
// no progress token, no log level asked, no Multi Round-Trip retry material, nothing in the envelope it does not
// know — is answered here instead: the same catalog handler (`_catalog_handlers.ts`) is called with the context the
// SDK would give it, and the answer is the JSON the SDK's encoder writes (2026-07-28 wire contract): `resultType`
// stamped, a result without `content` given an empty one, the gateway's `serverInfo` under `_meta`, a thrown error as
// a JSON-RPC error (HTTP 200; -32021 with 400), 499 when the client went away. Whatever these checks do not recognise
// takes the SDK's way, which words refusals.
//
// Such a request needs no era classification either (the SDK's zod parses of the body as each kind of JSON-RPC
// message, and of the envelope): its shape is checked here as the SDK's message schema takes it, its headers must
// repeat the body as sent, and its envelope is one the SDK's classification accepted — asked once per distinct
// envelope (a client sends the same one with every call), with the rest of the request held to a form known valid.
//
// The result is not validated again: every result the handler returns is a member's result the proxy's SDK client
// validated (against the same content schemas; a 2025-11-25 member's with `content` defaulted), or one the gateway
// built (an unavailable tool's, an `input_required` relay). `tests/gateway/modern_plain_call_test.ts` holds both ways to the same answers.
import {
  classifyInboundRequest,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  type Implementation,
  isJsonContentType,
  PROTOCOL_VERSION_META_KEY,
  ProtocolErrorCode,
  SERVER_INFO_META_KEY,
} from "../core/_sdk.ts";
import { isRecord } from "../core/_json.ts";
import type { CatalogHandlers, HandlerContext } from "./_catalog_handlers.ts";
import { answerFromValue } from "./_request_json.ts";
import { TimeWindows } from "../core/_time_windows.ts";
import { type ClientWatch, watchClient } from "../core/_client_watch.ts";
import { type PlainToolCall, plainToolParams, runPlainCall, toolCallRequest } from "./_plain_call.ts";

/** How a Base64-encoded `Mcp-*` header value begins. */
const BASE64_PREFIX = "=?base64?";

/** The envelope keys of a 2026-07-28 request's `_meta` this path knows (a log level would need a stream). */
const ENVELOPE_KEYS: ReadonlySet<string> = new Set([
  PROTOCOL_VERSION_META_KEY,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
]);

/** How many accepted envelopes are remembered, and the longest remembered (in JSON characters). */
const ENVELOPES_KEPT = 256;
const ENVELOPE_KEPT_CHARS = 4096;

/**
 * Envelopes the SDK's classification accepted, by their JSON: a pure function of the envelope, so one memo serves
 * every client of the process; bounded in count and size (a longer or an evicted one is asked again).
 */
const acceptedEnvelopes = new Set<string>();

/**
 * The `tools/call` in POST `body` when this path may answer it without the SDK's classification: one JSON-RPC request
 * of the shape the SDK's message schema takes (`toolCallRequest`), a JSON body, method, id and `Mcp-Method`/`Mcp-Name`
 * headers agree as sent, the params are plain (`plainToolParams`), and the envelope names the version of the
 * `MCP-Protocol-Version` header, has no log level, and is one the SDK's classification accepts. Anything else is
 * `undefined`: the SDK classifies it (and words its refusal, or serves it).
 *
 * @param headers The request's headers (the caller has checked that its version header names 2026-07-28).
 * @param body The request's parsed body.
 */
export function modernPlainCall(
  headers: Headers,
  body: unknown,
): { call: PlainToolCall; params: Record<string, unknown> } | undefined {
  const request = toolCallRequest(body);
  if (!request || !isRecord(request.params)) return undefined;
  // The SDK refuses other media types with 415, and decodes a Base64 `Mcp-Name` before comparing it.
  if (!isJsonContentType(headers.get("content-type")) || headers.get("mcp-method") !== "tools/call") return undefined;
  // Its answer is JSON only: a progress token (which needs a stream) takes the SDK's way.
  const call = plainToolParams(request.id, request.params, ENVELOPE_KEYS, false);
  if (!call || call.name.startsWith(BASE64_PREFIX) || headers.get("mcp-name") !== call.name) return undefined;
  const { envelope } = call;
  const version = headers.get("mcp-protocol-version");
  if (version === null || envelope[PROTOCOL_VERSION_META_KEY] !== version) return undefined;
  if (!isPlainCapabilities(envelope[CLIENT_CAPABILITIES_META_KEY])) return undefined;
  const info = envelope[CLIENT_INFO_META_KEY];
  if (info !== undefined && !isPlainClientInfo(info)) return undefined;
  return envelopeAccepted(envelope, version) ? { call, params: request.params } : undefined;
}

/**
 * Whether the SDK's classification takes a request with `envelope` as a 2026-07-28 request: asked of a `tools/call`
 * that carries the envelope alone, with the version and method headers it names. The envelope's schema is loose: of
 * `_meta`'s other keys it types only the progress token and the log level, and the message schema the related task,
 * none of which a plain call has (`plainToolParams`, `ENVELOPE_KEYS`). The verdict is remembered by the envelope's JSON,
 * which tells every parsed JSON value apart but a number too large for a double (parsed as ±Infinity, written `null`):
 * such an envelope is asked each time.
 */
function envelopeAccepted(envelope: Record<string, unknown>, version: string): boolean {
  let exact = true;
  const key = JSON.stringify(envelope, (_key, value) => {
    if (typeof value === "number" && !Number.isFinite(value)) exact = false;
    return value;
  });
  if (exact && acceptedEnvelopes.has(key)) return true;
  const route = classifyInboundRequest({
    httpMethod: "POST",
    body: { jsonrpc: "2.0", id: 0, method: "tools/call", params: { _meta: envelope } },
    protocolVersionHeader: version,
    mcpMethodHeader: "tools/call",
  });
  if (route.kind !== "modern") return false;
  if (exact && key.length <= ENVELOPE_KEPT_CHARS) {
    if (acceptedEnvelopes.size >= ENVELOPES_KEPT) acceptedEnvelopes.delete(acceptedEnvelopes.values().next().value!);
    acceptedEnvelopes.add(key);
  }
  return true;
}

/** Capabilities whose every value is an object (what the envelope's schema accepts of each capability). */
function isPlainCapabilities(value: unknown): boolean {
  return isRecord(value) && Object.values(value).every(isRecord);
}

/** A client info of string fields, with a name and a version. */
function isPlainClientInfo(value: unknown): boolean {
  return isRecord(value) && typeof value.name === "string" && typeof value.version === "string" &&
    Object.values(value).every((field) => typeof field === "string");
}

/**
 * The plain calls in progress at an endpoint, cancelled together when it closes (each then answered 499). One set
 * for all of them, not a signal per call linked to the endpoint's (`AbortSignal.any` costs ~5 µs a call).
 */
export class PlainCalls {
  #watches = new Set<ClientWatch>();
  #closed = false;
  #windows: TimeWindows;

  /** @param watchAfterMs How long a call runs before its client's connection is watched (`_client_watch.ts`). */
  constructor(watchAfterMs: number) {
    this.#windows = new TimeWindows(watchAfterMs);
  }

  /** Cancels the calls in progress; a call that starts later is answered 499 at once. */
  close(): void {
    this.#closed = true;
    for (const watch of this.#watches) watch.cancel();
  }

  /**
   * Answers `call` with `handlers` as the SDK would have.
   *
   * @param call The call, as `modernPlainCall` accepted it.
   * @param request The HTTP request (the handler's context carries it, for its trace).
   * @param handlers The catalog handlers of the request's scope.
   * @param serverInfo The gateway's identity, stamped into the result's `_meta`.
   * @returns The answer; 499 when the call was cancelled (its client went away, or the endpoint closed).
   */
  async answer(
    call: PlainToolCall,
    request: Request,
    handlers: CatalogHandlers,
    serverInfo: Implementation,
  ): Promise<Response> {
    if (this.#closed) return new Response(null, { status: 499 });
    const client = watchClient(request, this.#windows);
    this.#watches.add(client);
    try {
      return await answer(call, request, handlers, serverInfo, client.signal);
    } finally {
      this.#watches.delete(client);
      client.stop();
    }
  }
}

async function answer(
  call: PlainToolCall,
  request: Request,
  handlers: CatalogHandlers,
  serverInfo: Implementation,
  signal: AbortSignal,
): Promise<Response> {
  const ctx: HandlerContext = {
    http: { req: request },
    mcpReq: {
      id: call.id,
      signal,
      ...(call.meta === undefined ? {} : { _meta: call.meta }),
      envelope: call.envelope,
      requestState: () => undefined,
      // Nothing is sent before the answer: the call has no progress token and asked for no log lines.
      notify: () => Promise.reject(new Error("This request has no stream to notify on")),
    },
  };
  const answer = await runPlainCall(call, handlers, ctx);
  if (signal.aborted) return new Response(null, { status: 499 });
  if ("error" in answer) {
    const status = answer.error.code === ProtocolErrorCode.MissingRequiredClientCapability ? 400 : 200;
    return answerFromValue({ ...answer, jsonrpc: "2.0", id: call.id }, status);
  }
  return answerFromValue({ result: stamped(answer.result, serverInfo), jsonrpc: "2.0", id: call.id }, 200);
}

/** The result as the 2026-07-28 encoder writes it: `resultType`, and the server's identity under `_meta`. */
function stamped(result: Record<string, unknown>, serverInfo: Implementation): Record<string, unknown> {
  const typed = result.resultType === undefined ? { ...result, resultType: "complete" } : result;
  const meta = typed._meta;
  if (meta === undefined) return { ...typed, _meta: { [SERVER_INFO_META_KEY]: serverInfo } };
  if (!isRecord(meta) || meta[SERVER_INFO_META_KEY] !== undefined) return typed;
  return { ...typed, _meta: { ...meta, [SERVER_INFO_META_KEY]: serverInfo } };
}
