/**
 * Case 6: the federated catalog, `tools/list` fan-out across 10, 100 and 1,000 members × 20 tools (40 members in
 * quick runs), all served by one member process, each member with both channels and a public cache hint of 60 s on
 * its `tools/list`.
 *
 * - Cold: a new catalog per sample lists every member (at most `listConcurrency` members at a time, the catalog's
 *   default), against the floor: the same members' own lists, fetched with the same bound through
 *   `proxy.listTools()`, without federation. A sample counts the tools listed and the members that failed
 *   (`listFailed`, by error code); the list itself never fails. A sample's catalog does not follow member events
 *   (else every earlier sample's catalog would fetch again on each reconnection).
 * - Warm: `listTools()` on a catalog that has listed (cached, within the members' cache hints; the merged hint is
 *   checked to be the members' own, i.e. the list is complete), against the floor of one member's own `tools/list`
 *   round trip.
 *
 * Registration is setup here, not measured (case 5 measures it): members are registered 64 at a time, so that a
 * loaded machine cannot fail the case before it starts; the connect timeout stays 120 s as a safety.
 *
 * @module
 */

import { FederatedCatalog } from "../../packages/proxy/catalog.ts";
import type { CatalogSource, FederationProxy } from "../../packages/proxy/mod.ts";
import { DEFAULT_LIST_CONCURRENCY } from "../../packages/proxy/catalog/_options.ts";
import { memberConfig, newProxy, startMembers } from "./_clients.ts";
import type { ServedMember } from "./bench_member.ts";
import { type BenchCase, type BenchContext, type BenchRow, formatLatency, formatRatio } from "./_report.ts";
import { compareInterleaved, summarize, timeSequential } from "./_stats.ts";
import { skippedRow } from "./_report.ts";

const TOOLS = 20;
const GOAL_WARM_MS = 1;
/** The cache hint every member gives its `tools/list`, in ms. */
const CACHE_TTL = 60_000;
/** Members registered at a time (setup). */
const REGISTER_AT_ONCE = 64;

/** Runs `task` over `items`, at most `limit` at a time; settles every one. */
async function bounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: "fulfilled", value: await task(items[i]!) };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The proxy as the source of a one-off catalog: the same members and calls, but no events, so that the catalog of an
 * earlier sample does not keep following the members (each would fetch again on every reconnection) once measured.
 */
function unfollowed(proxy: FederationProxy): CatalogSource {
  return new Proxy(proxy, {
    get(target, key) {
      if (key === "addEventListener") return () => {};
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as unknown as CatalogSource;
}

/** Counts errors by code. */
function countCode(counts: Record<string, number>, error: unknown): void {
  const code = (error as { code?: unknown })?.code;
  const key = typeof code === "string" ? code : error instanceof Error ? error.name : "unknown";
  counts[key] = (counts[key] ?? 0) + 1;
}

function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? "0" : entries.map(([code, n]) => `${n} ${code}`).join(", ");
}

async function register(proxy: FederationProxy, served: readonly ServedMember[]): Promise<number> {
  const results = await bounded(served, REGISTER_AT_ONCE, (m) => proxy.registerServer(memberConfig(m)));
  return results.filter((r) => r.status === "fulfilled").length;
}

async function fanOut(size: number, context: BenchContext): Promise<BenchRow[]> {
  const counts = context.quick
    ? { cold: 2, warm: 200, floor: 20 }
    : { cold: size >= 1_000 ? 5 : 10, warm: 2_000, floor: 200 };
  await using members = await startMembers(
    { members: size, tools: TOOLS, prefix: `cat${size}`, cacheTtl: CACHE_TTL },
    120_000,
  );
  const served = members.info.members;
  await using proxy = newProxy({ connectTimeout: 120_000 });
  const registered = await register(proxy, served);
  const ids = proxy.getConnectedServers();

  let listed = 0;
  const failedMembers: Record<string, number> = {};
  const floorFailures: Record<string, number> = {};
  const source = unfollowed(proxy);
  const cold = async () => {
    const catalog = new FederatedCatalog(source);
    catalog.addEventListener("listFailed", (event) => countCode(failedMembers, event.error));
    listed = (await catalog.listTools()).length;
  };
  const floor = async () => {
    const results = await bounded(ids, DEFAULT_LIST_CONCURRENCY, (id) => proxy.listTools(id));
    for (const r of results) if (r.status === "rejected") countCode(floorFailures, r.reason);
  };
  context.log(`catalog: ${size} members, cold`);
  const coldResult = await compareInterleaved(cold, floor, { rounds: counts.cold, perRound: 1, warmup: 1 });

  context.log(`catalog: ${size} members, warm`);
  const catalog = proxy.catalog;
  const warmTools = (await catalog.listTools()).length;
  const hint = catalog.cacheHint("tools");
  const warm = summarize(await timeSequential(() => catalog.listTools(), counts.warm));
  const one = ids[0]!;
  const oneList = summarize(await timeSequential(() => proxy.listTools(one), counts.floor));
  const hintHonoured = hint.ttlMs === CACHE_TTL && hint.cacheScope === "public";
  return [
    {
      measure:
        `cold catalog.listTools(), ${size} members × ${TOOLS} tools, vs the same lists fetched without federation`,
      ours: formatLatency(coldResult.a),
      baseline: formatLatency(coldResult.b),
      throughput: "—",
      ratio: formatRatio(coldResult.ratio),
      goal: "report",
      met: undefined,
      note:
        `${listed} tools listed (${registered}/${size} members registered); member lists failed over all samples: ${
          formatCounts(failedMembers)
        } ` +
        `(floor: ${formatCounts(floorFailures)}); ${DEFAULT_LIST_CONCURRENCY} members at a time on both sides; ` +
        `new catalog per sample`,
      data: { members: size, registered, ...coldResult, tools: listed, failedMembers, floorFailures },
    },
    {
      measure: `warm catalog.listTools(), ${size} members (cached within the members' cache hints), ` +
        `vs one member's own tools/list`,
      ours: formatLatency(warm),
      baseline: formatLatency(oneList),
      throughput: "—",
      ratio: formatRatio(warm.p50 / oneList.p50),
      goal: `≤ ${GOAL_WARM_MS} ms p50`,
      met: warm.p50 <= GOAL_WARM_MS && hintHonoured,
      note: `${warmTools} tools; merged cache hint ttlMs ${hint.ttlMs} ${hint.cacheScope} ` +
        `(members' ${CACHE_TTL} public: ${hintHonoured ? "complete list, hint kept" : "NOT kept"})`,
      data: { members: size, warm, floor: oneList, hint, tools: warmTools },
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
      // One size failing keeps the others' rows.
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      rows.push(skippedRow(`catalog.listTools(), ${size} members × ${TOOLS} tools`, "report", `failed: ${reason}`));
    }
  }
  return rows;
}

/** Case 6. */
export const catalog: BenchCase = { id: "catalog", title: "6 Catalog", run };
