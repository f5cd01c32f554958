/**
 * Case 6: the federated catalog, `tools/list` fan-out. Cold `listTools()` over 10, 100 and 1,000 members × 20 tools
 * (40 members in quick runs) (a new catalog each time, against the same lists fetched in parallel with
 * `proxy.listTools()`, without federation: the floor), and warm (cached, within the members' cache hints)
 * `listTools()`.
 *
 * @module
 */

import { FederatedCatalog } from "../../packages/proxy/catalog.ts";
import { memberConfig, newProxy, startMembers } from "./_clients.ts";
import { type BenchCase, type BenchContext, type BenchRow, formatLatency, formatRatio, skippedRow } from "./_report.ts";
import { compareInterleaved, summarize, timeSequential } from "./_stats.ts";

const TOOLS = 20;
const GOAL_WARM_MS = 1;

async function fanOut(size: number, context: BenchContext): Promise<BenchRow[]> {
  const counts = context.quick ? { cold: 2, warm: 200 } : { cold: size >= 1_000 ? 3 : 10, warm: 2_000 };
  await using members = await startMembers({ members: size, tools: TOOLS, prefix: `cat${size}` }, 120_000);
  const served = members.info.members;
  // A thousand members connecting at once on a loaded 2-core machine need more than the default connect timeout.
  await using proxy = newProxy({ connectTimeout: 120_000 });
  await Promise.all(served.map((m) => proxy.registerServer(memberConfig(m))));
  let listed = 0;
  const cold = () => new FederatedCatalog(proxy).listTools().then((tools) => listed = tools.length);
  const raw = () => Promise.all(served.map((m) => proxy.listTools(m.serverId)));
  context.log(`catalog: ${size} members, cold`);
  const coldResult = await compareInterleaved(cold, raw, { rounds: counts.cold, perRound: 1, warmup: 1 });
  context.log(`catalog: ${size} members, warm`);
  const catalog = proxy.catalog;
  await catalog.listTools();
  const warm = summarize(await timeSequential(() => catalog.listTools(), counts.warm));
  return [
    {
      measure: `cold catalog.listTools(), ${size} members × ${TOOLS} tools, vs ${size} parallel proxy.listTools()`,
      ours: formatLatency(coldResult.a),
      baseline: formatLatency(coldResult.b),
      throughput: "—",
      ratio: formatRatio(coldResult.ratio),
      goal: "report",
      met: undefined,
      note: `${listed} tools listed; new catalog per sample (the floor: the members' own lists, fetched in parallel)`,
      data: { members: size, ...coldResult, tools: listed },
    },
    {
      measure: `warm catalog.listTools(), ${size} members (cached; the members' cache hints honoured)`,
      ours: formatLatency(warm),
      baseline: "—",
      throughput: "—",
      ratio: "—",
      goal: `≤ ${GOAL_WARM_MS} ms p50`,
      met: warm.p50 <= GOAL_WARM_MS,
      data: { members: size, warm },
    },
  ];
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const sizes = context.quick ? [40] : [10, 100, 1_000];
  const rows: BenchRow[] = [];
  for (const size of sizes) {
    try {
      rows.push(...await fanOut(size, context));
    } catch (error) {
      // One size failing (a timeout at 1,000 members) keeps the others' rows.
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      rows.push(skippedRow(`catalog.listTools(), ${size} members × ${TOOLS} tools`, "report", `failed: ${reason}`));
    }
  }
  return rows;
}

/** Case 6. */
export const catalog: BenchCase = { id: "catalog", title: "6 Catalog", run };
