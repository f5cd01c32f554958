// Internal: the relation rule (DESIGN.md "Many clients, one member"). Every call the proxy makes is bound to the
// JSON-RPC ids its requests got on the channel's connection, and whatever the member sends during the call names
// one of them under `_meta[RELATED_REQUEST_META_KEY]`: the member side of this library puts it there on the control
// channel; on the data channel the proxy itself sets it from the POST whose response stream carried the message
// (and removes any the member wrote), so a third-party Streamable HTTP member gets the same routing.
//
// Ids are assigned by the SDK client (`Protocol.request`, `_requestMessageId++`) after our code hands it the call:
// the call travels to the transport as `relatedRequestId` (a token of this module), which the SDK passes to
// `Transport.send` together with the request it numbered; RelatedTransport binds that id to the call there.
import { isRecord } from "../core/_json.ts";
import { isRequest, isRequestId, isResponse } from "../core/_jsonrpc.ts";
import { RELATED_REQUEST_META_KEY } from "../core/websocket_transport.ts";
import type { JSONRPCMessage, MessageExtraInfo, RequestId, Transport, TransportSendOptions } from "../core/_sdk.ts";
import type { ServerLogHandler, ServerRequestHandler } from "./server_requests.ts";
import type { CallIdentity } from "./call_options.ts";

/** What a call does with the member's requests and log messages during it. */
export interface CallHandlers {
  onrequest?: ServerRequestHandler | undefined;
  onlog?: ServerLogHandler | undefined;
  /** The user the call is made for (its data-channel requests carry that user's token). */
  onBehalfOf?: CallIdentity | undefined;
}

const TOKEN_PREFIX = "io.github.federated-mcp/call#";

/** A connection's calls by the JSON-RPC id their requests got on it. */
export type CallTable = Map<RequestId, CallRelation>;

/** One attempt of one call: its handlers, and the ids its requests got on the connection(s) it used. */
export class CallRelation {
  readonly token: string;
  readonly handlers: CallHandlers;
  /** Whether the member answered one of the call's requests with a JSON-RPC error (a remote error, not a close). */
  remoteError = false;
  #registry: CallRegistry;
  #bindings: [CallTable, RequestId][] = [];

  constructor(registry: CallRegistry, token: string, handlers: CallHandlers) {
    this.#registry = registry;
    this.token = token;
    this.handlers = handlers;
  }

  bind(table: CallTable, id: RequestId): void {
    table.set(id, this);
    this.#bindings.push([table, id]);
  }

  /** The call is over: nothing the member sends later can name it. */
  end(): void {
    for (const [table, id] of this.#bindings) if (table.get(id) === this) table.delete(id);
    this.#bindings = [];
    this.#registry.forget(this.token);
  }
}

/** The calls of one member in progress, by the token they travel under to the transport. */
export class CallRegistry {
  #calls = new Map<string, CallRelation>();
  #next = 0;

  open(handlers: CallHandlers): CallRelation {
    const token = `${TOKEN_PREFIX}${this.#next++}`;
    const relation = new CallRelation(this, token, handlers);
    this.#calls.set(token, relation);
    return relation;
  }

  get(token: unknown): CallRelation | undefined {
    return typeof token === "string" ? this.#calls.get(token) : undefined;
  }

  forget(token: string): void {
    this.#calls.delete(token);
  }
}

/**
 * A decorator of a channel's transport: binds each request the SDK client sends for a call to that call, notes error
 * responses to them (so a remote `-32000` is told apart from the SDK's local "connection closed"), and hands the
 * rest through unchanged.
 */
export class RelatedTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  readonly inner: Transport;
  /** This connection's calls in progress by request id. */
  readonly calls: CallTable = new Map();
  #registry: CallRegistry;

  constructor(inner: Transport, registry: CallRegistry) {
    this.inner = inner;
    this.#registry = registry;
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
    inner.onmessage = (message, extra) => {
      if (isResponse(message) && "error" in message && isRequestId(message.id)) {
        const call = this.calls.get(message.id);
        if (call) call.remoteError = true;
      }
      this.onmessage?.(message, extra);
    };
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const token = options?.relatedRequestId;
    if (typeof token !== "string" || !token.startsWith(TOKEN_PREFIX)) return this.inner.send(message, options);
    const call = this.#registry.get(token);
    if (call && isRequest(message)) call.bind(this.calls, message.id);
    // The token means nothing to the member (also once its call ended, e.g. on a late cancellation): never sent.
    const { relatedRequestId: _token, ...rest } = options!;
    return this.inner.send(message, rest);
  }
}

/** The relation a message's params name: whether the key is there, its value, and the params without it. */
export interface TakenRelation {
  named: boolean;
  related: unknown;
  params: Record<string, unknown> | undefined;
}

/** Splits the relation off `params` (it is ours: it is never forwarded to a client). */
export function takeRelation(params: unknown): TakenRelation {
  if (!isRecord(params)) return { named: false, related: undefined, params: undefined };
  const meta = params._meta;
  if (!isRecord(meta) || !(RELATED_REQUEST_META_KEY in meta)) return { named: false, related: undefined, params };
  const { [RELATED_REQUEST_META_KEY]: related, ...restMeta } = meta;
  const { _meta: _dropped, ...rest } = params;
  return { named: true, related, params: Object.keys(restMeta).length > 0 ? { ...rest, _meta: restMeta } : rest };
}

/**
 * A request or notification with its relation set to `related` (or removed when undefined); others unchanged, and
 * progress too (routed by its token; its params reach the caller's `onprogress` as they are).
 */
export function relateMessage(message: unknown, related: RequestId | undefined): unknown {
  if (!isRecord(message) || typeof message.method !== "string") return message;
  if (message.method === "notifications/progress") return message;
  const params = isRecord(message.params) ? message.params : undefined;
  const meta = params && isRecord(params._meta) ? params._meta : undefined;
  if (related === undefined && (meta === undefined || !(RELATED_REQUEST_META_KEY in meta))) return message;
  const { [RELATED_REQUEST_META_KEY]: _old, ...restMeta } = meta ?? {};
  if (related !== undefined) restMeta[RELATED_REQUEST_META_KEY] = related;
  const { _meta: _dropped, ...restParams } = params ?? {};
  const nextParams = Object.keys(restMeta).length > 0 ? { ...restParams, _meta: restMeta } : restParams;
  return { ...message, params: nextParams };
}

const EVENT_IDS_KEPT = 1_024;

/**
 * Which request each data-channel response belongs to: the POST's own request, or for a GET that resumes a stream
 * (`Last-Event-ID`) the request of the stream that event was on. The standalone GET stream belongs to none.
 */
export class StreamRelations {
  /** SSE event id → the request of the stream it came on (the newest ones only). */
  #eventIds = new Map<string, RequestId>();

  /** The request a fetch is for: the JSON-RPC id of a POSTed request, or the resumed stream's. */
  relationOf(init: RequestInit | undefined): RequestId | undefined {
    if (init?.method === "GET") {
      const last = new Headers(init.headers).get("last-event-id");
      return last === null ? undefined : this.#eventIds.get(last);
    }
    return typeof init?.body === "string" ? requestIdOf(init.body) : undefined;
  }

  /** `response` with every request and notification in it related to `related` (or to nothing). */
  async relate(response: Response, related: RequestId | undefined): Promise<Response> {
    if (!response.body) return response;
    const type = response.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
    const init = { status: response.status, statusText: response.statusText, headers: response.headers };
    if (type === "text/event-stream") return new Response(this.#sseRelated(response.body, related), init);
    if (type !== "application/json") return response;
    const text = await response.text();
    // Only a body with a request or notification in it needs rewriting (a plain result is the common case).
    if (!text.includes('"method"')) return new Response(text, init);
    try {
      const parsed: unknown = JSON.parse(text);
      const relatedBody = Array.isArray(parsed)
        ? parsed.map((m) => relateMessage(m, related))
        : relateMessage(parsed, related);
      return new Response(JSON.stringify(relatedBody), init);
    } catch {
      return new Response(text, init);
    }
  }

  #remember(eventId: string, related: RequestId): void {
    this.#eventIds.set(eventId, related);
    if (this.#eventIds.size > EVENT_IDS_KEPT) {
      const oldest = this.#eventIds.keys().next().value;
      if (oldest !== undefined) this.#eventIds.delete(oldest);
    }
  }

  /**
   * `source` with the `data` of each SSE event rewritten (lines per the SSE format: CRLF, LF or CR). A pull-based
   * stream (a TransformStream costs several times more per response); an event without `"method"` in it (a result)
   * is passed on as it came.
   */
  #sseRelated(source: ReadableStream<Uint8Array>, related: RequestId | undefined): ReadableStream<Uint8Array> {
    const reader = source.getReader();
    const decoder = new TextDecoder();
    const ascii = new TextDecoder();
    const encoder = new TextEncoder();
    let buffer = "";
    let lines: string[] = [];
    let data: string[] | undefined;
    let eventId: string | undefined;
    let out = "";
    const dispatch = () => {
      if (data !== undefined && data.some((d) => d.includes('"method"'))) {
        out += lines.filter((l) => !l.startsWith("data:")).map((l) => `${l}\n`).join("");
        out += `data: ${rewrite(data.join("\n"), related)}\n`;
      } else {
        out += lines.map((l) => `${l}\n`).join("");
      }
      out += "\n";
      if (eventId !== undefined && related !== undefined) this.#remember(eventId, related);
      lines = [];
      data = undefined;
      eventId = undefined;
    };
    const line = (text: string) => {
      if (text === "") return dispatch();
      lines.push(text);
      if (text.startsWith("data:")) (data ??= []).push(text.slice(text.startsWith("data: ") ? 6 : 5));
      else if (text.startsWith("id:")) eventId = text.slice(text.startsWith("id: ") ? 4 : 3);
    };
    const feed = (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split(/\r\n|\n|\r/);
      buffer = parts.pop() ?? "";
      // A CR at the very end may be half of a CRLF: decide with the next chunk.
      if (buffer === "" && chunk.endsWith("\r")) {
        const last = parts.pop();
        if (last !== undefined) buffer = `${last}\r`;
      }
      for (const part of parts) line(part);
    };
    // Whole events with nothing to rewrite or remember (the usual result) go on as the same bytes, undecoded: only
    // at an event boundary, with no character split across chunks on either side.
    let split = false;
    const passThrough = (chunk: Uint8Array): boolean => {
      const last = chunk.at(-1) ?? 0;
      const whole = !split && buffer === "" && lines.length === 0 && last < 0x80;
      split = last >= 0x80;
      if (!whole) return false;
      const text = ascii.decode(chunk);
      if (!text.endsWith("\n\n") || text.includes('"method"')) return false;
      return related === undefined || !text.includes("id:");
    };
    const finish = () => {
      feed(decoder.decode());
      if (buffer.endsWith("\r")) buffer = buffer.slice(0, -1);
      if (buffer !== "") line(buffer);
      buffer = "";
      if (lines.length > 0) dispatch();
    };
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        while (true) {
          const { done, value } = await reader.read();
          if (done) finish();
          else if (passThrough(value)) {
            controller.enqueue(value);
            return;
          } else feed(decoder.decode(value, { stream: true }));
          if (out !== "") controller.enqueue(encoder.encode(out));
          out = "";
          if (done) return controller.close();
          if (controller.desiredSize === null || controller.desiredSize <= 0) return;
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
  }
}

/** One SSE event's data with its messages related to `related`; left as it is when it is not JSON. */
function rewrite(data: string, related: RequestId | undefined): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return data.replaceAll("\n", "\ndata: ");
  }
  const next = Array.isArray(parsed) ? parsed.map((m) => relateMessage(m, related)) : relateMessage(parsed, related);
  return next === parsed ? data.replaceAll("\n", "\ndata: ") : JSON.stringify(next);
}

/** The id of a JSON-RPC request serialized by the SDK client (`{"method":…,"jsonrpc":"2.0","id":7}`), if it is one. */
function requestIdOf(body: string): RequestId | undefined {
  // Fast path: the SDK writes a request's id last.
  if (body.startsWith('{"method":')) {
    const tail = /"id":(\d{1,15}|"(?:[^"\\]|\\.)*")\}$/.exec(body);
    if (tail) return tail[1]!.startsWith('"') ? JSON.parse(tail[1]!) as string : Number(tail[1]);
  }
  if (!body.includes('"method"')) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return isRequest(parsed) ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}
