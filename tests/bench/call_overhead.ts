/**
 * Case 1: per-call overhead in process. `proxy.callTool()` against the MCP SDK's own `Client.callTool()` on the
 * same member over the same transport in the same protocol era, for each channel and era, in interleaved rounds.
 *
 * @module
 */

import type { Channel } from "../../packages/core/errors.ts";
import { TestMember } from "../_support/members.ts";
import { closeClient, ECHO_TEXT, ERA_VERSION, newProxy, sdkClient } from "./_clients.ts";
import { type BenchCase, type BenchContext, type BenchRow, formatLatency, formatRatio } from "./_report.ts";
import { compareInterleaved } from "./_stats.ts";

const GOAL = 1.10;
const TRANSPORT: Record<Channel, string> = { control: "WebSocket", data: "Streamable HTTP", stdio: "stdio" };

async function run(context: BenchContext): Promise<BenchRow[]> {
  const counts = context.quick
    ? { rounds: 6, perRound: 40, warmup: 200 }
    : { rounds: 20, perRound: 250, warmup: 2_000 };
  await using member = await TestMember.start("overhead");
  const served = { serverId: member.serverId, control: member.handle.controlUrl!, data: member.handle.dataUrl! };
  const args = { text: ECHO_TEXT };
  const rows: BenchRow[] = [];
  // Each era on both sides: the proxy speaks the era the SDK client speaks (the member serves both).
  for (const era of ["legacy", "modern"] as const) {
    await using proxy = newProxy({ eraPreference: era });
    await proxy.registerServer(member.config);
    for (const channel of ["control", "data"] as const) {
      const client = await sdkClient(served, channel, era);
      try {
        context.log(`call_overhead: ${channel}, ${ERA_VERSION[era]}`);
        const result = await compareInterleaved(
          () => proxy.callTool(member.serverId, "echo", args, { channel }),
          () => client.callTool({ name: "echo", arguments: args }),
          counts,
        );
        rows.push({
          measure: `proxy.callTool vs SDK Client.callTool, ${channel} (${TRANSPORT[channel]}), ${ERA_VERSION[era]}`,
          ours: formatLatency(result.a),
          baseline: formatLatency(result.b),
          throughput: "—",
          ratio: formatRatio(result.ratio),
          goal: `≤ ${GOAL.toFixed(2)}× p50`,
          met: result.ratio <= GOAL,
          note: `p99 ratio ${formatRatio(result.ratioP99)}`,
          data: { channel, era, ...result },
        });
      } finally {
        await closeClient(client);
      }
    }
  }
  return rows;
}

/** Case 1. */
export const callOverhead: BenchCase = { id: "call_overhead", title: "1 Per-call overhead (in process)", run };
