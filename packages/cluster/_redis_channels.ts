// Internal: the Redis registry store's subscriptions: one Redis subscription per channel, however many handlers, on
// the subscriber connection; a handler that throws is logged and does not stop the others.
import type { createClient } from "@redis/client";
import type { Logger } from "../core/logger.ts";
import { deadline } from "./_redis_deadline.ts";
import { errorMessage } from "../core/_error_message.ts";
import type { ChannelHandler } from "./registry_store.ts";

type Client = ReturnType<typeof createClient>;

/** Subscriptions of one store, by namespaced channel. */
export class RedisChannels {
  #subscriber: Client;
  #timeout: number;
  #logger: Logger;
  #closed: () => boolean;
  #onFail: (error: unknown) => void;
  #handlers = new Map<string, Set<ChannelHandler>>();
  #listeners = new Map<string, (message: string) => void>();

  /** `closed`: whether the store is closed; `onFail`: a subscription failed (the store is degraded). */
  constructor(
    subscriber: Client,
    settings: { timeout: number; logger: Logger; closed: () => boolean; onFail: (error: unknown) => void },
  ) {
    this.#subscriber = subscriber;
    this.#timeout = settings.timeout;
    this.#logger = settings.logger;
    this.#closed = settings.closed;
    this.#onFail = settings.onFail;
  }

  /** Subscribes `handler` to `key` (`channel`, un-namespaced, names it in logs); returns the end of it. */
  async subscribe(key: string, channel: string, handler: ChannelHandler): Promise<() => Promise<void>> {
    let handlers = this.#handlers.get(key);
    const own = (message: string) => handler(message);
    if (!handlers) {
      const created = new Set<ChannelHandler>();
      handlers = created;
      this.#handlers.set(key, created);
      const listener = (message: string) => {
        for (const h of [...created]) {
          try {
            h(message);
          } catch (error) {
            this.#logger.error("A store message handler failed", { channel, error: errorMessage(error) });
          }
        }
      };
      this.#listeners.set(key, listener);
      created.add(own);
      try {
        await deadline(this.#subscriber.subscribe(key, listener), this.#timeout, "subscribing");
      } catch (error) {
        // Not subscribed in Redis: forget it entirely so that a later call tries again.
        this.#handlers.delete(key);
        this.#listeners.delete(key);
        this.#onFail(error);
        throw error;
      }
    } else {
      handlers.add(own);
    }
    const set = handlers;
    return async () => {
      if (!set.delete(own) || set.size > 0 || this.#handlers.get(key) !== set) return;
      this.#handlers.delete(key);
      const listener = this.#listeners.get(key);
      this.#listeners.delete(key);
      if (this.#closed() || !listener) return;
      await deadline(this.#subscriber.unsubscribe(key, listener), this.#timeout, "unsubscribing")
        .catch(() => {});
    };
  }

  /** Forgets every subscription (the connection is being destroyed). */
  clear(): void {
    this.#handlers.clear();
    this.#listeners.clear();
  }
}
