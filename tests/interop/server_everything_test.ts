import assert from "node:assert/strict";
import { connectClient, textOf } from "../_support/catalog_members.ts";
import { Federation } from "./_support.ts";
import { registerEverything, startEverything } from "../_support/everything.ts";

Deno.test("server-everything (streamableHttp) federates as a data-only member: its tools are called through the gateway", async () => {
  const everything = startEverything();
  await using _server = everything.process;
  await using federation = await Federation.start({ proxy: { connectTimeout: 2_000 } });
  const status = await registerEverything(federation.proxy, everything.url);
  assert.equal(status.state, "connected");
  assert.equal(status.serverInfo?.name, "mcp-servers/everything");
  const client = await connectClient(federation.gateway.url);
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const name of ["everything__echo", "everything__get-sum", "everything__trigger-long-running-operation"]) {
      assert.ok(names.includes(name), `${name} in ${names.join()}`);
    }
    assert.equal(
      textOf(await client.callTool({ name: "everything__echo", arguments: { message: "federated" } })),
      "Echo: federated",
    );
    assert.match(textOf(await client.callTool({ name: "everything__get-sum", arguments: { a: 2, b: 40 } })), /42/);
    const progress: number[] = [];
    const long = await client.callTool(
      { name: "everything__trigger-long-running-operation", arguments: { duration: 1, steps: 4 } },
      { onprogress: (p) => progress.push(p.progress) },
    );
    assert.match(textOf(long), /completed/i);
    assert.ok(progress.length >= 4, `progress through both hops: ${progress.join()}`);
    const resources = (await client.listResources()).resources;
    assert.ok(resources.length > 0, "its resources are listed too");
    const read = await client.readResource({ uri: resources[0]!.uri });
    assert.equal(read.contents[0]?.uri, resources[0]!.uri);
  } finally {
    await client.close();
  }
});
