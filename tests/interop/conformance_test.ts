import assert from "node:assert/strict";
import { SECRET } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { serveConformanceMember } from "../fixtures/conformance_member.ts";
import { Federation, runProgram } from "./_support.ts";

const CONFORMANCE = "npm:@modelcontextprotocol/conformance@0.1.16";

for (const suite of ["active", "pending"] as const) {
  Deno.test(`The official MCP conformance suite (${suite} scenarios) passes through the gateway`, async () => {
    await using member = await serveConformanceMember("conformance", SECRET, quiet);
    // The suite cannot send a bearer token: the gateway runs without authentication, on loopback only.
    await using federation = await Federation.start({
      proxy: { catalog: { prefix: "on-collision" } },
      gateway: { auth: false },
    });
    await federation.proxy.registerServer({
      serverId: "conformance",
      endpoints: { control: member.controlUrl!, data: member.dataUrl! },
    });
    const cwd = await Deno.makeTempDir({ prefix: "conformance-" });
    try {
      const result = await runProgram(
        ["run", "-A", CONFORMANCE, "server", "--url", federation.gateway.url, "--suite", suite],
        { cwd },
      );
      const summary = result.stdout.slice(result.stdout.indexOf("=== SUMMARY ==="));
      assert.equal(result.code, 0, `${summary}\n${result.stderr.slice(-2_000)}`);
      assert.match(summary, /Total: \d+ passed, 0 failed/);
      assert.doesNotMatch(summary, /✗/);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  });
}
