/**
 * Case 5: registration at scale. N members served by another process are registered concurrently (the control
 * channel connected, the data channel verified: its MCP connection opens on first use) by a proxy in a fresh process
 * of its own, so that its RSS growth per member is not blurred by the harness: wall time, RSS growth (after a GC; also
 * without V8's young-generation headroom, which a burst grows once per process) and CPU time per member, for N = 100
 * and 1,000 (and, at full counts, 1,000 registered as 2025-11-25 members). The baseline does the same work with plain
 * SDK clients (one per channel per member, both initialized) in a fresh process.
 *
 * Run as a script, this file is that worker process (`--mode proxy|proxy-legacy|sdk`): it reads the members from
 * `--members-file`, connects the first {@link WARMUP} to warm up (JIT, pools), measures the rest, and writes one
 * JSON line, a {@link RegistrationSample}.
 *
 * @module
 */

import process from "node:process";
import v8 from "node:v8";
import { parseArgs } from "node:util";
import type { Client } from "../../packages/core/_sdk.ts";
import type { MemberProcessInfo, ServedMember } from "./bench_member.ts";
import { closeClient, memberConfig, newProxy, sdkClient, sleep, startMembers } from "./_clients.ts";
import { ChildProcess } from "./_process.ts";
import { type BenchCase, type BenchContext, type BenchRow, formatMs, formatRatio } from "./_report.ts";

const GOAL_WALL_MS = 2_000;
const GOAL_KIB_PER_MEMBER = 100;
/** Members registered before measuring, so that one-time growth (JIT code, pools) is not charged per member. */
const WARMUP = 10;

/** What a worker process measured. */
export interface RegistrationSample {
  /** Members connected in the measurement (after the warm-up ones). */
  members: number;
  /** Wall time of the concurrent registration, in ms. */
  wallMs: number;
  /** RSS growth, in bytes, after a GC. */
  rssGrowth: number;
  /** V8 heap growth (used), in bytes, after a GC. */
  heapGrowth: number;
  /** V8 heap growth (committed), in bytes, after a GC. */
  heapTotalGrowth: number;
  /** Growth of memory held outside the V8 heap by JavaScript objects (buffers), in bytes. */
  externalGrowth: number;
  /**
   * Growth of V8's young generation (`new_space`), in bytes, after a GC: empty after a GC, it is headroom the burst
   * of registrations made V8 take (up to its cap, once per process), not memory any member holds.
   */
  newSpaceGrowth: number;
  /** CPU time of the worker process during the registration (user + system), in ms. */
  cpuMs: number;
  /** Members connected (both channels up) at the end. */
  connected: number;
  /** Registrations that failed, and the first error. */
  failed: number;
  /** The first failure's message. */
  firstError?: string;
}

function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function settledMemory(): Promise<Deno.MemoryUsage & { newSpace: number }> {
  collect();
  await sleep(50);
  collect();
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
  return { ...Deno.memoryUsage(), newSpace };
}

/**
 * How a worker connects to members: through a proxy (the members are dual-era, so they are spoken to in 2026-07-28;
 * `proxy-legacy` registers them with `era: "legacy"`, 2025-11-25), or with plain SDK clients (the baseline).
 */
export type RegistrationMode = "proxy" | "proxy-legacy" | "sdk";

interface Connector {
  open(member: ServedMember): Promise<unknown>;
  connected(): number;
  close(): Promise<void>;
}

function proxyConnector(era?: "legacy"): Connector {
  const proxy = newProxy();
  return {
    open: (member) => proxy.registerServer({ ...memberConfig(member), ...(era ? { era } : {}) }),
    connected: () => proxy.getStatus().filter((s) => s.state === "connected").length,
    close: () => proxy.close(),
  };
}

/** What registration does, with the SDK alone: one client per channel, each connected and initialized. */
function sdkConnector(): Connector {
  const clients: Client[] = [];
  return {
    open: async (member) => {
      const pair = await Promise.all([sdkClient(member, "control"), sdkClient(member, "data")]);
      clients.push(...pair);
    },
    connected: () => clients.length / 2,
    close: async () => void await Promise.all(clients.map(closeClient)),
  };
}

async function measure(info: MemberProcessInfo, mode: RegistrationMode): Promise<RegistrationSample> {
  const warmup = info.members.slice(0, WARMUP);
  const measured = info.members.slice(WARMUP);
  const connector = mode === "sdk" ? sdkConnector() : proxyConnector(mode === "proxy-legacy" ? "legacy" : undefined);
  try {
    await Promise.all(warmup.map((m) => connector.open(m)));
    const before = await settledMemory();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const outcomes = await Promise.allSettled(measured.map((m) => connector.open(m)));
    const wallMs = performance.now() - started;
    const { user, system } = process.cpuUsage(cpu);
    const failures = outcomes.flatMap((o) => o.status === "rejected" ? [o.reason] : []);
    const after = await settledMemory();
    return {
      members: measured.length,
      wallMs,
      rssGrowth: after.rss - before.rss,
      heapGrowth: after.heapUsed - before.heapUsed,
      heapTotalGrowth: after.heapTotal - before.heapTotal,
      externalGrowth: after.external - before.external,
      newSpaceGrowth: after.newSpace - before.newSpace,
      cpuMs: (user + system) / 1000,
      connected: connector.connected() - warmup.length,
      failed: failures.length,
      ...(failures.length > 0 ? { firstError: String(failures[0]) } : {}),
    };
  } finally {
    await connector.close();
  }
}

/** Runs one worker process against the members in `file`. */
async function sample(file: string, mode: RegistrationMode): Promise<RegistrationSample> {
  const { child, ready } = await ChildProcess.denoReady<RegistrationSample>(
    new URL(import.meta.url),
    ["--members-file", file, "--mode", mode],
    120_000,
    ["--v8-flags=--expose-gc"],
  );
  await child.kill();
  return ready;
}

function perMember(result: RegistrationSample): { kib: number; net: number; heap: number; cpu: number } {
  const n = result.members;
  return {
    kib: result.rssGrowth / 1024 / n,
    net: (result.rssGrowth - (result.newSpaceGrowth ?? 0)) / 1024 / n,
    heap: result.heapGrowth / 1024 / n,
    cpu: result.cpuMs / n,
  };
}

function describe(result: RegistrationSample): string {
  const { kib, net, heap, cpu } = perMember(result);
  return `${formatMs(result.wallMs)} wall; ${kib.toFixed(0)} KiB RSS (${
    net.toFixed(0)
  } without V8's young-generation ` +
    `headroom; heap used ${heap.toFixed(0)}), ${cpu.toFixed(2)} ms CPU per member`;
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const count of context.quick ? [100] : [100, 1_000]) {
    context.log(`registration: ${count} members`);
    await using members = await startMembers({ members: count + WARMUP, prefix: `r${count}` }, 60_000);
    const file = `${context.tempDir}/members-${count}.json`;
    await Deno.writeTextFile(file, JSON.stringify(members.info));
    // Both workers use the same member process (sessions of the first are closed before the second starts); the
    // order alternates with the size so that neither side always meets a warmer member process.
    // The 2025-11-25 population is measured at full counts only (its own row).
    const legacy: RegistrationMode[] = context.quick || count === 100 ? [] : ["proxy-legacy"];
    const order: RegistrationMode[] = count === 100 ? ["proxy", "sdk"] : ["sdk", "proxy", ...legacy];
    const results: Partial<Record<RegistrationMode, RegistrationSample>> = {};
    for (const mode of order) results[mode] = await sample(file, mode);
    const sdk = results.sdk!;
    rows.push(row(results.proxy!, sdk, `register ${results.proxy!.members} members concurrently`));
    if (results["proxy-legacy"]) {
      const ours = results["proxy-legacy"];
      rows.push(row(ours, sdk, `the same, members registered with era "legacy" (2025-11-25)`));
    }
  }
  return rows;
}

/** One row: our worker against the SDK baseline. */
function row(ours: RegistrationSample, sdk: RegistrationSample, what: string): BenchRow {
  const { kib } = perMember(ours);
  return {
    measure: `${what} (both channels + initialize) vs SDK clients`,
    ours: describe(ours),
    baseline: describe(sdk),
    throughput: `${Math.round(ours.members / (ours.wallMs / 1000))} vs ${
      Math.round(sdk.members / (sdk.wallMs / 1000))
    } members/s`,
    ratio: `wall ${formatRatio(ours.wallMs / sdk.wallMs)}, RSS ${formatRatio(ours.rssGrowth / sdk.rssGrowth)}`,
    goal: `≤ ${GOAL_WALL_MS / 1000} s, ≤ ${GOAL_KIB_PER_MEMBER} KiB/member`,
    met: ours.wallMs <= GOAL_WALL_MS && kib <= GOAL_KIB_PER_MEMBER && ours.connected === ours.members,
    note:
      `${ours.connected}/${ours.members} connected${
        ours.failed > 0 ? ` (${ours.failed} failed: ${ours.firstError})` : ""
      }; ours: control connected, data verified (its MCP connection opens on first use); baseline: 2 plain SDK ` +
      `clients per member, both initialized`,
    data: { proxy: ours, sdk },
  };
}

/** Case 5. */
export const registration: BenchCase = { id: "registration", title: "5 Registration at scale", run };

if (import.meta.main) {
  const { values } = parseArgs({
    options: { "members-file": { type: "string" }, mode: { type: "string", default: "proxy" } },
  });
  const info = JSON.parse(await Deno.readTextFile(values["members-file"]!)) as MemberProcessInfo;
  console.log(JSON.stringify(await measure(info, values.mode as RegistrationMode)));
  Deno.exit(0);
}
