// Internal: what both eras' plain-call paths share (`_modern_plain_call.ts`, `_legacy_plain_call.ts`): a
// `tools/call` answered by the gateway's own catalog handler without the SDK's server machinery in between, when
// its params are ones the SDK would hand the handler as they are, and the JSON-RPC answer the SDK would write.
import { ProtocolErrorCode, type RequestId } from "../core/_sdk.ts";
import { isRecord } from "../core/_json.ts";
import { isRequestId } from "../core/_jsonrpc.ts";
import type { CatalogHandlers, HandlerContext } from "./_catalog_handlers.ts";

/** The namespace of the protocol's own `_meta` keys (the envelope, and keys the SDK may treat specially). */
const PROTOCOL_META_PREFIX = "io.modelcontextprotocol/";

/** What a tool result may carry instead of `content` (the SDK leaves such a result as it is). */
const NOT_CONTENT_KEYS = ["task", "inputRequests", "requestState"];

/** A `tools/call` a plain path may answer, as the handler reads it. */
export interface PlainToolCall {
  id: RequestId;
  name: string;
  arguments: Record<string, unknown> | undefined;
  /** The client's `_meta` without the envelope (absent when nothing is left). */
  meta: Record<string, unknown> | undefined;
  /** The 2026-07-28 envelope keys found in `_meta` (empty for a 2025-11-25 request). */
  envelope: Record<string, unknown>;
}

/**
 * The id and params of `body` when it is one JSON-RPC `tools/call` request of the shape the SDK's message schema
 * takes: `jsonrpc` "2.0", an id that is a string or a safe integer, and no member besides `jsonrpc`, `id`, `method`
 * and `params` (whose shape `plainToolParams` checks).
 *
 * @param body A POST's parsed body.
 */
export function toolCallRequest(body: unknown): { id: RequestId; params: unknown } | undefined {
  if (!isRecord(body) || body.jsonrpc !== "2.0" || body.method !== "tools/call" || !isRequestId(body.id)) {
    return undefined;
  }
  if (Object.keys(body).some((key) => key !== "jsonrpc" && key !== "id" && key !== "method" && key !== "params")) {
    return undefined;
  }
  return { id: body.id, params: body.params };
}

/**
 * The call in `params` when they hold only `name`, `arguments` and `_meta`, of the types the SDK's schema takes (and
 * neither of the last two a `__proto__` member),
 * and `_meta` has no protocol key but `envelopeKeys`, and a progress token only when `progress` (the answer can
 * become a stream to carry the progress).
 *
 * @param id The request's id.
 * @param params The request's params.
 * @param envelopeKeys The protocol keys lifted out of `_meta` into the envelope.
 * @param progress Whether a progress token may come with the call (it stays in the call's `_meta`).
 */
export function plainToolParams(
  id: RequestId,
  params: unknown,
  envelopeKeys: ReadonlySet<string>,
  progress: boolean,
): PlainToolCall | undefined {
  if (!isRecord(params)) return undefined;
  const { name, arguments: args, _meta, ...rest } = params;
  if (typeof name !== "string" || Object.keys(rest).length > 0) return undefined;
  if ((args !== undefined && !isRecord(args)) || (_meta !== undefined && !isRecord(_meta))) return undefined;
  // The SDK's parse rebuilds both objects, and does not keep a `__proto__` member as one: such a call takes its way.
  if (
    (args !== undefined && Object.hasOwn(args, "__proto__")) ||
    (_meta !== undefined && Object.hasOwn(_meta, "__proto__"))
  ) {
    return undefined;
  }
  let meta: Record<string, unknown> | undefined;
  const envelope: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(_meta ?? {})) {
    if (envelopeKeys.has(key)) envelope[key] = value;
    else if (key === "progressToken" ? !progress || !isRequestId(value) : key.startsWith(PROTOCOL_META_PREFIX)) {
      return undefined;
    } else (meta ??= {})[key] = value;
  }
  return { id, name, arguments: args, meta, envelope };
}

/** A JSON-RPC answer of a plain call. */
export type PlainCallAnswer =
  | { result: Record<string, unknown> }
  | { error: { code: number; message: string; data?: unknown } };

/**
 * Runs `call` through `handlers` with `ctx`: the result with `content` defaulted as the SDK does, or the thrown
 * error as the SDK's encoder words it (a resource not found is invalid params on the wire).
 *
 * @param call The call.
 * @param handlers The catalog handlers of the request's scope.
 * @param ctx The handler's context.
 */
export async function runPlainCall(
  call: PlainToolCall,
  handlers: CatalogHandlers,
  ctx: HandlerContext,
): Promise<PlainCallAnswer> {
  const params = {
    name: call.name,
    ...(call.arguments === undefined ? {} : { arguments: call.arguments }),
    ...(call.meta === undefined ? {} : { _meta: call.meta }),
  };
  try {
    const result = await handlers.callTool({ method: "tools/call", params }, ctx);
    const record = isRecord(result) ? result : {};
    const contentless = record.content === undefined && !NOT_CONTENT_KEYS.some((key) => key in record);
    return { result: contentless ? { ...record, content: [] } : record };
  } catch (error) {
    const thrown = error as { code?: unknown; message?: unknown; data?: unknown };
    const code = Number.isSafeInteger(thrown.code) ? thrown.code as number : ProtocolErrorCode.InternalError;
    return {
      error: {
        code: code === ProtocolErrorCode.ResourceNotFound ? ProtocolErrorCode.InvalidParams : code,
        message: typeof thrown.message === "string" ? thrown.message : "Internal error",
        ...(thrown.data === undefined ? {} : { data: thrown.data }),
      },
    };
  }
}
