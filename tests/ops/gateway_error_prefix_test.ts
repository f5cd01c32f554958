// No doubled "MCP error -32603: MCP error -32603:" prefix on the wire (issue 17 §5): a gateway error reaches an SDK
// client with the gateway's own message once.
import assert from "node:assert/strict";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { connectClient, gatewayToken, quiet } from "../_support/catalog_members.ts";
import { GATEWAY_SECRET, SECRET, TestMember } from "../_support/members.ts";

const DOUBLED = /MCP error -?\d+:\s*MCP error/;

/** The text a client sees for a call: the thrown error's message, or an `isError` result's text. */
async function failureText(call: () => Promise<unknown>): Promise<string> {
  try {
    const result = await call() as { isError?: boolean; content?: { type: string; text?: string }[] };
    assert.equal(result.isError, true, `the call should fail: ${JSON.stringify(result)}`);
    return (result.content ?? []).map((c) => c.text ?? "").join("\n");
  } catch (error) {
    assert.ok(error instanceof Error);
    return error.message;
  }
}

Deno.test("Gateway errors reach the client without a doubled 'MCP error' prefix (member down, unknown tool)", async () => {
  const member = await TestMember.start("alpha");
  await using proxy = new FederationProxy(SECRET, { logger: quiet, backoff: { initialDelay: 5_000, maxDelay: 5_000 } });
  await proxy.registerServer(member.config);
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const client = await connectClient(gateway.url, { token: await gatewayToken() });
  try {
    await client.listTools();
    await member.stop();
    const down = await failureText(() => client.callTool({ name: "alpha__echo", arguments: { text: "x" } }));
    assert.match(down, /Cannot reach server 'alpha'/);
    assert.doesNotMatch(down, DOUBLED, down);
    const unknown = await failureText(() => client.callTool({ name: "nope__echo", arguments: {} }));
    assert.match(unknown, /No tool named 'nope__echo'/);
    assert.doesNotMatch(unknown, DOUBLED, unknown);
  } finally {
    await client.close();
  }
});
