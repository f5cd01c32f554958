/**
 * Case 3: the gateway hop, in both eras. An SDK client calling a member through our gateway (Streamable HTTP in,
 * the proxy's routed channel out) against the same kind of client calling the member directly over Streamable
 * HTTP: a 2025-11-25 client (a session, SSE or JSON answers) and a 2026-07-28 client (stateless). All of them, and
 * the floors (an SDK client over the member's WebSocket, a raw WebSocket echo), run interleaved in one
 * measurement per routing policy, so that each ratio has its limit in view. Member, gateway and clients each run
 * in a process of their own (the clients in the harness's).
 *
 * @module
 */

import type { RoutingPolicy } from "../../packages/proxy/options.ts";
import {
  bearer,
  closeClient,
  ECHO_TEXT,
  gatewayPending,
  httpClient,
  modernClient,
  sdkClient,
  startGateway,
  startMembers,
} from "./_clients.ts";
import { rawEcho } from "./control_floor.ts";
import { type BenchCase, type BenchContext, type BenchRow, formatLatency, formatRatio, skippedRow } from "./_report.ts";
import { interleave, pairRatio } from "./_stats.ts";

const GOAL = 1.3;

async function run(context: BenchContext): Promise<BenchRow[]> {
  const pending = await gatewayPending();
  if (pending) {
    return [skippedRow("SDK → gateway → member vs SDK → member (Streamable HTTP)", `≤ ${GOAL}× p50`, pending)];
  }
  const counts = context.quick ? { rounds: 4, perRound: 25, warmup: 25 } : { rounds: 12, perRound: 100, warmup: 200 };
  await using members = await startMembers({ echo: true });
  const member = members.info.members[0]!;
  const args = { text: ECHO_TEXT };
  const authorization = await bearer(member.serverId);
  const direct = await httpClient(member.data, authorization);
  const directModern = await modernClient(member.data, authorization);
  const directSocket = await sdkClient(member, "control");
  const echo = await rawEcho(members.info.echo!);
  const rows: BenchRow[] = [];
  try {
    // Quick runs (CI) keep only the default routing, which the first goal is about. Full runs add the proxy speaking
    // 2025-11-25 first to the dual-era member (`eraPreference: "legacy"`), to show what the default's 2026-07-28
    // upstream costs (reported, not judged: the goals are about the defaults).
    const setups: { routing: RoutingPolicy; upstream?: "legacy" }[] = context.quick ? [{ routing: "auto" }] : [
      { routing: "auto" },
      { routing: "control" },
      { routing: "data" },
      { routing: "auto", upstream: "legacy" },
      { routing: "data", upstream: "legacy" },
    ];
    for (const { routing, upstream } of setups) {
      context.log(
        `gateway_hop: routing ${routing}${
          upstream ? ", 2025-11-25 upstream" : ""
        }, both eras and the floors interleaved`,
      );
      const gateway = await startGateway([member], { routing, ...(upstream ? { eraPreference: upstream } : {}) });
      const viaGateway = await httpClient(gateway.url);
      const viaGatewayModern = await modernClient(gateway.url);
      const tool = `${member.serverId}__echo`;
      try {
        const result = await interleave([
          () => viaGateway.callTool({ name: tool, arguments: args }),
          () => viaGatewayModern.callTool({ name: tool, arguments: args }),
          () => directSocket.callTool({ name: "echo", arguments: args }),
          echo.op,
          () => directModern.callTool({ name: "echo", arguments: args }),
          () => direct.callTool({ name: "echo", arguments: args }),
        ], counts);
        const [legacy, modern, socket, raw, baseModern, base] = result.summaries as [
          typeof result.summaries[0],
          typeof result.summaries[0],
          typeof result.summaries[0],
          typeof result.summaries[0],
          typeof result.summaries[0],
          typeof result.summaries[0],
        ];
        const floors = `floors: SDK over the member's WebSocket ${formatLatency(socket)}, raw WebSocket echo ${
          formatLatency(raw)
        }`;
        const isDefault = routing === "auto" && !upstream;
        for (
          const era of [
            { name: "2025-11-25", ours: legacy, theirs: base, ratio: pairRatio(result, 0, 5) },
            { name: "2026-07-28", ours: modern, theirs: baseModern, ratio: pairRatio(result, 1, 4) },
          ]
        ) {
          rows.push({
            measure: `SDK → gateway → member vs SDK → member (Streamable HTTP, ${era.name}), routing ${routing}${
              isDefault ? " (default)" : ""
            }${upstream ? ", proxy speaking 2025-11-25 to the member (eraPreference legacy)" : ""}`,
            ours: formatLatency(era.ours),
            baseline: formatLatency(era.theirs),
            throughput: "—",
            ratio: formatRatio(era.ratio),
            goal: upstream ? "report" : `≤ ${GOAL}× p50`,
            met: upstream ? undefined : era.ratio <= GOAL,
            note: floors,
            data: {
              routing,
              upstream: upstream ?? "modern",
              era: era.name,
              ours: era.ours,
              baseline: era.theirs,
              ratio: era.ratio,
              floors: { sdkWebSocket: socket, rawEcho: raw },
            },
          });
        }
      } finally {
        await closeClient(viaGateway);
        await closeClient(viaGatewayModern);
        await gateway.child.kill();
      }
    }
  } finally {
    echo.close();
    await closeClient(direct);
    await closeClient(directModern);
    await closeClient(directSocket);
  }
  return rows;
}

/** Case 3. */
export const gatewayHop: BenchCase = { id: "gateway_hop", title: "3 Gateway hop", run };
