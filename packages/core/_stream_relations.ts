// Internal: the relation rule on a Streamable HTTP connection: what arrives on a POST's response stream belongs to
// that POST's request, what arrives on the GET stream to no call. Marks each message so (core/_relation_meta.ts),
// for the proxy's data channel and for the sidecar's HTTP upstream alike. What a member sends is read within a size
// limit: a JSON body, an SSE line or an SSE event larger than it is never buffered whole.
import { isRequest } from "./_jsonrpc.ts";
import type { RequestId } from "./_sdk.ts";
import { relateMessage } from "./_relation_meta.ts";
import { readLimitedBody } from "./_limited_body.ts";
import { ProtocolError } from "./errors.ts";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./websocket_transport.ts";

const EVENT_IDS_KEPT = 1_024;
/** Room for an SSE event's other fields (`event:`, `id:`, comments) beside its data. */
const SSE_FIELDS_ALLOWANCE = 1_024;
/** The JSON-RPC code of the error answer that replaces a call's too large message (as for one refused before sending). */
const TOO_LARGE_RPC_CODE = -32600;

/**
 * Which request each data-channel response belongs to: the POST's own request, or for a GET that resumes a stream
 * (`Last-Event-ID`) the request of the stream that event was on. The standalone GET stream belongs to none.
 */
export class StreamRelations {
  /** SSE event id → the request of the stream it came on (the newest ones only). */
  #eventIds = new Map<string, RequestId>();
  #maxMessageBytes: number;

  /**
   * @param maxMessageBytes The largest message read from the member: a JSON body in bytes, an SSE event's data in
   * characters (at most as many as its bytes). @default {DEFAULT_MAX_MESSAGE_BYTES}
   */
  constructor(maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** The request a fetch is for: the JSON-RPC id of a POSTed request, or the resumed stream's. */
  relationOf(init: RequestInit | undefined): RequestId | undefined {
    if (init?.method === "GET") {
      const last = new Headers(init.headers).get("last-event-id");
      return last === null ? undefined : this.#eventIds.get(last);
    }
    return typeof init?.body === "string" ? requestIdOf(init.body) : undefined;
  }

  /**
   * `response` with every request and notification in it related to `related` (or to nothing).
   *
   * A JSON body larger than the limit throws `ERR_MESSAGE_TOO_LARGE` (the POST, so its call, fails). An SSE event
   * or line larger than it ends the stream: on a call's stream with an error answer to `related` (the call fails at
   * once), on the GET stream with a stream error.
   */
  async relate(response: Response, related: RequestId | undefined): Promise<Response> {
    if (!response.body) return response;
    const type = response.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
    const init = { status: response.status, statusText: response.statusText, headers: response.headers };
    if (type === "text/event-stream") return new Response(this.#sseRelated(response.body, related), init);
    if (type !== "application/json") return response;
    const body = await readLimitedBody(response, this.#maxMessageBytes);
    if (body.tooLarge) {
      throw new ProtocolError(tooLargeMessage(this.#maxMessageBytes), {
        channel: "data",
        rpcCode: TOO_LARGE_RPC_CODE,
        code: "ERR_MESSAGE_TOO_LARGE",
      });
    }
    const text = new TextDecoder().decode(body.bytes);
    // Only a body with a request or notification in it needs rewriting (a plain result is the common case).
    if (!mayHoldMethod(text)) return new Response(text, init);
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
   * stream (a TransformStream costs several times more per response); an event that provably holds no request or
   * notification (a result) is passed on as it came. An event (its data, plus {@link SSE_FIELDS_ALLOWANCE} for its
   * other lines) or a line larger than the limit ends the stream (see {@link relate}); no more of it is read.
   */
  #sseRelated(source: ReadableStream<Uint8Array>, related: RequestId | undefined): ReadableStream<Uint8Array> {
    const reader = source.getReader();
    const maxMessageBytes = this.#maxMessageBytes;
    const maxEvent = maxMessageBytes + SSE_FIELDS_ALLOWANCE;
    const decoder = new TextDecoder();
    const ascii = new TextDecoder();
    const encoder = new TextEncoder();
    let buffer = "";
    let lines: string[] = [];
    let data: string[] | undefined;
    let eventId: string | undefined;
    /** The characters of the event so far (data without its field name), each line with its end. */
    let eventSize = 0;
    let tooLarge = false;
    let failure: ProtocolError | undefined;
    let out = "";
    const dispatch = () => {
      const joined = data?.join("\n");
      if (joined !== undefined && mayHoldMethod(joined)) {
        out += lines.filter((l) => !l.startsWith("data:")).map((l) => `${l}\n`).join("");
        out += `data: ${rewrite(joined, related)}\n`;
      } else {
        out += lines.map((l) => `${l}\n`).join("");
      }
      out += "\n";
      if (eventId !== undefined && related !== undefined) this.#remember(eventId, related);
      lines = [];
      data = undefined;
      eventId = undefined;
      eventSize = 0;
    };
    const line = (text: string) => {
      if (text === "") return dispatch();
      const value = text.startsWith("data:") ? text.slice(text.startsWith("data: ") ? 6 : 5) : undefined;
      eventSize += (value ?? text).length + 1;
      if (eventSize > maxEvent) {
        tooLarge = true;
        return;
      }
      lines.push(text);
      if (value !== undefined) (data ??= []).push(value);
      else if (text.startsWith("id:")) eventId = text.slice(text.startsWith("id: ") ? 4 : 3);
    };
    const feed = (chunk: string) => {
      // Most chunks of a long line hold no line end: no need to split the line so far again.
      if (!buffer.endsWith("\r") && !/[\r\n]/.test(chunk)) {
        buffer += chunk;
      } else {
        buffer += chunk;
        const parts = buffer.split(/\r\n|\n|\r/);
        buffer = parts.pop() ?? "";
        // A CR at the very end may be half of a CRLF: decide with the next chunk.
        if (buffer === "" && chunk.endsWith("\r")) {
          const last = parts.pop();
          if (last !== undefined) buffer = `${last}\r`;
        }
        for (const part of parts) {
          line(part);
          if (tooLarge) return;
        }
      }
      if (eventSize + buffer.length > maxEvent) tooLarge = true;
    };
    // Whole events with nothing to rewrite or remember (the usual result) go on as the same bytes, undecoded: only
    // at an event boundary, with no character split across chunks on either side, and within the limit.
    let split = false;
    const passThrough = (chunk: Uint8Array): boolean => {
      const last = chunk.at(-1) ?? 0;
      const whole = !split && buffer === "" && lines.length === 0 && last < 0x80 && chunk.byteLength <= maxMessageBytes;
      split = last >= 0x80;
      if (!whole) return false;
      const text = ascii.decode(chunk);
      if (!text.endsWith("\n\n") || mayHoldMethod(text)) return false;
      return related === undefined || !text.includes("id:");
    };
    const finish = () => {
      feed(decoder.decode());
      if (tooLarge) return;
      if (buffer.endsWith("\r")) buffer = buffer.slice(0, -1);
      if (buffer !== "") line(buffer);
      buffer = "";
      if (!tooLarge && lines.length > 0) dispatch();
    };
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (failure) return controller.error(failure);
        while (true) {
          const { done, value } = await reader.read();
          if (done) finish();
          else if (passThrough(value)) {
            controller.enqueue(value);
            return;
          } else feed(decoder.decode(value, { stream: true }));
          if (tooLarge) {
            // The events before it go on; the rest of the stream is not read.
            if (!done) await reader.cancel().catch(() => {});
            buffer = "";
            lines = [];
            data = undefined;
            const message = tooLargeMessage(maxMessageBytes);
            if (related === undefined) {
              failure = new ProtocolError(message, {
                channel: "data",
                rpcCode: TOO_LARGE_RPC_CODE,
                code: "ERR_MESSAGE_TOO_LARGE",
              });
              // Erroring drops what is queued: the events before it go first, the error at the next pull.
              if (out === "") return controller.error(failure);
              controller.enqueue(encoder.encode(out));
              out = "";
              return;
            }
            const answer = { jsonrpc: "2.0", id: related, error: { code: TOO_LARGE_RPC_CODE, message } };
            controller.enqueue(encoder.encode(`${out}event: message\ndata: ${JSON.stringify(answer)}\n\n`));
            return controller.close();
          }
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

/** The message of a member's message refused for its size. */
function tooLargeMessage(maxBytes: number): string {
  return `Message from the server is larger than the limit of ${maxBytes} bytes: not read`;
}

/**
 * Whether JSON text may hold a request or notification, that is a `method` key. Such a key is written either as
 * `"method"` or with at least one `\u` escape (its letters have no other escape), so text with neither surely holds
 * none and needs no rewriting; anything else is parsed.
 */
function mayHoldMethod(text: string): boolean {
  return text.includes('"method"') || text.includes("\\u");
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
