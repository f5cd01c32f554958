// Internal: a bounded in-memory SSE event store for one session, so that a client whose stream was cut (an idle
// proxy, a network blip) resumes with `Last-Event-ID` and misses nothing that is still buffered.
import type { EventStore, JSONRPCMessage } from "../core/_sdk.ts";

interface StoredEvent {
  id: string;
  streamId: string;
  message: JSONRPCMessage;
}

/** Keeps the last `capacity` events of a session's streams. */
export class MemoryEventStore implements EventStore {
  #events: StoredEvent[] = [];
  #byId = new Map<string, StoredEvent>();
  #capacity: number;
  #sequence = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const event = { id: `${++this.#sequence}`, streamId, message };
    this.#events.push(event);
    this.#byId.set(event.id, event);
    while (this.#events.length > this.#capacity) this.#byId.delete(this.#events.shift()!.id);
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
