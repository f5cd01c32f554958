// Internal: a 2026-07-28 `tools/call` that needs no stream, answered without the SDK's per-request server.
//
// The SDK's `createMcpHandler` serves each request with a new `Server`, a per-request transport and a protocol
// instance, and checks the request and the result again with zod. A call that can produce nothing but its answer —
// no progress token, no log level asked, no Multi Round-Trip retry material, nothing in the envelope it does not
// know — is answered here instead: the same catalog handler (`_catalog_handlers.ts`) is called with the context the
// SDK would give it, and the answer is the JSON the SDK's encoder writes (2026-07-28 wire contract): `resultType`
// stamped, a result without `content` given an empty one, the gateway's `serverInfo` under `_meta`, a thrown error as
// a JSON-RPC error (HTTP 200; -32021 with 400), 499 when the client went away. Whatever these checks do not recognise
// takes the SDK's way, which words refusals (the caller has already had the request classified as 2026-07-28 by the
// SDK, whose classification validated the envelope, and its version header checked).
//
// The result is not validated again: every result the handler returns is a member's result parsed by the proxy's
// SDK client (the same content schemas, `content` defaulted), or one the gateway built (an unavailable tool's, an
// `input_required` relay). `tests/gateway/modern_plain_call_test.ts` holds both ways to the same answers.
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  type Implementation,
  isJsonContentType,
  PROTOCOL_VERSION_META_KEY,
  ProtocolErrorCode,
  type RequestId,
  SERVER_INFO_META_KEY,
} from "../core/_sdk.ts";
import { isRecord } from "../core/_json.ts";
import type { CatalogHandlers, HandlerContext } from "./_catalog_handlers.ts";
import { answerFromValue } from "./_request_json.ts";

/** How a Base64-encoded `Mcp-*` header value begins. */
const BASE64_PREFIX = "=?base64?";

/** The namespace of the protocol's own `_meta` keys (the envelope, and keys the SDK may treat specially). */
const PROTOCOL_META_PREFIX = "io.modelcontextprotocol/";

/** What a tool result may carry instead of `content` (the SDK leaves such a result as it is). */
const NOT_CONTENT_KEYS = ["task", "inputRequests", "requestState"];

/** A `tools/call` this path may answer, as the handler reads it. */
export interface PlainToolCall {
  id: RequestId;
  name: string;
  arguments: Record<string, unknown> | undefined;
  /** The client's `_meta` without the envelope (absent when nothing is left). */
  meta: Record<string, unknown> | undefined;
  /** The request's envelope: protocol version, client capabilities, client info. */
  envelope: Record<string, unknown>;
}

/**
 * The `tools/call` in `message` when this path may answer it: a JSON body, method, id and `Mcp-Method`/`Mcp-Name`
 * headers agree as sent, the params hold only `name`, `arguments` and `_meta`, and the envelope is one the SDK accepts as it is
 * (version 2026-07-28, capabilities of object values, a client info of strings with a name and a version), with no
 * progress token and no log level. Anything else is `undefined`: the SDK's path.
 *
 * @param headers The request's headers.
 * @param message The classified request.
 */
export function plainToolCall(
  headers: Headers,
  message: { id: RequestId | undefined; method: string; params: Record<string, unknown> | undefined },
): PlainToolCall | undefined {
  const { id, method, params } = message;
  if (method !== "tools/call" || id === undefined || params === undefined) return undefined;
  // The SDK refuses other media types with 415, and decodes a Base64 `Mcp-Name` before comparing it.
  if (!isJsonContentType(headers.get("content-type")) || headers.get("mcp-method") !== method) return undefined;
  const { name, arguments: args, _meta, ...rest } = params;
  if (typeof name !== "string" || name.startsWith(BASE64_PREFIX) || headers.get("mcp-name") !== name) return undefined;
  if (Object.keys(rest).length > 0) return undefined;
  if ((args !== undefined && !isRecord(args)) || !isRecord(_meta)) return undefined;
  let meta: Record<string, unknown> | undefined;
  const envelope: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(_meta)) {
    if (key === PROTOCOL_VERSION_META_KEY || key === CLIENT_CAPABILITIES_META_KEY || key === CLIENT_INFO_META_KEY) {
      envelope[key] = value;
    } else if (key === "progressToken" || key.startsWith(PROTOCOL_META_PREFIX)) {
      return undefined;
    } else {
      (meta ??= {})[key] = value;
    }
  }
  if (envelope[PROTOCOL_VERSION_META_KEY] !== headers.get("mcp-protocol-version")) return undefined;
  if (!isPlainCapabilities(envelope[CLIENT_CAPABILITIES_META_KEY])) return undefined;
  const info = envelope[CLIENT_INFO_META_KEY];
  if (info !== undefined && !isPlainClientInfo(info)) return undefined;
  return { id, name, arguments: args, meta, envelope };
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
 * Answers `call` with `handlers` as the SDK would have.
 *
 * @param call The call, as `plainToolCall` accepted it.
 * @param request The HTTP request (the handler's context carries it, for its trace).
 * @param handlers The catalog handlers of the request's scope.
 * @param serverInfo The gateway's identity, stamped into the result's `_meta`.
 * @param signal Aborted when the client goes away or the gateway closes: the call is cancelled, the answer is 499.
 */
export async function answerPlainCall(
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
  const params = {
    name: call.name,
    ...(call.arguments === undefined ? {} : { arguments: call.arguments }),
    ...(call.meta === undefined ? {} : { _meta: call.meta }),
  };
  if (signal.aborted) return new Response(null, { status: 499 });
  let answer: Record<string, unknown>;
  let status = 200;
  try {
    const result = await handlers.callTool({ method: "tools/call", params }, ctx);
    answer = { result: encodeResult(result, serverInfo) };
  } catch (error) {
    const thrown = error as { code?: unknown; message?: unknown; data?: unknown };
    const code = Number.isSafeInteger(thrown.code) ? thrown.code as number : ProtocolErrorCode.InternalError;
    // A resource not found is invalid params on the wire, as the SDK's encoder words it.
    const wire = code === ProtocolErrorCode.ResourceNotFound ? ProtocolErrorCode.InvalidParams : code;
    if (wire === ProtocolErrorCode.MissingRequiredClientCapability) status = 400;
    answer = {
      error: {
        code: wire,
        message: typeof thrown.message === "string" ? thrown.message : "Internal error",
        ...(thrown.data === undefined ? {} : { data: thrown.data }),
      },
    };
  }
  if (signal.aborted) return new Response(null, { status: 499 });
  return answerFromValue({ ...answer, jsonrpc: "2.0", id: call.id }, status);
}

/** The result as the 2026-07-28 encoder writes it. */
function encodeResult(result: unknown, serverInfo: Implementation): Record<string, unknown> {
  let encoded = isRecord(result) ? result : {};
  if (encoded.content === undefined && !NOT_CONTENT_KEYS.some((key) => key in encoded)) {
    encoded = { ...encoded, content: [] };
  }
  if (encoded.resultType === undefined) encoded = { ...encoded, resultType: "complete" };
  const meta = encoded._meta;
  if (meta === undefined) return { ...encoded, _meta: { [SERVER_INFO_META_KEY]: serverInfo } };
  if (!isRecord(meta) || meta[SERVER_INFO_META_KEY] !== undefined) return encoded;
  return { ...encoded, _meta: { ...meta, [SERVER_INFO_META_KEY]: serverInfo } };
}
