/**
 * Case 6: the federated catalog. Cold `listTools()` over 100 members × 20 tools (40 in quick runs) (a new catalog each time, against
 * the same 100 lists fetched in parallel with `proxy.listTools()`, without federation), and warm (cached)
 * `listTools()`.
 *
 * @module
 */

import { FederatedCatalog } from "../../packages/proxy/catalog.ts";
import { memberConfig, newProxy, startMembers } from "./_clients.ts";
import { type BenchCase, type BenchContext, type BenchRow, formatLatency, formatRatio } from "./_report.ts";
import { compareInterleaved, summarize, timeSequential } from "./_stats.ts";

const MEMBERS = 100;
const TOOLS = 20;
const GOAL_WARM_MS = 1;

async function run(context: BenchContext): Promise<BenchRow[]> {
  const counts = context.quick ? { members: 40, cold: 3, warm: 200 } : { members: MEMBERS, cold: 10, warm: 5_000 };
  await using members = await startMembers({ members: counts.members, tools: TOOLS, prefix: "cat" });
  const served = members.info.members;
  await using proxy = newProxy();
  await Promise.all(served.map((m) => proxy.registerServer(memberConfig(m))));
  let listed = 0;
  const cold = () => new FederatedCatalog(proxy).listTools().then((tools) => listed = tools.length);
  const raw = () => Promise.all(served.map((m) => proxy.listTools(m.serverId)));
  context.log("catalog: cold");
  const coldResult = await compareInterleaved(cold, raw, { rounds: counts.cold, perRound: 1, warmup: 1 });
  context.log("catalog: warm");
  const catalog = proxy.catalog;
  await catalog.listTools();
  const warm = summarize(await timeSequential(() => catalog.listTools(), counts.warm));
  return [
    {
      measure:
        `cold catalog.listTools(), ${MEMBERS} members × ${TOOLS} tools, vs ${MEMBERS} parallel proxy.listTools()`,
      ours: formatLatency(coldResult.a),
      baseline: formatLatency(coldResult.b),
      throughput: "—",
      ratio: formatRatio(coldResult.ratio),
      goal: "report",
      met: undefined,
      note: `${listed} tools listed; new catalog per sample`,
      data: { ...coldResult, tools: listed },
    },
    {
      measure: "warm (cached) catalog.listTools()",
      ours: formatLatency(warm),
      baseline: "—",
      throughput: "—",
      ratio: "—",
      goal: `≤ ${GOAL_WARM_MS} ms p50`,
      met: warm.p50 <= GOAL_WARM_MS,
      data: { warm },
    },
  ];
}

/** Case 6. */
export const catalog: BenchCase = { id: "catalog", title: "6 Catalog", run };
