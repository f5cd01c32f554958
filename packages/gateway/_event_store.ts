// Internal: a bounded in-memory SSE event store for one session, so that a client whose stream was cut (an idle
// proxy, a network blip) resumes with `Last-Event-ID` and misses nothing that is still buffered. Bounded twice: by
// the number of events and by their size (the newest event is always kept), so that a member streaming large
// results cannot make one session's replay buffer hold hundreds of megabytes.
//
// A POST whose answer may still turn out to be plain JSON runs inside `holdingEvents`: the SDK primes its stream
// (an event stored before anything is known), and the events of that stream are then given ids but held back until
// the link knows the answer (`settle`): kept as SSE (stored, resumable), or dropped with a JSON answer, which no
// client can resume, so that nothing is stored, sized or evicted for it.
import { AsyncLocalStorage } from "node:async_hooks";
import type { EventStore, JSONRPCMessage } from "../core/_sdk.ts";

interface StoredEvent {
  id: string;
  streamId: string;
  message: JSONRPCMessage;
  /** Its size as JSON, in UTF-16 code units (close enough to bytes for a budget). */
  size: number;
}

/** Most bytes of events kept per session, by default. */
export const DEFAULT_REPLAY_BYTES = 1024 * 1024;

/** What a store counts, for `/metrics` (shared by every session of a replica). */
export interface EventCounters {
  /** Events stored (resumable). */
  eventsStored: number;
  /** Events of JSON-answered POSTs, held back and never stored. */
  eventsSkipped: number;
}

/** The stream a POST's priming opened, once the store has seen it. */
export interface HeldStream {
  stream?: string;
}

const holding = new AsyncLocalStorage<HeldStream>();

/**
 * Runs `handle` (one POST handed to the SDK transport) so that the stream its priming opens is held back: its
 * events get ids but are not stored until {@link MemoryEventStore.settle} (through the session's store). `held.stream`
 * names the stream once primed.
 */
export function holdingEvents<T>(held: HeldStream, handle: () => T): T {
  return holding.run(held, handle);
}

/**
 * Stores an event of a stream no POST's priming holds back (a plain answer's, `_plain_answer.ts`), whatever async
 * context the call comes from.
 */
export function storeUnheld(store: EventStore, streamId: string, message: JSONRPCMessage): Promise<string> {
  return holding.exit(() => store.storeEvent(streamId, message));
}

/** Keeps the last `capacity` events of a session's streams. */
export class MemoryEventStore implements EventStore {
  #events: StoredEvent[] = [];
  #byId = new Map<string, StoredEvent>();
  /** Streams whose events are held back, in order. */
  #held = new Map<string, StoredEvent[]>();
  #capacity: number;
  #maxBytes: number;
  #bytes = 0;
  #sequence = 0;
  #counters: EventCounters | undefined;

  constructor(capacity: number, maxBytes: number = DEFAULT_REPLAY_BYTES, counters?: EventCounters) {
    this.#capacity = capacity;
    this.#maxBytes = maxBytes;
    this.#counters = counters;
  }

  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const event = { id: `${++this.#sequence}`, streamId, message, size: 0 };
    let held = this.#held.get(streamId);
    if (held === undefined && !("jsonrpc" in message)) {
      // A priming event: the stream of a POST whose answer may be JSON is held back from its first event on.
      const claim = holding.getStore();
      if (claim !== undefined && claim.stream === undefined) {
        claim.stream = streamId;
        this.#held.set(streamId, held = []);
      }
    }
    if (held !== undefined) held.push(event);
    else this.#store(event);
    return Promise.resolve(event.id);
  }

  /**
   * Ends holding a stream back: its events are stored in order (`keep`: the answer is the SSE stream, resumable),
   * or dropped (a JSON answer). Later events of the stream are stored as they come.
   */
  settle(streamId: string, keep: boolean): void {
    const held = this.#held.get(streamId);
    if (held === undefined) return;
    this.#held.delete(streamId);
    if (keep) { for (const event of held) this.#store(event); }
    else if (this.#counters) this.#counters.eventsSkipped += held.length;
  }

  #store(event: StoredEvent): void {
    event.size = "jsonrpc" in event.message ? JSON.stringify(event.message).length : 0;
    this.#events.push(event);
    this.#byId.set(event.id, event);
    this.#bytes += event.size;
    if (this.#counters) this.#counters.eventsStored++;
    while (
      this.#events.length > this.#capacity || (this.#bytes > this.#maxBytes && this.#events.length > 1)
    ) {
      const oldest = this.#events.shift()!;
      this.#byId.delete(oldest.id);
      this.#bytes -= oldest.size;
    }
  }

  getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return Promise.resolve(this.#byId.get(eventId)?.streamId);
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const last = this.#byId.get(lastEventId);
    if (!last) return "";
    const after = Number(last.id);
    for (const event of this.#events) {
      // Priming events (empty data) only mark a position; they are not replayed.
      if (event.streamId !== last.streamId || Number(event.id) <= after || !("jsonrpc" in event.message)) continue;
      await send(event.id, event.message);
    }
    return last.streamId;
  }
}
