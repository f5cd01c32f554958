/**
 * Helpers of the conformance tests: the suite (`@modelcontextprotocol/conformance` 0.2.0-alpha.12, server side),
 * the scenarios allowed to fail with their reason, and the gateway CLI run as a child process. The suite cannot send
 * a bearer token: the gateway runs without authentication, on loopback only; `prefix: "on-collision"` keeps the
 * fixture's exact tool names.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { SECRET } from "../_support/members.ts";
import { LineReader } from "../_support/lines.ts";
import { PROGRAM_ENV, runProgram } from "./_support.ts";

export const CONFORMANCE = "npm:@modelcontextprotocol/conformance@0.2.0-alpha.12";
const CLI = fromFileUrl(new URL("../../packages/gateway/cli.ts", import.meta.url));

const FIXTURE_INPUT_REQUIRED =
  "the fixture member has no test_input_required_result_* tools yet (MEMBER is adding them)";
const FIXTURE_STATELESS =
  "the fixture member lacks test_missing_capability, test_streaming_elicitation and test_logging_tool (MEMBER)";
const TASKS = "not scored (tasks extension): the gateway answers tasks/* with -32601 for now";

/**
 * Scenarios that may fail, per revision, with the reason: the fixture member does not implement them, or the suite
 * does not score them. Every other scenario must pass. A listed scenario that passes is reported (shrink the list).
 */
export const NOT_IMPLEMENTED: Record<string, Record<string, string>> = {
  "2026-07-28": {
    "server-stateless": FIXTURE_STATELESS,
    "input-required-result-basic-elicitation": FIXTURE_INPUT_REQUIRED,
    "input-required-result-basic-sampling": FIXTURE_INPUT_REQUIRED,
    "input-required-result-basic-list-roots": FIXTURE_INPUT_REQUIRED,
    "input-required-result-request-state": FIXTURE_INPUT_REQUIRED,
    "input-required-result-multiple-input-requests": FIXTURE_INPUT_REQUIRED,
    "input-required-result-multi-round": FIXTURE_INPUT_REQUIRED,
    "input-required-result-non-tool-request": FIXTURE_INPUT_REQUIRED,
    "input-required-result-result-type": FIXTURE_INPUT_REQUIRED,
    "input-required-result-tampered-state": FIXTURE_INPUT_REQUIRED,
    "input-required-result-capability-check": FIXTURE_INPUT_REQUIRED,
    "tasks-lifecycle": TASKS,
    "tasks-capability-negotiation": TASKS,
    "tasks-wire-fields": TASKS,
    "tasks-request-state-removal": TASKS,
    "tasks-mrtr-input": TASKS,
    "tasks-request-headers": TASKS,
    "tasks-dispatch-and-envelope": TASKS,
    "tasks-required-task-error": TASKS,
    "tasks-mrtr-composition": TASKS,
    "http-custom-header-server-validation": "not scored (pending): the fixture member has no x-mcp-header tool",
  },
  "2025-11-25": {},
};

/** The gateway CLI in front of `members`, on a free port; disposing it stops it (SIGTERM). */
export async function startGatewayCli(
  members: unknown[],
  env: Record<string, string> = {},
): Promise<{ url: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "conformance-gateway-" });
  const file = `${dir}/federation.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({ gateway: { port: 0, auth: false }, catalog: { prefix: "on-collision" }, members }),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "--config", file, "--log-level", "error"],
    env: { ...PROGRAM_ENV, MCP_SECRET_KEY: SECRET, ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const output = new LineReader(child.stdout);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    await child.status;
    output.release();
    await stderr;
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const lines = await output.until((line) => line.startsWith("gateway "));
    const url = /^gateway (\S+)/.exec(lines.at(-1)!)![1]!;
    return { url, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The scenarios of a run's summary that failed. */
export function failedScenarios(stdout: string): string[] {
  const failed = new Set<string>();
  for (const line of stdout.split("\n")) {
    const match = /^\s*✗\s+(\S+)/.exec(line);
    if (match) failed.add(match[1]!.replace(/:$/, ""));
  }
  return [...failed].sort();
}

/**
 * Runs the suite's server scenarios of `revision` against `url` and checks that only the allowed scenarios fail.
 *
 * @returns The failed scenarios.
 */
export async function assertConformance(url: string, revision: string): Promise<string[]> {
  const cwd = await Deno.makeTempDir({ prefix: "conformance-" });
  try {
    const result = await runProgram(
      ["run", "-A", CONFORMANCE, "server", "--url", url, "--requirements", revision],
      { cwd, timeoutMs: 300_000 },
    );
    const summary = result.stdout.slice(result.stdout.lastIndexOf("=== SUMMARY ==="));
    const allowed = NOT_IMPLEMENTED[revision]!;
    const failed = failedScenarios(result.stdout);
    assert.match(summary, /Total: \d+ passed/, `${result.stdout.slice(-2_000)}\n${result.stderr.slice(-2_000)}`);
    assert.deepEqual(failed.filter((name) => !(name in allowed)), [], summary);
    const passing = Object.keys(allowed).filter((name) => !failed.includes(name));
    if (passing.length > 0) console.log(`Listed as not implemented but passing now: ${passing.join(", ")}`);
    if (failed.length === 0) assert.equal(result.code, 0, summary);
    return failed;
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}
