// Internal: the HTTP answer of a 2025-11-25 request served outside the SDK transport (`_legacy_plain_call.ts`).
// Plain JSON when the response comes first; an SSE stream when something else comes first (a member's log line
// during the call) or when the response takes longer than the JSON window: then every message related to the
// request is an event of that stream, the response last, with keep-alive comments while it waits.
//
// With the session's event store, the stream is resumable as the SDK's are: it opens with a priming event, every
// event is stored under the stream's id (also after the client went away), and a GET with the `Last-Event-ID` of one
// of its events (`resume`) replays what followed and then carries the rest. Flow control as for the session's other
// streams (`_stream_flow.ts`): while the client is behind, messages wait here (not yet stored), a progress
// notification replacing the waiting one of its token; a client that reads nothing while messages pile up has its
// stream ended (what was stored stays stored).
//
// Neither answer repeats the session id: the client has it from its `initialize` answer (which the SDK transport
// sends), and the spec asks for it only there. Repeating it cost ~15 µs an answer for the header check of a sealed id
// of ~300 bytes (up to ~4.4 KiB): ~7% of the gateway's CPU per call under load.
import type { EventStore, JSONRPCMessage } from "../core/_sdk.ts";
import { answerFromValue } from "./_request_json.ts";
import { storeUnheld } from "./_event_store.ts";
import type { TimeWindows } from "../core/_time_windows.ts";
import { type FlowEvents, STREAM_HIGH_WATER, STREAM_MAX_WAITING, WaitingMessages } from "./_stream_flow.ts";

/** How a plain answer behaves. */
export interface PlainAnswerOptions {
  /** How long the response may take to be plain JSON before the answer becomes an SSE stream. */
  window: TimeWindows;
  /** Interval of the stream's keep-alive comments, in ms. */
  keepAliveMs: number;
  /** Where coalesced progress and an ended stream are reported. */
  events: Pick<FlowEvents, "coalesced" | "overrun">;
  /** The session's event store (absent: the stream carries no event ids and cannot be resumed). */
  store?: EventStore | undefined;
  /** The `retry` field of the priming event, in ms. */
  retryMs?: number | undefined;
}

const encoder = new TextEncoder();

/** The headers of an answer that is a stream. */
const STREAM_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

/** One SSE event of `message`. */
function frame(message: JSONRPCMessage, id: string | undefined): string {
  return `event: message\n${id === undefined ? "" : `id: ${id}\n`}data: ${JSON.stringify(message)}\n\n`;
}

/** The answer of one request, as it becomes known. */
export class PlainAnswer {
  /** The HTTP response: settles with the JSON answer, or as soon as the answer is a stream. */
  readonly response: Promise<Response>;
  #streamId: string | undefined;
  #cancel = new AbortController();
  #resolve!: (response: Response) => void;
  #options: PlainAnswerOptions;
  /** The client's connection to the stream now (replaced by a resumption, undefined once it is gone). */
  #sink: ReadableStreamDefaultController<Uint8Array> | undefined;
  #streaming = false;
  #ended = false;
  /** Stores and writes in order (event ids are given out asynchronously). */
  #chain: Promise<void> = Promise.resolve();
  /** Closes the JSON window before it has passed. */
  #closeWindow: () => void;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  /** Messages waiting for the client to read (not yet stored), oldest first. */
  #waiting = new WaitingMessages<{ message: JSONRPCMessage }>();
  /** Messages handed to the store and the connection, not written yet (event ids are given out asynchronously). */
  #unwritten = 0;
  /** The response is being written: its last messages are no overrun. */
  #finishing = false;
  /** The stream's closing step has run: a connection that comes later gets only the replay. */
  #closed = false;

  constructor(options: PlainAnswerOptions) {
    this.#options = options;
    this.response = new Promise((resolve) => this.#resolve = resolve);
    this.#closeWindow = options.window.open(() => this.#stream());
  }

  /** Aborted when the request is cancelled (`cancel`): its call stops. */
  get cancelled(): AbortSignal {
    return this.#cancel.signal;
  }

  /** Cancels the request (the client's `notifications/cancelled`, or its session's end): no response, the answer ends. */
  cancel(reason?: unknown): void {
    this.#cancel.abort(reason);
    this.close();
  }

  /** The id its events are stored under, once it is a resumable stream. */
  get streamId(): string | undefined {
    return this.#streamId;
  }

  /** A message related to the request before its response (a notification, a request to the client). */
  push(message: JSONRPCMessage): void {
    if (this.#ended) return;
    this.#stream();
    if (this.#sink === undefined) {
      // No connection (the client went away, or is resuming): everything is stored for the client to resume.
      this.#flush();
      return this.#event(message);
    }
    if (this.#waiting.length === 0 && this.#room() > 0) return this.#event(message);
    // The client is behind: the message waits, a progress notification in place of its token's waiting one.
    if (this.#waiting.add({ message }) === "coalesced") return this.#options.events.coalesced();
    if (this.#waiting.length > STREAM_MAX_WAITING) this.#overrun(this.#waiting.length);
  }

  /** Stores and writes up to `room` waiting messages (all of them without a limit). */
  #flush(room = Infinity): void {
    while (room-- > 0 && this.#waiting.length > 0) this.#event(this.#waiting.shift()!.message);
  }

  /** The response: plain JSON, or the stream's last event. */
  finish(message: JSONRPCMessage): void {
    if (this.#ended) return;
    if (!this.#streaming) {
      this.#end();
      this.#resolve(answerFromValue(message, 200));
      return;
    }
    // Whatever waits goes first, the response last, into the connection's queue whatever its room: the last messages
    // are no overrun (there are at most STREAM_MAX_WAITING of them).
    this.#finishing = true;
    this.#flush();
    this.#event(message);
    this.close();
  }

  /**
   * Ends the answer without a response (the request was cancelled, or its session closed): an empty stream, or the
   * end of the stream begun.
   */
  close(): void {
    if (this.#ended) return;
    this.#end();
    if (!this.#streaming) {
      this.#resolve(new Response(null, { status: 200, headers: STREAM_HEADERS }));
      return;
    }
    this.#then(() => {
      this.#closed = true;
      this.#closeSink();
    });
  }

  /**
   * A GET resuming this stream after `lastEventId`: the stored events that followed, then the rest as it comes. A
   * connection the client still seems to hold (its end may not have been noticed yet) is closed: the client asking
   * to resume has given it up, and no message goes to two connections.
   *
   * @param store The event store the stream's events are in.
   * @param lastEventId The last event the client received.
   */
  resume(store: EventStore, lastEventId: string): Response {
    this.#closeSink();
    const { body, controller } = this.#body();
    this.#then(async () => {
      this.#closeSink();
      await store.replayEventsAfter(lastEventId, {
        send: (id, message) => {
          this.#enqueue(controller, frame(message, id));
          return Promise.resolve();
        },
      });
      if (this.#closed) {
        controller.close();
        return;
      }
      // Ended or not, what is still on its way (up to the response and the close) comes to this connection.
      this.#sink = controller;
      this.#flush(this.#room());
    });
    return new Response(body, { status: 200, headers: STREAM_HEADERS });
  }

  /** Runs `step` after the steps before it; a failed step ends the client's connection, not the steps after it. */
  #then(step: () => void | Promise<void>): void {
    this.#chain = this.#chain.then(step).catch(() => this.#closeSink());
  }

  #end(): void {
    this.#ended = true;
    this.#closeWindow();
    clearInterval(this.#keepAlive);
    this.#waiting.clear();
  }

  /** Turns the answer into an SSE stream (once), primed when it can be resumed. */
  #stream(): void {
    if (this.#streaming || this.#ended) return;
    this.#streaming = true;
    this.#closeWindow();
    const { body, controller } = this.#body();
    this.#sink = controller;
    const store = this.#options.store;
    if (store !== undefined) {
      const streamId = this.#streamId = crypto.randomUUID();
      const retry = this.#options.retryMs === undefined ? "" : `retry: ${this.#options.retryMs}\n`;
      this.#then(async () => {
        const id = await storeUnheld(store, streamId, {} as JSONRPCMessage);
        this.#write(`id: ${id}\n${retry}data: \n\n`);
      });
    }
    if (this.#options.keepAliveMs > 0) {
      // Only to a connection with nothing queued: a comment is no news to a client that has messages to read.
      this.#keepAlive = setInterval(() => {
        if ((this.#sink?.desiredSize ?? 0) >= STREAM_HIGH_WATER) this.#write(": keep-alive\n\n");
      }, this.#options.keepAliveMs);
      Deno.unrefTimer(this.#keepAlive);
    }
    this.#resolve(new Response(body, { status: 200, headers: STREAM_HEADERS }));
  }

  /** Stores (when resumable) and writes one message event, in order. */
  #event(message: JSONRPCMessage): void {
    const { store } = this.#options;
    const streamId = this.#streamId;
    this.#unwritten++;
    this.#then(async () => {
      try {
        const id = store === undefined || streamId === undefined
          ? undefined
          : await storeUnheld(store, streamId, message);
        this.#write(frame(message, id));
      } finally {
        this.#unwritten--;
      }
    });
  }

  /** How many more messages the client's connection has room for now (messages on their way included). */
  #room(): number {
    return this.#sink === undefined ? Infinity : (this.#sink.desiredSize ?? 0) - this.#unwritten;
  }

  #body(): { body: ReadableStream<Uint8Array>; controller: ReadableStreamDefaultController<Uint8Array> } {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => void (controller = c),
      // The client read: what waits follows, as much as it has room for.
      pull: (c) => {
        if (c === this.#sink) this.#flush(this.#room());
      },
      cancel: () => {
        if (this.#sink === controller) this.#sink = undefined;
      },
    }, new CountQueuingStrategy({ highWaterMark: STREAM_HIGH_WATER }));
    return { body, controller };
  }

  /** Writes to the client's connection, if any; one that reads nothing while messages pile up is ended. */
  #write(text: string): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    if (!this.#finishing && (sink.desiredSize ?? 0) < -STREAM_MAX_WAITING) {
      return this.#overrun(-(sink.desiredSize ?? 0));
    }
    if (!this.#enqueue(sink, text)) this.#sink = undefined;
  }

  /**
   * Ends the connection of a client that reads nothing while messages pile up: what it queued and what waits are
   * dropped (what was stored stays: the client may resume).
   */
  #overrun(waiting: number): void {
    this.#options.events.overrun({ stream: "request", waiting });
    const sink = this.#sink;
    this.#sink = undefined;
    this.#waiting.clear();
    sink?.error(new Error("The client read nothing while messages piled up"));
  }

  #enqueue(controller: ReadableStreamDefaultController<Uint8Array>, text: string): boolean {
    try {
      controller.enqueue(encoder.encode(text));
      return true;
    } catch {
      return false;
    }
  }

  #closeSink(): void {
    const sink = this.#sink;
    this.#sink = undefined;
    try {
      sink?.close();
    } catch {
      // the client already went away
    }
  }
}
