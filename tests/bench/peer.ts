/**
 * Case 4: a peer aggregator side by side. The same member (its Streamable HTTP endpoint) federated by `mcp-hub`
 * (npm, legacy SSE downstream at `/mcp`) and by our gateway; the same SDK client calls the same tool through each:
 * p50 and p99 one call at a time, and calls/s with 50 in flight. Full runs also set the floors beside the hub: the
 * client straight to the member (no hop) and against an HTTP endpoint that answers at once (`bench_instant.ts`). The
 * hub is started and stopped here (temporary config, free port); when it cannot be installed or started in time, the
 * case says so and skips.
 *
 * @module
 */

import { cpuMs } from "./cpu_per_call.ts";
import { type Client, Client as SdkClient, SSEClientTransport } from "../../packages/core/_sdk.ts";
import type { Channel } from "../../packages/core/errors.ts";
import type { EraPreference, RoutingPolicy } from "../../packages/proxy/options.ts";
import type { ServedMember } from "./bench_member.ts";
import {
  bearer,
  closeClient,
  ECHO_TEXT,
  gatewayPending,
  httpClient,
  modernClient,
  sdkClient,
  sleep,
  startGateway,
  startMembers,
} from "./_clients.ts";
import { ChildProcess } from "./_process.ts";
import {
  type BenchCase,
  type BenchContext,
  type BenchRow,
  formatLatency,
  formatRate,
  formatRatio,
  skippedRow,
} from "./_report.ts";
import { compareInterleaved, compareThroughput, type Comparison, type ThroughputComparison } from "./_stats.ts";
import { freePort } from "../_support/ports.ts";

/** The peer, pinned. */
export const MCP_HUB = "npm:mcp-hub@4.2.1";
const IN_FLIGHT = 50;
const GOAL_RATE = 2;
const GOAL_P50 = 0.5;
const MEASURE = `same tool via our gateway vs ${MCP_HUB.slice(4)}`;

interface Hub {
  child: ChildProcess;
  url: string;
}

async function hubReady(port: number, serverName: string): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/api/health`);
    if (!response.ok) {
      await response.body?.cancel();
      return false;
    }
    const health = await response.json() as { servers?: { name: string; status: string }[] };
    return health.servers?.some((s) => s.name === serverName && s.status === "connected") ?? false;
  } catch {
    return false;
  }
}

/** Starts mcp-hub federating `member`; a note saying why instead when it does not come up in time. */
async function startHub(member: ServedMember, context: BenchContext): Promise<Hub | string> {
  const port = freePort();
  const config = `${context.tempDir}/mcp-hub.json`;
  const name = "bench";
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      mcpServers: { [name]: { url: member.data, headers: { Authorization: await bearer(member.serverId) } } },
    }),
  );
  const state = `${context.tempDir}/mcp-hub-home`;
  const child = ChildProcess.spawn("mcp-hub", Deno.execPath(), [
    "run",
    "-A",
    "--quiet",
    MCP_HUB,
    "--port",
    String(port),
    "--config",
    config,
  ], { XDG_STATE_HOME: `${state}/state`, XDG_CONFIG_HOME: `${state}/config`, XDG_DATA_HOME: `${state}/data` });
  const deadline = performance.now() + (context.quick ? 40_000 : 90_000);
  while (performance.now() < deadline) {
    if (await hubReady(port, name)) return { child, url: `http://127.0.0.1:${port}/mcp` };
    await sleep(100);
  }
  await child.kill("SIGKILL");
  const reason = child.stderr.trim().split("\n").slice(-3).join(" ").slice(0, 300);
  return `skipped: ${MCP_HUB} did not serve within the timeout${reason ? ` (${reason})` : ""}`;
}

async function sseClient(url: string): Promise<Client> {
  const client = new SdkClient({ name: "bench-sdk", version: "1.0.0" });
  await client.connect(new SSEClientTransport(new URL(url)));
  return client;
}

async function toolNamed(client: Client, suffix: string): Promise<string> {
  const { tools } = await client.listTools();
  const tool = tools.find((t) => t.name.endsWith(suffix));
  if (!tool) throw new Error(`No tool named *${suffix} among ${tools.map((t) => t.name).join(", ")}`);
  return tool.name;
}

/** CPU ms per call of the gateway and of the hub process under load (each serves only its own side's calls). */
interface CpuPerCall {
  gateway: number;
  hub: number;
}

async function compareWith(
  hub: { client: Client; tool: string; pid: number },
  ours: { client: Client; tool: string; pid: number | undefined },
  context: BenchContext,
): Promise<{ latency: Comparison; load: ThroughputComparison; cpu: CpuPerCall }> {
  const args = { text: ECHO_TEXT };
  const calls = { ours: 0, hub: 0 };
  const viaOurs = () => (calls.ours++, ours.client.callTool({ name: ours.tool, arguments: args }));
  const viaHub = () => (calls.hub++, hub.client.callTool({ name: hub.tool, arguments: args }));
  const latency = await compareInterleaved(
    viaOurs,
    viaHub,
    context.quick ? { rounds: 4, perRound: 25 } : { rounds: 12, perRound: 100, warmup: 500 },
  );
  calls.ours = calls.hub = 0;
  const before = { gateway: ours.pid === undefined ? 0 : cpuMs(ours.pid), hub: cpuMs(hub.pid) };
  const load = await compareThroughput(
    viaOurs,
    viaHub,
    context.quick
      ? { rounds: 2, inFlight: IN_FLIGHT, perRound: 250, warmup: 500 }
      // Ten shorter rounds rather than four long ones: a round's ratio moves by ±20% on a 2-core machine.
      : { rounds: 10, inFlight: IN_FLIGHT, perRound: 500, warmup: 1_000 },
  );
  const cpu = {
    gateway: ours.pid === undefined ? 0 : (cpuMs(ours.pid) - before.gateway) / Math.max(calls.ours, 1),
    hub: (cpuMs(hub.pid) - before.hub) / Math.max(calls.hub, 1),
  };
  return { latency, load, cpu };
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const goal = `≥ ${GOAL_RATE}× calls/s, ≤ ${GOAL_P50}× p50`;
  const pending = await gatewayPending();
  if (pending) return [skippedRow(MEASURE, goal, pending)];
  await using members = await startMembers();
  const member = members.info.members[0]!;
  context.log(`peer: starting ${MCP_HUB}`);
  const hub = await startHub(member, context);
  if (typeof hub === "string") return [skippedRow(MEASURE, goal, hub)];
  const rows: BenchRow[] = [];
  const hubClient = await sseClient(hub.url);
  try {
    const peerSide = { client: hubClient, tool: await toolNamed(hubClient, "echo"), pid: hub.child.pid };
    const variants: {
      channels: Channel[];
      routing?: RoutingPolicy;
      /** The era the proxy speaks first to the dual-era member (the default: modern). */
      upstream?: "legacy";
      era: "2025-11-25" | "2026-07-28";
      label: string;
      judged: boolean;
      quick: boolean;
    }[] = [
      {
        channels: ["control", "data"],
        era: "2025-11-25",
        label: "member with control + data, routing auto (default)",
        judged: true,
        quick: true,
      },
      {
        channels: ["control", "data"],
        routing: "control",
        era: "2025-11-25",
        label: "member with control + data, routing control (upstream on the WebSocket)",
        judged: false,
        quick: false,
      },
      {
        channels: ["data"],
        era: "2025-11-25",
        label: "the same member registered data-only (plain Streamable HTTP, like the hub): equal footing",
        judged: true,
        quick: false,
      },
      {
        channels: ["data"],
        upstream: "legacy",
        era: "2025-11-25",
        label:
          "the same member data-only, the proxy speaking 2025-11-25 to it as the hub does (eraPreference legacy): equal footing, same protocol upstream",
        judged: false,
        quick: false,
      },
      {
        channels: ["control", "data"],
        era: "2026-07-28",
        label: "member with control + data, routing auto (default)",
        judged: true,
        quick: false,
      },
      {
        channels: ["data"],
        era: "2026-07-28",
        label: "the same member registered data-only: equal footing upstream",
        judged: true,
        quick: false,
      },
    ];
    // What no gateway can beat, measured against the hub in the same way (full runs only): the same SDK client
    // straight to the member, no hop at all (a gateway that cost nothing would match it, over the same upstream), and
    // the same client against an HTTP endpoint that answers at once with no member behind it (the least any gateway
    // reached over HTTP costs, before its own work and a member's).
    const floors: {
      label: string;
      note: string;
      connect: () => Promise<{ client: Client; close: () => Promise<void> }>;
    }[] = context.quick ? [] : [
      {
        label: "the SDK client straight to the member over its Streamable HTTP endpoint, 2025-11-25",
        note: "no gateway: the best any gateway over this upstream (the hub's, and data-only rows') could do",
        connect: () => direct(member, "data", "legacy"),
      },
      {
        label: "the SDK client straight to the member over its Streamable HTTP endpoint, 2026-07-28",
        note: "no gateway: the best any gateway over this upstream could do for 2026-07-28 data-only rows",
        connect: () => direct(member, "data", "modern"),
      },
      {
        label: "the SDK client straight to the member over its WebSocket, 2025-11-25",
        note: "no gateway: the best any gateway over our default upstream could do",
        connect: () => direct(member, "control", "legacy"),
      },
      {
        label: "the SDK client against an HTTP endpoint that answers at once, no member (bench_instant.ts), 2025-11-25",
        note: "the client's side of one HTTP hop: what any gateway reached over HTTP costs at least",
        connect: instant,
      },
    ];
    for (const floor of floors) {
      const side = await floor.connect();
      try {
        const { latency, load } = await compareWith(
          peerSide,
          { client: side.client, tool: "echo", pid: undefined },
          context,
        );
        rows.push({
          measure: `floor: ${floor.label}, vs ${MCP_HUB.slice(4)}`,
          ours: formatLatency(latency.a),
          baseline: formatLatency(latency.b),
          throughput: `${formatRate(load.a)} vs ${formatRate(load.b)} (${IN_FLIGHT} in flight)`,
          ratio: `p50 ${formatRatio(latency.ratio)}, calls/s ${formatRatio(load.ratio)}`,
          goal: "report",
          met: undefined,
          note: floor.note,
          data: { floor: floor.label, latency, load },
        });
      } finally {
        await side.close();
      }
    }
    // Quick runs (CI) keep the default variant only.
    for (const variant of variants.filter((v) => v.quick || !context.quick)) {
      context.log(
        `peer: ours (${variant.era}), ${variant.channels.join("+")}, routing ${variant.routing ?? "auto"}, upstream ${
          variant.upstream ?? "modern"
        } first`,
      );
      const gateway = await startGateway([member], {
        channels: variant.channels,
        ...(variant.routing ? { routing: variant.routing } : {}),
        ...(variant.upstream ? { eraPreference: variant.upstream } : {}),
      });
      const ours = variant.era === "2026-07-28" ? await modernClient(gateway.url) : await httpClient(gateway.url);
      try {
        const { latency, load, cpu } = await compareWith(
          peerSide,
          { client: ours, tool: `${member.serverId}__echo`, pid: gateway.child.pid },
          context,
        );
        const p50Ratio = latency.ratio;
        rows.push({
          measure: `${MEASURE}: ${variant.label}; our client ${variant.era}`,
          ours: formatLatency(latency.a),
          baseline: formatLatency(latency.b),
          throughput: `${formatRate(load.a)} vs ${formatRate(load.b)} (${IN_FLIGHT} in flight)`,
          ratio: `p50 ${formatRatio(p50Ratio)}, calls/s ${formatRatio(load.ratio)}`,
          goal: variant.judged ? goal : "report",
          met: variant.judged ? load.ratio >= GOAL_RATE && p50Ratio <= GOAL_P50 : undefined,
          note:
            `hub: SSE client on /mcp (it speaks 2025-11-25 only); ours: Streamable HTTP ${variant.era}; p50 / p99 under load ${
              formatLatency(load.aLatency)
            } vs ${formatLatency(load.bLatency)}; CPU per call under load: our gateway ${
              cpu.gateway.toFixed(2)
            } ms, the hub ${cpu.hub.toFixed(2)} ms`,
          data: {
            era: variant.era,
            channels: variant.channels,
            routing: variant.routing ?? "auto",
            upstream: variant.upstream ?? "modern",
            latency,
            load,
            cpuMsPerCall: cpu,
          },
        });
      } finally {
        await closeClient(ours);
        await gateway.child.kill();
      }
    }
  } finally {
    await hubClient.close().catch(() => {});
    await hub.child.kill();
  }
  return rows;
}

/** An SDK client straight to the member. */
async function direct(member: ServedMember, channel: Channel, era: EraPreference) {
  const client = await sdkClient(member, channel, era);
  return { client, close: () => closeClient(client) };
}

/** An SDK client on an endpoint that answers at once (its own process). */
async function instant() {
  const { child, ready } = await ChildProcess.denoReady<{ url: string }>(
    new URL("./bench_instant.ts", import.meta.url),
    [],
    30_000,
  );
  const client = await httpClient(ready.url);
  return {
    client,
    close: async () => {
      await closeClient(client);
      await child.kill();
    },
  };
}

/** Case 4. */
export const peer: BenchCase = { id: "peer", title: "4 Peer (mcp-hub) side by side", run };
