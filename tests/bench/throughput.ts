/**
 * Case 8: throughput. 100 calls in flight across 10 members (in another process) through the proxy, against the
 * same load on plain SDK clients (one per member) over the same transport in the same protocol era, for each channel
 * and era, in interleaved rounds.
 *
 * @module
 */

import type { Client } from "../../packages/core/_sdk.ts";
import { closeClient, ECHO_TEXT, ERA_VERSION, memberConfig, newProxy, sdkClient, startMembers } from "./_clients.ts";
import { type BenchCase, type BenchContext, type BenchRow, formatLatency, formatRate, formatRatio } from "./_report.ts";
import { compareThroughput } from "./_stats.ts";

const MEMBERS = 10;
const IN_FLIGHT = 100;
const GOAL = 0.9;

async function run(context: BenchContext): Promise<BenchRow[]> {
  // The control channel runs ~30k calls/s once warm: many short rounds; the data channel ~2k calls/s.
  const counts = {
    control: context.quick
      ? { rounds: 4, perRound: 1_000, warmup: 2_000 }
      : { rounds: 24, perRound: 4_000, warmup: 40_000 },
    data: context.quick ? { rounds: 2, perRound: 200, warmup: 200 } : { rounds: 10, perRound: 1_500, warmup: 3_000 },
  };
  await using members = await startMembers({ members: MEMBERS });
  const served = members.info.members;
  const args = { text: ECHO_TEXT };
  const rows: BenchRow[] = [];
  // Each era on both sides: the proxy speaks the era the SDK clients speak (the members serve both).
  for (const era of ["legacy", "modern"] as const) {
    await using proxy = newProxy({ eraPreference: era });
    await Promise.all(served.map((m) => proxy.registerServer(memberConfig(m))));
    for (const channel of ["control", "data"] as const) {
      const clients: Client[] = await Promise.all(served.map((m) => sdkClient(m, channel, era)));
      try {
        context.log(`throughput: ${channel}, ${ERA_VERSION[era]}`);
        const result = await compareThroughput(
          (worker) => proxy.callTool(served[worker % MEMBERS]!.serverId, "echo", args, { channel }),
          (worker) => clients[worker % MEMBERS]!.callTool({ name: "echo", arguments: args }),
          { ...counts[channel], inFlight: IN_FLIGHT },
        );
        rows.push({
          measure: `${IN_FLIGHT} in flight over ${MEMBERS} members, proxy vs SDK, ${channel}, ${ERA_VERSION[era]}`,
          ours: formatLatency(result.aLatency),
          baseline: formatLatency(result.bLatency),
          throughput: `${formatRate(result.a)} vs ${formatRate(result.b)}`,
          ratio: formatRatio(result.ratio),
          goal: `≥ ${GOAL}× calls/s`,
          met: result.ratio >= GOAL,
          data: { channel, era, ...result },
        });
      } finally {
        await Promise.all(clients.map(closeClient));
      }
    }
  }
  return rows;
}

/** Case 8. */
export const throughput: BenchCase = { id: "throughput", title: "8 Throughput", run };
