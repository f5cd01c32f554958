// Internal: a channel's latency estimate for `auto` routing, and how often the channel not chosen is sampled. The
// estimate is the median of the latest calls' latencies: a median ignores the one slow sample (a GC pause, a slow tool,
// a loaded machine) that would swing a moving average past the other channel's estimate and flip routing onto the
// slower channel for a while.

/**
 * How long a channel not chosen goes without carrying a call before it carries one, in ms (see {@link REFRESH_CALLS});
 * heartbeats do not count: they are no call's latency.
 */
export const LATENCY_REFRESH_MS = 1_000;

/**
 * How many calls are routed, at least, between two refreshes of the channel not chosen: a member called now and then
 * keeps its calls on the faster channel (by time alone, every call more than {@link LATENCY_REFRESH_MS} after the last
 * would take the slower one).
 */
export const REFRESH_CALLS = 32;

/**
 * How much faster than the data channel's estimate the control channel's latest sample must be for it to take the calls
 * at once (before its own estimate says so): a WebSocket measured while cold takes over in a few calls, and two channels
 * about as fast do not swap on every lucky sample. The data channel takes them on its estimate only (see
 * `Member.#route`).
 */
export const TAKEOVER_FACTOR = 0.75;

/** How many of the latest samples the estimate keeps. */
export const LATENCY_WINDOW = 9;

/**
 * Calls a fresh connection is measured with before routing relies on it (the seed): a window's worth (no more: the
 * window holds no more), so that its first, cold round trips (the process and the member warming up) are outvoted in
 * the median.
 */
export const LATENCY_SEED_SAMPLES = LATENCY_WINDOW;

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

/**
 * A connection's latency samples: its calls', which `auto` routing compares, and all of them (heartbeats and the
 * verification included), whose median the status reports. A heartbeat's bare round trip is no call's latency: in the
 * routing estimate, an idle channel pinged now and then would look faster than one carrying calls that take a while.
 */
export class ChannelLatency {
  /** Every sample: calls, heartbeats, the verification. */
  readonly all: LatencyWindow = new LatencyWindow();
  /** The calls' samples. */
  readonly calls: LatencyWindow = new LatencyWindow();

  /** Adds a heartbeat's or a verification's round trip, in ms. */
  addProbe(ms: number): void {
    this.all.add(ms);
  }

  /** Adds a call's latency, in ms. */
  addCall(ms: number): void {
    this.all.add(ms);
    this.calls.add(ms);
  }
}
