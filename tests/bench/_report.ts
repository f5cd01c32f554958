/**
 * The shape of a benchmark case and of its result rows, and the markdown table they print as.
 *
 * @module
 */

import type { Summary } from "./_stats.ts";

/** What a case gets from the harness. */
export interface BenchContext {
  /** Small counts, for CI (every case in under a minute in all). */
  quick: boolean;
  /** A scratch directory, removed after the run. */
  tempDir: string;
  /** Writes a progress line to stderr. */
  log(message: string): void;
}

/** One line of the results table. Cells are preformatted; `data` keeps the raw numbers for `latest.json`. */
export interface BenchRow {
  /** What is measured, e.g. "proxy.callTool vs SDK Client.callTool (control, WebSocket)". */
  measure: string;
  /** Our side: p50 / p99, or the figure measured. */
  ours: string;
  /** The baseline's p50 / p99, or "—". */
  baseline: string;
  /** Throughput, or "—". */
  throughput: string;
  /** The ratio measured, or "—". */
  ratio: string;
  /** The goal, or "report". */
  goal: string;
  /** Whether the goal was met; `undefined` when there is no goal or the row was skipped. */
  met: boolean | undefined;
  /** A short note (skips, setup). */
  note?: string;
  /** Raw numbers. */
  data: Record<string, unknown>;
}

/** A benchmark case. */
export interface BenchCase {
  /** Short id for `--only`. */
  id: string;
  /** Title, with the number. */
  title: string;
  /**
   * Runs the case.
   *
   * @param context Quick mode, scratch dir, log.
   * @returns Its rows.
   */
  run(context: BenchContext): Promise<BenchRow[]>;
}

/**
 * A duration for humans: µs below a millisecond, ms below ten seconds, else s.
 *
 * @param ms The duration in ms.
 * @returns E.g. `"85 µs"`, `"1.24 ms"`, `"12.3 s"`.
 */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 10_000) return `${ms < 100 ? ms.toFixed(2) : ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * `p50 / p99` of a latency summary.
 *
 * @param summary The summary.
 * @returns E.g. `"85 µs / 210 µs"`.
 */
export function formatLatency(summary: Summary): string {
  return `${formatMs(summary.p50)} / ${formatMs(summary.p99)}`;
}

/**
 * A ratio with two decimals and a times sign.
 *
 * @param ratio The ratio.
 * @returns E.g. `"1.07×"`.
 */
export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "—";
}

/**
 * Calls per second, rounded.
 *
 * @param perSecond The rate.
 * @returns E.g. `"12,345/s"`.
 */
export function formatRate(perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString("en-US")}/s`;
}

/**
 * A row for a case that did not run, with the reason.
 *
 * @param measure What would have been measured.
 * @param goal The goal.
 * @param note Why it did not run.
 * @returns The row.
 */
export function skippedRow(measure: string, goal: string, note: string): BenchRow {
  return {
    measure,
    ours: "—",
    baseline: "—",
    throughput: "—",
    ratio: "—",
    goal,
    met: undefined,
    note,
    data: { skipped: note },
  };
}

/** The result of one case in `latest.json`. */
export interface CaseResult {
  /** The case's id. */
  id: string;
  /** Its title. */
  title: string;
  /** Its rows (none when it crashed). */
  rows: BenchRow[];
  /** Wall time of the case, in ms. */
  wallMs: number;
  /** The error, when it crashed. */
  error?: string;
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/**
 * The results as one markdown table.
 *
 * @param results Every case's result.
 * @returns The table.
 */
export function markdownTable(results: readonly CaseResult[]): string {
  const lines = [
    "| # | Measure | Ours p50 / p99 | Baseline p50 / p99 | Throughput | Ratio | Goal | Met | Note |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const result of results) {
    if (result.error !== undefined) {
      lines.push(`| ${cell(result.title)} | CRASHED | — | — | — | — | — | ✗ | ${cell(result.error.split("\n")[0]!)} |`);
      continue;
    }
    result.rows.forEach((row, i) => {
      const met = row.met === undefined ? "–" : row.met ? "✓" : "✗";
      lines.push(
        `| ${i === 0 ? cell(result.title) : ""} | ${cell(row.measure)} | ${cell(row.ours)} | ${cell(row.baseline)} | ${
          cell(row.throughput)
        } | ${cell(row.ratio)} | ${cell(row.goal)} | ${met} | ${cell(row.note ?? "")} |`,
      );
    });
  }
  return lines.join("\n");
}
