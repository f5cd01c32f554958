// Internal: a bound on how many of the catalog's list requests are in flight at once. A cold listing of a large
// federation would otherwise send every member's list request at the same moment: a thousand members served by one
// process (or a proxy on a small machine) then answer everything late at once, heartbeats included, and channels are
// failed for heartbeats that were only queued behind the lists.

/** Runs tasks with at most `max` of them in flight; the others wait their turn, first come first served. */
export class Limiter {
  readonly max: number;
  #active = 0;
  #waiting: (() => void)[] = [];

  constructor(max: number) {
    this.max = max;
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Runs `task` when a place is free; settles as it does. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await task();
    } finally {
      // The place goes to the next task waiting (the count stays), else it is freed.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
