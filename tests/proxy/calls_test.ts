import assert from "node:assert/strict";
import { z } from "zod";
import {
  CancelledError,
  ConnectionError,
  FederationProxy,
  type FederationProxyOptions,
  ProtocolError,
  ServerNotFoundError,
  TimeoutError,
} from "../../mod.ts";
import { SECRET, TestMember, waitFor } from "../_support/members.ts";
import { LATENCY_REFRESH_MS, LATENCY_SEED_SAMPLES, REFRESH_CALLS } from "../../packages/proxy/_latency.ts";
import { quiet } from "../_support/catalog_members.ts";

function newProxy(options: FederationProxyOptions = {}): FederationProxy {
  return new FederationProxy(SECRET, { logger: quiet, ...options });
}
function text(result: { content: unknown }): string {
  return (result.content as { text: string }[])[0]!.text;
}

/** A `channel` call's arguments that make the data channel clearly slower (100 ms) than the WebSocket. */
const SLOW_DATA = { dataDelayMs: 100 };

/** Which channel carried one `channel` call, the data channel clearly slower. */
async function slowDataCall(proxy: FederationProxy): Promise<string> {
  return text(await proxy.callTool("server-1", "channel", SLOW_DATA));
}

/** `count` sequential `channel` calls, the data channel clearly slower (both channels estimated once past the seed). */
async function slowDataCalls(proxy: FederationProxy, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await slowDataCall(proxy);
}

Deno.test("FederationProxy routes calls by policy: data, control, and auto", async () => {
  await using member = await TestMember.start("server-1");
  for (const routing of ["data", "control"] as const) {
    await using proxy = newProxy({ routing });
    await proxy.registerServer(member.config);
    assert.equal(text(await proxy.callTool("server-1", "channel")), routing);
  }
  await using proxy = newProxy();
  await proxy.registerServer(member.config);
  for (let i = 0; i < 20; i++) await proxy.callTool("server-1", "echo", { text: "warm" });
  const status = proxy.getServerStatus("server-1")!;
  const faster = status.channels.control!.latencyMs! <= status.channels.data!.latencyMs! ? "control" : "data";
  assert.equal(text(await proxy.callTool("server-1", "channel")), faster);
  assert.equal(text(await proxy.callTool("server-1", "channel", {}, { channel: "data" })), "data");
});

Deno.test("FederationProxy lists and gets tools, resources and prompts of a member", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy();
  await proxy.registerServer(member.config);
  const tools = await proxy.listTools("server-1");
  assert.ok(tools.some((t) => t.name === "echo"));
  const resources = await proxy.listResources("server-1");
  assert.deepEqual(resources.map((r) => r.uri), ["info://server"]);
  const read = await proxy.readResource("server-1", "info://server");
  assert.deepEqual(read.contents, [{ uri: "info://server", text: "server server-1" }]);
  const prompts = await proxy.listPrompts("server-1");
  assert.deepEqual(prompts.map((p) => p.name), ["greet"]);
  const prompt = await proxy.getPrompt("server-1", "greet", { name: "Ada" });
  assert.deepEqual(prompt.messages[0]?.content, { type: "text", text: "Hello Ada from server-1" });
  assert.ok(await proxy.ping("server-1") >= 0);
});

Deno.test("FederationProxy calls reject with ServerNotFoundError for an unknown serverId", async () => {
  await using proxy = newProxy();
  await assert.rejects(
    proxy.callTool("ghost", "echo"),
    (e) => e instanceof ServerNotFoundError && e.serverId === "ghost",
  );
  await assert.rejects(proxy.listTools("ghost"), ServerNotFoundError);
});

Deno.test("FederationProxy turns a member's JSON-RPC error into ProtocolError with its code", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy();
  await proxy.registerServer(member.config);
  await assert.rejects(
    proxy.request(
      "server-1",
      "bogus/method",
      (client, o) => client.request({ method: "bogus/method" }, z.object({}), o),
    ),
    (e) => e instanceof ProtocolError && e.rpcCode === -32601 && e.serverId === "server-1",
  );
});

Deno.test("FederationProxy.callTool() times out with TimeoutError and cancels the call at the member", async () => {
  // Legacy: a 2026-07-28 call over HTTP is cancelled by closing its request, which a Deno.serve member whose tool
  // sends nothing does not notice until it writes (known gap, see the era-first report); 2025-11-25 sends
  // notifications/cancelled.
  await using member = await TestMember.start("server-1", { era: "legacy" });
  await using proxy = newProxy();
  await proxy.registerServer(member.config);
  for (const channel of ["control", "data"] as const) {
    const before = member.stats.cancelled;
    await assert.rejects(
      proxy.callTool("server-1", "slow", { ms: 5_000 }, { timeout: 100, channel }),
      // The usage guide classifies errors with `error.message.includes("timeout")`.
      (e) => e instanceof TimeoutError && e.timeoutMs === 100 && e.message.includes("timeout"),
    );
    await waitFor(() => member.stats.cancelled === before + 1, 2_000, `cancellation over ${channel}`);
  }
});

Deno.test("FederationProxy.callTool() with an aborted signal rejects with CancelledError and cancels at the member", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy();
  await proxy.registerServer(member.config);
  const controller = new AbortController();
  const call = proxy.callTool("server-1", "slow", { ms: 5_000 }, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 100));
  controller.abort(new Error("user gave up"));
  await assert.rejects(call, (e) => e instanceof CancelledError && e.serverId === "server-1");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(member.stats.cancelled, 1);
  await assert.rejects(
    proxy.callTool("server-1", "echo", { text: "x" }, { signal: controller.signal }),
    CancelledError,
  );
});

Deno.test("FederationProxy.callTool() delivers progress, and progress resets the timeout", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy();
  await proxy.registerServer(member.config);
  for (const channel of ["control", "data"] as const) {
    const seen: number[] = [];
    const result = await proxy.callTool("server-1", "progress", { steps: 5, interval: 80 }, {
      channel,
      timeout: 250,
      onprogress: (p) => seen.push(p.progress),
    });
    assert.equal(text(result), "done");
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  }
});

Deno.test("FederationProxy.removeServer() with 20 calls in flight: each ends in a result or ConnectionError", async () => {
  await using member = await TestMember.start("server-1");
  for (const [drainTimeout, expectAllOk] of [[2_000, true], [50, false]] as const) {
    await using proxy = newProxy({ drainTimeout });
    await proxy.registerServer(member.config);
    const calls = Array.from(
      { length: 20 },
      (_, i) => proxy.callTool("server-1", "slow", { ms: 300 }, { channel: i % 2 ? "data" : "control" }),
    );
    await new Promise((r) => setTimeout(r, 50));
    const removed = proxy.removeServer("server-1");
    await assert.rejects(proxy.callTool("server-1", "echo", { text: "late" }), ServerNotFoundError);
    const results = await Promise.allSettled(calls);
    assert.equal(await removed, true);
    for (const r of results) {
      if (r.status === "rejected") assert.ok(r.reason instanceof ConnectionError, String(r.reason));
    }
    const ok = results.filter((r) => r.status === "fulfilled").length;
    if (expectAllOk) assert.equal(ok, 20);
    else assert.ok(ok < 20, "a short drain cuts slow calls");
  }
});

Deno.test("FederationProxy auto routing measures both channels from the first calls, then routes on the estimate", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy({ routing: "auto", heartbeatInterval: 60_000 });
  await proxy.registerServer(member.config);
  // Registration's round trips are no call's: the first calls sample both channels, in turn. The data channel is
  // made clearly slower (two channels about as fast swap places on noise, and a load spike on the machine can lift the
  // WebSocket's estimate past the one a channel not chosen kept from its seed).
  const first: string[] = [];
  for (let i = 0; i < 2 * LATENCY_SEED_SAMPLES; i++) first.push(await slowDataCall(proxy));
  assert.equal(first.filter((c) => c === "control").length, LATENCY_SEED_SAMPLES, first.join(","));
  assert.equal(first.filter((c) => c === "data").length, LATENCY_SEED_SAMPLES, first.join(","));
  // From then on the estimates decide: the WebSocket, with the lower estimate, carries the calls.
  await slowDataCalls(proxy, 20);
  const last: string[] = [];
  for (let i = 0; i < 10; i++) last.push(await slowDataCall(proxy));
  const { control, data } = proxy.getServerStatus("server-1")!.channels;
  assert.ok(control!.latencyMs! < data!.latencyMs!, `control ${control!.latencyMs} ms, data ${data!.latencyMs} ms`);
  assert.ok(last.filter((c) => c === "control").length >= 8, last.join(","));
});

Deno.test("FederationProxy auto routing lets a channel measured slow at first take over within a refresh", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy({ routing: "auto", heartbeatInterval: 60_000 });
  await proxy.registerServer(member.config);
  // The WebSocket's whole estimate window filled with slow samples (as a cold start can): data carries the calls.
  for (let i = 0; i < 9; i++) await proxy.callTool("server-1", "slow", { ms: 30 }, { channel: "control" });
  assert.ok(proxy.getServerStatus("server-1")!.channels.control!.latencyMs! >= 30);
  // Its next refresh (within a second) shows it faster than data's estimate: it takes over within a few calls,
  // not after the five refreshes (five seconds) its median would need.
  const end = performance.now() + 3_000;
  let run = 0;
  while (performance.now() < end && run < 20) {
    run = text(await proxy.callTool("server-1", "channel")) === "control" ? run + 1 : 0;
  }
  assert.equal(run, 20, "the WebSocket carries the calls again");
  assert.ok(proxy.getServerStatus("server-1")!.channels.control!.latencyMs! < 30);
});

Deno.test("FederationProxy auto routing keeps a member called now and then on the faster channel", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy({ routing: "auto", heartbeatInterval: 60_000 });
  await proxy.registerServer(member.config);
  // The data channel clearly slower, and both estimated.
  await slowDataCalls(proxy, 2 * LATENCY_SEED_SAMPLES + 4);
  // Calls further apart than the refresh time: by time alone each would refresh the slower channel's estimate, and
  // carry the call on it (all five did). At most one in REFRESH_CALLS does.
  const spaced: string[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, LATENCY_REFRESH_MS + 50));
    spaced.push(await slowDataCall(proxy));
  }
  assert.ok(REFRESH_CALLS > 5);
  assert.ok(spaced.filter((c) => c === "data").length <= 1, spaced.join(","));
});

Deno.test("FederationProxy auto routing compares calls with calls, not with an idle channel's heartbeats", async () => {
  await using member = await TestMember.start("server-1");
  // Heartbeats often: the idle data channel is pinged between the calls, and a ping is much faster than these calls.
  await using proxy = newProxy({ routing: "auto", heartbeatInterval: 100 });
  await proxy.registerServer(member.config);
  const slow = { delayMs: 10, dataDelayMs: 50 };
  for (let i = 0; i < 2 * LATENCY_SEED_SAMPLES; i++) await proxy.callTool("server-1", "channel", slow);
  const seen = { control: 0, data: 0 };
  const end = performance.now() + 2 * LATENCY_REFRESH_MS;
  while (performance.now() < end) seen[text(await proxy.callTool("server-1", "channel", slow)) as "control" | "data"]++;
  // The WebSocket carries them; the data channel one refresh per second (and 32 calls) at most: heartbeats neither
  // refresh a channel nor count as one's call.
  assert.ok(seen.data <= 3, JSON.stringify(seen));
  assert.ok(seen.data >= 1, `the data channel was refreshed despite its heartbeats: ${JSON.stringify(seen)}`);
});

Deno.test("FederationProxy auto routing refreshes the other channel with one call, not with every call in flight", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy({ routing: "auto", heartbeatInterval: 60_000 });
  await proxy.registerServer(member.config);
  await slowDataCalls(proxy, 2 * LATENCY_SEED_SAMPLES + REFRESH_CALLS);
  await new Promise((resolve) => setTimeout(resolve, LATENCY_REFRESH_MS + 50));
  // A refresh is due: twenty calls at once, of which one carries it.
  const burst = await Promise.all(Array.from({ length: 20 }, () => slowDataCall(proxy)));
  assert.ok(burst.filter((c) => c === "data").length <= 1, burst.join(","));
});

Deno.test("FederationProxy auto routing seeds both channels under load, a seed's worth each", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy({ routing: "auto", heartbeatInterval: 60_000 });
  await proxy.registerServer(member.config);
  // Thirty calls at once right after registration: none has answered when the last is routed. Both channels are
  // measured at once (counting the calls on their way), and the channel being measured carries no more than a seed.
  const burst = await Promise.all(
    Array.from({ length: 30 }, async () => text(await proxy.callTool("server-1", "channel", { delayMs: 50 }))),
  );
  const data = burst.filter((c) => c === "data").length;
  assert.ok(data >= 1 && data <= LATENCY_SEED_SAMPLES, burst.join(","));
});

Deno.test("FederationProxy auto routing lets the control channel take over one call at a time, and the data channel on its estimate only", async () => {
  for (const lucky of ["control", "data"] as const) {
    const other = lucky === "control" ? "data" : "control";
    await using member = await TestMember.start("server-1");
    await using proxy = newProxy({ routing: "auto", heartbeatInterval: 60_000 });
    await proxy.registerServer(member.config);
    // Estimates by hand: the lucky channel 90 ms, the other 60 ms (it carries the calls); then one call of the lucky
    // channel well under the other's estimate, the sample a loaded machine gives now and then.
    for (let i = 0; i < LATENCY_SEED_SAMPLES; i++) {
      await proxy.callTool("server-1", "slow", { ms: 90 }, { channel: lucky });
      await proxy.callTool("server-1", "slow", { ms: 60 }, { channel: other });
    }
    await proxy.callTool("server-1", "channel", {}, { channel: lucky });
    // Twenty calls at once. The WebSocket, measured while cold say, takes one (its answer says whether it keeps
    // them), not all twenty; a lone HTTP call beside a WebSocket's line is no reason to move calls to the costlier
    // channel, which takes none.
    const burst = await Promise.all(
      Array.from({ length: 20 }, async () => text(await proxy.callTool("server-1", "channel", { delayMs: 20 }))),
    );
    const taken = burst.filter((c) => c === lucky).length;
    assert.equal(taken, lucky === "control" ? 1 : 0, `${lucky}: ${burst.join(",")}`);
    if (lucky === "data") {
      // Its estimate does move the calls: a window of quick calls over it, and it carries the next one.
      for (let i = 0; i < LATENCY_SEED_SAMPLES; i++) {
        await proxy.callTool("server-1", "channel", {}, { channel: "data" });
      }
      assert.equal(text(await proxy.callTool("server-1", "channel", { delayMs: 20 })), "data");
    }
  }
});

Deno.test("FederationProxy auto routing refreshes the other channel while a long call of its own is on its way", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy({ routing: "auto", heartbeatInterval: 60_000 });
  await proxy.registerServer(member.config);
  await slowDataCalls(proxy, 2 * LATENCY_SEED_SAMPLES + REFRESH_CALLS);
  // A long call sent over the data channel by the caller's choice: routing's own checks are what go one at a time.
  const long = proxy.callTool("server-1", "slow", { ms: 3 * LATENCY_REFRESH_MS }, { channel: "data" });
  await new Promise((resolve) => setTimeout(resolve, LATENCY_REFRESH_MS + 50));
  const carried: string[] = [];
  for (let i = 0; i < REFRESH_CALLS; i++) carried.push(await slowDataCall(proxy));
  assert.equal(carried.filter((c) => c === "data").length, 1, carried.join(","));
  await long;
});

Deno.test("FederationProxy auto routing measures a channel by calls answered with a JSON-RPC error too", async () => {
  await using member = await TestMember.start("server-1");
  // Every call answered with an error: each is a round trip all the same, so the seed completes on both channels (an
  // unmeasured channel would take every call as the seed's, for as long as the errors lasted). No such tool is a
  // JSON-RPC error message; no such method, over a modern member's HTTP, an HTTP 404 carrying one.
  const calls = [
    (proxy: FederationProxy) => proxy.callTool("server-1", "no_such_tool"),
    (proxy: FederationProxy) =>
      proxy.request(
        "server-1",
        "bogus/method",
        (client, o) => client.request({ method: "bogus/method" }, z.object({}), o),
      ),
  ];
  for (const call of calls) {
    await using proxy = newProxy({ routing: "auto", heartbeatInterval: 60_000 });
    await proxy.registerServer(member.config);
    const carried: (string | undefined)[] = [];
    for (let i = 0; i < 2 * LATENCY_SEED_SAMPLES; i++) {
      await assert.rejects(call(proxy), (e) => {
        assert.ok(e instanceof ProtocolError, String(e));
        carried.push(e.channel);
        return true;
      });
    }
    assert.equal(carried.filter((c) => c === "control").length, LATENCY_SEED_SAMPLES, carried.join(","));
    assert.equal(carried.filter((c) => c === "data").length, LATENCY_SEED_SAMPLES, carried.join(","));
  }
});

Deno.test("FederationProxy auto routing favours the faster channel but keeps sampling the other", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy({ routing: "auto", heartbeatInterval: 60_000 });
  await proxy.registerServer(member.config);
  // The data channel a little slower, for sure (two loopback channels about as fast trade places with the machine's
  // load, and then routing rightly follows whichever is faster at the time).
  const slowData = { dataDelayMs: 2 };
  const seen = { control: 0, data: 0 };
  const end = performance.now() + 2_500;
  while (performance.now() < end) {
    const channel = text(await proxy.callTool("server-1", "channel", slowData)) as "control" | "data";
    seen[channel]++;
  }
  // Past its seed, the data channel is still measured now and then (a refresh a second), and carries little else.
  assert.ok(seen.data > LATENCY_SEED_SAMPLES, JSON.stringify(seen));
  assert.ok(seen.control > 10 * seen.data, JSON.stringify(seen));
});
