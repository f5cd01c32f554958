// The CLI tells the truth from start-up (issue 17 §3): a configured member that is unreachable has series, is
// listed and counted; JSON logs with timestamps; one access-log line per MCP request; one line per event; HTTP
// status and auth-failure counters.
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { AuthManager } from "../../packages/core/auth.ts";
import { DEFAULT_GATEWAY_AUDIENCE } from "../../packages/gateway/options.ts";
import { connectClient, gatewayToken, textOf } from "../_support/catalog_members.ts";
import { LineReader } from "../_support/lines.ts";
import { GATEWAY_SECRET, SECRET, TestMember } from "../_support/members.ts";
import { freePort } from "../_support/ports.ts";

const CLI = fromFileUrl(new URL("../../packages/gateway/cli.ts", import.meta.url));
const ENV = { RUST_BACKTRACE: "0", NO_COLOR: "1", MCP_SECRET_KEY: SECRET, MCP_GATEWAY_SECRET: GATEWAY_SECRET };

function adminToken(): Promise<string> {
  return new AuthManager(GATEWAY_SECRET).createToken({ scope: "federation:admin" }, {
    subject: "ops-test",
    expiresIn: "5m",
    audience: DEFAULT_GATEWAY_AUDIENCE,
  });
}

function parseJsonLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`Not a JSON log line: ${line}`);
  }
}

Deno.test("CLI --log-format json: every line is timestamped JSON, a configured member that is down is visible everywhere, one access-log line per request", async () => {
  await using member = await TestMember.start("live");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/federation.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      gateway: { port: 0, auth: { secretEnv: "MCP_GATEWAY_SECRET" } },
      members: [member.config, { serverId: "gone", endpoints: { data: `http://127.0.0.1:${freePort()}/mcp` } }],
    }),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "--config", file, "--log-format", "json", "--log-level", "info"],
    env: ENV,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const output = new LineReader(child.stdout);
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const lines = await output.until((l) => l.includes('"msg":"gateway '));
    const summary = parseJsonLine(lines.find((l) => l.includes('"msg":"gateway '))!);
    const url = /^gateway (\S+)/.exec(String(summary.msg))![1]!;
    const base = url.replace(/\/mcp$/, "");

    // /metrics, /readyz and /admin/members know the member that never connected (once its first attempt has failed:
    // the gateway announces itself while that attempt may still be on its way on a loaded machine).
    const retrying = /^federation_member_state\{server_id="gone",state="retrying"\} 1$/m;
    let metrics = await (await fetch(`${base}/metrics`)).text();
    for (const deadline = Date.now() + 10_000; !retrying.test(metrics) && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      metrics = await (await fetch(`${base}/metrics`)).text();
    }
    assert.match(metrics, /^federation_member_up\{server_id="gone"\} 0$/m);
    assert.match(metrics, /^federation_member_state\{server_id="gone",state="retrying"\} 1$/m);
    assert.match(metrics, /^federation_member_up\{server_id="live"\} 1$/m);
    const ready = await (await fetch(`${base}/readyz`)).json();
    assert.deepEqual(ready.members, { usable: 1, registered: 1, configured: 2, waiting: 1 });
    const admin = await fetch(`${base}/admin/members`, { headers: { authorization: `Bearer ${await adminToken()}` } });
    assert.equal(admin.status, 200);
    const listed = (await admin.json()).members as {
      serverId: string;
      source: string;
      here: Record<string, unknown>;
    }[];
    const gone = listed.find((m) => m.serverId === "gone");
    assert.equal(gone?.source, "config");
    assert.equal(gone?.here.state, "retrying");
    assert.equal((gone?.here.error as { code?: string }).code, "ERR_CONNECTION_FAILED");
    assert.ok(listed.some((m) => m.serverId === "live"));

    // One call, whose argument must not be logged; one refused token, counted.
    const client = await connectClient(url, { token: await gatewayToken() });
    assert.equal(
      textOf(await client.callTool({ name: "live__echo", arguments: { text: "argument-value-never-logged" } })),
      "argument-value-never-logged",
    );
    await client.close();
    const refused = await fetch(url, {
      method: "POST",
      headers: {
        authorization: "Bearer not.a.token",
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const after = await (await fetch(`${base}/metrics`)).text();
    assert.match(after, /^federation_gateway_auth_failures_total\{route="mcp",reason="invalid_token"\} 1$/m);
    assert.match(after, /^federation_gateway_http_responses_total\{route="mcp",status="401"\} 1$/m);
    assert.match(after, /^federation_gateway_http_responses_total\{route="probe",status="200"\} [1-9]\d*$/m);

    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    const stdoutLines = [...lines, ...(await output.rest()).split("\n")].filter((l) => l !== "");
    // Deno's own one-time notice about `request.signal` (read by the body limit, gateway/_body_limit.ts) is the
    // runtime's, not a log line of ours.
    const stderrLines = (await stderrText).split("\n").filter((l) => l !== "" && !l.startsWith("Deno.serve: "));
    const all = [...stdoutLines, ...stderrLines].map(parseJsonLine);
    for (const entry of all) {
      assert.match(String(entry.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, JSON.stringify(entry));
      assert.ok(["debug", "info", "warn", "error"].includes(String(entry.level)), JSON.stringify(entry));
    }
    // One line per registration: the CLI's report, not also the proxy's "Server registered".
    assert.equal(all.filter((e) => String(e.msg).startsWith("member live ")).length, 1, stdoutLines.join("\n"));
    assert.equal(all.filter((e) => e.msg === "Server registered").length, 0);
    // One line for the start: the CLI's summary, not also the gateway's "Gateway listening".
    assert.equal(all.filter((e) => /^gateway http/.test(String(e.msg)) || e.msg === "Gateway listening").length, 1);
    // The access log: the call, with method, member, name, outcome and duration, never the argument.
    const calls = all.filter((e) => e.msg === "MCP request" && e.method === "tools/call");
    assert.equal(calls.length, 1, JSON.stringify(all.filter((e) => e.msg === "MCP request")));
    assert.equal(calls[0]!.member, "live");
    assert.equal(calls[0]!.name, "live__echo");
    assert.equal(calls[0]!.outcome, "ok");
    assert.equal(typeof calls[0]!.ms, "number");
    assert.ok(all.some((e) => e.msg === "MCP request" && e.method === "initialize" && e.outcome === "ok"));
    const text = [...stdoutLines, ...stderrLines].join("\n");
    assert.ok(!text.includes("argument-value-never-logged"), "an argument value was logged");
    assert.ok(!text.includes("not.a.token"), "a token was logged");
    assert.ok(!text.includes(SECRET) && !text.includes(GATEWAY_SECRET), "a secret was logged");
  } finally {
    clearTimeout(timer);
    output.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI text logs carry an ISO timestamp on every logger line", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/federation.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      gateway: { port: 0, auth: { secretEnv: "MCP_GATEWAY_SECRET" } },
      members: [{ serverId: "gone", endpoints: { data: `http://127.0.0.1:${freePort()}/mcp` } }],
    }),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "--config", file, "--log-level", "debug"],
    env: ENV,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const output = new LineReader(child.stdout);
  try {
    await output.until((l) => l.startsWith("gateway "));
    child.kill("SIGTERM");
    await child.status;
    await output.rest();
    const lines = (await stderrText).split("\n").filter((l) => l !== "" && !l.startsWith("Deno.serve: "));
    assert.ok(lines.length > 0);
    for (const line of lines) {
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[federated-mcp\] (debug|info|warn|error): \S/, line);
    }
  } finally {
    output.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI --check warns about a weak secret naming its variable, never its value", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/federation.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      gateway: { auth: { secretEnv: "MCP_GATEWAY_SECRET" } },
      members: [{
        serverId: "a",
        endpoints: { data: "http://127.0.0.1:1/mcp" },
        auth: { type: "jwt", config: { secretEnv: "MEMBER_A_SECRET" } },
      }],
    }),
  );
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "--config", file, "--check"],
      env: { ...ENV, MCP_SECRET_KEY: "short-proxy-key", MEMBER_A_SECRET: "short-member-key" },
      clearEnv: true,
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.match(stderr, /Weak secret in MCP_SECRET_KEY \(proxy secret\): 15 bytes, at least 32/);
    assert.match(stderr, /Weak secret in MEMBER_A_SECRET \(auth\.config\.secretEnv of member 'a'\): 16 bytes/);
    assert.ok(!stderr.includes("short-proxy-key") && !stderr.includes("short-member-key"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI loads the Redis client only when a store is configured (a dynamic import)", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", CLI],
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const graph = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string; dependencies?: { specifier: string; isDynamic?: boolean }[] }[];
  };
  const cli = graph.modules.find((m) => m.specifier.endsWith("/packages/gateway/cli.ts"))!;
  const redis = cli.dependencies?.find((d) => d.specifier.endsWith("redis_store.ts"));
  assert.ok(redis, "the CLI still knows where the store is");
  assert.equal(redis.isDynamic, true);
  const statics = new Set<string>();
  const byUrl = new Map(graph.modules.map((m) => [m.specifier, m]));
  const walk = (specifier: string) => {
    if (statics.has(specifier)) return;
    statics.add(specifier);
    for (const dep of byUrl.get(specifier)?.dependencies ?? []) {
      if (dep.isDynamic) continue;
      const resolved = new URL(dep.specifier, specifier).href;
      if (byUrl.has(resolved)) walk(resolved);
    }
  };
  walk(cli.specifier);
  assert.ok(![...statics].some((s) => s.includes("redis")), [...statics].filter((s) => s.includes("redis")).join());
});
