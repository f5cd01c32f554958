// Internal: counts requests in progress across a member's endpoints, so that drain() can wait for them.

/** A counter of requests in progress with a bounded wait for zero. */
export class InflightCounter {
  #count = 0;
  #waiters = new Set<() => void>();

  /** Requests in progress. */
  get count(): number {
    return this.#count;
  }

  /** Records that a request started. */
  add(): void {
    this.#count++;
  }

  /** Records that a request ended. */
  done(): void {
    if (this.#count > 0) this.#count--;
    if (this.#count === 0) {
      for (const wake of this.#waiters) wake();
      this.#waiters.clear();
    }
  }

  /**
   * Resolves when no request is in progress, or after `timeoutMs`.
   *
   * @returns `true` when the count reached zero, `false` on timeout.
   */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }
}
