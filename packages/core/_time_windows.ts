// Internal: many windows of one length kept by one timer instead of a timer each (a Node-compatible `setTimeout`
// costs ~12 µs per request): the gateway's JSON window of plain answers, the wait before a request's client is
// watched (`_client_watch.ts`). Windows of one length expire in the order they opened: one timer, set for the oldest
// open window's deadline, serves them all, and it is set again only when it fires.

interface Pending {
  deadline: number;
  expire: () => void;
}

/** Windows of one length, for answers that start one after another. */
export class TimeWindows {
  /** The window, in ms. */
  readonly ms: number;
  /** Pending answers in the order they started, which is the order of their deadlines. */
  #pending = new Set<Pending>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param ms How long each window lasts, in ms. */
  constructor(ms: number) {
    this.ms = ms;
  }

  /** Calls `expire` once the window that opens now has passed, unless the returned function is called first. */
  open(expire: () => void): () => void {
    const pending = { deadline: performance.now() + this.ms, expire };
    this.#pending.add(pending);
    if (this.#timer === undefined) this.#arm(pending.deadline);
    return () => void this.#pending.delete(pending);
  }

  #arm(deadline: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, deadline - performance.now()));
    Deno.unrefTimer(this.#timer);
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const pending of this.#pending) {
      if (pending.deadline > now) break;
      this.#pending.delete(pending);
      try {
        pending.expire();
      } catch {
        // A callback must not throw; one that does loses only its own window, never the ones after it.
      }
    }
    const next = this.#pending.values().next();
    // (A callback that opened a window has set the timer already.)
    if (!next.done && this.#timer === undefined) this.#arm(next.value.deadline);
  }
}
