// Real stdio MCP servers from npm as members of one gateway: server-everything (stdio mode), server-filesystem (on a
// temporary directory) and server-memory, spawned by the proxy with `npx -y` (Node.js and npm are on every CI
// machine; the first run downloads the packages, hence the long connect timeout). An SDK client lists and calls
// their tools through the gateway; the everything server's progress, elicitation and sampling cross the hop (one
// call in flight: the stdio relation rule relates them, see proxy/_stdio_relation.ts).
import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import type { FederationConfig } from "../../packages/core/types.ts";
import { GATEWAY_SECRET, SECRET } from "../_support/members.ts";
import { connectClient, quiet, textOf } from "../_support/catalog_members.ts";
import { processesWith } from "./_support.ts";

const VERSION = "2026.8.31";

function npx(serverId: string, pkg: string, args: string[] = [], env: Record<string, string> = {}): FederationConfig {
  return {
    serverId,
    endpoints: { stdio: { command: "npx", args: ["-y", `@modelcontextprotocol/${pkg}@${VERSION}`, ...args], env } },
  };
}

Deno.test("A gateway federates server-everything, server-filesystem and server-memory run as stdio members", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fmcp-stdio-" });
  const proxy = new FederationProxy(SECRET, { logger: quiet, connectTimeout: 120_000 });
  try {
    await Promise.all([
      proxy.registerServer(npx("ev", "server-everything", ["stdio"])),
      proxy.registerServer(npx("fs", "server-filesystem", [dir])),
      proxy.registerServer(npx("mem", "server-memory", [], { MEMORY_FILE_PATH: `${dir}/memory.jsonl` })),
    ]);
    const pids = ["ev", "fs", "mem"].map((id) => proxy.getServerStatus(id)?.channels.stdio?.pid);
    assert.ok(pids.every((pid) => pid !== undefined));
    await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
    const client = await connectClient(gateway.url, { capabilities: { elicitation: {}, sampling: {} } });
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      for (const name of ["ev__echo", "ev__trigger-long-running-operation", "fs__write_file", "mem__create_entities"]) {
        assert.ok(names.includes(name), `${name} in ${names.join()}`);
      }
      assert.match(textOf(await client.callTool({ name: "ev__echo", arguments: { message: "hi" } })), /hi/);

      await client.callTool({ name: "fs__write_file", arguments: { path: `${dir}/note.txt`, content: "federated" } });
      assert.equal(await Deno.readTextFile(`${dir}/note.txt`), "federated");
      const read = await client.callTool({ name: "fs__read_text_file", arguments: { path: `${dir}/note.txt` } });
      assert.equal(textOf(read), "federated");

      await client.callTool({
        name: "mem__create_entities",
        arguments: { entities: [{ name: "Ada", entityType: "person", observations: ["wrote the first program"] }] },
      });
      const graph = await client.callTool({ name: "mem__read_graph", arguments: {} });
      assert.match(JSON.stringify(graph), /wrote the first program/);

      const progress: number[] = [];
      await client.callTool(
        { name: "ev__trigger-long-running-operation", arguments: { duration: 1, steps: 3 } },
        {
          onprogress: (p) => progress.push(p.progress),
        },
      );
      assert.deepEqual(progress, [1, 2, 3]);

      const elicited: string[] = [];
      client.setRequestHandler("elicitation/create", (request) => {
        elicited.push(request.params.message);
        return { action: "accept", content: { color: "red", number: 7, pets: "cats" } };
      });
      const elicitation = await client.callTool({ name: "ev__trigger-elicitation-request", arguments: {} });
      assert.equal(elicited.length, 1);
      assert.match(JSON.stringify(elicitation), /accept/);

      const prompts: unknown[] = [];
      client.setRequestHandler("sampling/createMessage", (request) => {
        prompts.push(request.params.messages[0]?.content);
        return { model: "test-model", role: "assistant", content: { type: "text", text: "sampled-by-client" } };
      });
      const sampling = await client.callTool({
        name: "ev__trigger-sampling-request",
        arguments: { prompt: "say hi", maxTokens: 10 },
      });
      assert.equal(prompts.length, 1);
      assert.match(JSON.stringify(prompts[0]), /say hi/);
      assert.match(JSON.stringify(sampling), /sampled-by-client/);
    } finally {
      await client.close();
    }
  } finally {
    await proxy.close();
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(processesWith(dir), [], "no filesystem server left");
});
