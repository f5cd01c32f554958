/**
 * Case 7: memory per downstream client session. A gateway process federating one member; 1,000 2025-11-25 client
 * sessions (100 in quick runs) are opened on it (`initialize` and `notifications/initialized` over plain HTTP,
 * 50 at a time) and kept open; the gateway's RSS growth per session is read from `/proc`. A 2026-07-28 client has
 * no session on the gateway (every request stands alone), so its row measures the RSS after as many requests.
 *
 * @module
 */

import { ECHO_TEXT, gatewayPending, startGateway, startMembers } from "./_clients.ts";
import { type BenchCase, type BenchContext, type BenchRow, skippedRow } from "./_report.ts";

const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const IN_FLIGHT = 50;

function rssOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

async function openSession(url: string, index: number): Promise<string> {
  const response = await fetch(url, {
    method: "POST",
    headers: HEADERS,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: `bench-${index}`, version: "1" } },
    }),
  });
  await response.body?.cancel();
  const session = response.headers.get("mcp-session-id");
  if (!response.ok || session === null) throw new Error(`initialize failed with ${response.status}`);
  const initialized = await fetch(url, {
    method: "POST",
    headers: { ...HEADERS, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" },
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  await initialized.body?.cancel();
  return session;
}

async function modernCall(url: string, tool: string, index: number): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...HEADERS, "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": tool },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: index,
      method: "tools/call",
      params: {
        name: tool,
        arguments: { text: ECHO_TEXT },
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientInfo": { name: `bench-${index}`, version: "1" },
          "io.modelcontextprotocol/clientCapabilities": {},
        },
      },
    }),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`2026-07-28 tools/call failed with ${response.status}`);
}

async function inBatches(count: number, run: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) await run(next++);
  }));
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const pending = await gatewayPending();
  const count = context.quick ? 100 : 1_000;
  const measure = `gateway RSS per downstream client session (${count} sessions)`;
  if (pending) return [skippedRow(measure, "report", pending)];
  await using members = await startMembers();
  const member = members.info.members[0]!;
  const gateway = await startGateway([member]);
  const rows: BenchRow[] = [];
  try {
    const tool = `${member.serverId}__echo`;
    // Warm the gateway up (JIT, pools) before the baseline is taken.
    await inBatches(IN_FLIGHT, (i) => modernCall(gateway.url, tool, i));
    await openSession(gateway.url, -1);
    await new Promise((r) => setTimeout(r, 500));
    const before = rssOf(gateway.child.pid);
    context.log(`sessions: opening ${count} 2025-11-25 sessions`);
    const started = performance.now();
    await inBatches(count, (i) => openSession(gateway.url, i));
    const wallMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 500));
    const afterSessions = rssOf(gateway.child.pid);
    context.log(`sessions: ${count} 2026-07-28 requests`);
    await inBatches(count, (i) => modernCall(gateway.url, tool, i));
    await new Promise((r) => setTimeout(r, 500));
    const afterModern = rssOf(gateway.child.pid);
    const perSession = (afterSessions - before) / count;
    rows.push({
      measure: `${measure}, 2025-11-25 (initialize + initialized, kept open)`,
      ours: `${(perSession / 1024).toFixed(1)} KiB/session`,
      baseline: "—",
      throughput: `${Math.round(count / (wallMs / 1000)).toLocaleString("en-US")} sessions/s opened`,
      ratio: "—",
      goal: "report",
      met: undefined,
      note: `RSS ${(before / 2 ** 20).toFixed(0)} → ${(afterSessions / 2 ** 20).toFixed(0)} MiB (no forced GC)`,
      data: { count, before, afterSessions, perSession, wallMs },
    });
    rows.push({
      measure: `same gateway, ${count} 2026-07-28 tools/call requests (stateless: no session is kept)`,
      ours: `${((afterModern - afterSessions) / count / 1024).toFixed(1)} KiB/request retained`,
      baseline: "—",
      throughput: "—",
      ratio: "—",
      goal: "report",
      met: undefined,
      note: `RSS ${(afterSessions / 2 ** 20).toFixed(0)} → ${(afterModern / 2 ** 20).toFixed(0)} MiB`,
      data: { count, afterSessions, afterModern },
    });
  } finally {
    await gateway.child.kill();
  }
  return rows;
}

/** Case 7. */
export const sessions: BenchCase = { id: "sessions", title: "9 Downstream sessions", run };
