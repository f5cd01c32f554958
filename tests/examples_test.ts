/**
 * Runs every example and the demo as a user would (`deno run -A examples/…`), each in its own process with a
 * deadline, and checks the exit code and the key lines of the output.
 *
 * Runs overlap, a few at a time: each test starts its own run and the next few, and awaits its own, so the file
 * takes a fraction of the examples' total time. That is why these tests turn the op and resource sanitizers off:
 * a run may finish during another test than the one that started it.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;
/** A 40-character secret shared by the proxy and the members of every example. */
const SECRET = "examples-test-secret-of-forty-characters";
const CONCURRENCY = 3;
const DEADLINE_MS = 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

interface RunOptions {
  args?: string[];
  /** Environment on top of the test's (MCP_SECRET_KEY, RUST_BACKTRACE=0, NO_COLOR=1); `null` removes a variable. */
  env?: Record<string, string | null>;
}

function environment(extra: Record<string, string | null> = {}): Record<string, string> {
  const env: Record<string, string | null> = {
    ...Deno.env.toObject(),
    MCP_SECRET_KEY: SECRET,
    RUST_BACKTRACE: "0",
    NO_COLOR: "1",
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== null));
}

function command(script: string, options: RunOptions, piped: "piped" | "null" = "piped"): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `examples/${script}`, ...(options.args ?? [])],
    cwd: ROOT,
    clearEnv: true,
    env: environment(options.env),
    stdin: "null",
    stdout: piped,
    stderr: "piped",
  });
}

let running = 0;
const waiting: (() => void)[] = [];

/** Runs an example to completion (at most {@link CONCURRENCY} at once), killing it after {@link DEADLINE_MS}. */
async function run(script: string, options: RunOptions = {}): Promise<Run> {
  if (running >= CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  const started = performance.now();
  const child = command(script, options).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, DEADLINE_MS);
  try {
    const output = await child.output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return {
      code: output.code,
      stdout: decode(output.stdout),
      stderr: decode(output.stderr),
      ms: performance.now() - started,
      timedOut,
    };
  } finally {
    clearTimeout(timer);
    running--;
    waiting.shift()?.();
  }
}

function transcript(script: string, result: Run): string {
  return `examples/${script} exited ${result.code}${result.timedOut ? " (killed at the deadline)" : ""} after ` +
    `${Math.round(result.ms)}ms\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/** Asserts the exit code and that every pattern matches stdout (or stderr, for patterns given as `[stderr]`). */
function check(script: string, result: Run, code: number, stdout: RegExp[], stderr: RegExp[] = []): void {
  assert.equal(result.code, code, transcript(script, result));
  for (const pattern of stdout) assert.match(result.stdout, pattern, `${pattern}: ${transcript(script, result)}`);
  for (const pattern of stderr) assert.match(result.stderr, pattern, `${pattern}: ${transcript(script, result)}`);
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(SECRET), "the secret must never be printed");
}

async function hasOpenssl(): Promise<boolean> {
  try {
    return (await new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

interface Case {
  name: string;
  script: string;
  options?: RunOptions;
  code?: number;
  stdout: RegExp[];
  stderr?: RegExp[];
  /** Longest acceptable run time, in ms. */
  within?: number;
}

const openssl = await hasOpenssl();
const cases: Case[] = [
  {
    name: "basic_setup.ts registers a member and calls its echo tool",
    script: "basic_setup.ts",
    stdout: [/^Secret: MCP_SECRET_KEY$/m, /^Server registered successfully$/m, /^server-1 echo: hello, federation$/m],
  },
  {
    name: "custom_member.ts serves its own MCP server as a member and calls its tool",
    script: "custom_member.ts",
    stdout: [/^Member weather: control ws:\/\/127\.0\.0\.1:\d+\//m, /^weather forecast: Sunny in Lisbon, 21°C$/m],
  },
  {
    name: "multiple_servers.ts registers two members in a loop",
    script: "multiple_servers.ts",
    stdout: [
      /^server-1 registered successfully$/m,
      /^server-2 registered successfully$/m,
      /^server-1 add\(2, 3\) = 5$/m,
      /^server-2 add\(2, 3\) = 5$/m,
      /^Federated tools: server-1__echo, server-1__add, server-1__time, server-2__echo, server-2__add, server-2__time$/m,
      /^server-2__add\(40, 2\) = 42$/m,
    ],
  },
  {
    name: "health_monitoring.ts reports real health: a stopped member is unhealthy, then healthy again",
    script: "health_monitoring.ts",
    options: { args: ["--interval", "300", "--rounds", "3"] },
    stdout: [
      /^Round 1: connected servers: \[ "server-1", "server-2" \]$/m,
      /^ {2}server-1: healthy, connected; control up, heartbeat avg [\d.]+ms, ping [\d.]+ms; data up/m,
      /^Round 2:[^]*^ {2}server-2: UNHEALTHY/m,
      /^Round 3:[^]*^ {2}server-2: healthy, connected/m,
    ],
  },
  {
    name: "error_recovery.ts registers a member that comes up late with registerWithRetry",
    script: "error_recovery.ts",
    options: { args: ["--delay", "800"] },
    stdout: [/^\(server-1 is up now\)$/m, /^server-1 registered successfully$/m, /state: connected$/m],
    stderr: [/^Attempt 1 failed: ERR_CONNECTION_FAILED/m],
  },
  {
    name: "error_handling.ts catches each kind of failure by its class",
    script: "error_handling.ts",
    stdout: [
      /^register a member where nothing listens: ConnectionError$/m,
      /^register a member that has another secret: AuthenticationError$/m,
      /^register a member that never answers: TimeoutError$/m,
      /^read a resource the member does not have: ProtocolError$/m,
      /^register an invalid serverId: ConfigError$/m,
      /^call a server that is not registered: ServerNotFoundError$/m,
      /^Every failure was caught by its class$/m,
    ],
  },
  {
    name: "secure_secret.ts registers with the secret from MCP_SECRET_KEY",
    script: "secure_secret.ts",
    stdout: [/^Secret: MCP_SECRET_KEY \(40 bytes, not shown\)$/m, /^server-1 registered with a token signed by/m],
  },
  {
    name: "secure_secret.ts refuses to start without MCP_SECRET_KEY",
    script: "secure_secret.ts",
    options: { env: { MCP_SECRET_KEY: null } },
    code: 1,
    stdout: [],
    stderr: [/^MCP_SECRET_KEY environment variable not set/m],
  },
  {
    name: "secure_secret.ts refuses a secret shorter than 32 bytes",
    script: "secure_secret.ts",
    options: { env: { MCP_SECRET_KEY: "too-short" } },
    code: 1,
    stdout: [],
    stderr: [/^Invalid MCP_SECRET_KEY: at least 32 bytes required$/m],
  },
  {
    name: "token_validation.ts accepts the good token and names why each bad one fails",
    script: "token_validation.ts",
    stdout: [
      /^valid token: accepted \(iss federation-proxy, aud server-1, sub example, lifetime 3600s, jti set\)$/m,
      /^expired token: rejected$/m,
      /^token of another secret: rejected$/m,
      /^tampered payload: rejected$/m,
      /^"alg": "none" token: rejected$/m,
      /^token for server-1 shown to server-2: ERR_AUTH_WRONG_AUDIENCE$/m,
      /^member, bad token: HTTP 401 \(WWW-Authenticate: Bearer error="invalid_token"\)$/m,
      /^member, good token: HTTP 200$/m,
    ],
    stderr: [/ERR_AUTH_EXPIRED/, /ERR_AUTH_BAD_SIGNATURE/, /ERR_AUTH_ALG_NOT_ALLOWED/, /ERR_AUTH_MALFORMED/],
  },
  {
    name: "key_rotation.ts rotates the secret with no failed call, and verifies EdDSA tokens with a JWKS",
    script: "key_rotation.ts",
    stdout: [
      /^Calls during the switch: [1-9]\d* succeeded, 0 failed$/m,
      /^Member after retirement: old secret HTTP 401, new secret HTTP 200$/m,
      /^Proxy after retirement, control channel: call succeeded$/m,
      /^Proxy after retirement, data channel: call succeeded$/m,
      /^A JWKS verifier can mint tokens: false$/m,
      /^JWKS member: EdDSA token HTTP 200, HMAC token HTTP 401$/m,
    ],
  },
  {
    name: "graceful_shutdown.ts removes every member on SIGTERM and exits 0",
    script: "graceful_shutdown.ts",
    options: { args: ["--exit-after", "1000"] },
    stdout: [
      /^Received SIGTERM, shutting down$/m,
      /^server-1 disconnected successfully$/m,
      /^server-2 disconnected successfully$/m,
      /^Shutdown complete after [1-9]\d* successful calls$/m,
    ],
  },
  {
    name: "connection_monitoring.ts reports connections and every state change of a restarted member",
    script: "connection_monitoring.ts",
    options: { args: ["--interval", "60000"] },
    stdout: [
      /^Active connections: 2$/m,
      /^event: server-2 reconnecting/m,
      /^Active connections: 1$/m,
      /^Active connections: 1$[^]*^event: server-2 connected/m,
      /^server-2 +connected +up [\d.]+ms +up [\d.]+ms$/m,
    ],
  },
  {
    name: "configurations.ts validates the development and production configurations and connects both",
    script: "configurations.ts",
    stdout: [
      /^development configuration: valid$/m,
      /^development: dev-server connected over ws:\/\/ and http:\/\/$/m,
      /^production configuration: valid$/m,
      /^development configuration under the production rules: refused/m,
      openssl
        ? /^production: prod-server connected over wss:\/\/ and https:\/\/ \(echo: over TLS\)$/m
        : /^production: not connected/m,
    ],
    stderr: [/^\[federated-mcp\] warn: Weak secret: 10 bytes/m],
  },
  {
    name: "connection_testing.ts passes for real members and fails for unreachable or mis-keyed ones",
    script: "connection_testing.ts",
    stdout: [
      /^server-1: connection test passed, as expected$/m,
      /^server-2: connection test passed, as expected$/m,
      /^nowhere: connection test failed, as expected$/m,
      /^stranger: connection test failed, as expected$/m,
    ],
  },
  {
    name: "load_testing.ts registers 100 members concurrently",
    script: "load_testing.ts",
    stdout: [/^Registered 100\/100 members in \d+ms/m, /^Called add on 100\/100 members/m, /^Removed all members/m],
  },
  {
    name: "troubleshooting.ts tells a healthy member from a mis-keyed and a stopped one",
    script: "troubleshooting.ts",
    stdout: [
      /^server-1: healthy: reachable, token accepted, latency control [\d.]+ms, data [\d.]+ms$/m,
      /^stranger: reachable, but it refuses our token/m,
      /^stopped: unreachable/m,
    ],
  },
  {
    name: "maintenance.ts finds the stopped member, removes it and cleans up",
    script: "maintenance.ts",
    stdout: [
      /^ {2}server-1: healthy \(ping control [\d.]+ms, data [\d.]+ms\)$/m,
      /^ {2}server-3: UNHEALTHY/m,
      /^Removed unhealthy member server-3$/m,
      /^Cleanup: 0 members registered, 0 connected$/m,
    ],
  },
  {
    name: "demo.ts runs the whole tour in under 20 seconds",
    script: "demo.ts",
    within: 20_000,
    stdout: [
      /s +server-3 \(pid \d+\): http:\/\/127\.0\.0\.1:\d+\/$/m,
      /^ +server-1 +connected +up [\d.]+ms +up [\d.]+ms +3$/m,
      /^ +server-3 +connected +- +up [\d.]+ms +3$/m,
      /server-2 echo -> hello from server-2$/m,
      /catalog server-3__add\(20, 3\) -> \{"sum":23\}$/m,
      /event: server-2 reconnecting/m,
      /^ +server-2 +reconnecting /m,
      /Restarting server-2 on the same ports[^]*event: server-2 connected/m,
      /Demo finished$/m,
    ],
  },
];

// Each test starts its own run and the next few, so that runs overlap but a filtered test run starts few extra.
const runs = new Map<Case, Promise<Run>>();
function runAhead(index: number): Promise<Run> {
  for (const c of cases.slice(index, index + CONCURRENCY)) {
    if (!runs.has(c)) runs.set(c, run(c.script, c.options));
  }
  return runs.get(cases[index]!)!;
}

for (const [index, c] of cases.entries()) {
  Deno.test({
    name: `examples/${c.name}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const result = await runAhead(index);
      check(c.script, result, c.code ?? 0, c.stdout, c.stderr);
      if (c.within !== undefined) {
        assert.ok(result.ms < c.within, `took ${Math.round(result.ms)}ms, more than ${c.within}ms`);
      }
    },
  });
}

/** Reads a child's stdout until `pattern` matches; returns everything read so far. */
async function readUntil(reader: ReadableStreamDefaultReader<string>, pattern: RegExp, seen = ""): Promise<string> {
  while (!pattern.test(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Output ended before ${pattern}:\n${seen}`);
    seen += value;
  }
  return seen;
}

Deno.test({
  name: "examples/basic_setup.ts uses running members given with --control and --data (member_server.ts)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const member = command("member_server.ts", { args: ["--control-port", "0", "--data-port", "0"] }).spawn();
    const reader = member.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      const line = await readUntil(reader, /listening: control (\S+) data (\S+)/);
      const [, control, data] = line.match(/listening: control (\S+) data (\S+)/)!;
      const result = await run("basic_setup.ts", { args: ["--control", control!, "--data", data!] });
      check("basic_setup.ts", result, 0, [
        /^Member server-1: running at control ws:/m,
        /^Server registered successfully$/m,
        /^server-1 echo: hello, federation$/m,
      ]);
    } finally {
      member.kill("SIGTERM");
      await reader.cancel();
      await member.stderr.cancel();
      await member.status;
    }
  },
});

Deno.test({
  name: "examples/demo.ts --gateway serves the federation to an MCP client (gateway_client.ts) until SIGINT",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const demo = command("demo.ts", { args: ["--gateway", "--port", "0"] }).spawn();
    const reader = demo.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let output = "";
    let finished = false;
    try {
      output = await readUntil(reader, /Press Ctrl-C to stop/);
      const url = output.match(/Connect any MCP client to (\S+) /)?.[1];
      const token = output.match(/Authorization: Bearer (\S+)/)?.[1];
      assert.ok(url && token, output);
      const client = await run("gateway_client.ts", { args: ["--url", url], env: { GATEWAY_TOKEN: token } });
      check("gateway_client.ts", client, 0, [
        /^Connected to federated-mcp-gateway: 9 tools$/m,
        /^ {2}server-3__time$/m,
        /^server-1__echo -> \[\{"type":"text","text":"hello through the gateway"\}\]$/m,
      ]);
      const refused = await run("gateway_client.ts", { args: ["--url", url], env: { GATEWAY_TOKEN: "not-a-token" } });
      check("gateway_client.ts", refused, 1, [], [/^Cannot connect to the gateway at /m]);
      demo.kill("SIGINT");
      output = await readUntil(reader, /Demo finished/, output);
      finished = true;
    } finally {
      if (!finished) demo.kill("SIGKILL");
      await reader.cancel();
    }
    const { code } = await demo.status;
    const stderr = await new Response(demo.stderr).text();
    assert.equal(code, 0, `${output}\n${stderr}`);
    assert.match(output, /Received SIGINT: stopping the gateway/);
  },
});
