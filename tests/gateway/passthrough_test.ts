import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { GATEWAY_SECRET, SECRET, waitFor } from "../_support/members.ts";
import { connectClient, quiet, startDynamicMember, textOf } from "../_support/catalog_members.ts";
import { serveConformanceMember } from "../fixtures/conformance_member.ts";

async function conformanceFederation() {
  const member = await serveConformanceMember("fixtures", SECRET, quiet);
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer({
    serverId: "fixtures",
    endpoints: { control: member.controlUrl!, data: member.dataUrl! },
  });
  const gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  return {
    url: gateway.url,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await proxy.close();
      await member.close();
    },
  };
}

/** A dynamic member "d" behind a proxy and a gateway, closed in reverse order. */
async function dynamicFederation(era?: "modern" | "legacy") {
  const d = await startDynamicMember("d", era ? { era } : {});
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(d.member.config);
  const gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  return {
    d,
    proxy,
    gateway,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await proxy.close();
      await d[Symbol.asyncDispose]();
    },
  };
}

Deno.test("Progress crosses both hops with the client's progress token, and resets the client's timeout", async () => {
  await using federation = await dynamicFederation();
  const { gateway } = federation;
  const client = await connectClient(gateway.url);
  try {
    await client.listTools(); // the catalog is warm: the call's own time is what the timeout measures
    const progress: { progress: number; message?: string | undefined }[] = [];
    // Without progress resetting it, the 400 ms timeout would end this 1.2 s call.
    const result = await client.callTool({ name: "d__wait", arguments: { ms: 1_200 } }, {
      onprogress: (p) => progress.push(p),
      timeout: 400,
      resetTimeoutOnProgress: true,
    });
    assert.equal(textOf(result), "waited 1200");
    assert.ok(progress.length >= 5, `got ${progress.length} progress notifications`);
    assert.deepEqual(progress[0], { progress: 1, message: "step 1" });
    assert.ok(progress.every((p, i) => i === 0 || p.progress > progress[i - 1]!.progress));
  } finally {
    await client.close();
  }
});

Deno.test("Cancellation crosses both hops: aborting the client's call aborts the member's handler", async () => {
  await using federation = await dynamicFederation();
  const { d, proxy, gateway } = federation;
  const client = await connectClient(gateway.url);
  try {
    const controller = new AbortController();
    let started = false;
    const call = client.callTool({ name: "d__wait", arguments: { ms: 30_000 } }, {
      signal: controller.signal,
      onprogress: () => started = true,
    });
    await waitFor(() => started, 5_000, "the member's tool to start");
    controller.abort("user gave up");
    await assert.rejects(call);
    await waitFor(() => d.cancelled() === 1, 5_000, "the member's signal to abort");
    assert.equal(proxy.getServerStatus("d")?.inFlight, 0);
  } finally {
    await client.close();
  }
});

Deno.test("An elicitation from a member's tool reaches the client and its answer returns to the member", async () => {
  await using federation = await conformanceFederation();
  const client = await connectClient(federation.url, { capabilities: { elicitation: {} } });
  try {
    const seen: unknown[] = [];
    client.setRequestHandler("elicitation/create", (request) => {
      seen.push(request.params);
      return { action: "accept", content: { username: "ada", email: "ada@example.com" } };
    });
    const result = await client.callTool({
      name: "fixtures__test_elicitation",
      arguments: { message: "Who are you?" },
    });
    assert.equal(seen.length, 1);
    assert.equal((seen[0] as { message: string }).message, "Who are you?");
    assert.equal(
      textOf(result),
      'User response: action=accept, content={"username":"ada","email":"ada@example.com"}',
    );
  } finally {
    await client.close();
  }
});

Deno.test("A member's request goes to the client whose call is in progress on that member", async () => {
  await using federation = await conformanceFederation();
  const asked: string[] = [];
  const clients = await Promise.all(["first", "second"].map(async (name) => {
    const client = await connectClient(federation.url, { capabilities: { elicitation: {} }, name });
    client.setRequestHandler("elicitation/create", () => {
      asked.push(name);
      return { action: "decline" };
    });
    return client;
  }));
  try {
    // The first client is the most recently active one, but the second one makes the call.
    await clients[1]!.listTools();
    await clients[0]!.listTools();
    const result = await clients[1]!.callTool({ name: "fixtures__test_elicitation", arguments: { message: "?" } });
    assert.deepEqual(asked, ["second"]);
    assert.equal(textOf(result), "User response: action=decline, content={}");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

Deno.test("A member's roots/list reaches a client that declares roots", async () => {
  await using federation = await dynamicFederation();
  const { gateway } = federation;
  const client = await connectClient(gateway.url, { capabilities: { roots: { listChanged: true } } });
  try {
    client.setRequestHandler("roots/list", () => ({ roots: [{ uri: "file:///work", name: "work" }] }));
    assert.equal(textOf(await client.callTool({ name: "d__roots", arguments: {} })), "file:///work");
  } finally {
    await client.close();
  }
});

Deno.test("A member's sampling request fails clearly when no client supports sampling", async () => {
  await using federation = await conformanceFederation();
  const client = await connectClient(federation.url, { capabilities: {} });
  try {
    const error = await client.callTool({ name: "fixtures__test_sampling", arguments: { prompt: "hi" } }).catch((e) =>
      e
    );
    // The member (2026-07-28) is told this client's capabilities and refuses to ask it (-32021, which 2025-11-25 does
    // not have): the client gets the gateway's own refusal.
    assert.equal(error.code, -32601);
    assert.match(
      String(error.message),
      /No client of the federation gateway supports .*did not declare capability 'sampling'.*sampling\/createMessage/,
    );
  } finally {
    await client.close();
  }
  const capable = await connectClient(federation.url, { capabilities: { sampling: {} } });
  try {
    capable.setRequestHandler("sampling/createMessage", () => ({
      role: "assistant",
      content: { type: "text", text: "42" },
      model: "test-model",
    }));
    const result = await capable.callTool({ name: "fixtures__test_sampling", arguments: { prompt: "answer?" } });
    assert.equal(textOf(result), "LLM response: 42");
  } finally {
    await capable.close();
  }
});

Deno.test("A member's log messages reach the client during the call, filtered by the client's level", async () => {
  await using federation = await conformanceFederation();
  const client = await connectClient(federation.url);
  try {
    const messages: { level: string; logger?: string | undefined; data: unknown }[] = [];
    client.setNotificationHandler("notifications/message", (n) => void messages.push(n.params));
    await client.setLoggingLevel("info");
    await client.callTool({ name: "fixtures__test_tool_with_logging", arguments: {} });
    await waitFor(() => messages.length === 3, 2_000, "three log messages");
    assert.deepEqual(messages.map((m) => m.data), [
      "Tool execution started",
      "Tool processing data",
      "Tool execution completed",
    ]);
    assert.ok(messages.every((m) => m.logger === "fixtures" && m.level === "info"));
    await client.setLoggingLevel("error");
    await client.callTool({ name: "fixtures__test_tool_with_logging", arguments: {} });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(messages.length, 3, "info messages are filtered out at level error");
  } finally {
    await client.close();
  }
});

for (const era of ["modern", "legacy"] as const) {
  Deno.test(`Resource subscriptions cross the gateway (${era} member): updates arrive with the federated URI`, async () => {
    await using federation = await dynamicFederation(era);
    const { d, gateway } = federation;
    const client = await connectClient(gateway.url);
    try {
      const updates: string[] = [];
      client.setNotificationHandler("notifications/resources/updated", (n) => void updates.push(n.params.uri));
      await client.subscribeResource({ uri: "note://d" });
      // A 2025-11-25 member gets resources/subscribe; a 2026-07-28 one gets the URI in its listen stream's filter.
      if (era === "legacy") assert.equal(d.subscriptions.get("note://d"), 1);
      await client.callTool({ name: "d__touch", arguments: {} });
      await waitFor(() => updates.length === 1, 5_000, "resources/updated");
      assert.deepEqual(updates, ["note://d"]);
      await client.unsubscribeResource({ uri: "note://d" });
      if (era === "legacy") assert.equal(d.subscriptions.has("note://d"), false);
    } finally {
      await client.close();
    }
  });
}

Deno.test("Completions and prompts route to the member that owns the prompt", async () => {
  await using federation = await conformanceFederation();
  const client = await connectClient(federation.url);
  try {
    const completion = await client.complete({
      ref: { type: "ref/prompt", name: "fixtures__test_prompt_with_arguments" },
      argument: { name: "arg1", value: "par" },
    });
    assert.deepEqual(completion.completion.values, ["paris", "park", "party", "par"]);
    const prompt = await client.getPrompt({
      name: "fixtures__test_prompt_with_arguments",
      arguments: { arg1: "x", arg2: "y" },
    });
    assert.deepEqual(prompt.messages[0]?.content, { type: "text", text: "Prompt with arguments: arg1='x', arg2='y'" });
    const read = await client.readResource({ uri: "test://template/7/data" });
    assert.match(JSON.stringify(read.contents), /Data for ID: 7/);
  } finally {
    await client.close();
  }
});
