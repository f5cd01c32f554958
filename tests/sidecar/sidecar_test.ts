// The member sidecar as a user runs it: a child process in front of real MCP servers from npm (stdio and Streamable
// HTTP), registered by a FederationProxy with both channels.

import assert from "node:assert/strict";
import { AuthManager } from "../../packages/core/auth.ts";
import type { Channel } from "../../packages/core/errors.ts";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import type { FederationConfig } from "../../packages/core/types.ts";
import { serveMember } from "../../packages/member/mod.ts";
import { Client, McpServer, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { SECRET } from "../_support/members.ts";
import { textOf } from "../_support/catalog_members.ts";
import { alive, BASE_ENV, denoServer, EVERYTHING, groupOf, MEMORY, rssKiB, SIDECAR, Sidecar } from "./_sidecar.ts";
import { freePort } from "../_support/ports.ts";

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };
const CHANNELS: Channel[] = ["control", "data"];

function memberConfig(serverId: string, sidecar: Sidecar): FederationConfig {
  return {
    serverId,
    endpoints: { control: sidecar.control, data: sidecar.data },
    auth: { type: "jwt", config: {} },
  };
}

function proxy(options: { proxyId?: string } = {}): FederationProxy {
  return new FederationProxy(SECRET, { logger: SILENT, ...options });
}

async function bothUp(p: FederationProxy, serverId: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const channels = p.getServerStatus(serverId)?.channels;
    if (channels?.control?.state === "up" && channels?.data?.state === "up") return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`Both channels of '${serverId}' should be up: ${JSON.stringify(p.getServerStatus(serverId))}`);
}

// Lists and calls `echo` and a tool with progress over each channel, forced per call.
async function exerciseEverything(p: FederationProxy, serverId: string): Promise<void> {
  await bothUp(p, serverId);
  const tools = (await p.listTools(serverId)).map((t) => t.name);
  assert.ok(tools.includes("echo") && tools.includes("trigger-long-running-operation"), tools.join(","));
  for (const channel of CHANNELS) {
    const echoed = await p.callTool(serverId, "echo", { message: `over ${channel}` }, { channel });
    assert.equal(textOf(echoed), `Echo: over ${channel}`);
    const progress: number[] = [];
    const long = await p.callTool(serverId, "trigger-long-running-operation", { duration: 0.6, steps: 3 }, {
      channel,
      onprogress: (event) => progress.push(event.progress),
    });
    assert.equal(long.isError ?? false, false);
    assert.deepEqual(progress, [1, 2, 3], `progress over ${channel}`);
  }
}

Deno.test("sidecar serves a stdio server (server-everything) on both channels: tools listed and called, progress relayed", async () => {
  await using sidecar = await Sidecar.start(["--server-id", "ev", "--", ...denoServer(EVERYTHING, "stdio")]);
  await using p = proxy();
  await p.registerServer(memberConfig("ev", sidecar));
  await exerciseEverything(p, "ev");
  // Both channels of the proxy share one upstream process.
  assert.equal(sidecar.upstreams().length, 1);
});

Deno.test("sidecar: both channels of one proxy reach the same upstream session (server-memory), another proxy gets its own process", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using sidecar = await Sidecar.start(
      ["--server-id", "mem", "--env", "MEMORY_FILE_PATH", "--", ...denoServer(MEMORY)],
      { MEMORY_FILE_PATH: `${dir}/memory.jsonl` },
    );
    await using p = proxy();
    await p.registerServer(memberConfig("mem", sidecar));
    await bothUp(p, "mem");
    await p.callTool("mem", "create_entities", {
      entities: [{ name: "sidecar", entityType: "component", observations: ["written over control"] }],
    }, { channel: "control" });
    const graph = await p.callTool("mem", "read_graph", {}, { channel: "data" });
    assert.match(textOf(graph), /written over control/);
    assert.equal(sidecar.upstreams().length, 1, "one upstream process for both channels of one proxy");

    // Another proxy (another token subject and issuer) never shares the first one's upstream.
    await using other = proxy({ proxyId: "other-proxy" });
    await other.registerServer(memberConfig("mem", sidecar));
    await bothUp(other, "mem");
    await other.callTool("mem", "read_graph", {}, { channel: "control" });
    assert.equal(sidecar.upstreams().length, 2, "a second proxy gets its own upstream process");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sidecar serves a Streamable HTTP server (server-everything streamableHttp) on both channels", async () => {
  const port = freePort();
  const upstream = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", EVERYTHING, "streamableHttp"],
    env: { PORT: String(port), RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const url = `http://127.0.0.1:${port}/mcp`;
    for (let i = 0;; i++) {
      const ok = await fetch(url, { method: "GET" }).then(async (r) => {
        await r.body?.cancel();
        return true;
      }, () => false);
      if (ok) break;
      if (i > 200) assert.fail("server-everything streamableHttp did not start");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await using sidecar = await Sidecar.start(["--server-id", "evh", "--upstream", url]);
    await using p = proxy();
    await p.registerServer(memberConfig("evh", sidecar));
    await exerciseEverything(p, "evh");
    assert.equal(sidecar.upstreams().length, 0, "an HTTP upstream spawns no process");

    // An HTTP upstream relates exactly (by POST stream): with two calls in progress, the sampling request still
    // reaches the call that caused it, and only that one.
    let started!: () => void;
    const progressing = new Promise<void>((resolve) => started = resolve);
    const long = p.callTool("evh", "trigger-long-running-operation", { duration: 1, steps: 2 }, {
      channel: "control",
      onprogress: () => started(),
      onrequest: () => assert.fail("the long call must not get the other call's request"),
    });
    await progressing;
    const asked: string[] = [];
    const sampled = await p.callTool("evh", "trigger-sampling-request", { prompt: "hi", maxTokens: 5 }, {
      channel: "data",
      onrequest: (request) => {
        asked.push(request.method);
        return Promise.resolve({ role: "assistant", model: "m", content: { type: "text", text: "exactly related" } });
      },
    });
    assert.deepEqual(asked, ["sampling/createMessage"]);
    assert.match(textOf(sampled), /exactly related/);
    await long;
  } finally {
    upstream.kill("SIGTERM");
    await upstream.status;
  }
});

Deno.test("sidecar sends --upstream-header-env headers to an HTTP upstream that requires them", async () => {
  const upstreamSecret = "another-secret-for-the-upstream-of-32-bytes";
  await using upstream = await serveMember({
    serverId: "inner",
    server: () => {
      const server = new McpServer({ name: "inner", version: "1.0.0" });
      server.registerTool(
        "whoami",
        { description: "Says who" },
        () => ({ content: [{ type: "text", text: "inner" }] }),
      );
      return server;
    },
    verifier: upstreamSecret,
    control: false,
    data: { port: 0 },
    logger: SILENT,
  });
  const token = await new AuthManager(upstreamSecret).createToken({}, { audience: "inner", subject: "sidecar" });
  await using sidecar = await Sidecar.start(
    ["--server-id", "outer", "--upstream", upstream.dataUrl!, "--upstream-header-env", "Authorization=INNER_AUTH"],
    { INNER_AUTH: `Bearer ${token}` },
  );
  await using p = proxy();
  await p.registerServer(memberConfig("outer", sidecar));
  await bothUp(p, "outer");
  for (const channel of CHANNELS) {
    assert.equal(textOf(await p.callTool("outer", "whoami", {}, { channel })), "inner");
  }
});

Deno.test("sidecar refuses bad tokens on both endpoints with 401", async () => {
  await using sidecar = await Sidecar.start(["--server-id", "ev", "--", ...denoServer(EVERYTHING, "stdio")]);
  const wrongKey = await new AuthManager("a-different-secret-of-at-least-32-bytes!!").createToken({}, {
    audience: "ev",
    subject: "intruder",
  });
  const wrongAudience = await new AuthManager(SECRET).createToken({}, { audience: "other", subject: "p" });
  const body = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
  });
  for (const authorization of [undefined, `Bearer ${wrongKey}`, `Bearer ${wrongAudience}`, "Bearer not-a-jwt"]) {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const data = await fetch(sidecar.data, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body,
    });
    assert.equal(data.status, 401);
    assert.equal(data.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
    await data.body?.cancel();
    const control = await fetch(sidecar.control.replace(/^ws/, "http"), {
      headers: { ...headers, "sec-websocket-protocol": "mcp" },
    });
    assert.equal(control.status, 401);
    await control.body?.cancel();
  }
  // A proxy with the wrong secret cannot register, and no upstream was started for it.
  await using intruder = new FederationProxy("a-different-secret-of-at-least-32-bytes!!", {
    logger: SILENT,
    connectTimeout: 2_000,
    backoff: { maxAttempts: 1 },
  });
  await assert.rejects(intruder.registerServer(memberConfig("ev", sidecar)));
  assert.equal(sidecar.upstreams().length, 0);
});

Deno.test("sidecar on SIGTERM drains, exits 0 and ends its upstream process", async () => {
  const sidecar = await Sidecar.start(["--server-id", "ev", "--", ...denoServer(EVERYTHING, "stdio")]);
  try {
    const p = proxy();
    await p.registerServer(memberConfig("ev", sidecar));
    await bothUp(p, "ev");
    await p.callTool("ev", "echo", { message: "hi" });
    const [upstream] = sidecar.upstreams();
    assert.ok(upstream !== undefined && alive(upstream));
    // Start-up and memory, reported (not asserted): spawn → /healthz ok, RSS of the sidecar and of its upstream.
    console.log(
      `sidecar start-up ${sidecar.startedIn.toFixed(0)} ms, RSS sidecar ${rssKiB(sidecar.child.pid)} KiB, ` +
        `upstream ${rssKiB(upstream)} KiB`,
    );
    await p.close();
    const { status, stderr } = await sidecar.stop("SIGTERM");
    assert.equal(status.code, 0, stderr);
    assert.match(stderr, /SIGTERM: draining/);
    assert.equal(alive(upstream), false, "the upstream process is gone");
  } finally {
    await sidecar.stop("SIGKILL");
  }
});

Deno.test("sidecar exits 2 on a bad command line, naming the flag", async () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--server-id", "fs", "--control-port", "abc", "--", "true"], {}, /--control-port 'abc'/],
    [["--", "true"], {}, /--server-id/],
    [["--server-id", "fs"], {}, /command after --|--upstream/],
    [["--server-id", "fs", "--prot", "1", "--", "true"], {}, /--prot/],
    [
      ["--server-id", "fs", "--upstream-header", "Authorization: Bearer x", "--upstream", "http://h/mcp"],
      {},
      /--upstream-header-env/,
    ],
    [["--server-id", "fs", "--", "true"], { MCP_SECRET_KEY: "" }, /MCP_SECRET_KEY/],
    [["--server-id", "fs", "--jwks", "/nonexistent/keys.json", "--", "true"], {}, /--jwks/],
    [["--server-id", "a b", "--", "true"], {}, /--server-id/],
    [["--server-id", "fs", "--idle-timeout", "soon", "--", "true"], {}, /--idle-timeout/],
    [["--server-id", "fs", "--upstream-linger", "-1", "--", "true"], {}, /--upstream-linger/],
    [["--server-id", "fs", "--", "no-such-mcp-server-command"], {}, /no-such-mcp-server-command.*after --/],
  ];
  for (const [args, env, expected] of cases) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SIDECAR, ...args],
      env: { ...BASE_ENV, ...env },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, expected, args.join(" "));
  }
});

Deno.test("sidecar relates a stdio upstream's sampling request to the only call in progress, and refuses it when several are", async () => {
  await using sidecar = await Sidecar.start(["--server-id", "ev", "--", ...denoServer(EVERYTHING, "stdio")]);
  await using p = proxy();
  await p.registerServer(memberConfig("ev", sidecar));
  await bothUp(p, "ev");
  // server-everything asks for roots once after it is initialized: let that happen during a call of its own first,
  // so that the sampling call below is the only thing the upstream asks about.
  for (const channel of CHANNELS) {
    await p.callTool("ev", "echo", { message: "warm" }, {
      channel,
      onrequest: () => Promise.resolve({ roots: [] }),
    });
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const sample = { role: "assistant", model: "test-model", content: { type: "text", text: "sampled by the caller" } };
  for (const channel of CHANNELS) {
    const asked: string[] = [];
    const result = await p.callTool("ev", "trigger-sampling-request", { prompt: "hi", maxTokens: 5 }, {
      channel,
      onrequest: (request) => {
        asked.push(request.method);
        return Promise.resolve(sample);
      },
    });
    assert.deepEqual(asked, ["sampling/createMessage"], `over ${channel}`);
    assert.match(textOf(result), /sampled by the caller/);
  }

  // Two calls in progress on one stdio stream: the request cannot be related to one of them, so nobody gets it.
  let started!: () => void;
  const progressing = new Promise<void>((resolve) => started = resolve);
  const long = p.callTool("ev", "trigger-long-running-operation", { duration: 1.5, steps: 3 }, {
    channel: "control",
    onprogress: () => started(),
    onrequest: () => assert.fail("the long call must not get the other call's request"),
  });
  await progressing;
  let asked = 0;
  const refused = await p.callTool("ev", "trigger-sampling-request", { prompt: "hi", maxTokens: 5 }, {
    channel: "data",
    onrequest: () => {
      asked++;
      return Promise.resolve(sample);
    },
  }).then(
    (result) => result.isError === true ? textOf(result) : assert.fail("must fail"),
    (error: Error) => error.message,
  );
  assert.equal(asked, 0);
  assert.match(refused, /Cannot relate 'sampling\/createMessage' to one call/);
  await long;

  // A cancelled call is over at once: it does not make the next call's request ambiguous.
  const abort = new AbortController();
  const cancelled = p.callTool("ev", "trigger-long-running-operation", { duration: 5, steps: 5 }, {
    channel: "control",
    signal: abort.signal,
    onprogress: () => abort.abort(),
  });
  await assert.rejects(cancelled);
  const after = await p.callTool("ev", "trigger-sampling-request", { prompt: "again", maxTokens: 5 }, {
    channel: "data",
    onrequest: () => Promise.resolve(sample),
  });
  assert.match(textOf(after), /sampled by the caller/);
});

Deno.test("sidecar restarts a stdio upstream killed with SIGKILL, and calls succeed again", async () => {
  await using sidecar = await Sidecar.start(["--server-id", "ev", "--", ...denoServer(EVERYTHING, "stdio")]);
  await using p = proxy();
  await p.registerServer(memberConfig("ev", sidecar));
  await bothUp(p, "ev");
  const [first] = sidecar.upstreams();
  assert.ok(first !== undefined);
  Deno.kill(first, "SIGKILL");
  // A call sent while the sidecar has not yet seen the exit fails (-32000 "Upstream exited"): wait for the restart.
  for (let i = 0; !sidecar.upstreams().some((pid) => pid !== first); i++) {
    if (i > 250) assert.fail("the upstream was not restarted");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const channel of CHANNELS) {
    assert.equal(textOf(await p.callTool("ev", "echo", { message: "again" }, { channel })), "Echo: again");
  }
  const now = sidecar.upstreams();
  assert.equal(now.length, 1);
  assert.notEqual(now[0], first);
});

/** A sidecar started with `flags` accepts `signer`'s tokens on both channels and refuses a shared-secret token. */
async function verifiesAsymmetricOnly(signer: AuthManager, flags: string[]): Promise<void> {
  await using sidecar = await Sidecar.start(
    ["--server-id", "ev", ...flags, "--", ...denoServer(EVERYTHING, "stdio")],
    { MCP_SECRET_KEY: "" },
  );
  await using p = new FederationProxy(signer, { logger: SILENT });
  await p.registerServer(memberConfig("ev", sidecar));
  await bothUp(p, "ev");
  for (const channel of CHANNELS) {
    assert.equal(textOf(await p.callTool("ev", "echo", { message: channel }, { channel })), `Echo: ${channel}`);
  }
  const hmac = await new AuthManager(SECRET).createToken({}, { audience: "ev", subject: "federation-proxy" });
  const refused = await fetch(sidecar.data, {
    method: "POST",
    headers: { authorization: `Bearer ${hmac}`, "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
}

Deno.test("sidecar with --jwks verifies the proxy's asymmetric tokens and refuses shared-secret ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const signer = await AuthManager.generate("EdDSA");
    const jwksFile = `${dir}/proxy-jwks.json`;
    await Deno.writeTextFile(jwksFile, JSON.stringify(await signer.publicJwks()));
    await verifiesAsymmetricOnly(signer, ["--jwks", jwksFile]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sidecar with --jwks-url verifies the proxy's tokens against its published JWKS", async () => {
  const signer = await AuthManager.generate("EdDSA");
  let fetches = 0;
  await using jwks = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    fetches++;
    return Response.json(await signer.publicJwks());
  });
  await verifiesAsymmetricOnly(signer, ["--jwks-url", `http://127.0.0.1:${jwks.addr.port}/.well-known/jwks.json`]);
  assert.equal(fetches, 1, "the key set is fetched once and cached");
});

Deno.test("sidecar serves https with --cert and --key", async () => {
  const testdata = (name: string) => new URL(`../../packages/member/testdata/${name}`, import.meta.url).pathname;
  await using sidecar = await Sidecar.start([
    "--server-id",
    "ev",
    "--cert",
    testdata("localhost.pem"),
    "--key",
    testdata("localhost.key"),
    "--",
    ...denoServer(EVERYTHING, "stdio"),
  ]);
  assert.match(sidecar.control, /^wss:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(sidecar.data, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  using client = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(testdata("ca.pem"))] });
  const health = await fetch(sidecar.health, { client });
  assert.deepEqual(await health.json(), { status: "ok" });
  const token = await new AuthManager(SECRET).createToken({}, { audience: "ev", subject: "tls-client" });
  const mcp = new Client({ name: "tls", version: "1.0.0" });
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(sidecar.data), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
      fetch: (url, init) => fetch(url, { ...init, client }),
    }),
  );
  const echoed = await mcp.callTool({ name: "echo", arguments: { message: "over tls" } });
  assert.equal(textOf(echoed), "Echo: over tls");
  await mcp.close();
});

Deno.test("sidecar refuses a proxy past --max-proxies and starts no upstream for it", async () => {
  await using sidecar = await Sidecar.start([
    "--server-id",
    "ev",
    "--max-proxies",
    "1",
    "--",
    ...denoServer(EVERYTHING, "stdio"),
  ]);
  await using first = proxy();
  await first.registerServer(memberConfig("ev", sidecar));
  await bothUp(first, "ev");
  await using second = new FederationProxy(SECRET, {
    logger: SILENT,
    proxyId: "second-proxy",
    connectTimeout: 2_000,
    backoff: { maxAttempts: 1 },
  });
  await assert.rejects(second.registerServer(memberConfig("ev", sidecar)));
  assert.equal(sidecar.upstreams().length, 1);
  assert.equal(textOf(await first.callTool("ev", "echo", { message: "still" })), "Echo: still");
  const { stderr } = await sidecar.stop();
  assert.match(stderr, /too many proxies \(see --max-proxies\)/);
});

Deno.test("sidecar ends a proxy's upstream process --upstream-linger after the proxy's last session closed", async () => {
  await using sidecar = await Sidecar.start([
    "--server-id",
    "ev",
    "--upstream-linger",
    "300ms",
    "--",
    ...denoServer(EVERYTHING, "stdio"),
  ]);
  const p = proxy();
  await p.registerServer(memberConfig("ev", sidecar));
  await bothUp(p, "ev");
  const [upstream] = sidecar.upstreams();
  assert.ok(upstream !== undefined);
  await p.removeServer("ev");
  await p.close();
  for (let i = 0; alive(upstream); i++) {
    if (i > 250) assert.fail("the upstream outlived --upstream-linger");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.deepEqual(sidecar.upstreams(), []);
  // The proxy comes back: a new upstream is started for it.
  await using again = proxy();
  await again.registerServer(memberConfig("ev", sidecar));
  assert.equal(textOf(await again.callTool("ev", "echo", { message: "back" })), "Echo: back");
  assert.equal(sidecar.upstreams().length, 1);
});

Deno.test("sidecar runs the usage guide's command (npx -y server-filesystem), and SIGTERM leaves no process of its tree", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/hello.txt`, "hello from the sidecar");
    const sidecar = await Sidecar.start([
      "--server-id",
      "fs",
      "--",
      "npx",
      "-y",
      "@modelcontextprotocol/server-filesystem@2026.8.31",
      dir,
    ]);
    try {
      const p = proxy();
      await p.registerServer(memberConfig("fs", sidecar));
      await bothUp(p, "fs");
      const tools = (await p.listTools("fs", { channel: "control" })).map((t) => t.name);
      assert.ok(tools.includes("read_text_file"), tools.join(","));
      const read = await p.callTool("fs", "read_text_file", { path: `${dir}/hello.txt` }, { channel: "data" });
      assert.equal(textOf(read), "hello from the sidecar");
      const [leader] = sidecar.upstreams();
      assert.ok(leader !== undefined);
      const tree = groupOf(leader);
      assert.ok(tree.length >= 2, `npx runs the server as a child: ${tree}`);
      await p.close();
      const { status, stderr } = await sidecar.stop("SIGTERM");
      assert.equal(status.code, 0, stderr);
      assert.deepEqual(tree.filter(alive), [], "no process of the upstream's tree is left");
    } finally {
      await sidecar.stop("SIGKILL");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
