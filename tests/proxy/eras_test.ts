import assert from "node:assert/strict";
import { AuthenticationError, ConnectionError, FederationProxy, ProtocolError } from "../../mod.ts";
import { isInputRequiredResult } from "../../packages/core/_sdk.ts";
import { GATEWAY_SECRET, SECRET, TestMember } from "../_support/members.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { quiet } from "../_support/catalog_members.ts";
import { type ModernMember, startModernMember } from "../fixtures/modern_member.ts";
import { fixtureConfig, newMarker } from "../stdio/_support.ts";

/** A proxy that speaks 2026-07-28 first (the specification's modern-first negotiation). */
function newProxy(): FederationProxy {
  return new FederationProxy(SECRET, { logger: quiet, heartbeatInterval: 60_000, eraPreference: "modern" });
}

function modernConfig(member: ModernMember, serverId = "modern") {
  return { serverId, endpoints: { data: member.url }, auth: { type: "jwt" as const, config: {} } };
}

function text(result: { content?: unknown }): string {
  const content = result.content as { type: string; text?: string }[];
  return content.map((c) => c.text ?? "").join("");
}

Deno.test("FederationProxy detects each member's era: a legacy and a modern member in one proxy", async () => {
  await using legacy = await startModernMember({ serverId: "legacy", secret: SECRET, era: "legacy" });
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  const eras: string[] = [];
  proxy.addEventListener("connected", (event) => eras.push(`${event.serverId}:${event.era}`));
  const a = await proxy.registerServer(modernConfig(legacy, "legacy"));
  const b = await proxy.registerServer(modernConfig(modern));
  assert.equal(a.era, "legacy");
  assert.equal(b.era, "modern");
  assert.deepEqual(eras.sort(), ["legacy:legacy", "modern:modern"]);
  assert.equal(proxy.getServerInstructions("modern"), "Instructions of modern");
  assert.ok(proxy.getServerCapabilities("modern")?.tools);
  // Calls of every kind behave the same.
  for (const id of ["legacy", "modern"]) {
    const tools = await proxy.listTools(id);
    assert.ok(tools.some((t) => t.name === "echo"), id);
    assert.equal(text(await proxy.callTool(id, "echo", { text: "hi" })), "hi");
    assert.ok((await proxy.ping(id)) >= 0);
  }
  const prompt = await proxy.getPrompt("modern", "greet", { who: "Ann" });
  assert.equal((prompt.messages[0]?.content as { text: string }).text, "Hello Ann");
  const read = await proxy.readResource("modern", "test://static");
  assert.equal((read.contents[0] as { text: string }).text, "static text");
});

Deno.test("FederationProxy registers a data-only modern member without opening any standing stream", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  await proxy.callTool("modern", "echo", { text: "x" });
  await proxy.listTools("modern");
  assert.equal(modern.requests.filter((r) => r.http === "GET").length, 0);
  assert.equal(modern.requests.filter((r) => r.method === "subscriptions/listen").length, 0);
  assert.equal(modern.openStreams(), 0);
  assert.ok(modern.requests.every((r) => r.method !== "initialize"));
});

Deno.test("FederationProxy: a modern member's input_required is returned with allowInputRequired, and a retry completes", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  const round = await proxy.callTool("modern", "ask_name", {}, { allowInputRequired: true });
  assert.ok(isInputRequiredResult(round));
  const requests = (round as unknown as { inputRequests: Record<string, { method: string }> }).inputRequests;
  assert.equal(requests.name?.method, "elicitation/create");
  const done = await proxy.callTool("modern", "ask_name", {}, {
    inputResponses: { name: { action: "accept", content: { name: "Bo" } } },
    requestState: (round as unknown as { requestState: string }).requestState,
  });
  assert.equal(text(done), "Hello Bo");
});

Deno.test("FederationProxy fulfils a modern member's input rounds through the call's onrequest", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  const seen: string[] = [];
  const result = await proxy.callTool("modern", "two_rounds", {}, {
    onrequest: (request) => {
      seen.push(`${request.method}:${(request.params as { message: string }).message}`);
      return Promise.resolve({ action: "accept", content: { value: String(seen.length) } });
    },
  });
  assert.equal(text(result), "1+2");
  assert.deepEqual(seen, ["elicitation/create:First?", "elicitation/create:Second?"]);
  const sampled = await proxy.callTool("modern", "sample", { prompt: "hi" }, {
    onrequest: () => Promise.resolve({ role: "assistant", content: { type: "text", text: "ok" }, model: "m" }),
  });
  assert.equal(text(sampled), "Model said: ok");
  const roots = await proxy.callTool("modern", "roots", {}, {
    onrequest: () => Promise.resolve({ roots: [{ uri: "file:///a" }] }),
  });
  assert.equal(text(roots), "file:///a");
  // No handler at all: a typed error with the missing capability.
  await assert.rejects(
    proxy.callTool("modern", "roots", {}),
    (e) => e instanceof ProtocolError && e.rpcCode === -32021,
  );
});

Deno.test("FederationProxy sends a modern member the caller's envelope given in meta, never its protocol version", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  const result = await proxy.callTool("modern", "whoami", {}, {
    meta: {
      "io.modelcontextprotocol/clientInfo": { name: "downstream", version: "7" },
      "io.modelcontextprotocol/clientCapabilities": { elicitation: {} },
      "io.modelcontextprotocol/protocolVersion": "1999-01-01",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    },
  });
  const { envelope } = JSON.parse(text(result)) as { envelope: Record<string, unknown> };
  assert.deepEqual(envelope["io.modelcontextprotocol/clientInfo"], { name: "downstream", version: "7" });
  assert.deepEqual(envelope["io.modelcontextprotocol/clientCapabilities"], { elicitation: {} });
  assert.equal(envelope["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
  assert.equal(modern.lastMeta()?.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
});

Deno.test("FederationProxy tells a modern member no client capabilities when nobody behind a call can answer it", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  const capabilitiesOf = async (options: Parameters<FederationProxy["callTool"]>[3] = {}) => {
    const { envelope } = JSON.parse(text(await proxy.callTool("modern", "whoami", {}, options))) as {
      envelope: Record<string, unknown>;
    };
    return envelope["io.modelcontextprotocol/clientCapabilities"];
  };
  // No handler, no input_required taken by the caller: no input request of the member could be answered.
  assert.deepEqual(await capabilitiesOf(), {});
  // A handler (the call's or the proxy's), or a caller that takes input_required results, may answer any.
  const declared = { sampling: { tools: {} }, elicitation: { form: {}, url: {} }, roots: { listChanged: true } };
  assert.deepEqual(await capabilitiesOf({ onrequest: () => Promise.resolve({}) }), declared);
  assert.deepEqual(await capabilitiesOf({ allowInputRequired: true }), declared);
  proxy.onServerRequest = () => Promise.resolve({});
  assert.deepEqual(await capabilitiesOf(), declared);
});

Deno.test("FederationProxy serving a gateway states no client capabilities for its own calls nobody can answer", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  // The gateway takes over onServerRequest with a handler that refuses whatever belongs to no client's call.
  await using _gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const { envelope } = JSON.parse(text(await proxy.callTool("modern", "whoami", {}))) as {
    envelope: Record<string, unknown>;
  };
  assert.deepEqual(envelope["io.modelcontextprotocol/clientCapabilities"], {});
  // A tool that needs input fails as needing a capability nobody stated (the member's own -32021), not with the
  // gateway's refusal of a request that belongs to no client's call.
  await assert.rejects(
    proxy.callTool("modern", "ask_name", {}),
    (e) => e instanceof ProtocolError && e.rpcCode === -32021 && !/belongs to no client/.test(e.message),
  );
  // The call's own handler still answers.
  const greeted = await proxy.callTool("modern", "ask_name", {}, {
    onrequest: () => Promise.resolve({ action: "accept", content: { name: "Bo" } }),
  });
  assert.equal(text(greeted), "Hello Bo");
});

Deno.test("FederationProxy mirrors a modern member's x-mcp-header arguments into Mcp-Param headers", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  await proxy.listTools("modern");
  assert.equal(text(await proxy.callTool("modern", "region", { region: "eu-west" })), "eu-west");
  const call = modern.requests.findLast((r) => r.method === "tools/call");
  assert.equal(call?.params["mcp-param-region"], "eu-west");
});

Deno.test("FederationProxy mirrors x-mcp-header arguments of a tool it has not listed yet (no definition at hand)", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  // No listing before the call: the proxy has no definition of `region`; the call finds its headers all the same.
  assert.equal(text(await proxy.callTool("modern", "region", { region: "eu-west" })), "eu-west");
  const call = modern.requests.findLast((r) => r.method === "tools/call");
  assert.equal(call?.params["mcp-param-region"], "eu-west");
});

Deno.test("FederatedCatalog.cacheHint() merges members' hints: the smallest ttl, private wins", async () => {
  await using a = await startModernMember({
    serverId: "a",
    secret: SECRET,
    cacheHints: { tools: { ttlMs: 60_000, cacheScope: "public" }, prompts: { ttlMs: 5_000, cacheScope: "public" } },
  });
  await using b = await startModernMember({
    serverId: "b",
    secret: SECRET,
    cacheHints: { tools: { ttlMs: 30_000, cacheScope: "public" }, prompts: { ttlMs: 9_000, cacheScope: "private" } },
  });
  await using proxy = newProxy();
  assert.deepEqual(proxy.catalog.cacheHint("tools"), { ttlMs: 0, cacheScope: "private" });
  await proxy.registerServer(modernConfig(a, "a"));
  await proxy.registerServer(modernConfig(b, "b"));
  await proxy.catalog.listTools();
  await proxy.catalog.listPrompts();
  assert.deepEqual(proxy.catalog.cacheHint("tools"), { ttlMs: 30_000, cacheScope: "public" });
  assert.deepEqual(proxy.catalog.cacheHint("prompts"), { ttlMs: 5_000, cacheScope: "private" });
  // A legacy member gives no hint: it counts as 0/private.
  await using legacy = await startModernMember({ serverId: "legacy", secret: SECRET, era: "legacy" });
  await proxy.registerServer(modernConfig(legacy, "legacy"));
  await proxy.catalog.listTools();
  assert.deepEqual(proxy.catalog.cacheHint("tools"), { ttlMs: 0, cacheScope: "private" });
});

Deno.test("FederationProxy: two concurrent callers each answer only their own input rounds", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  const asked = { a: 0, b: 0 };
  const call = (who: "a" | "b") =>
    proxy.callTool("modern", "two_rounds", {}, {
      onrequest: async () => {
        asked[who]++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { action: "accept", content: { value: `${who}${asked[who]}` } };
      },
    });
  const [a, b] = await Promise.all([call("a"), call("b")]);
  assert.equal(text(a), "a1+a2");
  assert.equal(text(b), "b1+b2");
  assert.deepEqual(asked, { a: 2, b: 2 });
});

Deno.test("FederationProxy picks up a member restarted as the other era", async () => {
  let member = await startModernMember({ serverId: "m", secret: SECRET });
  const port = member.port;
  await using proxy = new FederationProxy(SECRET, {
    logger: quiet,
    eraPreference: "modern",
    heartbeatInterval: 50,
    heartbeatTimeout: 500,
    backoff: { initialDelay: 20, maxDelay: 50 },
  });
  try {
    assert.equal((await proxy.registerServer(modernConfig(member, "m"))).era, "modern");
    const connected = (era: string) =>
      new Promise<void>((resolve) => {
        const listener = (event: { era?: string | undefined }) => {
          if (event.era !== era) return;
          proxy.removeEventListener("connected", listener);
          resolve();
        };
        proxy.addEventListener("connected", listener);
      });
    let next = connected("legacy");
    await member.close();
    member = await startModernMember({ serverId: "m", secret: SECRET, era: "legacy", port });
    await next;
    assert.equal(proxy.getServerStatus("m")?.era, "legacy");
    assert.equal(text(await proxy.callTool("m", "echo", { text: "old" })), "old");
    next = connected("modern");
    await member.close();
    member = await startModernMember({ serverId: "m", secret: SECRET, port });
    await next;
    assert.equal(proxy.getServerStatus("m")?.era, "modern");
    assert.equal(text(await proxy.callTool("m", "echo", { text: "new" })), "new");
  } finally {
    await member.close();
  }
});

Deno.test("FederatedCatalog follows a data-only modern member's resource through a listen stream open only while subscribed", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  await proxy.catalog.listResources();
  const updated: string[] = [];
  proxy.catalog.addEventListener("resourceUpdated", (event) => updated.push(event.uri));
  await proxy.catalog.subscribe("test://static");
  assert.equal(modern.openStreams(), 1);
  const listen = modern.requests.filter((r) => r.method === "subscriptions/listen");
  assert.equal(listen.length, 1);
  modern.resourceUpdated("test://static");
  for (let i = 0; i < 100 && updated.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(updated, ["test://static"]);
  await proxy.catalog.unsubscribe("test://static");
  for (let i = 0; i < 100 && modern.openStreams() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(modern.openStreams(), 0);
});

Deno.test("FederatedCatalog refreshes a data-only modern member's list when its cache hint expires", async () => {
  let now = 0;
  await using modern = await startModernMember({
    serverId: "modern",
    secret: SECRET,
    cacheHints: { tools: { ttlMs: 1_000, cacheScope: "public" } },
  });
  await using proxy = new FederationProxy(SECRET, {
    logger: quiet,
    heartbeatInterval: 60_000,
    eraPreference: "modern",
    catalog: { now: () => now },
  });
  await proxy.registerServer(modernConfig(modern));
  const listed = () => modern.requests.filter((r) => r.method === "tools/list").length;
  assert.ok(!(await proxy.catalog.listTools()).some((t) => t.name === "modern__later"));
  const before = listed();
  await proxy.catalog.listTools();
  assert.equal(listed(), before, "fresh: served from the catalog");
  modern.addTool("later");
  now += 1_001;
  assert.ok((await proxy.catalog.listTools()).some((t) => t.name === "modern__later"));
  assert.equal(listed(), before + 1);
  // A call on a name the catalog does not know yet refreshes the list at once.
  modern.addTool("sooner");
  assert.equal(text(await proxy.catalog.callTool("modern__sooner", {})), "sooner");
});

Deno.test("FederationProxy: a modern member's error answer is a ProtocolError and leaves the channel up", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  await assert.rejects(
    proxy.complete("modern", { ref: { type: "ref/prompt", name: "greet" }, argument: { name: "who", value: "A" } }),
    (e) => e instanceof ProtocolError && e.rpcCode === -32601,
  );
  await assert.rejects(
    proxy.callTool("modern", "nope", {}),
    (e) => e instanceof ProtocolError && e.rpcCode === -32602,
  );
  assert.equal(proxy.getServerStatus("modern")?.channels.data?.state, "up");
  // The level asked of a modern member travels in each request's _meta (it has no logging/setLevel).
  await proxy.setLoggingLevel("modern", "debug");
  await proxy.callTool("modern", "echo", { text: "x" });
  assert.equal(modern.lastMeta()?.["io.modelcontextprotocol/logLevel"], "debug");
});

Deno.test("FederationProxy speaks a modern member's era on both channels: one probe, a listen stream on control", async () => {
  await using modern = await startModernMember({ serverId: "both", secret: SECRET, control: true });
  await using proxy = newProxy();
  const status = await proxy.registerServer({
    serverId: "both",
    endpoints: { control: modern.controlUrl!, data: modern.url },
    auth: { type: "jwt", config: {} },
  });
  assert.equal(status.era, "modern");
  assert.equal(status.channels.control?.state, "up");
  assert.equal(status.channels.data?.state, "up");
  // The control channel probed (one server/discover); the data channel adopted its verdict and made no MCP request
  // at registration (issue 18: its endpoint was verified by one authenticated notification, nothing more).
  assert.deepEqual(modern.controlMethods.filter((m) => m === "server/discover").length, 1);
  assert.deepEqual(modern.requests.filter((r) => r.method === "server/discover").length, 0);
  assert.ok(!modern.controlMethods.includes("initialize"));
  assert.ok(!modern.requests.some((r) => r.method === "initialize"));
  for (const channel of ["control", "data"] as const) {
    assert.equal(text(await proxy.callTool("both", "echo", { text: channel }, { channel })), channel);
  }
  // List changes come on the control channel's listen stream.
  for (let i = 0; i < 100 && !modern.controlMethods.includes("subscriptions/listen"); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(modern.controlMethods.includes("subscriptions/listen"));
  assert.equal(modern.requests.filter((r) => r.http === "GET" || r.method === "subscriptions/listen").length, 0);
  assert.ok(!(await proxy.catalog.listTools()).some((t) => t.name === "both__added"));
  const changed = new Promise<void>((resolve) => proxy.catalog.addEventListener("toolsChanged", () => resolve()));
  modern.addTool("added");
  await changed;
  assert.ok((await proxy.catalog.listTools()).some((t) => t.name === "both__added"));
});

Deno.test("FederationProxy's era probe: a refused token is an AuthenticationError, an HTTP 5xx a ConnectionError", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: "another-secret-of-at-least-32-bytes!!" });
  await using proxy = newProxy();
  await assert.rejects(
    proxy.registerServer(modernConfig(modern)),
    (e) => e instanceof AuthenticationError && e.code === "ERR_AUTH_REJECTED",
  );
  await using failing = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("down", { status: 503 }),
  );
  await assert.rejects(
    proxy.registerServer({
      serverId: "failing",
      endpoints: { data: `http://127.0.0.1:${failing.addr.port}/mcp` },
      auth: { type: "jwt", config: {} },
    }),
    (e) => e instanceof ConnectionError,
  );
  assert.deepEqual(proxy.getStatus(), []);
});

Deno.test("FederatedCatalog returns a modern member's input_required round as it is with allowInputRequired", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  const round = await proxy.catalog.callTool("modern__ask_name", {}, { allowInputRequired: true });
  assert.ok(isInputRequiredResult(round));
  const done = await proxy.catalog.callTool("modern__ask_name", {}, {
    inputResponses: { name: { action: "accept", content: { name: "Cy" } } },
    requestState: (round as unknown as { requestState: string }).requestState,
  });
  assert.equal(text(done), "Hello Cy");
  const answered = await proxy.catalog.callTool("modern__ask_name", {}, {
    onrequest: () => Promise.resolve({ action: "accept", content: { name: "Di" } }),
  });
  assert.equal(text(answered), "Hello Di");
});

Deno.test("FederationProxy reports a stdio member in the legacy era", async () => {
  await using proxy = newProxy();
  const status = await proxy.registerServer(fixtureConfig("local", newMarker("era"), "stdio_tiny"));
  assert.equal(status.era, "legacy");
  assert.equal(status.channels.stdio?.state, "up");
});

Deno.test("FederatedCatalog.readResource() keeps a modern member's own ttlMs and cacheScope on the result", async () => {
  await using modern = await startModernMember({
    serverId: "modern",
    secret: SECRET,
    cacheHints: { read: { ttlMs: 7_000, cacheScope: "public" } },
  });
  await using proxy = newProxy();
  await proxy.registerServer(modernConfig(modern));
  const read = await proxy.catalog.readResource("test://static") as unknown as Record<string, unknown>;
  assert.equal(read.ttlMs, 7_000);
  assert.equal(read.cacheScope, "public");
  // Fresh every time: the SDK client's own response cache is bypassed.
  await proxy.catalog.readResource("test://static");
  assert.equal(modern.requests.filter((r) => r.method === "resources/read").length, 2);
});

Deno.test('FederationProxy\'s era preference "legacy": a dual-era member in 2025-11-25, a 2026-07-28-only one in 2026-07-28', async () => {
  await using dual = await TestMember.start("dual");
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET, control: true });
  await using proxy = new FederationProxy(SECRET, {
    logger: quiet,
    heartbeatInterval: 60_000,
    eraPreference: "legacy",
  });
  assert.equal((await proxy.registerServer(dual.config)).era, "legacy");
  // The data channel's session opens on first use (issue 18).
  assert.deepEqual(dual.handle.sessionCount(), { control: 1, data: 0 });
  const status = await proxy.registerServer({
    serverId: "modern",
    endpoints: { control: modern.controlUrl!, data: modern.url },
    auth: { type: "jwt", config: {} },
  });
  assert.equal(status.era, "modern");
  assert.equal(status.channels.control?.state, "up");
  assert.equal(status.channels.data?.state, "up");
  assert.equal(text(await proxy.callTool("modern", "echo", { text: "m" }, { channel: "control" })), "m");
  assert.equal(text(await proxy.callTool("modern", "echo", { text: "d" }, { channel: "data" })), "d");
});

/**
 * A front between the proxy and a member's data endpoint at `url` that, while `malformed()`, puts an item without its
 * required fields first into the list of every `tools/call`, `prompts/get` and `resources/read` result.
 */
function corruptingFront(url: string, malformed: () => boolean) {
  const corrupt: Record<string, [string, string]> = {
    '"tools/call"': ['"content":[', '"content":[{"kind":"no type"},'],
    '"prompts/get"': ['"messages":[', '"messages":[{"role":"nobody"},'],
    '"resources/read"': ['"contents":[', '"contents":[{"text":"no uri"},'],
  };
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = req.method === "POST" ? await req.text() : undefined;
    const answer = await fetch(url, { method: req.method, headers: req.headers, ...(body ? { body } : {}) });
    const method = Object.keys(corrupt).find((name) => body?.includes(name));
    if (!malformed() || method === undefined) return answer;
    const [from, to] = corrupt[method]!;
    const text = (await answer.text()).replace(from, to);
    return new Response(text, { status: answer.status, headers: answer.headers });
  });
}

const refusedAs = (method: string) => (e: unknown) =>
  e instanceof ProtocolError && e.message.includes(`Invalid result for ${method}`);

Deno.test("FederationProxy refuses a 2026-07-28 member's malformed tools/call, prompts/get and resources/read results, and the member stays usable", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET });
  let malformed = true;
  await using front = corruptingFront(modern.url, () => malformed);
  await using proxy = newProxy();
  await proxy.registerServer({ ...modernConfig(modern), endpoints: { data: `http://127.0.0.1:${front.addr.port}/` } });
  // Before the tool is listed (the SDK's callTool), and after (the plain request, with the result as decoded).
  await assert.rejects(proxy.callTool("modern", "echo", { text: "x" }), refusedAs("tools/call"));
  await proxy.catalog.listTools();
  await assert.rejects(proxy.callTool("modern", "echo", { text: "x" }), refusedAs("tools/call"));
  await assert.rejects(proxy.getPrompt("modern", "greet", { who: "x" }), refusedAs("prompts/get"));
  await assert.rejects(proxy.readResource("modern", "test://static"), refusedAs("resources/read"));
  malformed = false;
  assert.equal(text(await proxy.callTool("modern", "echo", { text: "x" })), "x");
  assert.equal((await proxy.getPrompt("modern", "greet", { who: "x" })).messages.length, 1);
  assert.equal((await proxy.readResource("modern", "test://static")).contents.length, 1);
});

Deno.test("FederationProxy refuses a 2026-07-28 member's malformed tools/call result over the WebSocket, listed or not", async () => {
  await using modern = await startModernMember({ serverId: "modern", secret: SECRET, control: true });
  // A relay between the proxy and the member's control endpoint: a content block without a type goes into every tool
  // result the member sends.
  let malformed = true;
  await using front = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    // (Read before the upgrade, which closes the request.)
    const authorization = req.headers.get("authorization") ?? "";
    const { socket, response } = Deno.upgradeWebSocket(req, { protocol: "mcp" });
    const upstream = new WebSocket(modern.controlUrl!, {
      protocols: ["mcp"],
      headers: { Authorization: authorization },
    });
    const pending: string[] = [];
    socket.onmessage = (event) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(event.data);
      else pending.push(event.data);
    };
    upstream.onopen = () => pending.splice(0).forEach((data) => upstream.send(data));
    upstream.onmessage = (event) => {
      const data = String(event.data);
      socket.send(malformed ? data.replace('"content":[', '"content":[{"kind":"no type"},') : data);
    };
    socket.onclose = () => upstream.close();
    upstream.onclose = () => socket.close();
    return response;
  });
  await using proxy = newProxy();
  await proxy.registerServer({ ...modernConfig(modern), endpoints: { control: `ws://127.0.0.1:${front.addr.port}/` } });
  // Not listed yet, then listed: a plain request either way over the WebSocket, checked by the SDK's codec.
  await assert.rejects(
    proxy.callTool("modern", "echo", { text: "x" }, { channel: "control" }),
    refusedAs("tools/call"),
  );
  await proxy.catalog.listTools();
  await assert.rejects(
    proxy.callTool("modern", "echo", { text: "x" }, { channel: "control" }),
    refusedAs("tools/call"),
  );
  malformed = false;
  assert.equal(text(await proxy.callTool("modern", "echo", { text: "x" }, { channel: "control" })), "x");
});

Deno.test("FederationProxy refuses a 2025-11-25 member's malformed tools/call, prompts/get and resources/read results too", async () => {
  await using member = await TestMember.start("legacy-malformed");
  let malformed = true;
  await using front = corruptingFront(member.handle.dataUrl!, () => malformed);
  await using proxy = new FederationProxy(SECRET, {
    logger: quiet,
    heartbeatInterval: 60_000,
    eraPreference: "legacy",
  });
  const status = await proxy.registerServer({
    ...member.config,
    endpoints: { data: `http://127.0.0.1:${front.addr.port}/mcp` },
  });
  assert.equal(status.era, "legacy");
  await assert.rejects(proxy.callTool(member.serverId, "echo", { text: "x" }), refusedAs("tools/call"));
  await assert.rejects(proxy.getPrompt(member.serverId, "greet", { name: "x" }), refusedAs("prompts/get"));
  await assert.rejects(proxy.readResource(member.serverId, "info://server"), refusedAs("resources/read"));
  malformed = false;
  assert.equal(text(await proxy.callTool(member.serverId, "echo", { text: "x" })), "x");
  assert.equal((await proxy.getPrompt(member.serverId, "greet", { name: "x" })).messages.length, 1);
  assert.equal((await proxy.readResource(member.serverId, "info://server")).contents.length, 1);
});
