// Internal: flow control of a client session's SSE streams on one replica. The SDK's SSE response is read only as
// fast as the client reads it, so that a stream knows how far behind its client is: up to a high-water mark,
// messages go straight to the SDK stream; beyond it they wait here, progress notifications coalesced (only the
// latest of each progress token waits), and a stream whose client reads nothing at all is ended.
import type { JSONRPCMessage } from "../core/_sdk.ts";
import { isResponse } from "../core/_jsonrpc.ts";
import { jsonAnswer, SseEventSplitter } from "../core/_sse_events.ts";

/**
 * Messages a client's SSE stream may hold that it has not read yet. Beyond, messages wait in the link: progress
 * is coalesced (only the latest of each progress token waits), anything else queues up to
 * {@link STREAM_MAX_WAITING}.
 */
export const STREAM_HIGH_WATER = 64;

/** Messages that may wait for one stream after coalescing; one more ends the stream (logged), nothing is kept. */
export const STREAM_MAX_WAITING = 1_000;

/** A JSON-RPC request id. */
export type RequestId = string | number;

/** The key of a client's GET stream (a POST's stream is keyed by its request ids). */
export const STANDALONE: unique symbol = Symbol("standalone");

/** A message not yet handed to the SDK stream, with its send options. */
interface Waiting {
  message: JSONRPCMessage;
  options: { relatedRequestId: RequestId } | undefined;
}

/** Flow control of one SSE stream (a POST's, or the GET stream). */
export interface Outbox {
  kind: "request" | "standalone";
  /** The keys it is registered under: the POST's request ids, or STANDALONE. */
  keys: (RequestId | typeof STANDALONE)[];
  /** Messages handed to the SDK stream that the client has not read. */
  ahead: number;
  waiting: WaitingMessages<Waiting>;
  ended: boolean;
  /** Whether the first message handed to the SDK stream was a response (to the POST's request). */
  first?: "response" | "other";
  /** Ends the HTTP response (set once its body is metered). */
  stop?: () => void;
}

function progressToken(message: JSONRPCMessage): unknown {
  const m = message as { method?: unknown; params?: { progressToken?: unknown } };
  return m.method === "notifications/progress" && typeof m.params === "object" && m.params !== null
    ? m.params.progressToken
    : undefined;
}

/**
 * Messages waiting for a client that is behind, oldest first; a progress notification takes the place of the one of
 * its token already waiting (coalesced) instead of queueing behind it. The SDK streams' flow control (`StreamFlow`)
 * and the plain answers (`_plain_answer.ts`) keep their waiting messages here.
 */
export class WaitingMessages<T extends { message: JSONRPCMessage }> {
  #entries: T[] = [];
  /** The waiting progress notification of each progress token. */
  #progress = new Map<unknown, T>();

  /** How many messages wait. */
  get length(): number {
    return this.#entries.length;
  }

  /** Queues `entry`, or puts its message in place of the waiting progress notification of its token. */
  add(entry: T): "queued" | "coalesced" {
    const token = progressToken(entry.message);
    const held = token === undefined ? undefined : this.#progress.get(token);
    if (held) {
      held.message = entry.message;
      return "coalesced";
    }
    if (token !== undefined) this.#progress.set(token, entry);
    this.#entries.push(entry);
    return "queued";
  }

  /** The oldest waiting entry, taken out. */
  shift(): T | undefined {
    const next = this.#entries.shift();
    const token = next === undefined ? undefined : progressToken(next.message);
    if (token !== undefined && this.#progress.get(token) === next) this.#progress.delete(token);
    return next;
  }

  /** Drops every waiting message. */
  clear(): void {
    this.#entries = [];
    this.#progress.clear();
  }
}

/** What a stream's flow control reports. */
export interface FlowEvents {
  /** A progress notification replaced an older one of the same token that the client had not read yet. */
  coalesced(): void;
  /** A stream was ended because its client did not read it. */
  overrun(detail: { stream: "request" | "standalone"; waiting: number }): void;
}

/** The flow control of every SSE stream of one session. */
export class StreamFlow {
  #outboxes = new Map<RequestId | typeof STANDALONE, Outbox>();
  #send: (message: JSONRPCMessage, options: { relatedRequestId: RequestId } | undefined) => Promise<void>;
  #events: FlowEvents;

  /** `send` hands a message to the SDK stream (the SDK transport's `send`). */
  constructor(
    send: (message: JSONRPCMessage, options: { relatedRequestId: RequestId } | undefined) => Promise<void>,
    events: FlowEvents,
  ) {
    this.#send = send;
    this.#events = events;
  }

  /** Whether a stream is registered under `key`. */
  has(key: RequestId | typeof STANDALONE): boolean {
    return this.#outboxes.has(key);
  }

  /**
   * Hands a message to the SDK stream of `key`, unless that stream's client is behind: then it waits here
   * (progress coalesced), and a stream whose client reads nothing at all is ended. A message of no registered
   * stream goes straight to the SDK.
   */
  async send(
    message: JSONRPCMessage,
    options: { relatedRequestId: RequestId } | undefined,
    key: RequestId | typeof STANDALONE,
  ): Promise<void> {
    const box = this.#outboxes.get(key);
    if (!box) return await this.#send(message, options);
    if (box.ended) return;
    box.first ??= isResponse(message) ? "response" : "other";
    if (box.waiting.length === 0 && box.ahead < STREAM_HIGH_WATER) {
      box.ahead++;
      return await this.#send(message, options);
    }
    if (box.waiting.add({ message, options }) === "coalesced") return this.#events.coalesced();
    if (box.waiting.length > STREAM_MAX_WAITING) this.#overrun(box);
  }

  /** The client read a message of this stream: hand it what waits, up to the high-water mark. */
  #flush(box: Outbox): void {
    box.ahead = Math.max(0, box.ahead - 1);
    while (!box.ended && box.waiting.length > 0 && box.ahead < STREAM_HIGH_WATER) {
      const next = box.waiting.shift()!;
      box.ahead++;
      this.#send(next.message, next.options).catch(() => {});
    }
  }

  #overrun(box: Outbox): void {
    const waiting = box.waiting.length;
    this.drop(box);
    this.#events.overrun({ stream: box.kind, waiting });
    box.stop?.();
  }

  /** Registers the stream of a POST (its request ids) or the GET stream (STANDALONE). */
  open(kind: Outbox["kind"], keys: Outbox["keys"]): Outbox {
    const box: Outbox = { kind, keys, ahead: 0, waiting: new WaitingMessages(), ended: false };
    for (const key of keys) this.#outboxes.set(key, box);
    return box;
  }

  /** Ends a stream's flow control: what waits is dropped. */
  drop(box: Outbox): void {
    box.ended = true;
    box.waiting.clear();
    for (const key of box.keys) if (this.#outboxes.get(key) === box) this.#outboxes.delete(key);
  }

  /**
   * The SDK's SSE response with its body read only as fast as the client reads it, so that the stream's flow
   * control ({@link StreamFlow.send}) knows how far behind the client is. `onEnd` runs once when it ends.
   */
  metered(
    response: Response,
    box: Outbox,
    onEnd: () => void = () => {},
    read: { reader: ReadableStreamDefaultReader<Uint8Array>; prefix: Uint8Array[]; pending?: Promise<ReadResult> } = {
      reader: response.body!.getReader(),
      prefix: [],
    },
  ): Response {
    const { reader, prefix } = read;
    let pending = read.pending;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.drop(box);
      onEnd();
    };
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        for (const chunk of prefix) {
          controller.enqueue(chunk);
          this.#flush(box);
        }
        box.stop = () => {
          end();
          reader.cancel().catch(() => {});
          try {
            controller.close();
          } catch {
            // already closed
          }
        };
      },
      pull: async (controller) => {
        try {
          const next = pending ?? reader.read();
          pending = undefined;
          const { value, done } = await next;
          if (ended) return;
          if (done) {
            end();
            controller.close();
            return;
          }
          controller.enqueue(value);
          this.#flush(box);
        } catch (error) {
          end();
          controller.error(error);
        }
      },
      cancel: async (reason) => {
        end();
        await reader.cancel(reason).catch(() => {});
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  /**
   * The answer to a POST of one request: a plain JSON body when the SDK's SSE stream carries nothing but the
   * response (and, first, its priming event) and the response comes within `window` ms; else the SSE stream,
   * metered, with what was read so far first. A JSON answer saves the client an SSE parse and the stream's
   * flow-control wrapper; a call that sends anything else before its response (progress, a log line, a request to
   * the client), or runs long (it keeps its resumable stream), stays on SSE. `signal` is the client's request.
   */
  async answer(response: Response, box: Outbox, window: number, signal?: AbortSignal): Promise<Response> {
    const reader = response.body!.getReader();
    const prefix: Uint8Array[] = [];
    const events = new SseEventSplitter();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"expired">((resolve) => timer = setTimeout(() => resolve("expired"), window));
    const aborted = () => {
      clearTimeout(timer);
      this.drop(box);
      reader.cancel().catch(() => {});
    };
    signal?.addEventListener("abort", aborted, { once: true });
    try {
      while (true) {
        const pending = reader.read();
        const next = await Promise.race([pending, expired]);
        if (next === "expired" || signal?.aborted) {
          return this.metered(response, box, undefined, { reader, prefix, pending });
        }
        if (next.done) {
          this.drop(box);
          return new Response(prefix.length === 0 ? null : new Blob(prefix as BlobPart[]), {
            status: response.status,
            headers: response.headers,
          });
        }
        prefix.push(next.value);
        for (const data of events.push(next.value)) {
          // The priming event (empty data) is only worth anything on a stream the client can resume.
          if (data === "") continue;
          if (data === undefined || box.first !== "response" || box.keys.length !== 1) {
            return this.metered(response, box, undefined, { reader, prefix });
          }
          this.drop(box);
          reader.cancel().catch(() => {});
          return jsonAnswer(data, response, 200);
        }
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", aborted);
    }
  }
}

type ReadResult = ReadableStreamReadResult<Uint8Array>;
