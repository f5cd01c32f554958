// A 2026-07-28 call through the gateway resolves its tool from the last listing: a data-only 2026-07-28 member
// (whose list is followed by its cache hint, 0 ms by default) is not asked for its `tools/list` on every call, only
// when the gateway meets a name it has not listed yet. Counted by an HTTP relay in front of the member's data port
// (each 2026-07-28 request names its method in the `Mcp-Method` header).
import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { Client, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { quiet } from "../_support/catalog_members.ts";
import { SECRET, TestMember } from "../_support/members.ts";

Deno.test("Gateway makes 2026-07-28 calls to a data-only 2026-07-28 member without listing its tools each time", async () => {
  await using member = await TestMember.start("a", { control: false, era: "modern" });
  const methods = new Map<string, number>();
  const target = member.handle.dataUrl!;
  await using relay = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const method = request.headers.get("mcp-method") ?? request.method;
    methods.set(method, (methods.get(method) ?? 0) + 1);
    const body = request.method === "POST" ? await request.arrayBuffer() : undefined;
    const answer = await fetch(target, { method: request.method, headers: request.headers, body: body ?? null });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  });
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer({ ...member.config, endpoints: { data: `http://127.0.0.1:${relay.addr.port}/mcp` } });
  await using gateway = await serveGateway(proxy, { auth: false, port: 0, logger: quiet });
  const client = new Client({ name: "t", version: "1" }, { versionNegotiation: { mode: "auto" } });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
  try {
    assert.equal(client.getProtocolEra(), "modern");
    methods.clear();
    for (let i = 0; i < 20; i++) {
      const result = await client.callTool({ name: "a__echo", arguments: { text: `${i}` } });
      assert.deepEqual(result.content, [{ type: "text", text: `${i}` }]);
    }
    assert.equal(methods.get("tools/call"), 20);
    assert.ok((methods.get("tools/list") ?? 0) <= 1, `tools/list sent ${methods.get("tools/list")} times`);
    // A name never listed lists the member again (it may be new), and is refused as unknown.
    const unknown = await client.callTool({ name: "a__nope", arguments: {} }).catch((error) => error);
    assert.ok((methods.get("tools/list") ?? 0) >= 1);
    assert.ok(unknown instanceof Error || unknown.isError === true);
  } finally {
    await client.close();
  }
});
