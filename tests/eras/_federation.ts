/**
 * A federation of members of both eras behind one gateway, for the era matrix (issue 15):
 *
 * - `everything`: `@modelcontextprotocol/server-everything@2026.8.31` over Streamable HTTP, a 2025-11-25 member
 *   built on the v1 SDK (data channel only): tools, resources, prompts, elicitation, sampling, progress, tasks;
 * - `leg`: a 2025-11-25-only member on the v2 SDK (control channel): roots, subscriptions, list changes,
 *   cancellation, log messages;
 * - `mod`: a 2026-07-28 member (data channel only): the same features the modern way (input rounds, a listen
 *   stream opened only while a resource is subscribed);
 * - `modc`: a 2026-07-28 member with a control channel (its listen stream carries list changes).
 *
 * Clients of both eras are made with {@link modernClient} and {@link legacyClient}; both declare elicitation,
 * sampling and roots and answer with their own name, so a test sees which client a bridged request reached.
 *
 * @module
 */

import { z } from "zod";
import {
  Client,
  type ClientCapabilities,
  type McpServer,
  type ServerContext,
  StreamableHTTPClientTransport,
} from "../../packages/core/_sdk.ts";
import { sleep } from "../../packages/core/_sleep.ts";
import { gatewayToken } from "../_support/catalog_members.ts";
import { SECRET } from "../_support/members.ts";
import { type ModernMember, startModernMember } from "../fixtures/modern_member.ts";
import { Federation, retry, ServerProcess } from "../interop/_support.ts";
import { freePort } from "../_support/ports.ts";

/** The legacy member on the v1 SDK. */
export const EVERYTHING = "npm:@modelcontextprotocol/server-everything@2026.8.31";

/** What a client answered, in order: `<method>` per server-to-client request it got. */
export interface EraClient {
  /** Its name (also what it answers elicitations and sampling with). */
  name: string;
  /** `"modern"` (2026-07-28) or `"legacy"` (2025-11-25). */
  era: "modern" | "legacy";
  client: Client;
  /** Server-to-client requests it answered (method names). */
  asked: string[];
}

/** The running federation. */
export interface EraFederation extends AsyncDisposable {
  federation: Federation;
  leg: ModernMember;
  mod: ModernMember;
  modc: ModernMember;
  /** Calls of the legacy member's `wait` tool that ended aborted. */
  legacyCancelled: () => number;
  /** Calls of the modern members' `wait` tool that ended aborted. */
  modernCancelled: () => number;
}

/**
 * Tools the members get on top of the fixture's: `wait` (progress, cancellation), `log`, and for the legacy one
 * `ask_roots` (a `roots/list` request during the call) and `touch` (`notifications/resources/updated` of
 * `test://static`).
 */
function extraTools(counter: { cancelled: number }, legacy = false): (server: McpServer) => void {
  return (server) => {
    server.server.registerCapabilities({ logging: {} });
    if (legacy) {
      // The v2 SDK leaves resources/subscribe to the server on 2025-11-25 (2026-07-28 has listen streams).
      server.server.setRequestHandler("resources/subscribe", () => ({}));
      server.server.setRequestHandler("resources/unsubscribe", () => ({}));
    }
    server.registerTool("wait", {
      description: "Waits, reporting progress",
      inputSchema: z.object({ ms: z.number() }),
    }, async ({ ms }, ctx: ServerContext) => {
      const token = ctx.mcpReq._meta?.progressToken;
      const started = performance.now();
      for (let step = 1; performance.now() - started < ms; step++) {
        await sleep(Math.min(20, ms), ctx.mcpReq.signal);
        if (ctx.mcpReq.signal.aborted) {
          counter.cancelled++;
          throw new Error("Cancelled");
        }
        if (token !== undefined) {
          await ctx.mcpReq.notify({
            method: "notifications/progress",
            params: { progressToken: token, progress: step, message: `step ${step}` },
          });
        }
      }
      return { content: [{ type: "text", text: `waited ${ms}` }] };
    });
    server.registerTool("log", {
      description: "Logs three messages",
      inputSchema: z.object({}),
    }, async (_args, ctx: ServerContext) => {
      for (const data of ["one", "two", "three"]) {
        await ctx.mcpReq.notify({ method: "notifications/message", params: { level: "info", logger: "tool", data } });
      }
      return { content: [{ type: "text", text: "logged" }] };
    });
    server.registerTool("ask_roots", {
      description: "Asks the client for its roots with a request (2025-11-25 only)",
      inputSchema: z.object({}),
    }, async (_args, ctx: ServerContext) => {
      const { roots } = await ctx.mcpReq.send({ method: "roots/list" });
      return { content: [{ type: "text", text: roots.map((root) => root.uri).join(",") }] };
    });
    server.registerTool("touch", {
      description: "Announces an update of test://static (2025-11-25 only)",
      inputSchema: z.object({}),
    }, async (_args, ctx: ServerContext) => {
      await ctx.mcpReq.notify({ method: "notifications/resources/updated", params: { uri: "test://static" } });
      return { content: [{ type: "text", text: "touched" }] };
    });
  };
}

/** Starts the members, the proxy and the gateway; disposing it stops them all. */
export async function startEraFederation(): Promise<EraFederation> {
  const port = freePort();
  const everything = new ServerProcess(["run", "-A", EVERYTHING, "streamableHttp"], { PORT: String(port) });
  const counter = { cancelled: 0 };
  const legacyCounter = { cancelled: 0 };
  const leg = await startModernMember({
    serverId: "leg",
    secret: SECRET,
    era: "legacy",
    control: true,
    configure: extraTools(legacyCounter, true),
  });
  const mod = await startModernMember({ serverId: "mod", secret: SECRET, configure: extraTools(counter) });
  const modc = await startModernMember({
    serverId: "modc",
    secret: SECRET,
    control: true,
    configure: extraTools(counter),
  });
  const federation = await Federation.start({ proxy: { connectTimeout: 2_000 } });
  const stop = async () => {
    await federation[Symbol.asyncDispose]();
    await modc.close();
    await mod.close();
    await leg.close();
    await everything[Symbol.asyncDispose]();
  };
  try {
    await retry(
      () =>
        federation.proxy.registerServer({
          serverId: "everything",
          endpoints: { data: `http://127.0.0.1:${port}/mcp` },
          auth: { type: "none" },
        }),
      90_000,
    );
    await federation.proxy.registerServer({
      serverId: "leg",
      // Control only: its tools added at run time reach the sessions of that channel (the data sessions keep theirs).
      endpoints: { control: leg.controlUrl! },
      auth: { type: "jwt", config: {} },
    });
    await federation.proxy.registerServer({
      serverId: "mod",
      endpoints: { data: mod.url },
      auth: { type: "jwt", config: {} },
    });
    await federation.proxy.registerServer({
      serverId: "modc",
      endpoints: { data: modc.url, control: modc.controlUrl! },
      auth: { type: "jwt", config: {} },
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    federation,
    leg,
    mod,
    modc,
    legacyCancelled: () => legacyCounter.cancelled,
    modernCancelled: () => counter.cancelled,
    [Symbol.asyncDispose]: stop,
  };
}

const CAPABILITIES: ClientCapabilities = { elicitation: { form: {} }, sampling: {}, roots: { listChanged: true } };

/** Connects a client of `era` to the gateway; it answers elicitation, sampling and roots with its name. */
export async function eraClient(url: string, era: "modern" | "legacy", name: string): Promise<EraClient> {
  const token = await gatewayToken(name);
  const client = new Client({ name, version: "1.0.0" }, {
    capabilities: CAPABILITIES,
    ...(era === "modern" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {}),
  });
  const asked: string[] = [];
  client.setRequestHandler("elicitation/create", () => {
    asked.push("elicitation/create");
    return { action: "accept", content: { name, value: name } };
  });
  client.setRequestHandler("sampling/createMessage", () => {
    asked.push("sampling/createMessage");
    return { role: "assistant", content: { type: "text", text: `sampled by ${name}` }, model: name };
  });
  client.setRequestHandler("roots/list", () => {
    asked.push("roots/list");
    return { roots: [{ uri: `file:///${name}` }] };
  });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  return { name, era, client, asked };
}
