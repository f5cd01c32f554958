/**
 * Statistics and measurement loops of the benchmarks: percentiles, interleaved A/B rounds (the only fair way to
 * compare two things on a noisy 2-core machine), and throughput with a fixed number of calls in flight.
 *
 * @module
 */

/** Percentiles of a set of latencies, in milliseconds. */
export interface Summary {
  /** Number of samples. */
  n: number;
  /** Median. */
  p50: number;
  /** 99th percentile. */
  p99: number;
  /** Mean. */
  mean: number;
}

/**
 * The `q` quantile (0–1) of `values` by the nearest-rank method.
 *
 * @param values The samples (any order; not modified).
 * @param q The quantile, e.g. 0.5 for the median.
 * @returns The quantile, or `NaN` for no samples.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * The median of `values`.
 *
 * @param values The samples.
 * @returns The median, or `NaN` for no samples.
 */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/**
 * p50, p99 and mean of a set of latencies.
 *
 * @param values The samples, in ms.
 * @returns The summary.
 */
export function summarize(values: readonly number[]): Summary {
  const mean = values.length === 0 ? NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
  return { n: values.length, p50: quantile(values, 0.5), p99: quantile(values, 0.99), mean };
}

/** An operation under measurement. */
export type Operation = () => Promise<unknown>;

/**
 * Times `count` sequential runs of `op`.
 *
 * @param op The operation.
 * @param count How many runs.
 * @returns Each run's latency, in ms.
 */
export async function timeSequential(op: Operation, count: number): Promise<number[]> {
  const samples: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await op();
    samples[i] = performance.now() - started;
  }
  return samples;
}

/** Options of {@link compareInterleaved}. */
export interface InterleaveOptions {
  /** Rounds; each runs every operation once, rotating which goes first. */
  rounds: number;
  /** Sequential runs of each operation per round. */
  perRound: number;
  /** Untimed runs of each operation before the first round. @default {perRound} */
  warmup?: number;
}

/** The outcome of {@link compareInterleaved}. */
export interface Comparison {
  /** Latencies of A, over every round. */
  a: Summary;
  /** Latencies of B, over every round. */
  b: Summary;
  /** Median over rounds of (p50 of A in the round / p50 of B in the round). */
  ratio: number;
  /** Median over rounds of the p99 ratio. */
  ratioP99: number;
}

/** The outcome of {@link interleave}: per operation, its latencies and its ratio to the baseline (the last one). */
export interface Interleaved {
  /** Latencies of each operation, over every round, in the order given. */
  summaries: Summary[];
  /** Per operation, the median over rounds of (its p50 in the round / the baseline's p50 in the round). */
  ratios: number[];
  /** The same for p99. */
  ratiosP99: number[];
  /** Per operation, its p50 in each round (for ratios between any two, with {@link pairRatio}). */
  roundP50s: number[][];
}

/**
 * The ratio of two operations measured by one {@link interleave}: the median over rounds of their p50s' ratio.
 *
 * @param result The interleaved measurement.
 * @param a The index of the operation under test.
 * @param b The index of its baseline.
 * @returns The ratio.
 */
export function pairRatio(result: Interleaved, a: number, b: number): number {
  const ours = result.roundP50s[a]!;
  const theirs = result.roundP50s[b]!;
  return median(ours.map((p50, round) => p50 / theirs[round]!));
}

/**
 * Measures several operations side by side: interleaved rounds of `perRound` sequential runs of each, rotating
 * which goes first, so that drifting machine load and JIT warm-up hit all alike. Ratios are to the last operation
 * (the baseline), as medians of per-round ratios.
 *
 * @param ops The operations; the last is the baseline.
 * @param options Rounds, runs per round, warm-up.
 * @returns Each operation's latencies and ratio to the baseline.
 */
export async function interleave(ops: readonly Operation[], options: InterleaveOptions): Promise<Interleaved> {
  const warmup = options.warmup ?? options.perRound;
  for (const op of ops) await timeSequential(op, warmup);
  const all = ops.map(() => [] as number[]);
  const ratios = ops.map(() => [] as number[]);
  const ratiosP99 = ops.map(() => [] as number[]);
  const roundP50s = ops.map(() => [] as number[]);
  for (let round = 0; round < options.rounds; round++) {
    const samples: number[][] = new Array(ops.length);
    for (let k = 0; k < ops.length; k++) {
      const index = (round + k) % ops.length;
      samples[index] = await timeSequential(ops[index]!, options.perRound);
    }
    const baseline = samples[ops.length - 1]!;
    samples.forEach((own, index) => {
      all[index]!.push(...own);
      roundP50s[index]!.push(median(own));
      ratios[index]!.push(median(own) / median(baseline));
      ratiosP99[index]!.push(quantile(own, 0.99) / quantile(baseline, 0.99));
    });
  }
  return {
    summaries: all.map(summarize),
    ratios: ratios.map(median),
    ratiosP99: ratiosP99.map(median),
    roundP50s,
  };
}

/**
 * Compares two operations side by side with {@link interleave}: alternating rounds, the ratio as the median of
 * per-round p50 ratios.
 *
 * @param a The operation under test.
 * @param b The baseline.
 * @param options Rounds, runs per round, warm-up.
 * @returns Both sides' latencies and the A/B ratio.
 */
export async function compareInterleaved(a: Operation, b: Operation, options: InterleaveOptions): Promise<Comparison> {
  const { summaries, ratios, ratiosP99 } = await interleave([a, b], options);
  return { a: summaries[0]!, b: summaries[1]!, ratio: ratios[0]!, ratioP99: ratiosP99[0]! };
}

/** The outcome of one {@link runConcurrent}. */
export interface ThroughputResult {
  /** Completed calls per second. */
  perSecond: number;
  /** Latencies of the calls, in ms. */
  latencies: number[];
  /** Wall time, in ms. */
  wallMs: number;
}

/**
 * Runs `total` calls with `inFlight` of them outstanding at any time.
 *
 * @param op Called with the index of the worker (0 to `inFlight - 1`) that runs it.
 * @param options `inFlight` and `total`.
 * @returns Calls per second and every call's latency.
 */
export async function runConcurrent(
  op: (worker: number) => Promise<unknown>,
  options: { inFlight: number; total: number },
): Promise<ThroughputResult> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async (id: number) => {
    while (next < options.total) {
      next++;
      const started = performance.now();
      await op(id);
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: options.inFlight }, (_, id) => worker(id)));
  const wallMs = performance.now() - started;
  return { perSecond: (latencies.length / wallMs) * 1000, latencies, wallMs };
}

/** The outcome of {@link compareThroughput}. */
export interface ThroughputComparison {
  /** Median calls/s of A over rounds. */
  a: number;
  /** Median calls/s of B over rounds. */
  b: number;
  /** Latencies of A under load. */
  aLatency: Summary;
  /** Latencies of B under load. */
  bLatency: Summary;
  /** Median over rounds of (calls/s of A / calls/s of B). */
  ratio: number;
}

/** Options of {@link compareThroughput}. */
export interface ThroughputOptions {
  /** Rounds; each runs A and B once, alternating which goes first. */
  rounds: number;
  /** Calls outstanding at any time. */
  inFlight: number;
  /** Calls of each side per round. */
  perRound: number;
  /** Untimed calls of each side before the first round (the JIT takes ~10⁵ calls to settle). @default {perRound} */
  warmup?: number;
}

/**
 * Compares the throughput of two operations in interleaved rounds (alternating which goes first).
 *
 * @param a The operation under test, called with a worker index.
 * @param b The baseline, called with a worker index.
 * @param options Rounds, calls in flight, calls per round per side, warm-up.
 * @returns Both sides' median calls/s and the ratio.
 */
export async function compareThroughput(
  a: (worker: number) => Promise<unknown>,
  b: (worker: number) => Promise<unknown>,
  options: ThroughputOptions,
): Promise<ThroughputComparison> {
  const load = { inFlight: options.inFlight, total: options.perRound };
  const warmup = { inFlight: options.inFlight, total: options.warmup ?? options.perRound };
  await runConcurrent(a, warmup);
  await runConcurrent(b, warmup);
  const rates = { a: [] as number[], b: [] as number[] };
  const latencies = { a: [] as number[], b: [] as number[] };
  const ratios: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? (["a", "b"] as const) : (["b", "a"] as const);
    const got: Partial<Record<"a" | "b", number>> = {};
    for (const side of order) {
      const result = await runConcurrent(side === "a" ? a : b, load);
      got[side] = result.perSecond;
      rates[side].push(result.perSecond);
      latencies[side].push(...result.latencies);
    }
    ratios.push(got.a! / got.b!);
  }
  return {
    a: median(rates.a),
    b: median(rates.b),
    aLatency: summarize(latencies.a),
    bLatency: summarize(latencies.b),
    ratio: median(ratios),
  };
}
