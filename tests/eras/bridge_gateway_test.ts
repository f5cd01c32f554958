/**
 * A 2026-07-28 client calls a 2025-11-25 member that asks during the call (elicitation, sampling, roots): the
 * gateway answers the client with `input_required` rounds, parks the upstream call, and hands the client's
 * `inputResponses` to the member's pending requests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import type { GatewayHandle } from "../../packages/gateway/mod.ts";
import { Client, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { GATEWAY_SECRET, SECRET, waitFor } from "../_support/members.ts";
import { gatewayToken, quiet, textOf } from "../_support/catalog_members.ts";
import { callTool, request, type Round, roundOf } from "./bridge_support.ts";
import { type AskingMember, startAskingMember } from "../_support/asking_member.ts";

/** A proxy with the asking member and a gateway in front of it. */
async function federation(member: AskingMember, gatewayOptions: Record<string, unknown> = {}) {
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(member.config);
  assert.equal(proxy.getServerStatus("old")?.era, "legacy");
  const gateway: GatewayHandle = await serveGateway(proxy, {
    auth: { secret: GATEWAY_SECRET },
    port: 0,
    logger: quiet,
    ...gatewayOptions,
  });
  return {
    proxy,
    gateway,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await proxy.close();
    },
  };
}

Deno.test("A legacy member's elicitation reaches a 2026-07-28 client as input_required; the retry's answer completes the call", async () => {
  await using member = await startAskingMember("old");
  await using fed = await federation(member);
  const round = roundOf(await callTool(fed.gateway.url, "old__ask_name"));
  const entries = Object.entries(round.inputRequests);
  assert.equal(entries.length, 1);
  const [key, request] = entries[0]!;
  assert.equal(request.method, "elicitation/create");
  assert.equal(request.params.message, "Your name?");
  assert.ok(
    !JSON.stringify(request.params).includes("io.github.federated-mcp/"),
    "no reserved _meta reaches the client",
  );
  const done = await callTool(fed.gateway.url, "old__ask_name", {
    requestState: round.requestState,
    inputResponses: { [key]: { action: "accept", content: { value: "Ada" } } },
  });
  assert.equal(textOf(done.result), "Hello Ada");
});

Deno.test("Requests the member sends at once form one round; sequential ones form as many rounds", async () => {
  await using member = await startAskingMember("old");
  await using fed = await federation(member);
  const url = fed.gateway.url;
  const both = roundOf(await callTool(url, "old__two_at_once"));
  const messages = Object.values(both.inputRequests).map((request) => request.params.message).sort();
  assert.deepEqual(messages, ["Left?", "Right?"]);
  const answers = Object.fromEntries(
    Object.entries(both.inputRequests).map((
      [key, r],
    ) => [key, { action: "accept", content: { value: `${r.params.message}`.slice(0, 1) } }]),
  );
  const joined = await callTool(url, "old__two_at_once", { requestState: both.requestState, inputResponses: answers });
  assert.equal(textOf(joined.result), "L|R");

  const first = roundOf(await callTool(url, "old__two_rounds"));
  const [firstKey] = Object.keys(first.inputRequests);
  const second = roundOf(
    await callTool(url, "old__two_rounds", {
      requestState: first.requestState,
      inputResponses: { [firstKey!]: { action: "accept", content: { value: "a" } } },
    }),
  );
  const [secondKey, secondRequest] = Object.entries(second.inputRequests)[0]!;
  assert.notEqual(secondKey, firstKey);
  assert.equal(secondRequest.params.message, "Second?");
  assert.notEqual(second.requestState, first.requestState);
  const last = await callTool(url, "old__two_rounds", {
    requestState: second.requestState,
    inputResponses: { [secondKey]: { action: "accept", content: { value: "b" } } },
  });
  assert.equal(textOf(last.result), "a+b");
});

Deno.test("Sampling and roots of a legacy member are bridged; a request the client cannot answer is refused to the member", async () => {
  await using member = await startAskingMember("old");
  await using fed = await federation(member);
  const url = fed.gateway.url;
  const sampling = roundOf(await callTool(url, "old__sample"));
  const [sKey, sRequest] = Object.entries(sampling.inputRequests)[0]!;
  assert.equal(sRequest.method, "sampling/createMessage");
  const sampled = await callTool(url, "old__sample", {
    requestState: sampling.requestState,
    inputResponses: { [sKey]: { role: "assistant", content: { type: "text", text: "hi" }, model: "m" } },
  });
  assert.equal(textOf(sampled.result), "model said hi");

  const roots = roundOf(await callTool(url, "old__roots"));
  const [rKey, rRequest] = Object.entries(roots.inputRequests)[0]!;
  assert.equal(rRequest.method, "roots/list");
  const listed = await callTool(url, "old__roots", {
    requestState: roots.requestState,
    inputResponses: { [rKey]: { roots: [{ uri: "file:///a" }, { uri: "file:///b" }] } },
  });
  assert.equal(textOf(listed.result), "file:///a,file:///b");

  // A client that declared no sampling: the member's request is refused at once, the call fails on the member.
  const refused = await callTool(url, "old__sample", {}, { capabilities: { elicitation: {} } });
  assert.ok(refused.error || (refused.result as { isError?: boolean }).isError, JSON.stringify(refused));
  assert.match(member.stats.answers.at(-1)!, /error: .*sampling/);
});

Deno.test("A retry from another subject, or for another tool, is refused; the exchange stays for its own client", async () => {
  await using member = await startAskingMember("old");
  await using fed = await federation(member);
  const url = fed.gateway.url;
  const round = roundOf(await callTool(url, "old__ask_name", {}, { subject: "alice" }));
  const [key] = Object.keys(round.inputRequests);
  const answer = { [key!]: { action: "accept", content: { value: "Mallory" } } };
  const stolen = await callTool(url, "old__ask_name", { requestState: round.requestState, inputResponses: answer }, {
    subject: "mallory",
  });
  assert.equal((stolen.error as { code: number }).code, -32602);
  const misplaced = await callTool(
    url,
    "old__two_rounds",
    { requestState: round.requestState, inputResponses: answer },
    {
      subject: "alice",
    },
  );
  assert.equal((misplaced.error as { code: number }).code, -32602);
  const own = await callTool(url, "old__ask_name", {
    requestState: round.requestState,
    inputResponses: { [key!]: { action: "accept", content: { value: "Alice" } } },
  }, { subject: "alice" });
  assert.equal(textOf(own.result), "Hello Alice");
  // The exchange is over: its state does not open a second time.
  const again = await callTool(url, "old__ask_name", { requestState: round.requestState, inputResponses: answer }, {
    subject: "alice",
  });
  assert.equal((again.error as { code: number; data: { reason: string } }).code, -32000);
  assert.equal((again.error as { data: { reason: string } }).data.reason, "exchange_gone");
});

Deno.test("Parked exchanges are bounded per subject; a dropped one answers the member with an error and cancels the call", async () => {
  await using member = await startAskingMember("old");
  await using fed = await federation(member);
  const url = fed.gateway.url;
  const parked: Round[] = [];
  for (let i = 0; i < 16; i++) parked.push(roundOf(await callTool(url, "old__ask_forever", {}, { subject: "greedy" })));
  const over = await callTool(url, "old__ask_forever", {}, { subject: "greedy" });
  const error = over.error as { code: number; data: { reason: string } };
  assert.equal(error.code, -32000, JSON.stringify(over));
  assert.equal(error.data.reason, "exchange_limit");
  await waitFor(() => member.stats.cancelled >= 1, 5_000, "the refused call cancelled on the member");
  assert.ok(member.stats.answers.some((answer) => /error: .*Too many input exchanges/.test(answer)));
  // Another subject is not affected.
  const other = roundOf(await callTool(url, "old__ask_name", {}, { subject: "modest" }));
  assert.equal(Object.keys(other.inputRequests).length, 1);
  // Closing the gateway drops every parked exchange: each parked call is cancelled on the member.
  await fed.gateway.close();
  await waitFor(() => member.stats.cancelled >= 17, 10_000, "parked calls cancelled");
});

Deno.test("Two 2026-07-28 SDK clients at once answer their own rounds only", async () => {
  await using member = await startAskingMember("old");
  await using fed = await federation(member);
  const clients = await Promise.all(["ann", "bob"].map(async (name) => {
    const token = await gatewayToken(name);
    const client = new Client({ name, version: "1.0.0" }, {
      capabilities: { elicitation: {}, sampling: {}, roots: {} },
      versionNegotiation: { mode: "auto" },
    });
    const asked: string[] = [];
    client.setRequestHandler("elicitation/create", (request) => {
      asked.push(String(request.params.message));
      return { action: "accept", content: { value: `${name}${asked.length}` } };
    });
    client.setRequestHandler("roots/list", () => ({ roots: [{ uri: `file:///${name}` }] }));
    await client.connect(
      new StreamableHTTPClientTransport(new URL(fed.gateway.url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    assert.equal(client.getProtocolEra(), "modern");
    return { name, client, asked };
  }));
  try {
    const results = await Promise.all(clients.map(async ({ client }) => [
      textOf(await client.callTool({ name: "old__ask_name", arguments: {} })),
      textOf(await client.callTool({ name: "old__two_rounds", arguments: {} })),
      textOf(await client.callTool({ name: "old__roots", arguments: {} })),
    ]));
    assert.deepEqual(results, [["Hello ann1", "ann2+ann3", "file:///ann"], ["Hello bob1", "bob2+bob3", "file:///bob"]]);
    for (const { asked } of clients) assert.deepEqual(asked, ["Your name?", "First?", "Second?"]);
  } finally {
    for (const { client } of clients) await client.close();
  }
});

Deno.test("A legacy member's prompt and resource that ask are bridged the same way", async () => {
  await using member = await startAskingMember("old");
  await using fed = await federation(member);
  const url = fed.gateway.url;
  const prompt = roundOf(await request(url, "prompts/get", { name: "old__ask_prompt" }, "old__ask_prompt"));
  const [pKey, pRequest] = Object.entries(prompt.inputRequests)[0]!;
  assert.equal(pRequest.params.message, "Topic?");
  const got = await request(url, "prompts/get", {
    name: "old__ask_prompt",
    requestState: prompt.requestState,
    inputResponses: { [pKey]: { action: "accept", content: { value: "tides" } } },
  }, "old__ask_prompt");
  const messages = (got.result as { messages: { content: { text: string } }[] }).messages;
  assert.equal(messages[0]!.content.text, "Tell me about tides");

  const uri = (await fed.proxy.catalog.listResources()).find((r) => r.name.endsWith("asked"))!.uri;
  const read = roundOf(await request(url, "resources/read", { uri }, uri));
  const [rKey, rRequest] = Object.entries(read.inputRequests)[0]!;
  assert.equal(rRequest.method, "roots/list");
  // A state sealed for the resource does not continue the prompt.
  const crossed = await request(url, "prompts/get", {
    name: "old__ask_prompt",
    requestState: read.requestState,
    inputResponses: { [rKey]: { roots: [] } },
  }, "old__ask_prompt");
  assert.equal((crossed.error as { code: number }).code, -32602);
  const done = await request(url, "resources/read", {
    uri,
    requestState: read.requestState,
    inputResponses: { [rKey]: { roots: [{ uri: "file:///r" }] } },
  }, uri);
  assert.equal((done.result as { contents: { text: string }[] }).contents[0]!.text, "file:///r");
});
