import assert from "node:assert/strict";
import { TestMember } from "../_support/members.ts";
import { gatewayToken } from "../_support/catalog_members.ts";
import { Federation, runProgram } from "./_support.ts";

/** The MCP Inspector 2.x (it speaks 2026-07-28); it needs Node ≥ 22, so it runs under Deno. */
const INSPECTOR = "npm:@modelcontextprotocol/inspector@2.12.0";

/** Runs the Inspector's CLI in a temporary folder. */
async function inspect(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cwd = await Deno.makeTempDir({ prefix: "inspector2-" });
  try {
    return await runProgram(["run", "-A", INSPECTOR, "--cli", ...args], { cwd });
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

/** The JSON document a CLI run printed. */
function printed(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.slice(stdout.indexOf("{"), stdout.lastIndexOf("}") + 1));
}

Deno.test("MCP Inspector 2.12 (--cli) lists and calls the federation's tools through the gateway with a bearer token", async () => {
  await using member = await TestMember.start("inspected");
  await using federation = await Federation.start();
  await federation.proxy.registerServer(member.config);
  const url = federation.gateway.url;
  const header = `Authorization: Bearer ${await gatewayToken("inspector")}`;

  // Ad-hoc runs negotiate 2025-11-25. With `--protocol-era modern` the 2.12 CLI hangs under Deno after opening its
  // subscriptions/listen stream, against the SDK's own createMcpHandler server as well as against the gateway: the
  // 2026-07-28 path is covered by the conformance suite and tests/gateway/modern_test.ts instead.
  const list = await inspect([url, "--transport", "http", "--method", "tools/list", "--header", header]);
  assert.equal(list.code, 0, list.stdout + list.stderr);
  const tools = printed(list.stdout).tools as { name: string }[];
  assert.ok(tools.some((tool) => tool.name === "inspected__echo"), list.stdout);

  const call = await inspect([
    url,
    "--transport",
    "http",
    "--method",
    "tools/call",
    "--tool-name",
    "inspected__echo",
    "--tool-arg",
    "text=hello inspector 2",
    "--header",
    header,
  ]);
  assert.equal(call.code, 0, call.stdout + call.stderr);
  assert.deepEqual(printed(call.stdout).content, [{ type: "text", text: "hello inspector 2" }]);
  assert.equal(member.stats.executions.get("echo"), 1);

  const refused = await inspect([url, "--transport", "http", "--method", "tools/list"]);
  assert.notEqual(refused.code, 0, "without a token the gateway refuses the Inspector");
});
