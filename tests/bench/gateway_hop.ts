/**
 * Case 3: the gateway hop. An SDK client calling a member through our gateway (Streamable HTTP in, the proxy's
 * routed channel out) against the same client calling the member directly over Streamable HTTP. Member, gateway
 * and client each run in a process of their own.
 *
 * @module
 */

import type { RoutingPolicy } from "../../packages/proxy/options.ts";
import {
  closeClient,
  ECHO_TEXT,
  gatewayPending,
  httpClient,
  sdkClient,
  startGateway,
  startMembers,
} from "./_clients.ts";
import { type BenchCase, type BenchContext, type BenchRow, formatLatency, formatRatio, skippedRow } from "./_report.ts";
import { compareInterleaved } from "./_stats.ts";

const GOAL = 1.3;

async function run(context: BenchContext): Promise<BenchRow[]> {
  const pending = await gatewayPending();
  if (pending) {
    return [skippedRow("SDK → gateway → member vs SDK → member (Streamable HTTP)", `≤ ${GOAL}× p50`, pending)];
  }
  const counts = context.quick ? { rounds: 6, perRound: 30 } : { rounds: 20, perRound: 150 };
  await using members = await startMembers();
  const member = members.info.members[0]!;
  const args = { text: ECHO_TEXT };
  const direct = await sdkClient(member, "data");
  const rows: BenchRow[] = [];
  try {
    // Quick runs (CI) keep only the default routing, which the goal is about.
    const policies: RoutingPolicy[] = context.quick ? ["auto"] : ["auto", "control", "data"];
    for (const routing of policies) {
      context.log(`gateway_hop: routing ${routing}`);
      const gateway = await startGateway([member], { routing });
      const viaGateway = await httpClient(gateway.url);
      try {
        const result = await compareInterleaved(
          () => viaGateway.callTool({ name: `${member.serverId}__echo`, arguments: args }),
          () => direct.callTool({ name: "echo", arguments: args }),
          counts,
        );
        const isDefault = routing === "auto";
        rows.push({
          measure: `SDK → gateway → member vs SDK → member (Streamable HTTP), routing ${routing}${
            isDefault ? " (default)" : ""
          }`,
          ours: formatLatency(result.a),
          baseline: formatLatency(result.b),
          throughput: "—",
          ratio: formatRatio(result.ratio),
          goal: isDefault ? `≤ ${GOAL}× p50` : "report",
          met: isDefault ? result.ratio <= GOAL : undefined,
          note: `p99 ratio ${formatRatio(result.ratioP99)}`,
          data: { routing, ...result },
        });
      } finally {
        await closeClient(viaGateway);
        await gateway.child.kill();
      }
    }
  } finally {
    await closeClient(direct);
  }
  return rows;
}

/** Case 3. */
export const gatewayHop: BenchCase = { id: "gateway_hop", title: "3 Gateway hop", run };
