/**
 * Case 7: recovery. A member process is killed (SIGKILL) and restarted on the same port while calls run:
 * the time from "member back" (its ready line) to the first successful call, and how calls ended: each must end
 * in a result or a typed `FederationError`; a call that hangs or rejects with anything else is lost.
 *
 * @module
 */

import { FederationError } from "../../packages/core/errors.ts";
import type { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { DEFAULT_BACKOFF } from "../../packages/proxy/options.ts";
import { ECHO_TEXT, memberConfig, newProxy, sleep, startMembers } from "./_clients.ts";
import type { MemberProcess } from "./_clients.ts";
import { type BenchCase, type BenchContext, type BenchRow, formatMs } from "./_report.ts";
import { median } from "./_stats.ts";
import { freePort } from "../_support/ports.ts";

const WORKERS = 4;
const CALL_TIMEOUT = 2_000;
/** Uptime after which the backoff resets, shortened so that every round starts from the initial delay. */
const RESET_AFTER = 1_000;
/** Pause of a worker after a failed call, so that failing fast does not spin a core. */
const ERROR_PAUSE = 2;

interface Outcomes {
  ok: number;
  typed: Map<string, number>;
  untyped: number;
}

async function waitConnected(proxy: FederationProxy, serverId: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (proxy.getServerStatus(serverId)?.state !== "connected" && performance.now() < deadline) await sleep(5);
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const rounds = context.quick ? 2 : 6;
  const initialDelay = DEFAULT_BACKOFF.initialDelay;
  const goal = initialDelay + 50;
  const port = freePort();
  let members: MemberProcess = await startMembers({ port });
  const member = members.info.members[0]!;
  await using proxy = newProxy({ backoff: { resetAfter: RESET_AFTER } });
  await proxy.registerServer(memberConfig(member));

  const outcomes: Outcomes = { ok: 0, typed: new Map(), untyped: 0 };
  let lastSuccess = 0;
  let running = true;
  const pending = new Set<Promise<unknown>>();
  const worker = async () => {
    while (running) {
      const call = proxy.callTool(member.serverId, "echo", { text: ECHO_TEXT }, { timeout: CALL_TIMEOUT });
      pending.add(call);
      try {
        await call;
        outcomes.ok++;
        lastSuccess = performance.now();
      } catch (error) {
        if (error instanceof FederationError) {
          outcomes.typed.set(error.code, (outcomes.typed.get(error.code) ?? 0) + 1);
        } else outcomes.untyped++;
        await sleep(ERROR_PAUSE);
      } finally {
        pending.delete(call);
      }
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);
  const recoveries: number[] = [];
  const outages: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      // Both channels up for longer than resetAfter: every round starts from the initial backoff delay.
      await waitConnected(proxy, member.serverId);
      await sleep(RESET_AFTER + 200);
      context.log(`recovery: round ${round + 1}/${rounds}`);
      const killed = performance.now();
      await members.child.kill("SIGKILL");
      members = await startMembers({ port });
      const back = performance.now();
      outages.push(back - killed);
      const deadline = back + 10_000;
      while (lastSuccess < back && performance.now() < deadline) await sleep(1);
      recoveries.push(lastSuccess >= back ? lastSuccess - back : Infinity);
    }
  } finally {
    running = false;
    await Promise.race([Promise.all(workers), sleep(CALL_TIMEOUT + 1_000)]);
    await members.child.kill();
  }
  const lost = pending.size + outcomes.untyped;
  const typed = [...outcomes.typed].map(([code, n]) => `${code} ${n}`).join(", ") || "none";
  const worst = Math.max(...recoveries);
  return [
    {
      measure: `member SIGKILLed and restarted (${rounds}×): member back → first successful call`,
      ours: `${formatMs(median(recoveries))} p50, ${formatMs(worst)} max`,
      baseline: "—",
      throughput: "—",
      ratio: "—",
      goal: `≤ ${goal} ms (backoff ${initialDelay} ms + 50)`,
      met: worst <= goal,
      note:
        `member down ${
          formatMs(median(outages))
        } p50 (process restart); backoff full jitter from ${initialDelay} ms, ` +
        `resetAfter ${RESET_AFTER} ms; ${WORKERS} callers`,
      data: { recoveries, outages, goalMs: goal },
    },
    {
      measure: "calls lost (hung, or rejected with an untyped error)",
      ours: String(lost),
      baseline: "—",
      throughput: "—",
      ratio: "—",
      goal: "0",
      met: lost === 0,
      note: `${outcomes.ok} results; typed errors: ${typed}`,
      data: {
        ok: outcomes.ok,
        typed: Object.fromEntries(outcomes.typed),
        untyped: outcomes.untyped,
        hung: pending.size,
      },
    },
  ];
}

/** Case 7. */
export const recovery: BenchCase = { id: "recovery", title: "7 Recovery", run };
