// Internal: the answer to a 2025-11-25 POST of one request at the member's data endpoint. The SDK transport answers
// every request with an SSE stream; when that stream carries nothing but the response (no progress, no log line, no
// request to the client before it) and the response comes within a window, it is sent as a plain
// `application/json` body instead: the client (the proxy's data channel) then reads one JSON document rather than
// parsing an event stream, and no stream is kept open. A call that sends anything else first, or runs longer than
// the window, keeps its SSE stream, with what was read replayed first. The member keeps no event store, so a JSON
// answer loses nothing a client could resume.
import { jsonAnswer, SseEventSplitter } from "../core/_sse_events.ts";

/** How long the answer may wait to be plain JSON before the SSE stream is sent as it is, in ms. */
export const JSON_ANSWER_WINDOW_MS = 1_000;

/**
 * The SDK's SSE `response` to a POST of one request, as a JSON body when its first event is the response (within
 * `window` ms), else as the SSE stream, unchanged (what was read comes first). The request's abort signal is not
 * looked at (in Deno that costs an exception per finished request): a client that goes away within the window is
 * noticed when the answer is sent.
 */
export async function answerJsonWhenOnlyResponse(
  response: Response,
  window: number = JSON_ANSWER_WINDOW_MS,
): Promise<Response> {
  const reader = response.body!.getReader();
  const prefix: Uint8Array[] = [];
  const events = new SseEventSplitter();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => timer = setTimeout(() => resolve("expired"), window));
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  try {
    while (true) {
      pending = reader.read();
      const next = await Promise.race([pending, expired]);
      if (next === "expired") return streamed(response, reader, prefix, pending);
      pending = undefined;
      if (next.done) return streamed(response, reader, prefix, undefined);
      prefix.push(next.value);
      for (const data of events.push(next.value)) {
        // A comment (a keep-alive) or an event without data: not a message.
        if (data === undefined || data === "") continue;
        if (!isResponseText(data)) return streamed(response, reader, prefix, undefined);
        reader.cancel().catch(() => {});
        return jsonAnswer(data, response, response.status);
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/** The SSE stream as the SDK wrote it: what was read first, then the rest (starting with a read in progress). */
function streamed(
  response: Response,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  prefix: Uint8Array[],
  pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined,
): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of prefix) controller.enqueue(chunk);
    },
    async pull(controller) {
      try {
        const next = pending ?? reader.read();
        pending = undefined;
        const { value, done } = await next;
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * Whether an SSE event's data is a JSON-RPC response. The SDK writes a result as `{"result":…` and an error as
 * `{"jsonrpc":"2.0","id":…,"error"`; requests and notifications start with `{"method"`. Anything else is parsed.
 */
function isResponseText(data: string): boolean {
  if (data.startsWith('{"result"')) return true;
  if (data.startsWith('{"method"')) return false;
  try {
    const message = JSON.parse(data) as Record<string, unknown>;
    return typeof message === "object" && message !== null && !Array.isArray(message) &&
      message.method === undefined && ("result" in message || "error" in message);
  } catch {
    return false;
  }
}
