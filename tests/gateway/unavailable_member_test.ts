// A tool whose member is down answers with an `isError` result the model can read, in both protocol eras (issue 17
// §5); a resource or prompt of that member stays a JSON-RPC error, and so does an unknown tool.
import assert from "node:assert/strict";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { type Client, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { Client as SdkClient } from "../../packages/core/_sdk.ts";
import { GATEWAY_SECRET, SECRET, TestMember, waitFor } from "../_support/members.ts";
import { connectClient, gatewayToken, quiet, textOf } from "../_support/catalog_members.ts";
import { sleep } from "../../packages/core/_sleep.ts";

/** A 2026-07-28 client (no session) on the gateway. */
async function modernClient(url: string): Promise<Client> {
  const token = await gatewayToken();
  const client = new SdkClient({ name: "modern-client", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  assert.equal(client.getProtocolEra(), "modern");
  return client;
}

Deno.test("Gateway answers a call of a tool whose member is down with isError and a clear text, in both eras", async () => {
  const member = await TestMember.start("alpha");
  // No reconnection within the test: the member stays down.
  const backoff = { initialDelay: 60_000, maxDelay: 60_000, minDelay: 60_000, probeInterval: 0 };
  await using proxy = new FederationProxy(SECRET, { logger: quiet, backoff, heartbeatInterval: 100 });
  await proxy.registerServer(member.config);
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const legacy = await connectClient(gateway.url);
  const modern = await modernClient(gateway.url);
  try {
    for (const client of [legacy, modern]) {
      assert.equal(textOf(await client.callTool({ name: "alpha__echo", arguments: { text: "up" } })), "up");
    }
    await member.stop();
    await waitFor(() => proxy.getServerStatus("alpha")?.state === "reconnecting", 3_000, "reconnecting");
    const clients = [["2025-11-25", legacy], ["2026-07-28", modern]] as const;
    for (const [era, client] of clients) {
      // The member's tool may still be listed (the call then fails on the member) or have left the catalog.
      const result = await client.callTool({ name: "alpha__echo", arguments: { text: "down" } });
      assert.equal(result.isError, true, `${era}: ${JSON.stringify(result)}`);
      assert.match(textOf(result), /^Tool 'alpha__echo' is unavailable: .*'alpha'.*\[ERR_CONNECTION_\w+\]$/, era);
      // A resource of the member has no error form in its result: it stays a JSON-RPC error.
      await assert.rejects(client.readResource({ uri: "info://server" }), /alpha/, era);
      // A name no registered member owns is the client's mistake, not the tool's failure.
      await assert.rejects(client.callTool({ name: "nope__echo", arguments: {} }), /nope__echo/, era);
    }
    // Once the tool has left the catalog (only usable members are listed), its name still says which member is down.
    const listed = async () => (await legacy.listTools()).tools.some((tool) => tool.name === "alpha__echo");
    for (let i = 0; i < 100 && await listed(); i++) await sleep(20);
    assert.equal(await listed(), false, "the tool of a reconnecting member is not listed");
    for (const [era, client] of clients) {
      const result = await client.callTool({ name: "alpha__echo", arguments: { text: "down" } });
      assert.equal(result.isError, true, `${era}: ${JSON.stringify(result)}`);
      assert.match(
        textOf(result),
        /^Tool 'alpha__echo' is unavailable: server 'alpha' is reconnecting: .*\[ERR_CONNECTION_\w+\]$/,
        era,
      );
    }
  } finally {
    await legacy.close();
    await modern.close();
  }
});
