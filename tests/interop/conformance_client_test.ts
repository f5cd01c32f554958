import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { CONFORMANCE } from "./_conformance.ts";
import { runProgram } from "./_support.ts";

const RUNNER = fromFileUrl(new URL("./conformance_client_runner.ts", import.meta.url));

/** The suite's client scenarios required for 2026-07-28 that do not involve OAuth. */
const SCENARIOS = [
  "tools_call",
  "request-metadata",
  "sep-2322-client-request-state",
  "http-standard-headers",
  "http-custom-headers",
  "http-invalid-tool-headers",
  "json-schema-ref-no-deref",
];

Deno.test("Conformance (client side, 2026-07-28, no OAuth): FederationProxy passes every scenario", async (t) => {
  const cwd = await Deno.makeTempDir({ prefix: "conformance-client-" });
  try {
    for (const scenario of SCENARIOS) {
      await t.step(scenario, async () => {
        const result = await runProgram([
          "run",
          "-A",
          CONFORMANCE,
          "client",
          "--command",
          `${Deno.execPath()} run -A ${RUNNER}`,
          "--scenario",
          scenario,
          "--spec-version",
          "2026-07-28",
        ], { cwd, timeoutMs: 120_000 });
        const output = `${result.stdout}\n${result.stderr}`;
        assert.match(output, /Passed: (\d+)\/\1, 0 failed, 0 warnings/, output.slice(-3_000));
        assert.match(output, /OVERALL: PASSED/, output.slice(-3_000));
        assert.equal(result.code, 0, output.slice(-3_000));
      });
    }
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
