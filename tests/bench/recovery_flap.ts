/**
 * Case 7b: recovery of a flapping member (issue 17 §4). A member process is killed (SIGKILL) and restarted on the
 * same port five times, down long enough for the backoff to grow to its cap and up too briefly to reset it, with the
 * proxy's default backoff and no call running: the time from "member back" (its ready line) until the proxy has both
 * channels up again (found by its `/healthz` probe, not by the end of a backoff delay), then one call must succeed.
 *
 * @module
 */

import type { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { DEFAULT_BACKOFF } from "../../packages/proxy/options.ts";
import { ECHO_TEXT, memberConfig, newProxy, sleep, startMembers } from "./_clients.ts";
import type { MemberProcess } from "./_clients.ts";
import { type BenchCase, type BenchContext, type BenchRow, formatMs } from "./_report.ts";
import { median } from "./_stats.ts";
import { freePort } from "../_support/ports.ts";

/** How long the member stays down in each round, in ms. */
const DOWN_FOR = [300, 1_500, 3_000, 600, 2_500];
const GOAL_MS = 1_000;
/** Uptime between rounds: shorter than `resetAfter`, so the attempt count carries over. */
const UP_FOR = 200;

async function waitConnected(proxy: FederationProxy, serverId: string, timeout: number): Promise<boolean> {
  const deadline = performance.now() + timeout;
  while (proxy.getServerStatus(serverId)?.state !== "connected") {
    if (performance.now() > deadline) return false;
    await sleep(2);
  }
  return true;
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const downFor = context.quick ? DOWN_FOR.map((ms) => Math.round(ms / 2)) : DOWN_FOR;
  const port = freePort();
  let members: MemberProcess = await startMembers({ port });
  const member = members.info.members[0]!;
  await using proxy = newProxy();
  await proxy.registerServer(memberConfig(member));
  const pickups: number[] = [];
  const attempts: number[] = [];
  let failedCalls = 0;
  try {
    for (const [round, ms] of downFor.entries()) {
      context.log(`recovery-flap: round ${round + 1}/${downFor.length} (down ${ms} ms)`);
      await members.child.kill("SIGKILL");
      await sleep(ms);
      attempts.push(proxy.getServerStatus(member.serverId)?.channels.control?.reconnectAttempts ?? 0);
      members = await startMembers({ port });
      const back = performance.now();
      const connected = await waitConnected(proxy, member.serverId, 30_000);
      pickups.push(connected ? performance.now() - back : Infinity);
      try {
        await proxy.callTool(member.serverId, "echo", { text: ECHO_TEXT }, { timeout: 2_000 });
      } catch {
        failedCalls++;
      }
      await sleep(UP_FOR);
    }
  } finally {
    await members.child.kill();
  }
  const worst = Math.max(...pickups);
  return [{
    measure: `member flapping (${downFor.length}× SIGKILL, down ${downFor.join("/")} ms, up ${UP_FOR} ms): ` +
      "member back → both channels up, no call running",
    ours: `${formatMs(median(pickups))} p50, ${formatMs(worst)} max`,
    baseline: "—",
    throughput: "—",
    ratio: "—",
    goal: `≤ ${GOAL_MS} ms, every round`,
    met: worst <= GOAL_MS && failedCalls === 0,
    note:
      `default backoff (${DEFAULT_BACKOFF.initialDelay} ms to ${DEFAULT_BACKOFF.maxDelay} ms, /healthz probe every ` +
      `${DEFAULT_BACKOFF.probeInterval} ms); attempts before each return ${attempts.join("/")}; ` +
      `calls failed after pick-up: ${failedCalls}`,
    data: { pickups, attempts, downFor, failedCalls, goalMs: GOAL_MS },
  }];
}

/** Case 7b. */
export const recoveryFlap: BenchCase = { id: "recovery-flap", title: "7b Recovery of a flapping member", run };
