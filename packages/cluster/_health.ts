// Internal: a store's health as a small state machine that dispatches a `health` event on each change.
import type { StoreHealth } from "./registry_store.ts";

/** Tracks `ok` / `degraded` and tells its target when the state changes. */
export class HealthTracker {
  #target: EventTarget;
  #now: () => number;
  #current: StoreHealth = { state: "ok" };

  constructor(target: EventTarget, now: () => number) {
    this.#target = target;
    this.#now = now;
  }

  get current(): StoreHealth {
    return this.#current;
  }

  /** Records a failure; returns whether the store just became degraded. */
  fail(error: string): boolean {
    if (this.#current.state === "degraded") {
      this.#current = { ...this.#current, error };
      return false;
    }
    this.#current = { state: "degraded", since: this.#now(), error };
    this.#target.dispatchEvent(new CustomEvent("health", { detail: this.#current }));
    return true;
  }

  /** Records a success; returns whether the store just recovered. */
  recover(): boolean {
    if (this.#current.state === "ok") return false;
    this.#current = { state: "ok" };
    this.#target.dispatchEvent(new CustomEvent("health", { detail: this.#current }));
    return true;
  }
}
