// A client that never reads its response while a member streams progress to it: the gateway (a separate process,
// started through the CLI, so that its resident memory is measured alone) keeps its memory bounded, coalescing the
// progress it cannot deliver, and still serves other clients.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { McpServer } from "../../packages/core/_sdk.ts";
import { serveMember } from "../../packages/member/mod.ts";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { recordingLogger, SECRET } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";

/** Progress messages the member sends during the unread call (FLOOD_MESSAGES overrides, e.g. 200000). */
const MESSAGES = Number(Deno.env.get("FLOOD_MESSAGES") ?? "20000");
/** Text carried by each progress message, so that each weighs about 1 KiB. */
const FILLER = "x".repeat(1_000);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A member whose tool `flood` sends `count` progress notifications as fast as it can, then answers. */
async function startFloodMember(sent: { count: number }) {
  return await serveMember({
    serverId: "flood",
    verifier: SECRET,
    control: { port: 0 },
    data: { port: 0 },
    logger: quiet,
    server: () => {
      const server = new McpServer({ name: "flood", version: "1.0.0" }, { capabilities: { logging: {} } });
      server.registerTool(
        "flood",
        { description: "Floods progress", inputSchema: z.object({ count: z.number() }) },
        async (
          { count },
          ctx,
        ) => {
          const token = ctx.mcpReq._meta?.progressToken;
          for (let i = 1; i <= count; i++) {
            if (token === undefined) break;
            await ctx.mcpReq.notify({
              method: "notifications/progress",
              params: { progressToken: token, progress: i, total: count, message: FILLER },
            });
            sent.count++;
          }
          return { content: [{ type: "text", text: `sent ${count}` }] };
        },
      );
      server.registerTool("chatty", { description: "Logs a lot", inputSchema: z.object({ count: z.number() }) }, async (
        { count },
        ctx,
      ) => {
        for (let i = 1; i <= count; i++) {
          await ctx.mcpReq.notify({
            method: "notifications/message",
            params: { level: "info", logger: "chatty", data: `line ${i} ${FILLER}` },
          });
          sent.count++;
        }
        return { content: [{ type: "text", text: `logged ${count}` }] };
      });
      return server;
    },
  });
}

/** Resident memory of a process, in bytes (Linux). */
async function rss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function rpc(url: string, body: unknown, session?: string): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
      ...(session ? { "mcp-session-id": session } : {}),
    },
    body: JSON.stringify(body),
  });
}

async function openSession(url: string): Promise<string> {
  const init = await rpc(url, {
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "slow", version: "1" } },
  });
  const session = init.headers.get("mcp-session-id")!;
  await init.body?.cancel();
  await (await rpc(url, { jsonrpc: "2.0", method: "notifications/initialized" }, session)).body?.cancel();
  return session;
}

/**
 * Sends a `tools/call` over a raw TCP connection and reads only the response head: the client then never reads a
 * byte more, while keeping the connection open.
 */
async function unreadCall(url: string, session: string, count: number, tool = "flood"): Promise<Deno.TcpConn> {
  const { hostname, port, pathname } = new URL(url);
  const body = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: `flood__${tool}`, arguments: { count }, _meta: { progressToken: "p" } },
  });
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const head = [
    `POST ${pathname} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    "Content-Type: application/json",
    "Accept: application/json, text/event-stream",
    "MCP-Protocol-Version: 2025-11-25",
    `Mcp-Session-Id: ${session}`,
    `Content-Length: ${encoder.encode(body).byteLength}`,
    "",
    "",
  ].join("\r\n");
  await conn.write(encoder.encode(head + body));
  const buffer = new Uint8Array(1024);
  const n = await conn.read(buffer);
  assert.match(decoder.decode(buffer.subarray(0, n ?? 0)), /^HTTP\/1\.1 200/);
  return conn;
}

const CHILD = fileURLToPath(new URL("./_flood_gateway.ts", import.meta.url));

/** What the gateway process holds: after a full GC (heap and external buffers), and its resident set. */
interface Memory {
  retained: number;
  rss: number;
}

/** Starts the gateway process (see _flood_gateway.ts) and waits for its url. */
async function startGateway(control: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--v8-flags=--expose-gc", CHILD, "--control", control],
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const writer = child.stdin.getWriter();
  let buffered = "";
  async function line(prefix: string): Promise<string> {
    while (true) {
      const at = buffered.indexOf("\n");
      if (at >= 0) {
        const next = buffered.slice(0, at);
        buffered = buffered.slice(at + 1);
        if (next.startsWith(prefix)) return next.slice(prefix.length);
        continue;
      }
      const { value, done } = await lines.read();
      if (done) throw new Error("The gateway process exited");
      buffered += value;
    }
  }
  const url = await line("url ");
  return {
    child,
    url,
    async memory(): Promise<Memory> {
      await writer.write(encoder.encode("measure\n"));
      const usage = JSON.parse(await line("memory ")) as Deno.MemoryUsage;
      return { retained: usage.heapUsed + usage.external, rss: await rss(child.pid) };
    },
    async stop(): Promise<void> {
      await writer.close().catch(() => {});
      await lines.cancel().catch(() => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await child.status;
      clearTimeout(timer);
    },
  };
}

async function metric(base: string, line: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const match = line.exec(text);
  return match ? Number(match[1]) : undefined;
}

Deno.test("Gateway memory stays bounded while a member streams progress to a client that never reads", async () => {
  const sent = { count: 0 };
  const member = await startFloodMember(sent);
  const gateway = await startGateway(member.controlUrl!);
  const base = new URL(gateway.url).origin;
  try {
    // Warm up: one call read to the end, so that code paths and buffers exist before the baseline.
    const warm = await openSession(gateway.url);
    const warmCall = await rpc(gateway.url, {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "flood__flood", arguments: { count: 2_000 }, _meta: { progressToken: "w" } },
    }, warm);
    assert.match(await warmCall.text(), /sent 2000/);
    const before = await gateway.memory();

    const session = await openSession(gateway.url);
    const conn = await unreadCall(gateway.url, session, MESSAGES);
    const started = performance.now();
    // The call is over at the gateway (its result came back from the member) once the request counter moves.
    const done = /federation_requests_total\{server_id="flood",method="tools\/call",outcome="ok"\} (\d+)/;
    while ((await metric(base, done)) !== 2) {
      assert.ok(performance.now() - started < 120_000, `the flood did not end (member sent ${sent.count})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const ms = Math.round(performance.now() - started);
    const after = await gateway.memory();
    const coalesced = await metric(base, /federation_stream_progress_coalesced_total (\d+)/) ?? 0;
    console.log(
      `slow reader: ${sent.count - 2_000} progress messages (~1 KiB each) to an unread stream in ${ms} ms; ` +
        `gateway retained (heap+external after GC) ${mib(before.retained)} -> ${mib(after.retained)} ` +
        `(+${mib(after.retained - before.retained)}), RSS ${mib(before.rss)} -> ${mib(after.rss)}; ` +
        `${coalesced} progress coalesced`,
    );
    assert.equal(sent.count, MESSAGES + 2_000);
    assert.ok(coalesced > MESSAGES / 2, `progress was coalesced (${coalesced})`);
    // Without flow control every unread message stays queued in the gateway: about MESSAGES KiB.
    const limit = 8 * 1024 * 1024;
    assert.ok(after.retained - before.retained < limit, `retained ${mib(after.retained - before.retained)} more`);

    // The gateway still serves other clients; the unread stream's client, once it reads, gets the latest progress
    // and the answer.
    const other = await openSession(gateway.url);
    const list = await rpc(gateway.url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, other);
    assert.match(await list.text(), /flood__flood/);
    const tail = new Uint8Array(256 * 1024);
    let text = "";
    const deadline = performance.now() + 10_000;
    while (!text.includes('"result"') && performance.now() < deadline) {
      const n = await conn.read(tail);
      if (n === null) break;
      text = (text + decoder.decode(tail.subarray(0, n))).slice(-8_192);
    }
    assert.match(text, new RegExp(`"progress":${MESSAGES},`), "the last progress reaches the client");
    assert.match(text, /sent \d+/, "the answer reaches the client");
    conn.close();
  } finally {
    await gateway.stop();
    await member.close();
    await member.closed();
  }
});

Deno.test("A stream whose client reads nothing while non-coalescable messages pile up is ended, with a log line", async () => {
  const sent = { count: 0 };
  const member = await startFloodMember(sent);
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer({ serverId: "flood", endpoints: { control: member.controlUrl! } });
  const { lines, logger } = recordingLogger();
  const gateway = await serveGateway(proxy, { auth: false, port: 0, logger });
  try {
    const session = await openSession(gateway.url);
    const conn = await unreadCall(gateway.url, session, 5_000, "chatty");
    const base = new URL(gateway.url).origin;
    const deadline = performance.now() + 30_000;
    while ((await metric(base, /federation_stream_overruns_total (\d+)/) ?? 0) < 1) {
      assert.ok(performance.now() < deadline, `no overrun (member sent ${sent.count})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(lines.some((l) => l.startsWith("warn Client does not read its stream")), lines.join("\n"));
    // The client that finally reads finds the stream ended, without the answer (it was dropped with the rest).
    const buffer = new Uint8Array(256 * 1024);
    let text = "";
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text = (text + decoder.decode(buffer.subarray(0, n))).slice(-4_096);
      if (text.endsWith("0\r\n\r\n")) break; // the chunked body's end
    }
    assert.doesNotMatch(text, /logged 5000/);
    conn.close();
    // The session goes on: the client can call again.
    const again = await rpc(gateway.url, {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "flood__flood", arguments: { count: 1 } },
    }, session);
    assert.match(await again.text(), /sent 1/);
  } finally {
    await gateway.close();
    await proxy.close();
    await member.close();
    await member.closed();
  }
});
