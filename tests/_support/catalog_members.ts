/**
 * Members for catalog and gateway tests: a member whose tools can be added at run time (with
 * `notifications/tools/list_changed`), that logs, and whose resource can be subscribed to and touched; a member
 * with many tools served page by page; a member whose lists hang. Plus an SDK client of a gateway.
 *
 * @module
 */

import { z } from "zod";
import {
  Client,
  type ClientCapabilities,
  inputRequired,
  McpServer,
  Server,
  StreamableHTTPClientTransport,
  type Tool,
} from "../../packages/core/_sdk.ts";
import { AuthManager } from "../../packages/core/auth.ts";
import { GATEWAY_SECRET, TestMember } from "./members.ts";
import { DEFAULT_GATEWAY_AUDIENCE } from "../../packages/gateway/options.ts";
import { sleep } from "./sleep.ts";

/** A member whose sessions all get tools added or removed at run time. */
export interface DynamicMember extends AsyncDisposable {
  member: TestMember;
  /** Adds a tool `name` (echoes its name) on every session: each sends `notifications/tools/list_changed`. */
  addTool(name: string): void;
  /** URIs the member was subscribed to, with their subscribers' count. */
  subscriptions: Map<string, number>;
}

/**
 * Starts a member with tools `echo`, `log` (sends three log messages, then answers), `touch` (sends
 * `notifications/resources/updated` for `note://<serverId>`), `wait` (waits `ms`, reporting progress every 20 ms
 * when asked, and counts aborted calls in `cancelled`), `roots` (asks the client for its roots), and the
 * subscribable resource `note://<serverId>`.
 */
export async function startDynamicMember(
  serverId: string,
  options: { control?: boolean; data?: boolean; era?: "modern" | "legacy" } = {},
): Promise<DynamicMember & { cancelled: () => number }> {
  const servers: McpServer[] = [];
  const added: string[] = [];
  const subscriptions = new Map<string, number>();
  let cancelled = 0;
  function register(server: McpServer, name: string): void {
    server.registerTool(name, { description: `Added at run time: ${name}`, inputSchema: z.object({}) }, () => ({
      content: [{ type: "text", text: name }],
    }));
  }
  function create(): McpServer {
    const server = new McpServer({ name: `dynamic-${serverId}`, version: "1.0.0" }, {
      capabilities: { logging: {}, resources: { subscribe: true, listChanged: true } },
    });
    server.registerTool("echo", { description: "Echoes", inputSchema: z.object({ text: z.string() }) }, ({ text }) => ({
      content: [{ type: "text", text }],
    }));
    server.registerTool(
      "log",
      { description: "Logs three messages", inputSchema: z.object({}) },
      async (_args, ctx) => {
        for (const data of ["one", "two", "three"]) {
          await ctx.mcpReq.notify({
            method: "notifications/message",
            params: { level: "info", logger: "tool", data },
          });
        }
        return { content: [{ type: "text", text: "logged" }] };
      },
    );
    server.registerTool("touch", { description: "Updates the note", inputSchema: z.object({}) }, async (_args, ctx) => {
      await ctx.mcpReq.notify({
        method: "notifications/resources/updated",
        params: { uri: `note://${serverId}` },
      });
      return { content: [{ type: "text", text: "touched" }] };
    });
    server.registerTool("wait", {
      description: "Waits, reporting progress",
      inputSchema: z.object({ ms: z.number() }),
    }, async ({ ms }, ctx) => {
      const token = ctx.mcpReq._meta?.progressToken;
      const started = performance.now();
      try {
        for (let step = 1; performance.now() - started < ms; step++) {
          await sleep(Math.min(20, ms), ctx.mcpReq.signal);
          if (token !== undefined) {
            await ctx.mcpReq.notify({
              method: "notifications/progress",
              params: { progressToken: token, progress: step, message: `step ${step}` },
            });
          }
        }
      } catch (error) {
        cancelled++;
        throw error;
      }
      return { content: [{ type: "text", text: `waited ${ms}` }] };
    });
    server.registerTool(
      "roots",
      { description: "Lists the client's roots", inputSchema: z.object({}) },
      (_args, ctx) => {
        // Asked with inputRequired: a 2026-07-28 caller answers with inputResponses, and on a 2025-11-25 session
        // the SDK sends a real roots/list and calls the tool again with the answer.
        const answer = ctx.mcpReq.inputResponses?.roots as { roots?: { uri: string }[] } | undefined;
        if (!answer?.roots) return inputRequired({ inputRequests: { roots: inputRequired.listRoots() } });
        return { content: [{ type: "text", text: answer.roots.map((root) => root.uri).join(",") }] };
      },
    );
    server.registerResource("note", `note://${serverId}`, { mimeType: "text/plain" }, (uri) => ({
      contents: [{ uri: uri.href, text: `note of ${serverId}` }],
    }));
    server.server.setRequestHandler("resources/subscribe", (request) => {
      subscriptions.set(request.params.uri, (subscriptions.get(request.params.uri) ?? 0) + 1);
      return {};
    });
    server.server.setRequestHandler("resources/unsubscribe", (request) => {
      const n = (subscriptions.get(request.params.uri) ?? 0) - 1;
      if (n > 0) subscriptions.set(request.params.uri, n);
      else subscriptions.delete(request.params.uri);
      return {};
    });
    for (const name of added) register(server, name);
    servers.push(server);
    return server;
  }
  const member = await TestMember.start(serverId, {
    control: options.control ?? true,
    data: options.data ?? true,
    ...(options.era ? { era: options.era } : {}),
    extra: { server: create },
  });
  return {
    member,
    subscriptions,
    cancelled: () => cancelled,
    [Symbol.asyncDispose]: () => member.stop(),
    addTool(name: string) {
      added.push(name);
      for (const server of servers) {
        if (server.isConnected()) register(server, name);
      }
    },
  };
}

/** The tools of {@link startManyToolsMember}: `count` tools named `tool_<i>`. */
export function manyTools(count: number): Tool[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `tool_${i}`,
    description: `Tool number ${i}`,
    inputSchema: { type: "object" as const, properties: { value: { type: "string" } } },
  }));
}

/** Starts a member that lists `count` tools in pages of `pageSize` (following cursors is needed to see them all). */
export function startManyToolsMember(serverId: string, count: number, pageSize: number): Promise<TestMember> {
  const tools = manyTools(count);
  return TestMember.start(serverId, {
    control: true,
    data: false,
    extra: {
      server: () => {
        const server = new Server({ name: "many", version: "1.0.0" }, { capabilities: { tools: {} } });
        server.setRequestHandler("tools/list", (request) => {
          const start = Number(request.params?.cursor ?? 0);
          const end = start + pageSize;
          return { tools: tools.slice(start, end), ...(end < tools.length ? { nextCursor: String(end) } : {}) };
        });
        return server;
      },
    },
  });
}

/** Starts a member whose `tools/list` never answers (until its session closes). */
export function startHangingMember(serverId: string): Promise<TestMember> {
  return TestMember.start(serverId, {
    control: true,
    data: false,
    extra: {
      server: () => {
        const server = new Server({ name: "hanging", version: "1.0.0" }, { capabilities: { tools: {} } });
        server.setRequestHandler(
          "tools/list",
          (_request, ctx) =>
            new Promise((_resolve, reject) =>
              ctx.mcpReq.signal.addEventListener("abort", () => reject(ctx.mcpReq.signal.reason))
            ),
        );
        return server;
      },
    },
  });
}

/** A token the test gateways accept. */
export function gatewayToken(subject = "test-client", secret = GATEWAY_SECRET): Promise<string> {
  return new AuthManager(secret).createToken({}, { subject, expiresIn: "5m", audience: DEFAULT_GATEWAY_AUDIENCE });
}

/**
 * Connects an SDK client to a gateway with a bearer token (unless `token` is `null`), in the 2025-11-25 era (or
 * 2026-07-28 with `era: "modern"`).
 */
export async function connectClient(
  url: string,
  options: {
    token?: string | null;
    capabilities?: ClientCapabilities;
    name?: string;
    era?: "legacy" | "modern";
  } = {},
): Promise<Client> {
  const token = options.token === undefined ? await gatewayToken() : options.token;
  const client = new Client({ name: options.name ?? "test-client", version: "1.0.0" }, {
    capabilities: options.capabilities ?? {},
    ...(options.era === "modern" ? { versionNegotiation: { mode: "auto" as const } } : {}),
  });
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

/** A logger that drops everything. */
export const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** The text of the first content block of a tool result (any SDK result shape). */
export function textOf(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}
