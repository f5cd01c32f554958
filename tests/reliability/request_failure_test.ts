// One request's failure fails that request only: an oversized argument, a member's JSON-RPC error -32000
// or an HTTP 413 on alice's call leaves bob's calls in flight on the same member, and its channels, untouched.
import assert from "node:assert/strict";
import { FederationProxy, type FederationProxyOptions, ProtocolError, type RoutingPolicy } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import {
  type CallToolResult,
  ProtocolError as ClientProtocolError,
  Server,
  ServerProtocolError,
} from "../../packages/core/_sdk.ts";
import { sleep } from "../../packages/core/_sleep.ts";
import { GATEWAY_SECRET, SECRET, TestMember, waitFor } from "../_support/members.ts";
import { connectClient, gatewayToken, quiet, textOf } from "../_support/catalog_members.ts";

const MiB = 1024 * 1024;
const BOB_CALLS = 5;

/** A member with `slow` (answers "ok" after `ms`), `big` (takes any argument, answers "ok") and `fail` (-32000). */
async function startMember(serverId: string, maxMessageBytes?: number) {
  let running = 0;
  const member = await TestMember.start(serverId, {
    extra: {
      ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
      server: () => {
        const server = new Server({ name: "failing", version: "1.0.0" }, { capabilities: { tools: {} } });
        server.setRequestHandler("tools/list", () => ({
          tools: ["slow", "big", "fail", "huge"].map((name) => ({ name, inputSchema: { type: "object" as const } })),
        }));
        server.setRequestHandler("tools/call", async (request, ctx) => {
          if (request.params.name === "fail") throw new ServerProtocolError(-32000, "Generic server error");
          if (request.params.name === "huge") return { content: [{ type: "text", text: "x".repeat(4.5 * MiB) }] };
          if (request.params.name === "slow") {
            running++;
            try {
              await sleep(Number(request.params.arguments?.ms ?? 300), ctx.mcpReq.signal);
            } finally {
              running--;
            }
          }
          return { content: [{ type: "text", text: "ok" }] };
        });
        return server;
      },
    },
  });
  return { member, running: () => running };
}

/** Counts the proxy's events that would mean a channel went down. */
function watchChannels(proxy: FederationProxy): { downs: string[] } {
  const downs: string[] = [];
  for (const type of ["degraded", "reconnecting", "disconnected"] as const) {
    proxy.addEventListener(type, (event) => downs.push(`${event.type} ${event.channel ?? ""}`));
  }
  return { downs };
}

function assertChannelsUp(proxy: FederationProxy, serverId: string): void {
  const status = proxy.getServerStatus(serverId)!;
  assert.equal(status.state, "connected");
  for (const kind of ["control", "data"] as const) {
    assert.equal(status.channels[kind]?.state, "up", `${kind} channel`);
    assert.equal(status.channels[kind]?.reconnectAttempts, 0, `${kind} channel reconnects`);
  }
}

interface Failure {
  name: string;
  /** The routings it applies to. @default {both} */
  routings?: RoutingPolicy[];
  memberLimit?: number;
  proxyLimit?: number;
  tool: string;
  args: () => Record<string, unknown>;
  check: (error: unknown) => void;
}

const tooLarge = (error: unknown) => {
  assert.ok(error instanceof ProtocolError, String(error));
  assert.equal(error.code, "ERR_MESSAGE_TOO_LARGE");
};
const failures: Failure[] = [
  {
    name: "a 4.5 MiB argument (refused by the proxy before sending)",
    tool: "big",
    args: () => ({ blob: "x".repeat(4.5 * MiB) }),
    check: tooLarge,
  },
  {
    // The member cannot send it over the control channel: it answers with an error instead of closing the socket.
    name: "a 4.5 MiB result (replaced by an error answer by the member)",
    routings: ["control"],
    tool: "huge",
    args: () => ({}),
    check: (error) => {
      assert.ok(error instanceof ProtocolError, String(error));
      assert.equal(error.rpcCode, -32603);
      assert.match(error.message, /Result is larger than the limit of 4194304 bytes/);
    },
  },
  {
    name: "a member's JSON-RPC error -32000",
    tool: "fail",
    args: () => ({}),
    check: (error) => {
      assert.ok(error instanceof ProtocolError, String(error));
      assert.equal(error.code, "ERR_PROTOCOL");
      assert.equal(error.rpcCode, -32000);
    },
  },
  {
    name: "a 100 KiB argument to a member with a 64 KiB limit, the proxy's limit set to it",
    memberLimit: 64 * 1024,
    proxyLimit: 64 * 1024,
    tool: "big",
    args: () => ({ blob: "x".repeat(100 * 1024) }),
    check: tooLarge,
  },
];

for (const routing of ["control", "data"] as const satisfies RoutingPolicy[]) {
  for (const failure of failures.filter((f) => f.routings?.includes(routing) ?? true)) {
    Deno.test(`Request failure (${routing}): ${failure.name} fails that call only; ${BOB_CALLS} other calls in flight succeed, no channel goes down`, async () => {
      const { member, running } = await startMember("m", failure.memberLimit);
      const options: FederationProxyOptions = { logger: quiet, routing };
      if (failure.proxyLimit !== undefined) options.maxMessageBytes = failure.proxyLimit;
      const proxy = new FederationProxy(SECRET, options);
      try {
        await proxy.registerServer(member.config);
        const { downs } = watchChannels(proxy);
        const bob = Promise.allSettled(
          Array.from({ length: BOB_CALLS }, () => proxy.callTool("m", "slow", { ms: 400 })),
        );
        await waitFor(() => running() === BOB_CALLS, 3_000, "bob's calls under way");
        const error = await proxy.callTool("m", failure.tool, failure.args()).then(() => undefined, (e) => e);
        failure.check(error);
        const results = await bob;
        const ok = results.filter((r) => r.status === "fulfilled" && textOf(r.value) === "ok").length;
        assert.equal(ok, BOB_CALLS, `bob's calls that succeeded: ${ok}/${BOB_CALLS}`);
        assert.deepEqual(downs, []);
        assertChannelsUp(proxy, "m");
        // The channel that carried the failure still works.
        assert.equal(textOf(await proxy.callTool("m", "slow", { ms: 1 })), "ok");
      } finally {
        await proxy.close();
        await member.stop();
      }
    });
  }
}

Deno.test("Request failure (data): HTTP 413 from a member with a smaller limit than the proxy's fails that call only", async () => {
  const { member, running } = await startMember("m", 64 * 1024);
  const proxy = new FederationProxy(SECRET, { logger: quiet, routing: "data" });
  try {
    await proxy.registerServer(member.config);
    const { downs } = watchChannels(proxy);
    const bob = Promise.allSettled(Array.from({ length: BOB_CALLS }, () => proxy.callTool("m", "slow", { ms: 400 })));
    await waitFor(() => running() === BOB_CALLS, 3_000, "bob's calls under way");
    const error = await proxy.callTool("m", "big", { blob: "x".repeat(100 * 1024) }).then(() => undefined, (e) => e);
    tooLarge(error);
    assert.match(String((error as Error).message), /HTTP 413/);
    const results = await bob;
    assert.equal(results.filter((r) => r.status === "fulfilled").length, BOB_CALLS);
    assert.deepEqual(downs, []);
    assertChannelsUp(proxy, "m");
  } finally {
    await proxy.close();
    await member.stop();
  }
});

for (const routing of ["control", "data"] as const satisfies RoutingPolicy[]) {
  Deno.test(`Request failure through the gateway (${routing}): alice's oversized call and -32000 error leave bob's calls and the channels up`, async () => {
    const { member, running } = await startMember("m");
    const proxy = new FederationProxy(SECRET, { logger: quiet, routing });
    await proxy.registerServer(member.config);
    const gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
    const alice = await connectClient(gateway.url, { token: await gatewayToken("alice") });
    const bob = await connectClient(gateway.url, { token: await gatewayToken("bob") });
    try {
      const { downs } = watchChannels(proxy);
      await bob.listTools();
      const bobCalls = Promise.allSettled(Array.from(
        { length: BOB_CALLS },
        () => bob.callTool({ name: "m__slow", arguments: { ms: 500 } }),
      ));
      await waitFor(() => running() === BOB_CALLS, 3_000, "bob's calls under way");
      const oversized = await alice.callTool({ name: "m__big", arguments: { blob: "x".repeat(4.5 * MiB) } })
        .then(() => undefined, (e) => e);
      // Refused by the proxy, or by the gateway itself once it limits bodies: either way a failure of that call only.
      assert.ok(oversized instanceof Error, String(oversized));
      const failed = await alice.callTool({ name: "m__fail", arguments: {} }).then(() => undefined, (e) => e);
      assert.ok(failed instanceof ClientProtocolError, String(failed));
      assert.equal(failed.code, -32000);
      const results = await bobCalls;
      const ok = results.filter((r) => r.status === "fulfilled" && textOf(r.value as CallToolResult) === "ok");
      assert.equal(ok.length, BOB_CALLS);
      assert.deepEqual(downs, []);
      assertChannelsUp(proxy, "m");
    } finally {
      await alice.close();
      await bob.close();
      await gateway.close();
      await proxy.close();
      await member.stop();
    }
  });
}

for (const jsonResponse of [false, true]) {
  const body = jsonResponse ? "a JSON body" : "an SSE event";
  Deno.test(`Request failure (data): a result larger than the proxy's limit in ${body} fails that call only, unread`, async () => {
    const member = await TestMember.start("m", {
      extra: {
        data: { port: 0, jsonResponse },
        server: () => {
          const server = new Server({ name: "sized", version: "1.0.0" }, { capabilities: { tools: {} } });
          server.setRequestHandler("tools/list", () => ({
            tools: [{ name: "sized", inputSchema: { type: "object" as const } }],
          }));
          server.setRequestHandler("tools/call", (request) => ({
            content: [{ type: "text", text: "x".repeat(Number(request.params.arguments?.size ?? 1)) }],
          }));
          return server;
        },
      },
    });
    const proxy = new FederationProxy(SECRET, { logger: quiet, routing: "data", maxMessageBytes: 64 * 1024 });
    try {
      await proxy.registerServer(member.config);
      const { downs } = watchChannels(proxy);
      const error = await proxy.callTool("m", "sized", { size: 100 * 1024 }).then(() => undefined, (e) => e);
      assert.ok(error instanceof ProtocolError, String(error));
      if (jsonResponse) assert.equal(error.code, "ERR_MESSAGE_TOO_LARGE");
      else assert.equal(error.rpcCode, -32600);
      assert.match(error.message, /larger than the limit of 65536 bytes/);
      const small = await proxy.callTool("m", "sized", { size: 10 });
      assert.equal(textOf(small as CallToolResult), "x".repeat(10));
      assert.deepEqual(downs, []);
      assertChannelsUp(proxy, "m");
    } finally {
      await proxy.close();
      await member.stop();
    }
  });
}
