import assert from "node:assert/strict";
import { TestMember } from "../_support/members.ts";
import { gatewayToken } from "../_support/catalog_members.ts";
import { Federation, runProgram } from "./_support.ts";

const INSPECTOR = "npm:@modelcontextprotocol/inspector-cli@1.0.3";

/**
 * The MCP Inspector's CLI, run from a temporary folder whose parent has a `package.json`: it names itself by
 * reading `../package.json` relative to its working directory. Its `mcp-inspector-cli` entry spawns `node` on its
 * own build, which finds its dependencies only in a `node_modules` folder (Deno creates one next to that
 * `package.json` with `--node-modules-dir=auto`). Without `node` on the PATH, the same build runs under Deno.
 */
class Inspector implements AsyncDisposable {
  readonly #root: string;
  readonly #entry: string[];

  private constructor(root: string, entry: string[]) {
    this.#root = root;
    this.#entry = entry;
  }

  static async create(): Promise<Inspector> {
    const root = await Deno.makeTempDir({ prefix: "inspector-" });
    await Deno.writeTextFile(`${root}/package.json`, "{}");
    await Deno.mkdir(`${root}/cwd`);
    const hasNode = await new Deno.Command("node", { args: ["--version"], stdout: "null", stderr: "null" }).output()
      .then((o) => o.success, () => false);
    const entry = hasNode
      ? ["run", "-A", "--node-modules-dir=auto", INSPECTOR, "--cli"]
      : ["run", "-A", `${INSPECTOR}/build/index.js`];
    return new Inspector(root, entry);
  }

  run(args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
    return runProgram([...this.#entry, ...args], { cwd: `${this.#root}/cwd` });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.#root, { recursive: true });
  }
}

Deno.test("mcp-inspector-cli lists and calls the federation's tools through the gateway with a bearer token", async () => {
  await using member = await TestMember.start("inspected");
  await using federation = await Federation.start();
  await federation.proxy.registerServer(member.config);
  const url = federation.gateway.url;
  const header = `Authorization: Bearer ${await gatewayToken("inspector")}`;
  await using inspector = await Inspector.create();

  const list = await inspector.run([url, "--transport", "http", "--method", "tools/list", "--header", header]);
  assert.equal(list.code, 0, list.stderr);
  const tools = JSON.parse(list.stdout.slice(list.stdout.indexOf("{"))).tools as { name: string }[];
  assert.ok(tools.some((t) => t.name === "inspected__echo"), list.stdout);

  const call = await inspector.run([
    url,
    "--transport",
    "http",
    "--method",
    "tools/call",
    "--tool-name",
    "inspected__echo",
    "--tool-arg",
    "text=hello inspector",
    "--header",
    header,
  ]);
  assert.equal(call.code, 0, call.stderr);
  assert.deepEqual(JSON.parse(call.stdout.slice(call.stdout.indexOf("{"))).content, [
    { type: "text", text: "hello inspector" },
  ]);
  assert.equal(member.stats.executions.get("echo"), 1);

  const refused = await inspector.run([url, "--transport", "http", "--method", "tools/list"]);
  assert.notEqual(refused.code, 0, "without a token the gateway refuses the inspector");
  assert.match(refused.stdout + refused.stderr, /401|Unauthorized/);
});
