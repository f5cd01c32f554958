/**
 * The benchmark harness: runs the cases of `tests/bench/` one after the other, prints one markdown table on
 * stdout (progress goes to stderr), and writes every number to `tests/bench/results/latest.json`.
 *
 * No number fails the run; a case that crashes does (exit code 1), so CI keeps the benchmarks from rotting.
 *
 * ```sh
 * deno task bench                       # full counts
 * deno task bench --quick               # small counts, under a minute
 * deno task bench --only call_overhead,throughput
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { callOverhead } from "./call_overhead.ts";
import { catalog } from "./catalog.ts";
import { controlFloor } from "./control_floor.ts";
import { gatewayHop } from "./gateway_hop.ts";
import { peer } from "./peer.ts";
import { recovery } from "./recovery.ts";
import { recoveryFlap } from "./recovery_flap.ts";
import { registration } from "./registration.ts";
import { sessions } from "./sessions.ts";
import { throughput } from "./throughput.ts";
import { killAllChildren } from "./_process.ts";
import { type BenchCase, type CaseResult, markdownTable } from "./_report.ts";

/** Every case, in the order. */
export const CASES: readonly BenchCase[] = [
  callOverhead,
  controlFloor,
  gatewayHop,
  peer,
  registration,
  catalog,
  recovery,
  recoveryFlap,
  throughput,
  sessions,
];

/** Where the results go. */
export const RESULTS_PATH: URL = new URL("./results/latest.json", import.meta.url);

const USAGE = `Usage: deno task bench [--quick] [--only ${CASES.map((c) => c.id).join(",")}] [--out FILE]
  --quick   small counts (under a minute), as CI runs it
  --only    run only these cases (comma-separated)
  --out     write the JSON results here (default tests/bench/results/latest.json)`;

async function main(): Promise<number> {
  let values: { quick: boolean; only?: string | undefined; out?: string | undefined; help: boolean };
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        quick: { type: "boolean", default: false },
        only: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const only = values.only?.split(",").map((id) => id.trim());
  const unknown = only?.filter((id) => !CASES.some((c) => c.id === id)) ?? [];
  if (unknown.length > 0) {
    console.error(`Unknown case(s) ${unknown.join(", ")}; known: ${CASES.map((c) => c.id).join(", ")}`);
    return 2;
  }
  const selected = CASES.filter((c) => only === undefined || only.includes(c.id));
  const tempDir = await Deno.makeTempDir({ prefix: "federated-mcp-bench-" });
  const started = performance.now();
  const results: CaseResult[] = [];
  try {
    for (const benchCase of selected) {
      const caseStarted = performance.now();
      console.error(`▶ ${benchCase.title}`);
      try {
        const rows = await benchCase.run({
          quick: values.quick,
          tempDir,
          log: (message) => console.error(`  ${message}`),
        });
        results.push({ id: benchCase.id, title: benchCase.title, rows, wallMs: performance.now() - caseStarted });
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        console.error(`  ✗ ${benchCase.id} crashed: ${error instanceof Error ? error.stack : message}`);
        results.push({ id: benchCase.id, title: benchCase.title, rows: [], wallMs: 0, error: message });
      }
    }
  } finally {
    await Deno.remove(tempDir, { recursive: true }).catch(() => {});
  }
  const wallMs = performance.now() - started;
  console.log(markdownTable(results));
  console.log(
    `\n${values.quick ? "Quick run" : "Run"} of ${results.length} case(s) in ${(wallMs / 1000).toFixed(1)} s; ` +
      `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores.`,
  );
  const out = values.out === undefined ? RESULTS_PATH : new URL(values.out, `file://${Deno.cwd()}/`);
  await Deno.mkdir(new URL(".", out), { recursive: true });
  await Deno.writeTextFile(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        quick: values.quick,
        deno: Deno.version.deno,
        cores: navigator.hardwareConcurrency,
        wallMs,
        cases: results,
      },
      null,
      2,
    ) + "\n",
  );
  const crashed = results.filter((r) => r.error !== undefined);
  if (crashed.length > 0) console.error(`Crashed: ${crashed.map((r) => r.id).join(", ")}`);
  return crashed.length > 0 ? 1 : 0;
}

if (import.meta.main) {
  globalThis.addEventListener("unload", killAllChildren);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      killAllChildren();
      Deno.exit(130);
    });
  }
  Deno.exit(await main());
}
