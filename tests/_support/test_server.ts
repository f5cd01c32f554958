/**
 * The MCP server the integration tests federate: tools that count their executions, sleep (honouring
 * cancellation), report progress, and say which channel they were called on.
 *
 * @module
 */

import { z } from "zod";
import { McpServer } from "../../packages/core/_sdk.ts";
import { sleep } from "./sleep.ts";

/**
 * The argument schemas, built once: a 2026-07-28 request gets a server of its own, and building zod schemas for each
 * one would cost more CPU than the request (docs/performance.md, "Members").
 */
const SCHEMAS = {
  none: z.object({}),
  text: z.object({ text: z.string() }),
  id: z.object({ id: z.string() }),
  ms: z.object({ ms: z.number() }),
  progress: z.object({ steps: z.number(), interval: z.number(), first: z.number().optional() }),
  channel: z.object({ dataDelayMs: z.number().optional(), delayMs: z.number().optional() }),
  name: z.object({ name: z.string() }),
};

/** What a test server saw, shared by all its sessions. */
export interface ServerStats {
  /** Executions per tool name. */
  executions: Map<string, number>;
  /** Calls whose signal was aborted (the proxy sent `notifications/cancelled`). */
  cancelled: number;
  /** Ids `record` has seen (each call of a test carries a unique id). */
  ids: Set<string>;
  /** `record` calls whose id had been seen before: executions of one call beyond the first. */
  duplicates: number;
}

/** Creates empty {@link ServerStats}. */
export function newStats(): ServerStats {
  return { executions: new Map(), cancelled: 0, ids: new Set(), duplicates: 0 };
}

function count(stats: ServerStats, tool: string): number {
  const n = (stats.executions.get(tool) ?? 0) + 1;
  stats.executions.set(tool, n);
  return n;
}

/** A new test server (one per session, or per 2026-07-28 request), recording into `stats`. */
export function createTestServer(serverId: string, stats: ServerStats): McpServer {
  const server = new McpServer({ name: `test-${serverId}`, version: "1.0.0" });
  server.registerTool("echo", {
    description: "Echoes the text",
    inputSchema: SCHEMAS.text,
    annotations: { readOnlyHint: true },
  }, ({ text }) => {
    count(stats, "echo");
    return { content: [{ type: "text", text }] };
  });
  server.registerTool("increment", {
    description: "Not idempotent: counts its executions",
    inputSchema: SCHEMAS.none,
  }, () => ({ content: [{ type: "text", text: String(count(stats, "increment")) }] }));
  server.registerTool("record", {
    description: "Not idempotent: records the call's unique id and counts repeated ids",
    inputSchema: SCHEMAS.id,
  }, ({ id }) => {
    count(stats, "record");
    if (stats.ids.has(id)) stats.duplicates++;
    else stats.ids.add(id);
    return { content: [{ type: "text", text: id }] };
  });
  server.registerTool("slow", {
    description: "Waits `ms` milliseconds (not idempotent)",
    inputSchema: SCHEMAS.ms,
  }, async ({ ms }, ctx) => {
    count(stats, "slow");
    try {
      await sleep(ms, ctx.mcpReq.signal);
    } catch (error) {
      stats.cancelled++;
      throw error;
    }
    return { content: [{ type: "text", text: `slept ${ms}` }] };
  });
  server.registerTool("slow_read", {
    description: "Waits `ms` milliseconds (read-only)",
    inputSchema: SCHEMAS.ms,
    annotations: { readOnlyHint: true },
  }, async ({ ms }, ctx) => {
    count(stats, "slow_read");
    await sleep(ms, ctx.mcpReq.signal);
    return { content: [{ type: "text", text: `read after ${ms}` }] };
  });
  server.registerTool("progress", {
    description: "Reports `steps` progress notifications, `interval` ms apart (the first after `first` ms, if given)",
    inputSchema: SCHEMAS.progress,
  }, async ({ steps, interval, first }, ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      await sleep(i === 1 && first !== undefined ? first : interval, ctx.mcpReq.signal);
      if (token !== undefined) {
        await ctx.mcpReq.notify({
          method: "notifications/progress",
          params: { progressToken: token, progress: i, total: steps },
        });
      }
    }
    return { content: [{ type: "text", text: "done" }] };
  });
  server.registerTool("channel", {
    description: "Says which channel carried the call, after `delayMs` (default 0), and `dataDelayMs` more over data",
    inputSchema: SCHEMAS.channel,
    annotations: { readOnlyHint: true },
  }, async ({ dataDelayMs, delayMs }, ctx) => {
    const channel = ctx.http?.req ? "data" : "control";
    const ms = (delayMs ?? 0) + (channel === "data" ? dataDelayMs ?? 0 : 0);
    if (ms > 0) await sleep(ms, ctx.mcpReq.signal);
    return { content: [{ type: "text", text: channel }] };
  });
  server.registerResource("info", "info://server", { mimeType: "text/plain" }, (uri) => ({
    contents: [{ uri: uri.href, text: `server ${serverId}` }],
  }));
  server.registerPrompt("greet", { argsSchema: SCHEMAS.name }, ({ name }) => ({
    messages: [{ role: "user", content: { type: "text", text: `Hello ${name} from ${serverId}` } }],
  }));
  return server;
}
