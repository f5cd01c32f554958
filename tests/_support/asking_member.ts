/**
 * A 2025-11-25-only member whose tools ask the client during the call (elicitation, sampling, roots), the way a
 * v1-era server does: the MCP server is wrapped so that `serveMember` serves it on the legacy era only (a 2026-07-28
 * request gets -32022 and the proxy falls back to `initialize`).
 *
 * @module
 */
import { z } from "zod";
import { McpServer } from "../../packages/core/_sdk.ts";
import { serveMember } from "../../packages/member/mod.ts";
import type { MemberHandle, SessionServer } from "../../packages/member/mod.ts";
import type { FederationConfig } from "../../mod.ts";
import { SECRET } from "./members.ts";
import { quiet } from "./catalog_members.ts";

/** What the asking member saw. */
export interface AskingStats {
  /** Calls whose signal was aborted (the gateway dropped a parked exchange). */
  cancelled: number;
  /** Answers (or errors) the member's requests got, as text. */
  answers: string[];
}

type Ctx = { mcpReq: { send: (request: { method: string; params?: Record<string, unknown> }) => Promise<unknown> } };

/** The member's MCP server: tools that ask. */
function askingServer(stats: AskingStats): McpServer {
  const server = new McpServer({ name: "asking", version: "1.0.0" });
  const ask = async (ctx: Ctx, method: string, params: Record<string, unknown> = {}) => {
    try {
      const answer = await ctx.mcpReq.send({ method, params });
      stats.answers.push(JSON.stringify(answer));
      return answer as Record<string, unknown>;
    } catch (error) {
      stats.answers.push(`error: ${(error as Error).message}`);
      throw error;
    }
  };
  const form = (message: string) => ({
    message,
    requestedSchema: { type: "object", properties: { value: { type: "string" } } },
  });
  const valueOf = (answer: Record<string, unknown>) =>
    (answer.content as { value?: string } | undefined)?.value ?? String(answer.action);
  const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });

  server.registerTool("ask_name", { description: "Elicits a name", inputSchema: z.object({}) }, async (_a, ctx) => {
    return text(`Hello ${valueOf(await ask(ctx as unknown as Ctx, "elicitation/create", form("Your name?")))}`);
  });
  server.registerTool(
    "two_rounds",
    { description: "Elicits twice, in turn", inputSchema: z.object({}) },
    async (_a, ctx) => {
      const first = valueOf(await ask(ctx as unknown as Ctx, "elicitation/create", form("First?")));
      const second = valueOf(await ask(ctx as unknown as Ctx, "elicitation/create", form("Second?")));
      return text(`${first}+${second}`);
    },
  );
  server.registerTool(
    "two_at_once",
    { description: "Elicits twice at once", inputSchema: z.object({}) },
    async (_a, ctx) => {
      const [a, b] = await Promise.all([
        ask(ctx as unknown as Ctx, "elicitation/create", form("Left?")),
        ask(ctx as unknown as Ctx, "elicitation/create", form("Right?")),
      ]);
      return text(`${valueOf(a)}|${valueOf(b)}`);
    },
  );
  server.registerTool("sample", { description: "Samples", inputSchema: z.object({}) }, async (_a, ctx) => {
    const answer = await ask(ctx as unknown as Ctx, "sampling/createMessage", {
      messages: [{ role: "user", content: { type: "text", text: "Say hi" } }],
      maxTokens: 10,
    });
    return text(`model said ${(answer.content as { text?: string }).text}`);
  });
  server.registerTool(
    "roots",
    { description: "Lists the client's roots", inputSchema: z.object({}) },
    async (_a, ctx) => {
      const answer = await ask(ctx as unknown as Ctx, "roots/list");
      return text((answer.roots as { uri: string }[]).map((root) => root.uri).join(","));
    },
  );
  server.registerTool(
    "ask_forever",
    { description: "Asks, then waits to be cancelled", inputSchema: z.object({}) },
    async (_a, ctx) => {
      const signal = (ctx as unknown as { mcpReq: { signal: AbortSignal } }).mcpReq.signal;
      try {
        await ask(ctx as unknown as Ctx, "elicitation/create", form("Anything?"));
      } catch {
        // The gateway dropped the exchange.
      }
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      stats.cancelled++;
      return text("cancelled");
    },
  );
  server.registerPrompt("ask_prompt", { description: "Elicits a topic, then prompts about it" }, async (ctx) => {
    const topic = valueOf(await ask(ctx as unknown as Ctx, "elicitation/create", form("Topic?")));
    return {
      messages: [{ role: "user" as const, content: { type: "text" as const, text: `Tell me about ${topic}` } }],
    };
  });
  server.registerResource("asked", "asked://roots", { mimeType: "text/plain" }, async (uri, ctx) => {
    const answer = await ask(ctx as unknown as Ctx, "roots/list");
    const roots = (answer.roots as { uri: string }[]).map((root) => root.uri).join(",");
    return { contents: [{ uri: uri.href, text: roots }] };
  });
  return server;
}

/** A running asking member. */
export interface AskingMember extends AsyncDisposable {
  handle: MemberHandle;
  stats: AskingStats;
  config: FederationConfig;
}

/**
 * Starts the asking member on free ports, legacy era only.
 *
 * @param serverId Its serverId.
 * @param channels Which endpoints to offer.
 */
export async function startAskingMember(
  serverId: string,
  channels: { control?: boolean; data?: boolean } = {},
): Promise<AskingMember> {
  const stats: AskingStats = { cancelled: 0, answers: [] };
  const handle = await serveMember({
    serverId,
    // Not a v2 SDK server as far as the member can tell: served on 2025-11-25 only.
    server: (): SessionServer => {
      const inner = askingServer(stats);
      return { connect: (transport) => inner.connect(transport as never), close: () => inner.close() };
    },
    verifier: SECRET,
    control: channels.control === false ? false : { port: 0 },
    data: channels.data === false ? false : { port: 0 },
    logger: quiet,
  });
  return {
    handle,
    stats,
    config: {
      serverId,
      endpoints: {
        ...(handle.controlUrl ? { control: handle.controlUrl } : {}),
        ...(handle.dataUrl ? { data: handle.dataUrl } : {}),
      },
      auth: { type: "jwt", config: {} },
    },
    async [Symbol.asyncDispose]() {
      await handle.close();
      await handle.closed();
    },
  };
}
