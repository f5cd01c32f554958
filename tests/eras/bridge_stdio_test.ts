/**
 * The gateway CLI over stdio, a 2026-07-28 client on it, and a 2025-11-25 member that asks during its calls: the
 * member's requests reach the client as `input_required` rounds, which the SDK client answers with its handlers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { Client, StdioClientTransport } from "../../packages/core/_sdk.ts";
import { SECRET } from "../_support/members.ts";
import { textOf } from "../_support/catalog_members.ts";
import { startAskingMember } from "../_support/asking_member.ts";

const CLI = fromFileUrl(new URL("../../packages/gateway/cli.ts", import.meta.url));

Deno.test("CLI --stdio bridges a legacy member's elicitation and roots to a 2026-07-28 client, in rounds", async () => {
  await using member = await startAskingMember("old");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/federation.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({ gateway: { auth: { secretEnv: "GATEWAY_SECRET_NOT_SET" } }, members: [member.config] }),
  );
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", CLI, "--config", file, "--stdio", "--log-level", "error"],
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1", MCP_SECRET_KEY: SECRET },
    stderr: "pipe",
  });
  const client = new Client({ name: "stdio-bridge", version: "1.0.0" }, {
    capabilities: { elicitation: {}, roots: {} },
    versionNegotiation: { mode: "auto" },
  });
  const asked: string[] = [];
  client.setRequestHandler("elicitation/create", (request) => {
    asked.push(String(request.params.message));
    return { action: "accept", content: { value: `v${asked.length}` } };
  });
  client.setRequestHandler("roots/list", () => ({ roots: [{ uri: "file:///stdio" }] }));
  try {
    await client.connect(transport);
    assert.equal(client.getProtocolEra(), "modern");
    assert.equal(textOf(await client.callTool({ name: "old__two_rounds", arguments: {} })), "v1+v2");
    assert.equal(textOf(await client.callTool({ name: "old__roots", arguments: {} })), "file:///stdio");
    assert.deepEqual(asked, ["First?", "Second?"]);
  } finally {
    await client.close();
    await Deno.remove(dir, { recursive: true });
  }
});
