/**
 * A member process for the benchmarks: serves `--members N` members (each a {@link serveMember} on its own
 * loopback port, control and data on one listener and path) running the integration tests' server (or, with
 * `--tools T`, exactly T echo-like tools), plus with `--echo` a raw WebSocket echo endpoint (the floor of the control channel). Writes
 * one JSON line, a {@link MemberProcessInfo}, when ready, and runs until killed.
 *
 * ```sh
 * deno run -A tests/bench/bench_member.ts --members 10 --tools 20 --echo
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { z } from "zod";
import { AuthManager } from "../../packages/core/auth.ts";
import { McpServer } from "../../packages/core/_sdk.ts";
import { type MemberHandle, serveMember } from "../../packages/member/mod.ts";
import { SECRET } from "../_support/members.ts";
import { createTestServer, newStats } from "../_support/test_server.ts";

/** One served member. */
export interface ServedMember {
  /** Its serverId (the `aud` of its tokens). */
  serverId: string;
  /** The WebSocket control endpoint. */
  control: string;
  /** The Streamable HTTP data endpoint. */
  data: string;
}

/** What a member process writes when ready. */
export interface MemberProcessInfo {
  /** The members, in order. */
  members: ServedMember[];
  /** The raw WebSocket echo endpoint, with `--echo`. */
  echo?: string;
}

/** Arguments of a member process. */
export interface MemberProcessArgs {
  /** How many members. @default {1} */
  members?: number;
  /** Serve this many echo-like tools (`tool_0`…) instead of the test server's. */
  tools?: number;
  /** serverId prefix; ids are `<prefix>-<n>`. @default {"m"} */
  prefix?: string;
  /** Fixed port of the only member (to restart it on the same port). */
  port?: number;
  /** Serve a raw WebSocket echo endpoint. */
  echo?: boolean;
  /** Answer data-endpoint POSTs with JSON bodies instead of SSE streams. */
  jsonResponse?: boolean;
  /** With `tools`: the cache hint (`ttlMs`, public) of `tools/list` results, in ms. */
  cacheTtl?: number;
}

/**
 * The command-line arguments for a member process.
 *
 * @param args The arguments.
 * @returns `--name value` pairs.
 */
export function memberArgs(args: MemberProcessArgs): string[] {
  const out: string[] = [];
  if (args.members !== undefined) out.push("--members", String(args.members));
  if (args.tools !== undefined) out.push("--tools", String(args.tools));
  if (args.prefix !== undefined) out.push("--prefix", args.prefix);
  if (args.port !== undefined) out.push("--port", String(args.port));
  if (args.echo) out.push("--echo");
  if (args.jsonResponse) out.push("--json-response");
  if (args.cacheTtl !== undefined) out.push("--cache-ttl", String(args.cacheTtl));
  return out;
}

/**
 * The id of the `index`th member of a member process.
 *
 * @param prefix The process's prefix.
 * @param index From 0.
 * @returns The serverId.
 */
export function memberId(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(4, "0")}`;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** The echo-like tools' arguments, built once (as in the test server). */
const QUERY_SCHEMA = z.object({ query: z.string(), limit: z.number().optional() });

/** The integration tests' server, or with `tools` a server of exactly that many echo-like tools. */
function memberServer(serverId: string, tools: number | undefined, cacheTtl: number | undefined): McpServer {
  if (tools === undefined) return createTestServer(serverId, newStats());
  const cacheHints = cacheTtl === undefined ? {} : { "tools/list": { ttlMs: cacheTtl, cacheScope: "public" as const } };
  const server = new McpServer({ name: `bench-${serverId}`, version: "1.0.0" }, { cacheHints });
  for (let i = 0; i < tools; i++) {
    server.registerTool(`tool_${i}`, {
      description: `Tool ${i} of ${serverId}: echoes the query`,
      inputSchema: QUERY_SCHEMA,
      annotations: { readOnlyHint: true },
    }, ({ query }) => ({ content: [{ type: "text", text: query }] }));
  }
  return server;
}

function serveEcho(): string {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  });
  return `ws://127.0.0.1:${server.addr.port}/`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      members: { type: "string", default: "1" },
      tools: { type: "string" },
      prefix: { type: "string", default: "m" },
      port: { type: "string" },
      echo: { type: "boolean", default: false },
      "json-response": { type: "boolean", default: false },
      "cache-ttl": { type: "string" },
    },
  });
  const count = Number(values.members);
  const tools = values.tools === undefined ? undefined : Number(values.tools);
  const port = values.port === undefined ? 0 : Number(values.port);
  const cacheTtl = values["cache-ttl"] === undefined ? undefined : Number(values["cache-ttl"]);
  const verifier = new AuthManager(SECRET);
  const handles: MemberHandle[] = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const serverId = memberId(values.prefix, i);
      return serveMember({
        serverId,
        server: () => memberServer(serverId, tools, cacheTtl),
        verifier,
        control: { port },
        data: { jsonResponse: values["json-response"] },
        logger: quiet,
      });
    }),
  );
  const info: MemberProcessInfo = {
    members: handles.map((h) => ({ serverId: h.serverId, control: h.controlUrl!, data: h.dataUrl! })),
  };
  if (values.echo) info.echo = serveEcho();
  console.log(JSON.stringify(info));
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}

if (import.meta.main) await main();
