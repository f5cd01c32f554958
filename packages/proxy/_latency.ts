// Internal: a channel's latency estimate for `auto` routing: the median of its latest samples. A median ignores the
// one slow sample (a GC pause, a slow tool, a loaded machine) that would swing a moving average past the other
// channel's estimate and flip routing onto the slower channel for a while.

/** How many of the latest samples the estimate keeps. */
export const LATENCY_WINDOW = 9;

/** Round trips a fresh connection is measured with before routing relies on it (the seed). */
export const LATENCY_SEED_SAMPLES = 3;

/** The latest {@link LATENCY_WINDOW} latency samples of one connection, and their median. */
export class LatencyWindow {
  #samples: number[] = [];
  #next = 0;
  #median: number | undefined;

  /** Adds a sample, in ms (the oldest one leaves a full window). */
  add(ms: number): void {
    if (this.#samples.length < LATENCY_WINDOW) this.#samples.push(ms);
    else this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % LATENCY_WINDOW;
    this.#median = undefined;
  }

  /** The latest sample, in ms; `undefined` without any. */
  get latest(): number | undefined {
    return this.#samples.length === 0 ? undefined : this.#samples[(this.#next + LATENCY_WINDOW - 1) % LATENCY_WINDOW];
  }

  /** How many samples the window holds. */
  get size(): number {
    return this.#samples.length;
  }

  /** The median of the samples, in ms; `undefined` without any. */
  get median(): number | undefined {
    if (this.#median === undefined && this.#samples.length > 0) {
      const sorted = this.#samples.toSorted((a, b) => a - b);
      const mid = sorted.length >> 1;
      this.#median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    }
    return this.#median;
  }
}
