/**
 * Summarizes V8 CPU profiles (`deno run --cpu-prof`): the functions and the files with the most self time.
 *
 * ```sh
 * deno run -A --cpu-prof --cpu-prof-dir=prof tests/bench/run.ts --only throughput
 * deno run -A tests/bench/profile_summary.ts prof/*.cpuprofile --top 25
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The parts of a `.cpuprofile` this summary reads. */
export interface CpuProfile {
  /** Call-tree nodes. */
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  /** The node sampled at each tick. */
  samples: number[];
  /** Microseconds before each sample. */
  timeDeltas: number[];
}

/** Self time of one function or file. */
export interface SelfTime {
  /** `function (file:line)` or the file. */
  name: string;
  /** Self time, in ms. */
  ms: number;
  /** Share of all samples, 0–1. */
  share: number;
}

function shortUrl(url: string): string {
  if (url === "") return "(native)";
  const npm = /\/npm\/registry\.npmjs\.org\/(.+)$/.exec(url);
  if (npm) return `npm:${npm[1]}`;
  return url.replace(/^file:\/\/.*?\/(packages|tests)\//, "$1/");
}

function frameName(frame: CpuProfile["nodes"][number]["callFrame"]): string {
  return `${frame.functionName || "(anonymous)"} (${shortUrl(frame.url)}:${frame.lineNumber + 1})`;
}

/**
 * The functions and files with the most self time in a profile, and the functions with the most inclusive time
 * (time with the function anywhere on the stack: where a workload's time goes, top-down).
 *
 * @param profile The parsed profile.
 * @returns Functions and files by self time, functions by inclusive time; most first.
 */
export function selfTimes(profile: CpuProfile): { functions: SelfTime[]; files: SelfTime[]; inclusive: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byStack = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    total += us;
    add(byFunction, frameName(node.callFrame), us);
    add(byFile, shortUrl(node.callFrame.url), us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = frameName(byId.get(at)!.callFrame);
      if (!seen.has(name)) add(byStack, name, us);
      seen.add(name);
    }
  });
  const rank = (map: Map<string, number>) =>
    [...map].map(([name, us]) => ({ name, ms: us / 1000, share: total === 0 ? 0 : us / total }))
      .sort((a, b) => b.ms - a.ms);
  return { functions: rank(byFunction), files: rank(byFile), inclusive: rank(byStack) };
}

function table(title: string, rows: SelfTime[], top: number): string {
  const lines = [`| ${title} | ms | share |`, "|---|---|---|"];
  for (const row of rows.slice(0, top)) {
    lines.push(`| ${row.name} | ${row.ms.toFixed(1)} | ${(row.share * 100).toFixed(1)}% |`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "25" } },
  });
  const top = Number(values.top);
  for (const path of positionals) {
    const { functions, files, inclusive } = selfTimes(JSON.parse(await Deno.readTextFile(path)) as CpuProfile);
    console.log(`## ${path}\n\n${table("function (self)", functions, top)}\n\n${table("file (self)", files, top)}\n`);
    console.log(`${table("function (inclusive)", inclusive, top)}\n`);
  }
}
