/**
 * A runnable federation member: the demo tools `echo`, `add` and `time`, the resource `info://server` and the
 * prompt `greet`, served on a WebSocket control endpoint and a Streamable HTTP data endpoint. By default it
 * listens where the usage guide registers `server-1`: `ws://localhost:3000` and `http://localhost:3001`.
 *
 * ```sh
 * MCP_SECRET_KEY=a-secret-of-at-least-thirty-two-bytes!! deno run -A examples/member_server.ts
 * deno run -A examples/member_server.ts --server-id server-2 --control-port 3002 --data-port 3003
 * ```
 *
 * Flags: `--server-id` (default `server-1`), `--control-port` (3000), `--data-port` (3001), `--hostname`
 * (`127.0.0.1`, which `localhost` reaches), `--log-level` (`debug`, `info`, `warn`, `error`; default `info`;
 * `debug` shows each refused token's reason, never the token) and `--log-format` (`text` or `json`). The shared secret comes from `MCP_SECRET_KEY`; without it the member
 * refuses to start. SIGINT or SIGTERM drains the member and exits 0.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { consoleLogger, type LogFormat } from "../packages/core/logger.ts";
import { isLogLevel } from "../packages/core/_cli.ts";
import { serveMember } from "../packages/member/mod.ts";
import type { MemberHandle } from "../packages/member/mod.ts";
import { createDemoServer } from "./_demo_server.ts";

const USAGE = "Usage: MCP_SECRET_KEY=<secret> deno run -A examples/member_server.ts " +
  "[--server-id server-1] [--control-port 3000] [--data-port 3001] [--hostname 127.0.0.1] " +
  "[--log-level debug|info|warn|error] [--log-format text|json]";

function fail(message: string): never {
  console.error(`member_server: ${message}`);
  console.error(USAGE);
  Deno.exit(1);
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) fail(`${flag} must be a port number from 0 to 65535, got '${value}'`);
  return n;
}

let flags;
try {
  flags = parseArgs({
    args: Deno.args,
    options: {
      "server-id": { type: "string", default: "server-1" },
      "control-port": { type: "string", default: "3000" },
      "data-port": { type: "string", default: "3001" },
      hostname: { type: "string", default: "127.0.0.1" },
      "log-level": { type: "string", default: "info" },
      "log-format": { type: "string", default: "text" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (flags.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const logLevel = flags["log-level"];
if (!isLogLevel(logLevel)) fail(`--log-level must be debug, info, warn or error, got '${logLevel}'`);
const logFormat = flags["log-format"];
if (logFormat !== "text" && logFormat !== "json") fail(`--log-format must be text or json, got '${logFormat}'`);

const secret = Deno.env.get("MCP_SECRET_KEY");
if (!secret) fail("MCP_SECRET_KEY is not set: export the federation's shared secret before starting a member");

const serverId = flags["server-id"];
let member: MemberHandle;
try {
  member = await serveMember({
    serverId,
    server: () => createDemoServer(serverId),
    verifier: secret,
    hostname: flags.hostname,
    control: { port: port(flags["control-port"], "--control-port") },
    data: { port: port(flags["data-port"], "--data-port") },
    logger: consoleLogger(logLevel, { format: logFormat as LogFormat }),
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

// Signals are handled before the "listening" line, so a supervisor that stops the member as soon as it is ready gets
// a drain and exit 0.
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
console.log(`Member '${serverId}' listening: control ${member.controlUrl} data ${member.dataUrl}`);

function stop(): void {
  member.drain().then(() => Deno.exit(0), (error: unknown) => {
    console.error(`member_server: shutdown failed: ${error}`);
    Deno.exit(1);
  });
}
await member.closed();
