import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { GATEWAY_SECRET, SECRET } from "../_support/members.ts";
import { connectClient, quiet, textOf } from "../_support/catalog_members.ts";
import { startModernMember } from "../fixtures/modern_member.ts";

Deno.test("A 2025-11-25 gateway client answers a 2026-07-28 member's input rounds on its session, and only its own", async () => {
  await using member = await startModernMember({ serverId: "m", secret: SECRET });
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer({ serverId: "m", endpoints: { data: member.url }, auth: { type: "jwt", config: {} } });
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const clients = await Promise.all(["ann", "bob"].map(async (name) => {
    const client = await connectClient(gateway.url, { capabilities: { elicitation: {} }, name });
    const asked: string[] = [];
    client.setRequestHandler("elicitation/create", (request) => {
      asked.push(request.params.message);
      return { action: "accept", content: { name, value: `${name}${asked.length}` } };
    });
    return { name, client, asked };
  }));
  try {
    const results = await Promise.all(clients.map(async ({ client }) => [
      textOf(await client.callTool({ name: "m__ask_name", arguments: {} })),
      textOf(await client.callTool({ name: "m__two_rounds", arguments: {} })),
    ]));
    assert.deepEqual(results, [["Hello ann", "ann2+ann3"], ["Hello bob", "bob2+bob3"]]);
    for (const { asked } of clients) assert.deepEqual(asked, ["Your name?", "First?", "Second?"]);
  } finally {
    for (const { client } of clients) await client.close();
  }
});
