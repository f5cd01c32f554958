// Internal: an SSE event store whose event ids name the replica that issued them (`<replica>_<id>`), so that a
// client resuming its stream on another replica (after a replica died, or behind a load balancer) is recognised:
// there its `Last-Event-ID` means nothing, and it gets a fresh stream instead of an error.
import type { EventStore, JSONRPCMessage } from "../core/_sdk.ts";

/** Prefixes another event store's ids with this replica's id. */
export class ReplicaEventStore implements EventStore {
  #inner: EventStore;
  #prefix: string;

  constructor(inner: EventStore, replicaId: string) {
    this.#inner = inner;
    this.#prefix = `${replicaId}_`;
  }

  /** Whether an event id was issued by this replica. */
  owns(eventId: string): boolean {
    return eventId.startsWith(this.#prefix);
  }

  /** Ends holding a stream's events back (see `MemoryEventStore.settle`): kept (stored) or dropped. */
  settle(streamId: string, keep: boolean): void {
    (this.#inner as { settle?: (streamId: string, keep: boolean) => void }).settle?.(streamId, keep);
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    return this.#prefix + await this.#inner.storeEvent(streamId, message);
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    if (!this.owns(eventId)) return undefined;
    return await this.#inner.getStreamIdForEventId?.(eventId.slice(this.#prefix.length));
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    if (!this.owns(lastEventId)) return "";
    return await this.#inner.replayEventsAfter(lastEventId.slice(this.#prefix.length), {
      send: (eventId, message) => send(this.#prefix + eventId, message),
    });
  }
}
