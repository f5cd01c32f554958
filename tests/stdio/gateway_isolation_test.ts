// One stdio process serves every client of a gateway, and nothing leaks between them: each client gets its own
// results (the SDK client renumbers requests on the process), a server-to-client request made during the only call
// in flight reaches that call's client alone, and one made while two calls are in flight reaches no one.
import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { parseGatewayConfig, serveGateway } from "../../packages/gateway/mod.ts";
import { ConfigError } from "../../packages/core/errors.ts";
import { GATEWAY_SECRET, SECRET } from "../_support/members.ts";
import { connectClient, quiet, textOf } from "../_support/catalog_members.ts";
import { fixtureConfig, fixtureEndpoint, newMarker, processesWith } from "./_support.ts";

Deno.test("One stdio process serves two gateway clients without mixing their calls or their requests", async () => {
  const marker = newMarker("clients");
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(fixtureConfig("fx", marker));
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const asked: string[] = [];
  const clients = await Promise.all(["alice", "bob"].map(async (name) => {
    const client = await connectClient(gateway.url, { capabilities: { elicitation: {} }, name });
    client.setRequestHandler("elicitation/create", (request) => {
      asked.push(`${name}:${request.params.message}`);
      return { action: "accept", content: {} };
    });
    return client;
  }));
  const [alice, bob] = clients as [typeof clients[0], typeof clients[0]];
  try {
    // Concurrent calls of both clients: each gets its own answers.
    const calls = Array.from({ length: 20 }, (_, i) => {
      const [client, who] = i % 2 === 0 ? [alice, "alice"] : [bob, "bob"];
      return client.callTool({ name: "fx__echo", arguments: { text: `${who}-${i}` } }).then(textOf);
    });
    const texts = await Promise.all(calls);
    texts.forEach((text, i) => assert.equal(text, `${i % 2 === 0 ? "alice" : "bob"}-${i}`));
    assert.equal(processesWith(marker).length, 1, "one process for both clients");

    // Alone on the process: bob's call's elicitation reaches bob only.
    assert.equal(textOf(await bob.callTool({ name: "fx__ask", arguments: { question: "bob?" } })), "accept");
    assert.deepEqual(asked, ["bob:bob?"]);

    // Alice's slow call is in flight: bob's elicitation cannot be told apart, so it is refused and nobody is asked.
    const slow = alice.callTool({ name: "fx__slow", arguments: { steps: 1, ms: 1_000 } });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const refused = await bob.callTool({ name: "fx__ask", arguments: { question: "whose?" } });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /cannot be established/);
    assert.equal(textOf(await slow), "done");
    assert.deepEqual(asked, ["bob:bob?"]);

    // A member like any other in the gateway's metrics.
    const body = await (await fetch(gateway.url.replace(/\/mcp$/, "/metrics"))).text();
    assert.match(body, /^federation_member_up\{server_id="fx"\} 1$/m);
    assert.match(body, /^federation_requests_total\{server_id="fx",method="tools\/call",outcome="ok"\} 2[0-9]$/m);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
});

Deno.test("parseGatewayConfig() accepts stdio members without a proxy secret and checks their envFrom", () => {
  const endpoint = fixtureEndpoint("unused", "stdio_tiny");
  const env = (name: string) => ({ GH_TOKEN: "x".repeat(40) } as Record<string, string>)[name];
  const config = parseGatewayConfig(
    {
      gateway: { port: 0, auth: false },
      proxy: { maxStdioMembers: 4 },
      members: [{ serverId: "gh", endpoints: { stdio: { ...endpoint, envFrom: { GITHUB_TOKEN: "GH_TOKEN" } } } }],
    },
    "federation.json",
    { env },
  );
  assert.equal(config.members[0]?.endpoints.stdio?.command, Deno.execPath());
  assert.equal(config.proxy.maxStdioMembers, 4);

  const cases: [unknown, string][] = [
    [
      { stdio: { ...endpoint, envFrom: { GITHUB_TOKEN: "UNSET_VAR" } } },
      "members[0].endpoints.stdio.envFrom.GITHUB_TOKEN",
    ],
    [{ stdio: { ...endpoint, env: { GITHUB_TOKEN: "ghp_x" } } }, "members[0].endpoints.stdio.env.GITHUB_TOKEN"],
    [{ stdio: { args: [] } }, "members[0].endpoints.stdio.command"],
    [{ stdio: { ...endpoint, shell: true } }, "members[0].endpoints.stdio.shell"],
  ];
  for (const [endpoints, field] of cases) {
    try {
      parseGatewayConfig({ gateway: { port: 0, auth: false }, members: [{ serverId: "gh", endpoints }] }, "f.json", {
        env,
      });
      assert.fail(`accepted ${JSON.stringify(endpoints)}`);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.field, field);
      assert.match(error.message, /f\.json/);
      assert.doesNotMatch(error.message, /ghp_x/);
    }
  }
});
