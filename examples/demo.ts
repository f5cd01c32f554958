/**
 * `deno task demo`: the whole job in under 20 seconds, with nothing else installed. Three members start in child
 * processes (server-3 offers only the Streamable HTTP data endpoint), the proxy registers them, a tool is called on
 * each directly and through the federated catalog, server-2's process is killed and comes back on the same ports,
 * and everything shuts down cleanly. State changes print as they happen; the status table shows each channel's
 * state and latency, and each member's tool count.
 *
 * ```sh
 * deno task demo             # the tour, then exit 0
 * deno task demo --gateway   # the same, then serve the federation to MCP clients until Ctrl-C
 * ```
 *
 * @module
 */

import {
  AuthManager,
  consoleLogger,
  FederationError,
  FederationProxy,
  type ServerStatus,
} from "@federated-mcp/federation";
import { serveGateway } from "@federated-mcp/federation/gateway";
import { exampleFlags, exampleSecret, statusTable, waitForState } from "./_support.ts";

const flags = exampleFlags({
  summary: "Starts three members, federates them, kills and restarts one, and shuts down.",
  booleans: ["gateway"],
  strings: ["port", "exit-after"],
  usage: "[--gateway [--port 8080] [--exit-after MS]]",
  runningMembers: false,
});
const began = performance.now();
const clock = () => `${((performance.now() - began) / 1000).toFixed(1).padStart(5)}s`;
const say = (line: string) => console.log(`${clock()}  ${line}`);
const SECRET_KEY = exampleSecret(flags);

/** One member in a child process (`_demo_member.ts`), restartable on the same ports. */
class MemberProcess {
  readonly serverId: string;
  readonly dataOnly: boolean;
  endpoints: { control?: string; data?: string } = {};
  #child: Deno.ChildProcess | undefined;

  constructor(serverId: string, dataOnly = false) {
    this.serverId = serverId;
    this.dataOnly = dataOnly;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the process (on the previous ports, if any) and resolves once it listens. */
  async start(): Promise<void> {
    const port = (url?: string) => (url ? new URL(url).port : "0");
    // The demo's own lockfile (as `deno task demo` uses): the project's deno.lock also pins the test and benchmark
    // packages, which Deno would fetch on a first run.
    const lock = `--lock=${new URL("./deno.lock", import.meta.url).pathname}`;
    const member = new URL("./_demo_member.ts", import.meta.url).pathname;
    const args = ["run", "-A", lock, member, "--server-id", this.serverId];
    args.push("--control-port", port(this.endpoints.control), "--data-port", port(this.endpoints.data));
    if (this.dataOnly) args.push("--data-only");
    this.#child = new Deno.Command(Deno.execPath(), {
      args,
      env: { MCP_SECRET_KEY: SECRET_KEY, RUST_BACKTRACE: "0" },
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let output = "";
    while (!output.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`Member ${this.serverId} exited before listening (${output.trim() || "no output"})`);
      output += value;
    }
    reader.releaseLock();
    this.#child.stdout.cancel().catch(() => {});
    this.endpoints = JSON.parse(output.slice(0, output.indexOf("\n")));
  }

  /** Sends `signal` to the process and waits for it to exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    child.kill(signal);
    await child.status;
  }
}

const members = [new MemberProcess("server-1"), new MemberProcess("server-2"), new MemberProcess("server-3", true)];
const stopMembers = () => Promise.all(members.map((m) => m.stop()));
const toolCount = new Map<string, number>();
const table = (statuses: ServerStatus[]) =>
  statusTable(statuses, { TOOLS: (s) => String(toolCount.get(s.serverId) ?? "-") }).replace(/^/gm, "        ");

try {
  say("Starting 3 members in child processes (server-3 is data-only)");
  await Promise.all(members.map((m) => m.start()));
  for (const m of members) {
    say(`  ${m.serverId} (pid ${m.pid}): ${[m.endpoints.control, m.endpoints.data].filter(Boolean).join("  ")}`);
  }

  // Short heartbeats and backoff so that failures show within a second (defaults: 15 s heartbeat, 250 ms-30 s).
  await using proxy = new FederationProxy(SECRET_KEY, {
    proxyId: "demo-proxy",
    heartbeatInterval: 500,
    heartbeatTimeout: 1_000,
    connectTimeout: 3_000,
    backoff: { initialDelay: 100, maxDelay: 400 },
    logger: consoleLogger("error"),
  });
  for (const type of ["connected", "degraded", "reconnecting", "disconnected"] as const) {
    proxy.addEventListener(type, (event) => {
      const cause = event.cause instanceof FederationError ? ` (${event.cause.code})` : "";
      say(`event: ${event.serverId} ${event.type}${event.channel ? ` [${event.channel}]` : ""}${cause}`);
    });
  }

  say("Registering the members");
  await Promise.all(members.map((m) => proxy.registerServer({ serverId: m.serverId, endpoints: m.endpoints })));
  for (const m of members) toolCount.set(m.serverId, (await proxy.listTools(m.serverId)).length);
  console.log(table(proxy.getStatus()));

  say("Calling echo on each member with proxy.callTool(serverId, name, args)");
  for (const m of members) {
    const result = await proxy.callTool(m.serverId, "echo", { text: `hello from ${m.serverId}` });
    say(`  ${m.serverId} echo -> ${result.content[0]?.type === "text" ? result.content[0].text : "?"}`);
  }

  const tools = await proxy.catalog.listTools();
  say(`The federated catalog: ${tools.length} tools, e.g. ${tools.slice(0, 4).map((t) => t.name).join(", ")}, …`);
  for (const m of members) {
    const name = `${m.serverId}__add`;
    const result = await proxy.catalog.callTool(name, { a: 20, b: members.indexOf(m) + 1 });
    say(`  catalog ${name}(20, ${members.indexOf(m) + 1}) -> ${JSON.stringify(result.structuredContent)}`);
  }

  const victim = members[1]!;
  say(`Killing ${victim.serverId} (pid ${victim.pid}) with SIGKILL`);
  await victim.stop("SIGKILL");
  await waitForState(proxy, victim.serverId, ["reconnecting"], 5_000);
  console.log(table(proxy.getStatus()));

  say(`Restarting ${victim.serverId} on the same ports`);
  await victim.start();
  await waitForState(proxy, victim.serverId, ["connected"], 5_000);
  const again = await proxy.callTool(victim.serverId, "time");
  say(`  ${victim.serverId} time -> ${again.content[0]?.type === "text" ? again.content[0].text : "?"}`);
  console.log(table(proxy.getStatus()));

  if (flags.boolean("gateway")) {
    await serveUntilInterrupted(proxy);
  }

  say("Shutting down: proxy first, then the members");
  await proxy.close();
} finally {
  await stopMembers();
}
say("Demo finished");

/** `--gateway`: serve the federation to MCP clients until SIGINT/SIGTERM (or `--exit-after` ms). */
async function serveUntilInterrupted(proxy: FederationProxy): Promise<void> {
  // Clients authenticate to the gateway with their own secret: a member's token is no good here, nor the reverse.
  const gatewaySecret = crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url" });
  await using gateway = await serveGateway(proxy, {
    auth: { secret: gatewaySecret, audience: "gateway" },
    port: flags.number("port", 8080),
    logger: consoleLogger("error"),
  });
  const token = await new AuthManager(gatewaySecret).createToken({}, {
    audience: "gateway",
    subject: "demo-client",
    expiresIn: "8h",
  });
  say(`Gateway: the whole federation as one MCP server (Streamable HTTP) at ${gateway.url}`);
  console.log(`
  Connect any MCP client to ${gateway.url} (Streamable HTTP) with the header
    Authorization: Bearer ${token}
  This token is valid for 8 hours, and only for this run. From another terminal:
    GATEWAY_TOKEN=${token} \\
      deno run -A examples/gateway_client.ts --url ${gateway.url}
  or, with Node.js, the MCP Inspector: npx @modelcontextprotocol/inspector (transport "Streamable HTTP",
  the URL above, and the token as Bearer token).
`);
  say("Press Ctrl-C to stop");
  const stop = Promise.withResolvers<Deno.Signal>();
  const onSignal = (signal: Deno.Signal) => () => stop.resolve(signal);
  const listeners = (["SIGINT", "SIGTERM"] as const).map((signal) => [signal, onSignal(signal)] as const);
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  const exitAfter = flags.number("exit-after", -1);
  const timer = exitAfter >= 0 ? setTimeout(() => Deno.kill(Deno.pid, "SIGTERM"), exitAfter) : undefined;
  say(`Received ${await stop.promise}: stopping the gateway`);
  clearTimeout(timer);
  for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  await gateway.drain();
}
