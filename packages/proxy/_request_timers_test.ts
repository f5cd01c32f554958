import assert from "node:assert/strict";
import { z } from "zod";
import { Client, McpServer, SdkErrorCode } from "../core/_sdk.ts";
import { WebSocketTransport } from "../core/websocket_transport.ts";
import { Deadlines, shareRequestTimer } from "./_request_timers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("Deadlines: each expires at its own time, a shorter one set last included; a deleted or replaced one does not", async () => {
  const deadlines = new Deadlines();
  const started = performance.now();
  const at: Record<string, number> = {};
  const expire = (name: string) => () => void (at[name] = performance.now() - started);
  deadlines.set(1, 300, expire("long"));
  deadlines.set(2, 30, expire("short"));
  deadlines.set(3, 30, expire("deleted"));
  deadlines.delete(3);
  deadlines.set(4, 30, expire("first"));
  deadlines.set(4, 120, expire("replaced"));
  await sleep(200);
  assert.deepEqual(Object.keys(at).sort(), ["replaced", "short"]);
  assert.ok(at.short! >= 29 && at.short! < 190, JSON.stringify(at));
  assert.ok(at.replaced! >= 119, JSON.stringify(at));
  await sleep(250);
  assert.deepEqual(Object.keys(at).sort(), ["long", "replaced", "short"]);
  assert.ok(at.long! >= 299, JSON.stringify(at));
});

/** A real SDK server on a WebSocket with two tools that never end by themselves; one reports progress meanwhile. */
function startServer() {
  const ended = new Set<Promise<void>>();
  const received: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { protocol: "mcp" });
    socket.addEventListener("message", (event) => void received.push(String(event.data)));
    const mcp = new McpServer({ name: "timers", version: "1.0.0" });
    const untilAborted = (signal: AbortSignal) =>
      new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    mcp.registerTool("silent", { inputSchema: z.object({}) }, async (_args, ctx) => {
      await untilAborted(ctx.mcpReq.signal);
      return { content: [] };
    });
    mcp.registerTool("chatty", { inputSchema: z.object({}) }, async (_args, ctx) => {
      const token = ctx.mcpReq._meta?.progressToken;
      let progress = 0;
      const timer = setInterval(() => {
        if (token !== undefined) {
          void ctx.mcpReq.notify({
            method: "notifications/progress",
            params: { progressToken: token, progress: ++progress },
          });
        }
      }, 40);
      await untilAborted(ctx.mcpReq.signal);
      clearInterval(timer);
      return { content: [] };
    });
    const connected = mcp.connect(new WebSocketTransport(socket));
    ended.add(
      new Promise((resolve) =>
        socket.addEventListener("close", () => void connected.then(() => resolve()), { once: true })
      ),
    );
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}`,
    /** How many cancellations the server received. */
    cancellations: () => received.filter((message) => message.includes('"notifications/cancelled"')).length,
    async close() {
      await server.shutdown();
      await Promise.all(ended);
    },
  };
}

Deno.test("shareRequestTimer: a request times out on the shared timer, progress restarts it, and the maximum total timeout still ends it", async () => {
  const server = startServer();
  const client = new Client({ name: "t", version: "1.0.0" });
  shareRequestTimer(client);
  await client.connect(await WebSocketTransport.connect(server.url));
  try {
    // Replaced, not wrapped: the SDK's record of a request in progress holds no timer of its own.
    const silent = client.callTool({ name: "silent", arguments: {} }, { timeout: 100 });
    silent.catch(() => {}); // (awaited below, once the record is checked)
    const silentStarted = performance.now();
    const records = (client as unknown as { _timeoutInfo: Map<number, { timeoutId: unknown }> })._timeoutInfo;
    await sleep(20);
    assert.equal(records.size, 1);
    assert.equal([...records.values()][0]!.timeoutId, undefined);
    await assert.rejects(silent, (error: { code?: unknown }) => error.code === SdkErrorCode.RequestTimeout);
    const elapsed = performance.now() - silentStarted;
    assert.ok(elapsed >= 95 && elapsed < 2_000, `timed out after ${elapsed} ms`);
    await sleep(20);
    assert.equal(server.cancellations(), 1);

    // Cancelled by its signal before its timeout: its deadline goes with it (it would cancel it a second time).
    const controller = new AbortController();
    const cancelled = client.callTool({ name: "silent", arguments: {} }, { timeout: 150, signal: controller.signal });
    await sleep(20);
    controller.abort();
    await assert.rejects(cancelled);
    await sleep(300);
    assert.equal(server.cancellations(), 2);
    assert.equal(records.size, 0);

    // Progress every 40 ms restarts a 100 ms timeout; the 400 ms total ends the call.
    const started = performance.now();
    await assert.rejects(
      client.callTool({ name: "chatty", arguments: {} }, {
        timeout: 100,
        resetTimeoutOnProgress: true,
        maxTotalTimeout: 400,
        onprogress: () => {},
      }),
      (error: { code?: unknown; message?: string }) =>
        error.code === SdkErrorCode.RequestTimeout && /Maximum total timeout/.test(error.message ?? ""),
    );
    assert.ok(performance.now() - started >= 390);
    assert.equal(records.size, 0);
  } finally {
    await client.close();
    await server.close();
  }
});
