// Internal: a bounded in-memory SSE event store for one session, so that a client whose stream was cut (an idle
// proxy, a network blip) resumes with `Last-Event-ID` and misses nothing that is still buffered. Bounded twice: by
// the number of events and by their size (the newest event is always kept), so that a member streaming large
// results cannot make one session's replay buffer hold hundreds of megabytes.
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

/** Keeps the last `capacity` events of a session's streams. */
export class MemoryEventStore implements EventStore {
  #events: StoredEvent[] = [];
  #byId = new Map<string, StoredEvent>();
  #capacity: number;
  #maxBytes: number;
  #bytes = 0;
  #sequence = 0;

  constructor(capacity: number, maxBytes: number = DEFAULT_REPLAY_BYTES) {
    this.#capacity = capacity;
    this.#maxBytes = maxBytes;
  }

  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const size = "jsonrpc" in message ? JSON.stringify(message).length : 0;
    const event = { id: `${++this.#sequence}`, streamId, message, size };
    this.#events.push(event);
    this.#byId.set(event.id, event);
    this.#bytes += size;
    while (
      this.#events.length > this.#capacity || (this.#bytes > this.#maxBytes && this.#events.length > 1)
    ) {
      const oldest = this.#events.shift()!;
      this.#byId.delete(oldest.id);
      this.#bytes -= oldest.size;
    }
    return Promise.resolve(event.id);
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
