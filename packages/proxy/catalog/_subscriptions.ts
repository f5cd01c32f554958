// Internal: resource subscriptions, counted per member and URI. The member gets `resources/subscribe` for the
// first subscriber and `resources/unsubscribe` when the last one leaves, and every subscription again after it
// reconnects (a restarted member has forgotten them).
import { observe } from "./_observe.ts";
import type { CallOptions } from "../call_options.ts";
import type { CatalogSource } from "./source.ts";
import type { UriOrigin } from "./types.ts";

/** Subscribers per member and URI. */
export class Subscriptions {
  #source: CatalogSource;
  #events: EventTarget;
  /** serverId → URI on the member → subscribers. */
  #counts = new Map<string, Map<string, number>>();

  constructor(source: CatalogSource, events: EventTarget) {
    this.#source = source;
    this.#events = events;
  }

  #of(serverId: string): Map<string, number> {
    let counts = this.#counts.get(serverId);
    if (!counts) this.#counts.set(serverId, counts = new Map());
    return counts;
  }

  /** Adds a subscriber; the first one subscribes on the member (undone if that fails). */
  async add(origin: UriOrigin, options: CallOptions): Promise<void> {
    const counts = this.#of(origin.serverId);
    const count = counts.get(origin.uri) ?? 0;
    counts.set(origin.uri, count + 1);
    if (count > 0) return;
    try {
      await this.#send(origin, "subscribe", options);
    } catch (error) {
      const now = counts.get(origin.uri) ?? 1;
      if (now <= 1) counts.delete(origin.uri);
      else counts.set(origin.uri, now - 1);
      throw error;
    }
  }

  /** Removes a subscriber; the last one unsubscribes on the member, if it is usable (failures ignored). */
  async remove(origin: UriOrigin, options: CallOptions): Promise<void> {
    const counts = this.#of(origin.serverId);
    const count = counts.get(origin.uri) ?? 0;
    if (count > 1) counts.set(origin.uri, count - 1);
    else if (count === 1) {
      counts.delete(origin.uri);
      if (this.#source.getConnectedServers().includes(origin.serverId)) {
        await this.#send(origin, "unsubscribe", options).catch(() => {});
      }
    }
  }

  /** Subscribes again to everything subscribed on a member that came back (failures ignored). */
  renew(serverId: string): void {
    for (const uri of this.#counts.get(serverId)?.keys() ?? []) {
      void this.#send({ serverId, uri }, "subscribe", {}).catch(() => {});
    }
  }

  /** Forgets a removed member's subscriptions. */
  forget(serverId: string): void {
    this.#counts.delete(serverId);
  }

  async #send(origin: UriOrigin, action: "subscribe" | "unsubscribe", options: CallOptions): Promise<void> {
    const { serverId, uri } = origin;
    const request = action === "subscribe"
      ? this.#source.subscribeResource(serverId, uri, options)
      : this.#source.unsubscribeResource(serverId, uri, options);
    await observe(this.#events, serverId, `resources/${action}`, request);
  }
}
