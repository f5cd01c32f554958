import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { GATEWAY_SECRET } from "../_support/members.ts";
import { connectClient, gatewayToken, textOf } from "../_support/catalog_members.ts";
import { freePort } from "../_support/ports.ts";

const CLI = fromFileUrl(new URL("../../packages/gateway/cli.ts", import.meta.url));

Deno.test({
  name: "CLI --config claude_desktop_config.json federates three real stdio servers (everything, filesystem, memory)",
  async fn() {
    const dir = await Deno.makeTempDir();
    const shared = `${dir}/shared`;
    await Deno.mkdir(shared);
    const npm = (
      pkg: string,
      ...args: string[]
    ) => ["run", "-A", `npm:@modelcontextprotocol/${pkg}@2026.8.31`, ...args];
    const file = `${dir}/claude_desktop_config.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        mcpServers: {
          everything: { command: Deno.execPath(), args: npm("server-everything", "stdio") },
          filesystem: { command: Deno.execPath(), args: npm("server-filesystem", "${SHARED_DIR}") },
          memory: {
            command: Deno.execPath(),
            args: npm("server-memory"),
            env: { MEMORY_FILE_PATH: "${SHARED_DIR}/../memory.jsonl" },
          },
        },
      }),
    );
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "--config", file, "--port", String(port), "--log-level", "warn"],
      env: {
        RUST_BACKTRACE: "0",
        NO_COLOR: "1",
        HOME: Deno.env.get("HOME") ?? "/root",
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        MCP_GATEWAY_SECRET: GATEWAY_SECRET,
        SHARED_DIR: shared,
      },
      clearEnv: true,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let exited = false;
    try {
      const url = `http://127.0.0.1:${port}/mcp`;
      // Ready once every member is usable (the first run may download the three packages).
      const deadline = Date.now() + 120_000;
      let ready = "";
      while (true) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.text(), () => "");
        if (/"usable":3\b/.test(ready) || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.match(ready, /"usable":3\b/, "every member usable");
      const client = await connectClient(url, { token: await gatewayToken() });
      const names = (await client.listTools()).tools.map((t) => t.name);
      for (const name of ["everything__echo", "filesystem__list_allowed_directories", "memory__read_graph"]) {
        assert.ok(names.includes(name), `${name} in ${names.join()}`);
      }
      assert.match(textOf(await client.callTool({ name: "everything__echo", arguments: { message: "hop" } })), /hop/);
      // The everything server's progress crosses both hops (stdio → gateway → client).
      const progress: number[] = [];
      await client.callTool(
        { name: "everything__trigger-long-running-operation", arguments: { duration: 1, steps: 3 } },
        { onprogress: (p) => progress.push(p.progress) },
      );
      assert.deepEqual(progress, [1, 2, 3]);
      assert.match(
        textOf(await client.callTool({ name: "filesystem__list_allowed_directories", arguments: {} })),
        /shared/,
      );
      await client.callTool({
        name: "memory__create_entities",
        arguments: { entities: [{ name: "Ada", entityType: "person", observations: ["federated"] }] },
      });
      assert.match(textOf(await client.callTool({ name: "memory__read_graph", arguments: {} })), /Ada/);
      await client.close();
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
      exited = true;
    } finally {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* it has exited already */ }
        await child.status;
      }
      await stderr;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
