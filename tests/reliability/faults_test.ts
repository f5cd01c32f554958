import assert from "node:assert/strict";
import { ConnectionError, FederationProxy, type FederationProxyOptions, TimeoutError } from "../../mod.ts";
import { describe, relayedMember, settle, tally, text } from "../_support/relayed.ts";
import { sleep } from "../../packages/core/_sleep.ts";
import { SECRET, waitFor } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";

/** Fast detection and reconnection; a request timeout far above every bound below, so a hang shows as one. */
const fast: FederationProxyOptions = {
  logger: quiet,
  heartbeatInterval: 200,
  heartbeatTimeout: 200,
  connectTimeout: 1_000,
  requestTimeout: 20_000,
  backoff: { initialDelay: 50, maxDelay: 200 },
};
function newProxy(options: FederationProxyOptions = {}): FederationProxy {
  return new FederationProxy(SECRET, { ...fast, ...options });
}

Deno.test("Fault: member killed mid-call: 20 calls on both channels each end within 3 s in a result or ConnectionError", async () => {
  await using setup = await relayedMember("killed");
  await using proxy = newProxy();
  await proxy.registerServer(setup.config);
  await proxy.listTools("killed"); // learns that slow_read may be retried
  const calls = Array.from(
    { length: 20 },
    (_, i) =>
      proxy.callTool("killed", i % 2 ? "slow" : "slow_read", { ms: 400 }, {
        channel: i % 4 < 2 ? "control" : "data",
      }),
  );
  const executions = () =>
    (setup.member.stats.executions.get("slow") ?? 0) +
    (setup.member.stats.executions.get("slow_read") ?? 0);
  await waitFor(() => executions() === 20, 3_000, "20 executions under way");
  for (const relay of setup.relays) relay.kill();
  const outcomes = await Promise.all(calls.map((call, i) => settle(call, 3_000, `call ${i}`)));
  for (const outcome of outcomes) {
    if (!outcome.ok) {
      assert.ok(outcome.error instanceof ConnectionError, describe(outcome.error));
      assert.equal(outcome.error.serverId, "killed");
    }
  }
  // Nothing was run twice: the non-idempotent `slow` never, and the dead member cannot have run a retry.
  assert.equal(setup.member.stats.executions.get("slow"), 10);
  assert.equal(setup.member.stats.executions.get("slow_read"), 10);
  await waitFor(() => proxy.getServerStatus("killed")?.state === "reconnecting", 2_000, "reconnecting");
  for (const relay of setup.relays) relay.restore();
  await waitFor(() => proxy.getServerStatus("killed")?.state === "connected", 5_000, "connected again");
  assert.equal(text(await proxy.callTool("killed", "echo", { text: "back" })), "back");
});

Deno.test("Fault: member process stopped mid-call (close frames, sessions gone): calls end in ConnectionError, then it is used again", async () => {
  await using setup = await relayedMember("stopped");
  await using proxy = newProxy();
  await proxy.registerServer(setup.config);
  const calls = Array.from(
    { length: 10 },
    (_, i) => proxy.callTool("stopped", "slow", { ms: 2_000 }, { channel: i % 2 ? "control" : "data" }),
  );
  await waitFor(() => setup.member.stats.executions.get("slow") === 10, 3_000, "10 executions under way");
  const stopping = setup.member.stop();
  const outcomes = await Promise.all(calls.map((call, i) => settle(call, 3_000, `call ${i}`)));
  await stopping;
  assert.deepEqual(tally(outcomes.map((o) => o.ok ? "ok" : describe(o.error))), {
    "ConnectionError:ERR_CONNECTION_CLOSED": 10,
  });
  await setup.member.restart();
  await waitFor(() => proxy.getServerStatus("stopped")?.state === "connected", 5_000, "connected again");
  assert.equal(text(await proxy.callTool("stopped", "increment")), "1");
});

Deno.test("Fault: data channel killed mid-call: a read-only call succeeds on control, a non-idempotent one fails once", async () => {
  await using setup = await relayedMember("half");
  await using proxy = newProxy();
  await proxy.registerServer(setup.config);
  await proxy.listTools("half");
  const read = proxy.callTool("half", "slow_read", { ms: 300 }, { channel: "data" });
  const write = proxy.callTool("half", "slow", { ms: 300 }, { channel: "data" });
  await waitFor(
    () => setup.member.stats.executions.get("slow_read") === 1 && setup.member.stats.executions.get("slow") === 1,
    3_000,
    "both under way",
  );
  setup.data.kill();
  const [r, w] = await Promise.all([settle(read, 3_000, "read"), settle(write, 3_000, "write")]);
  assert.ok(r.ok, r.ok ? "" : describe(r.error));
  assert.equal(text(r.value), "read after 300");
  assert.equal(setup.member.stats.executions.get("slow_read"), 2, "retried once, on control");
  assert.ok(!w.ok && w.error instanceof ConnectionError && w.error.channel === "data", w.ok ? "ok" : describe(w.error));
  await sleep(400);
  assert.equal(setup.member.stats.executions.get("slow"), 1, "never re-executed");
  setup.data.restore();
  await waitFor(() => proxy.getServerStatus("half")?.state === "connected", 5_000, "connected again");
});

Deno.test("Fault: member frozen: heartbeat takes both channels down within interval + timeout, calls time out, later calls fail fast", async () => {
  await using setup = await relayedMember("frozen");
  const heartbeatInterval = 200;
  const heartbeatTimeout = 200;
  await using proxy = newProxy({ heartbeatInterval, heartbeatTimeout });
  await proxy.registerServer(setup.config);
  // Idle for a whole interval, so that the data channel is pinged by the next heartbeat too.
  await sleep(heartbeatInterval + 50);
  for (const relay of setup.relays) relay.mode = "blackhole";
  const frozenAt = performance.now();
  const during = await Promise.all(
    (["control", "data"] as const).map((channel) =>
      settle(proxy.callTool("frozen", "increment", {}, { channel, timeout: 150 }), 2_000, channel)
    ),
  );
  for (const outcome of during) {
    assert.ok(!outcome.ok && outcome.error instanceof TimeoutError, outcome.ok ? "ok" : describe(outcome.error));
    assert.equal(outcome.error.timeoutMs, 150);
    assert.ok(outcome.ms < 600, `timed out after ${outcome.ms}ms`);
  }
  await waitFor(() => !proxy.getConnectedServers().includes("frozen"), 2_000, "unusable");
  const detected = performance.now() - frozenAt;
  // One interval until the next heartbeat, one timeout for its ping, and scheduling slack on a busy machine.
  assert.ok(detected <= heartbeatInterval + heartbeatTimeout + 300, `detected after ${detected}ms`);
  const status = proxy.getServerStatus("frozen")!;
  assert.notEqual(status.channels.control?.state, "up");
  assert.notEqual(status.channels.data?.state, "up");
  // Once it is known down, a call does not wait for a timeout: it fails at once.
  const late = await settle(proxy.callTool("frozen", "increment"), 1_000, "late call");
  assert.ok(!late.ok && late.error instanceof ConnectionError, late.ok ? "ok" : describe(late.error));
  assert.ok(late.ms < 100, `failed after ${late.ms}ms`);
  for (const relay of setup.relays) {
    relay.restore();
    relay.reset();
  }
  await waitFor(() => proxy.getServerStatus("frozen")?.state === "connected", 5_000, "connected again");
  assert.equal(text(await proxy.callTool("frozen", "echo", { text: "thawed" })), "thawed");
});

Deno.test("Fault: one-way freeze (answers lost): the call times out, ran exactly once, and is never retried", async () => {
  await using setup = await relayedMember("oneway");
  await using proxy = newProxy({ heartbeatInterval: 60_000 });
  await proxy.registerServer(setup.config);
  await proxy.listTools("oneway");
  for (const relay of setup.relays) {
    relay.mode = "blackhole";
    relay.direction = "downstream";
  }
  for (const channel of ["control", "data"] as const) {
    const outcome = await settle(
      proxy.callTool("oneway", "record", { id: `oneway-${channel}` }, { channel, timeout: 200 }),
      2_000,
      channel,
    );
    assert.ok(!outcome.ok && outcome.error instanceof TimeoutError, outcome.ok ? "ok" : describe(outcome.error));
  }
  // The requests reached the member (only the answers were lost): each ran once, and a timeout is not retried.
  await sleep(200);
  assert.deepEqual([...setup.member.stats.ids].sort(), ["oneway-control", "oneway-data"]);
  assert.equal(setup.member.stats.duplicates, 0);
});

Deno.test("Fault: control black-holed then restored: degraded, then connected; no call of a non-idempotent tool runs twice", async () => {
  await using setup = await relayedMember("holed");
  await using proxy = newProxy({ routing: "control" });
  await proxy.registerServer(setup.config);
  const states: string[] = [];
  for (const type of ["connected", "degraded", "reconnecting", "disconnected"] as const) {
    proxy.addEventListener(type, (e) => states.push(e.type));
  }
  const outcomes: Promise<{ id: string; ok: boolean; error?: unknown }>[] = [];
  let seq = 0;
  let running = true;
  const load = (async () => {
    while (running) {
      const id = `holed-${seq++}`;
      const call = proxy.callTool("holed", "record", { id }, { timeout: 300 }).then(
        () => ({ id, ok: true }),
        (error) => ({ id, ok: false, error }),
      );
      outcomes.push(call);
      await Promise.race([call, sleep(20)]);
      // A timer turn each round: calls that fail at once (microtasks only) must not starve the timers that end the loop.
      await sleep(0);
    }
  })();
  try {
    await sleep(200);
    setup.control.mode = "blackhole";
    await waitFor(() => proxy.getServerStatus("holed")?.state === "degraded", 3_000, "degraded");
    await sleep(300); // calls go over data meanwhile
    setup.control.restore();
    await waitFor(() => proxy.getServerStatus("holed")?.state === "connected", 5_000, "connected again");
    await sleep(200);
  } finally {
    // Also when a wait above fails: an endless load loop would take the whole test run down (out of memory).
    running = false;
    await load;
  }
  const results = await Promise.all(outcomes);
  const ok = results.filter((r) => r.ok);
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) {
    assert.ok(
      r.error instanceof TimeoutError || r.error instanceof ConnectionError,
      `${r.id}: ${describe(r.error)}`,
    );
  }
  const stats = setup.member.stats;
  // Held requests may be delivered after the hole closes: give them time to land before counting.
  await sleep(100);
  assert.equal(stats.duplicates, 0, "no call executed twice");
  for (const r of ok) assert.ok(stats.ids.has(r.id), `${r.id} succeeded without running`);
  assert.ok(stats.ids.size <= ok.length + failed.length);
  assert.ok(ok.length > failed.length, `ok ${ok.length}, failed ${failed.length}: calls went over data while degraded`);
  assert.deepEqual(states.slice(0, 1), ["degraded"]);
  assert.equal(states.at(-1), "connected");
  assert.ok(!states.includes("disconnected"));
});

Deno.test("Fault: flapping member: reconnect attempts follow exponential backoff with full jitter (counted at the relay)", async () => {
  await using setup = await relayedMember("flappy", { data: false });
  const policy = { initialDelay: 50, multiplier: 2, maxDelay: 400, resetAfter: 300 };
  await using proxy = newProxy({ backoff: policy, heartbeatInterval: 60_000 });
  await proxy.registerServer(setup.config);
  const relay = setup.control;
  const cap = (attempt: number) => Math.min(policy.maxDelay, policy.initialDelay * policy.multiplier ** attempt);
  // Flap: down for 2 s (attempts counted), up until connected and stable, four times.
  for (let cycle = 0; cycle < 4; cycle++) {
    const window = cycle === 0 ? 2_000 : 700;
    const from = relay.accepted;
    const downAt = performance.now();
    relay.down();
    await sleep(window);
    const attempts = relay.acceptedAt.slice(from);
    const inWindow = attempts.filter((t) => t - downAt <= window).length;
    // Each wait is uniform in [0, cap(k)]: never longer than the cap (plus scheduling slack)…
    let previous = downAt;
    attempts.forEach((t, k) => {
      assert.ok(t - previous <= cap(k) + 150, `cycle ${cycle}: wait ${k} was ${t - previous}ms, cap ${cap(k)}ms`);
      previous = t;
    });
    if (cycle === 0) {
      // …so at least as many attempts as the caps allow in 2 s (50+100+200+400·4 = 1950 ms: 7), less slack;
      // and far fewer than without backoff (the expectation with full jitter is about 12).
      assert.ok(inWindow >= 5, `${inWindow} attempts in ${window}ms`);
      assert.ok(inWindow <= 25, `${inWindow} attempts in ${window}ms`);
      const total = relay.acceptedAt.at(-1)! - downAt;
      assert.ok(total > 500, `the ${inWindow} waits add up to ${total}ms: there is no backoff`);
    }
    assert.equal(proxy.getServerStatus("flappy")?.state, "reconnecting");
    relay.restore();
    await waitFor(() => proxy.getServerStatus("flappy")?.state === "connected", 2_000, `connected (cycle ${cycle})`);
    // The attempt count resets only after resetAfter of uptime: stay up that long.
    await sleep(policy.resetAfter + 50);
  }
  assert.equal(text(await proxy.callTool("flappy", "echo", { text: "steady" })), "steady");
});

Deno.test("Fault: backoff.maxAttempts: the proxy stops after that many attempts per channel and the member is disconnected", async () => {
  await using setup = await relayedMember("quitter");
  await using proxy = newProxy({
    backoff: { initialDelay: 20, maxDelay: 40, maxAttempts: 3 },
    heartbeatInterval: 100,
    heartbeatTimeout: 100,
  });
  await proxy.registerServer(setup.config);
  const disconnected = new Promise<void>((resolve) => proxy.addEventListener("disconnected", () => resolve()));
  const before = setup.control.accepted;
  for (const relay of setup.relays) relay.down();
  // The control socket sees the cut at once; the data channel (no socket of its own) at its next heartbeat.
  const outcome = await settle(disconnected, 2_000, "disconnected event");
  assert.ok(outcome.ok);
  const settled = setup.relays.map((r) => r.accepted);
  await sleep(300);
  assert.deepEqual(setup.relays.map((r) => r.accepted), settled, "no attempt after giving up");
  // A WebSocket attempt is exactly one TCP connection.
  assert.equal(setup.control.accepted - before, 3);
  const status = proxy.getServerStatus("quitter")!;
  assert.equal(status.state, "disconnected");
  assert.equal(status.channels.control?.reconnectAttempts, 3);
  assert.equal(status.channels.data?.reconnectAttempts, 3);
  assert.equal(status.channels.control?.state, "down");
  assert.equal(status.channels.data?.state, "down");
  assert.deepEqual(proxy.getConnectedServers(), []);
  const call = await settle(proxy.callTool("quitter", "echo", { text: "x" }), 500, "call");
  assert.ok(!call.ok && call.error instanceof ConnectionError, call.ok ? "ok" : describe(call.error));
  assert.ok(call.ms < 100, `failed after ${call.ms}ms`);
});

Deno.test("Fault: member restarted with new sessions: both channels re-initialize and no caller sees an error", async () => {
  // Legacy: this test is about sessions (a 404 for the old session id, re-initialize and retry once).
  await using setup = await relayedMember("reborn", { era: "legacy" });
  await using proxy = newProxy({ heartbeatInterval: 60_000 });
  await proxy.registerServer(setup.config);
  const firstInfo = proxy.getServerStatus("reborn")!.serverInfo;
  for (const channel of ["control", "data"] as const) {
    assert.equal(text(await proxy.callTool("reborn", "channel", {}, { channel })), channel);
  }
  await setup.member.stop();
  await setup.member.restart();
  // The data channel still holds the old session id: the member answers 404, the proxy re-initializes and retries
  // once, transparently: the call ran exactly once.
  assert.equal(
    text(await proxy.callTool("reborn", "record", { id: "after-restart" }, { channel: "data" })),
    "after-restart",
  );
  // The control socket was closed by the restart: it reconnects (new initialize) on its own.
  await waitFor(() => proxy.getServerStatus("reborn")?.state === "connected", 3_000, "connected");
  assert.equal(
    text(await proxy.callTool("reborn", "record", { id: "on-control" }, { channel: "control" })),
    "on-control",
  );
  assert.deepEqual([...setup.member.stats.ids], ["after-restart", "on-control"]);
  assert.equal(setup.member.stats.duplicates, 0);
  assert.deepEqual(setup.member.handle.sessionCount(), { control: 1, data: 1 });
  assert.deepEqual(proxy.getServerStatus("reborn")!.serverInfo, firstInfo);
});

Deno.test("Fault: slow member: its calls time out per call while another member's calls keep their latency", async () => {
  await using slow = await relayedMember("slowpoke");
  await using quick = await relayedMember("quick");
  await using proxy = newProxy({ heartbeatInterval: 60_000 });
  await proxy.registerServer(slow.config);
  await proxy.registerServer(quick.config);
  async function quickLatencies(n: number): Promise<number[]> {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      await proxy.callTool("quick", "echo", { text: "q" });
      ms.push(performance.now() - started);
    }
    return ms.sort((a, b) => a - b);
  }
  await quickLatencies(20); // warm-up
  const baseline = await quickLatencies(50);
  // The slow member: 300 ms added on every chunk, and 50 long calls in flight.
  for (const relay of slow.relays) {
    relay.mode = "delay";
    relay.delayMs = 300;
  }
  const slowCalls = Array.from(
    { length: 50 },
    (_, i) => settle(proxy.callTool("slowpoke", "slow", { ms: 1_000 }, { timeout: 150 + i }), 3_000, `slow ${i}`),
  );
  const during = await quickLatencies(50);
  const outcomes = await Promise.all(slowCalls);
  outcomes.forEach((outcome, i) => {
    assert.ok(!outcome.ok && outcome.error instanceof TimeoutError, outcome.ok ? "ok" : describe(outcome.error));
    assert.equal(outcome.error.timeoutMs, 150 + i);
    assert.ok(outcome.ms < 150 + i + 400, `call ${i} with timeout ${150 + i}ms ended after ${outcome.ms}ms`);
  });
  const p50 = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
  const p90 = (xs: number[]) => xs[Math.floor(xs.length * 0.9)]!;
  assert.ok(
    p50(during) <= Math.max(3 * p50(baseline), p50(baseline) + 10),
    `quick p50 ${p50(during).toFixed(2)}ms vs ${p50(baseline).toFixed(2)}ms before`,
  );
  assert.ok(p90(during) < 100, `quick p90 ${p90(during).toFixed(2)}ms`);
  assert.equal(proxy.getServerStatus("quick")?.state, "connected");
});

Deno.test("Fault: proxy close() under load: 300 pending calls on 3 members all settle, with ConnectionError", async () => {
  const setups = await Promise.all(["load-a", "load-b", "load-c"].map((id) => relayedMember(id)));
  try {
    const proxy = newProxy({ heartbeatInterval: 60_000 });
    for (const setup of setups) await proxy.registerServer(setup.config);
    const calls = Array.from({ length: 300 }, (_, i) => {
      const serverId = setups[i % 3]!.config.serverId;
      const channel = i % 2 ? "control" as const : "data" as const;
      return i % 5 === 0
        ? proxy.callTool(serverId, "echo", { text: String(i) }, { channel })
        : proxy.callTool(serverId, "slow", { ms: 5_000 }, { channel });
    });
    await waitFor(
      () => setups.reduce((n, s) => n + (s.member.stats.executions.get("slow") ?? 0), 0) === 240,
      5_000,
      "240 slow calls under way",
    );
    const started = performance.now();
    const closing = proxy.close();
    const outcomes = await Promise.all(calls.map((call, i) => settle(call, 3_000, `call ${i}`)));
    await closing;
    const closeMs = performance.now() - started;
    const kinds = tally(outcomes.filter((o) => !o.ok).map((o) => describe((o as { error: unknown }).error)));
    for (const kind of Object.keys(kinds)) assert.match(kind, /^ConnectionError:/);
    assert.equal(outcomes.filter((o) => !o.ok).length >= 240, true, JSON.stringify(kinds));
    assert.ok(closeMs < 2_500, `close() took ${closeMs}ms`);
    assert.equal(await proxy.closed(), undefined);
    await sleep(100);
    for (const setup of setups) assert.deepEqual(setup.member.handle.sessionCount(), { control: 0, data: 0 });
  } finally {
    for (const setup of setups) await setup[Symbol.asyncDispose]();
  }
});
