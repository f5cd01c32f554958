// Isolation between clients: what a member sends during a client's call (elicitation, sampling,
// roots, log lines) reaches that client only, over either channel, and what belongs to no call is refused. A real
// gateway in front of a real member; two SDK clients with different subjects call the same member at once.
import assert from "node:assert/strict";
import { z } from "zod";
import { FederationProxy, type FederationProxyOptions, type RoutingPolicy } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import {
  type CallToolResult,
  type Client,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ListRootsResultSchema,
  McpServer,
  ProtocolErrorCode,
} from "../../packages/core/_sdk.ts";
import { GATEWAY_SECRET, SECRET, TestMember, waitFor } from "../_support/members.ts";
import { connectClient, gatewayToken, quiet, startDynamicMember, textOf } from "../_support/catalog_members.ts";
import { plainCalls } from "../_support/raw_session.ts";

/** What one client saw of the member. */
interface Seen {
  elicitations: string[];
  samplings: string[];
  roots: number;
  logs: unknown[];
}

/**
 * A member whose tool `interact` waits until `expected` calls are in progress at once, then logs, elicits, samples
 * and asks for roots in the caller's name, and returns the answers; `stray` sends a sampling request that names no
 * call (through the server, not the call's `ctx`); `late` keeps the call's `ctx.mcpReq.send` and uses it after the
 * call ended.
 */
async function startInteractiveMember(serverId: string, options: { control?: boolean; data?: boolean } = {}) {
  let arrived = 0;
  let expected = 2;
  let everyoneHere = Promise.withResolvers<void>();
  const stray: string[] = [];
  let lateSend: ((method: string) => Promise<unknown>) | undefined;
  function create(): McpServer {
    const server = new McpServer({ name: "interactive", version: "1.0.0" }, { capabilities: { logging: {} } });
    server.registerTool("interact", { inputSchema: z.object({ who: z.string() }) }, async ({ who }, ctx) => {
      if (++arrived >= expected) everyoneHere.resolve();
      await everyoneHere.promise;
      await ctx.mcpReq.notify({
        method: "notifications/message",
        params: { level: "info", logger: "tool", data: `log of ${who}` },
      });
      const elicited = await ctx.mcpReq.send({
        method: "elicitation/create",
        params: {
          message: `elicit for ${who}`,
          requestedSchema: { type: "object", properties: { name: { type: "string" } } },
        },
      }, ElicitResultSchema);
      const sampled = await ctx.mcpReq.send({
        method: "sampling/createMessage",
        params: { messages: [{ role: "user", content: { type: "text", text: `sample for ${who}` } }], maxTokens: 5 },
      }, CreateMessageResultSchema);
      const { roots } = await ctx.mcpReq.send({ method: "roots/list" }, ListRootsResultSchema);
      const answer = [
        `elicited=${(elicited.content as { name?: string } | undefined)?.name}`,
        `sampled=${(sampled.content as { text?: string }).text}`,
        `roots=${roots.map((r) => r.uri).join(",")}`,
      ].join(";");
      return { content: [{ type: "text", text: answer }] };
    });
    server.registerTool("stray", { inputSchema: z.object({}) }, async () => {
      try {
        await server.server.createMessage(
          { messages: [{ role: "user", content: { type: "text", text: "stray" } }], maxTokens: 5 },
          { timeout: 3_000 },
        );
        stray.push("answered");
      } catch (error) {
        stray.push(`${(error as { code?: number }).code}`);
      }
      return { content: [{ type: "text", text: stray.at(-1)! }] };
    });
    server.registerTool("late", { inputSchema: z.object({}) }, (_args, ctx) => {
      lateSend = (method) => ctx.mcpReq.send({ method, params: {} } as never, ListRootsResultSchema);
      return { content: [{ type: "text", text: "kept" }] };
    });
    return server;
  }
  const member = await TestMember.start(serverId, {
    control: options.control ?? true,
    data: options.data ?? true,
    // Legacy: these tests are about push-style server-to-client requests and the relation rule (a request naming no
    // call, or an ended one), which only 2025-11-25 carries.
    era: "legacy",
    extra: { server: create },
  });
  return {
    member,
    stray,
    late: () => lateSend!,
    expect(n: number) {
      arrived = 0;
      expected = n;
      everyoneHere = Promise.withResolvers<void>();
    },
  };
}

async function federation(routing: RoutingPolicy, memberOptions: { control?: boolean; data?: boolean } = {}) {
  const m = await startInteractiveMember("m", memberOptions);
  const options: FederationProxyOptions = { logger: quiet, routing };
  const proxy = new FederationProxy(SECRET, options);
  await proxy.registerServer(m.member.config);
  const gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  return {
    m,
    proxy,
    gateway,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await proxy.close();
      await m.member.stop();
    },
  };
}

/** A client of `subject` that answers every member request in its own name and records what it was asked. */
async function person(url: string, subject: string): Promise<{ client: Client; seen: Seen }> {
  const client = await connectClient(url, {
    token: await gatewayToken(subject),
    name: subject,
    capabilities: { elicitation: {}, sampling: {}, roots: { listChanged: true } },
  });
  const seen: Seen = { elicitations: [], samplings: [], roots: 0, logs: [] };
  client.setRequestHandler("elicitation/create", (request) => {
    seen.elicitations.push(request.params.message);
    return { action: "accept", content: { name: subject } };
  });
  client.setRequestHandler("sampling/createMessage", (request) => {
    const content = request.params.messages[0]!.content as { text: string };
    seen.samplings.push(content.text);
    return { role: "assistant", content: { type: "text", text: subject }, model: "test" };
  });
  client.setRequestHandler("roots/list", () => {
    seen.roots++;
    return { roots: [{ uri: `file:///${subject}` }] };
  });
  client.setNotificationHandler("notifications/message", (n) => void seen.logs.push(n.params.data));
  await client.setLoggingLevel("debug");
  return { client, seen };
}

for (const routing of ["control", "data"] as const) {
  Deno.test(`Isolation (${routing}): two subjects calling one member at once each get only their own elicitation, sampling, roots and log lines`, async () => {
    await using f = await federation(routing);
    const alice = await person(f.gateway.url, "alice");
    const bob = await person(f.gateway.url, "bob");
    try {
      await alice.client.listTools();
      for (let round = 0; round < 3; round++) {
        f.m.expect(2);
        // Bob's call starts last: routing by "the newest call on the member" would send alice's requests to bob.
        const aliceCall = alice.client.callTool({ name: "m__interact", arguments: { who: "alice" } });
        await new Promise((resolve) => setTimeout(resolve, 20));
        const bobCall = bob.client.callTool({ name: "m__interact", arguments: { who: "bob" } });
        const [a, b] = await Promise.all([aliceCall, bobCall]) as CallToolResult[];
        assert.equal(textOf(a), "elicited=alice;sampled=alice;roots=file:///alice");
        assert.equal(textOf(b), "elicited=bob;sampled=bob;roots=file:///bob");
      }
      await waitFor(() => alice.seen.logs.length === 3 && bob.seen.logs.length === 3, 2_000, "three log lines each");
      // Every call took the plain way: the member's requests went on each call's own answer stream.
      assert.equal(await plainCalls(f.gateway.url), 6);
      for (const [name, { seen }] of [["alice", alice], ["bob", bob]] as const) {
        assert.deepEqual(seen.elicitations, Array(3).fill(`elicit for ${name}`), `${name}'s elicitations`);
        assert.deepEqual(seen.samplings, Array(3).fill(`sample for ${name}`), `${name}'s samplings`);
        assert.equal(seen.roots, 3, `${name}'s roots requests`);
        assert.deepEqual(seen.logs, Array(3).fill(`log of ${name}`), `${name}'s log lines`);
      }
    } finally {
      await alice.client.close();
      await bob.client.close();
    }
  });
}

Deno.test("Isolation: the originating client without the capability gets a clear error; another client that has it is not asked", async () => {
  await using f = await federation("control");
  const alice = await connectClient(f.gateway.url, { token: await gatewayToken("alice"), capabilities: {} });
  const bob = await person(f.gateway.url, "bob");
  try {
    f.m.expect(1);
    const result = await alice.callTool({ name: "m__interact", arguments: { who: "alice" } });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /No client of the federation gateway supports 'elicitation\/create' for this call/);
    assert.deepEqual(bob.seen.elicitations, []);
  } finally {
    await alice.close();
    await bob.client.close();
  }
});

for (const [routing, memberOptions] of [["control", {}], ["data", { control: false }]] as const) {
  Deno.test(`Isolation (${routing}): a member's request that names no call is refused, and no client is asked`, async () => {
    await using f = await federation(routing, memberOptions);
    const alice = await person(f.gateway.url, "alice");
    try {
      // Alice has a call in progress on the member: the stray request must still not reach her.
      const result = await alice.client.callTool({ name: "m__stray", arguments: {} });
      assert.equal(textOf(result), String(ProtocolErrorCode.InvalidRequest));
      assert.deepEqual(alice.seen.samplings, []);
    } finally {
      await alice.client.close();
    }
  });
}

Deno.test("Isolation: a request naming a call that has ended is refused, not handed to the proxy-wide handler", async () => {
  const m = await startInteractiveMember("m", { data: false });
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  const proxyWide: string[] = [];
  proxy.onServerRequest = (request) => {
    proxyWide.push(request.method);
    return Promise.resolve({ roots: [] });
  };
  try {
    await proxy.registerServer(m.member.config);
    const perCall: string[] = [];
    await proxy.callTool("m", "late", {}, {
      onrequest: (request) => {
        perCall.push(request.method);
        return Promise.resolve({ roots: [] });
      },
    });
    const error = await m.late()("roots/list").then(() => undefined, (e) => e);
    assert.equal((error as { code?: number }).code, ProtocolErrorCode.InvalidRequest);
    assert.match(String((error as Error).message), /names no call in progress/);
    assert.deepEqual(perCall, []);
    assert.deepEqual(proxyWide, []);
  } finally {
    await proxy.close();
    await m.member.stop();
  }
});

Deno.test("Isolation: in-process callers get their own requests and log lines through CallOptions", async () => {
  for (const routing of ["control", "data"] as const) {
    const m = await startInteractiveMember("m");
    const proxy = new FederationProxy(SECRET, { logger: quiet, routing });
    try {
      await proxy.registerServer(m.member.config);
      m.expect(2);
      const logs: Record<string, unknown[]> = { alice: [], bob: [] };
      const call = (who: string) =>
        proxy.callTool("m", "interact", { who }, {
          onrequest: (request) => {
            if (request.method === "roots/list") return Promise.resolve({ roots: [{ uri: `file:///${who}` }] });
            if (request.method === "elicitation/create") {
              assert.equal(request.params?.message, `elicit for ${who}`);
              assert.equal(request.params?._meta, undefined, "the relation is not passed on");
              return Promise.resolve({ action: "accept", content: { name: who } });
            }
            return Promise.resolve({ role: "assistant", content: { type: "text", text: who }, model: "t" });
          },
          onlog: (message) => logs[who]!.push(message.data),
        });
      const [a, b] = await Promise.all([call("alice"), call("bob")]);
      assert.equal(textOf(a), "elicited=alice;sampled=alice;roots=file:///alice", routing);
      assert.equal(textOf(b), "elicited=bob;sampled=bob;roots=file:///bob", routing);
      assert.deepEqual(logs, { alice: ["log of alice"], bob: ["log of bob"] }, routing);
    } finally {
      await proxy.close();
      await m.member.stop();
    }
  }
});

Deno.test("Isolation: the relation key never reaches a caller: progress arrives as the member sent it, on both channels", async () => {
  const d = await startDynamicMember("d");
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  try {
    await proxy.registerServer(d.member.config);
    for (const channel of ["control", "data"] as const) {
      const progress: unknown[] = [];
      await proxy.callTool("d", "wait", { ms: 60 }, { channel, onprogress: (p) => void progress.push(p) });
      assert.ok(progress.length > 0, `${channel}: progress received`);
      assert.deepEqual(progress[0], { progress: 1, message: "step 1" }, channel);
    }
  } finally {
    await proxy.close();
    await d[Symbol.asyncDispose]();
  }
});

Deno.test("Isolation: a caller's answer too large for the member fails that member request at once, on both channels", async () => {
  for (const routing of ["control", "data"] as const) {
    const m = await startInteractiveMember("m");
    const proxy = new FederationProxy(SECRET, { logger: quiet, routing });
    try {
      await proxy.registerServer(m.member.config);
      m.expect(1);
      const result = await proxy.callTool("m", "interact", { who: "alice" }, {
        onrequest: (request) => {
          if (request.method === "roots/list") {
            return Promise.resolve({ roots: [{ uri: `file:///${"x".repeat(4.5 * 1024 * 1024)}` }] });
          }
          if (request.method === "elicitation/create") return Promise.resolve({ action: "accept", content: {} });
          return Promise.resolve({ role: "assistant", content: { type: "text", text: "a" }, model: "t" });
        },
      });
      assert.equal(result.isError, true, routing);
      assert.match(textOf(result), /Result is larger than the limit of 4194304 bytes/, routing);
      assert.equal(proxy.getServerStatus("m")?.state, "connected", routing);
    } finally {
      await proxy.close();
      await m.member.stop();
    }
  }
});
