// Recovery in about a second (issue 17 §4): a restarted member is picked up as soon as it listens again, whatever its
// history of flapping: the `/healthz` probe between backoff attempts, a call starting an attempt at once, and the
// attempt count reset after a short uptime. The pick-up time of the flapping scenario is measured by the benchmark
// case `recovery-flap` (tests/bench/recovery_flap.ts); here, correctness.
import assert from "node:assert/strict";
import { ConnectionError, FederationProxy, type FederationProxyOptions } from "../../mod.ts";
import { SECRET, TestMember, waitFor } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { sleep } from "../../packages/core/_sleep.ts";

/** A backoff that never retries within a test: only the probe or a call can bring the member back in time. */
const NEVER = { initialDelay: 60_000, maxDelay: 60_000, minDelay: 60_000 };

function newProxy(options: FederationProxyOptions = {}): FederationProxy {
  return new FederationProxy(SECRET, {
    logger: quiet,
    heartbeatInterval: 100,
    heartbeatTimeout: 200,
    connectTimeout: 1_000,
    ...options,
  });
}

function text(result: { content: unknown }): string {
  return (result.content as { text: string }[])[0]!.text;
}

async function stopped(proxy: FederationProxy, member: TestMember): Promise<void> {
  await member.stop();
  await waitFor(() => proxy.getServerStatus(member.serverId)?.state === "reconnecting", 3_000, "reconnecting");
}

Deno.test("FederationProxy picks up a restarted member by its /healthz probe, long before the backoff delay ends", async () => {
  await using member = await TestMember.start("probed");
  await using proxy = newProxy({ backoff: NEVER });
  await proxy.registerServer(member.config);
  await stopped(proxy, member);
  // Probing a member that is not there changes nothing.
  await sleep(500);
  assert.equal(proxy.getServerStatus("probed")?.state, "reconnecting");
  await member.restart();
  await waitFor(() => proxy.getServerStatus("probed")?.state === "connected", 5_000, "connected by the probe");
  assert.equal(text(await proxy.callTool("probed", "echo", { text: "back" })), "back");
});

Deno.test("FederationProxy with probeInterval 0 does not probe: the member stays down until its backoff delay ends", async () => {
  await using member = await TestMember.start("unprobed");
  await using proxy = newProxy({ backoff: { ...NEVER, probeInterval: 0 } });
  await proxy.registerServer(member.config);
  await stopped(proxy, member);
  await member.restart();
  await sleep(1_000);
  assert.equal(proxy.getServerStatus("unprobed")?.state, "reconnecting");
});

Deno.test("FederationProxy: a call to a reconnecting member starts an attempt at once and runs when it succeeds", async () => {
  await using member = await TestMember.start("woken");
  await using proxy = newProxy({ backoff: { ...NEVER, probeInterval: 0 } });
  await proxy.registerServer(member.config);
  await stopped(proxy, member);
  // Nothing listens: the attempt the call starts fails, and so does the call, with the member's connection error.
  await assert.rejects(proxy.callTool("woken", "echo", { text: "down" }), ConnectionError);
  assert.equal(proxy.getServerStatus("woken")?.state, "reconnecting");
  await member.restart();
  // Calls start at most one attempt per channel every 100 ms.
  await sleep(150);
  // No probe and a 60 s backoff: only the call itself can have reconnected the member.
  assert.equal(text(await proxy.callTool("woken", "echo", { text: "woken" })), "woken");
  assert.notEqual(proxy.getServerStatus("woken")?.state, "reconnecting");
});

Deno.test("FederationProxy: a member flapping 5 times with the default backoff is picked up each time and calls work again", async () => {
  await using member = await TestMember.start("flappy");
  await using proxy = newProxy();
  await proxy.registerServer(member.config);
  // Long enough down for the backoff to grow past its cap, and up too briefly to reset it (resetAfter).
  const downFor = [300, 1_500, 3_000, 600, 2_500];
  for (const [round, ms] of downFor.entries()) {
    await stopped(proxy, member);
    await sleep(ms);
    await member.restart();
    await waitFor(() => proxy.getServerStatus("flappy")?.state === "connected", 5_000, `connected (round ${round})`);
    for (const channel of ["control", "data"] as const) {
      const result = await proxy.callTool("flappy", "echo", { text: `round ${round}` }, { channel });
      assert.equal(text(result), `round ${round}`);
    }
    await sleep(200);
  }
  const attempts = proxy.getServerStatus("flappy")!.channels.control!.reconnectAttempts;
  assert.ok(attempts > 0, "the short uptimes kept the attempt count");
});
