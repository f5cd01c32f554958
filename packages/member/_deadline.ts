// Internal: a timer that fires once a clock reaches a deadline, re-armable without churn.

/** Longest delay `setTimeout` accepts (about 24.8 days); longer waits re-arm. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Calls `onExpire` once `now()` reaches the deadline. Moving the deadline later is cheap (the armed timer
 * re-checks and re-arms when it fires); moving it earlier re-arms at once. Uses the injected clock, so a clock
 * that runs ahead of real time expires earlier.
 */
export class Deadline {
  #now: () => number;
  #onExpire: () => void;
  #at = Number.POSITIVE_INFINITY;
  #armedAt = Number.POSITIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(now: () => number, onExpire: () => void) {
    this.#now = now;
    this.#onExpire = onExpire;
  }

  /** The deadline, in the clock's milliseconds (`Infinity` when cleared). */
  get at(): number {
    return this.#at;
  }

  /** Sets the deadline to `at` (milliseconds on the clock). */
  set(at: number): void {
    this.#at = at;
    if (this.#timer !== undefined && at >= this.#armedAt) return;
    this.#arm();
  }

  /** Stops the timer; nothing fires until the next {@link Deadline.set}. */
  clear(): void {
    this.#at = Number.POSITIVE_INFINITY;
    this.#disarm();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }

  #arm(): void {
    this.#disarm();
    if (this.#at === Number.POSITIVE_INFINITY) return;
    const delay = Math.min(Math.max(0, this.#at - this.#now()), MAX_DELAY);
    this.#armedAt = this.#now() + delay;
    this.#timer = setTimeout(() => this.#fire(), delay);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    if (this.#now() >= this.#at) {
      this.#at = Number.POSITIVE_INFINITY;
      this.#onExpire();
    } else this.#arm();
  }
}
