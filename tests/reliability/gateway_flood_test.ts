// A connection flood must not kill the gateway, and requests in progress are bounded. The gateway CLI runs in a
// child process under `ulimit -n 1024`; ~1,100 raw TCP connections that send nothing or half a request header
// exhaust its descriptors (Deno's accept loop fails with EMFILE); once they close, the gateway answers `/healthz`
// and an MCP call again.
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { GATEWAY_SECRET, SECRET, TestMember } from "../_support/members.ts";
import { FederationProxy } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { connectClient, gatewayToken, quiet, textOf } from "../_support/catalog_members.ts";
import { LineReader } from "../_support/lines.ts";

const CLI = fromFileUrl(new URL("../../packages/gateway/cli.ts", import.meta.url));
const ENV = { RUST_BACKTRACE: "0", NO_COLOR: "1", MCP_SECRET_KEY: SECRET, MCP_GATEWAY_SECRET: GATEWAY_SECRET };
const FLOOD = 1_100;

async function healthz(base: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

Deno.test("Gateway survives 1,100 half-open connections under ulimit -n 1024 and serves again once they close", async () => {
  await using member = await TestMember.start("steady");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/federation.json`;
  await Deno.writeTextFile(
    file,
    // On [::1]: the flood's 1,100 ephemeral ports then never block another test's IPv4 listener from re-binding
    // its port (tests run in parallel, and members restart on their old ports).
    JSON.stringify({
      gateway: { hostname: "::1", port: 0, auth: { secretEnv: "MCP_GATEWAY_SECRET" } },
      members: [member.config],
    }),
  );
  const child = new Deno.Command("bash", {
    args: ["-c", `ulimit -n 1024; exec "${Deno.execPath()}" run -A "${CLI}" --config "${file}" --log-level error`],
    env: { ...ENV, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const output = new LineReader(child.stdout);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => exited = s);
  const conns: Deno.Conn[] = [];
  try {
    const lines = await output.until((l) => l.startsWith("gateway "));
    const url = /^gateway (\S+)/.exec(lines.find((l) => l.startsWith("gateway ")) ?? "")?.[1];
    assert.ok(url, lines.join("\n"));
    const { hostname: bracketed, port } = new URL(url);
    const hostname = bracketed.replace(/^\[|\]$/g, "");
    const base = `http://${bracketed}:${port}`;
    assert.equal(await healthz(base), 200);

    let refused = 0;
    for (let i = 0; i < FLOOD; i++) {
      try {
        const conn = await Deno.connect({ hostname, port: Number(port) });
        if (i % 2 === 1) await conn.write(new TextEncoder().encode(`GET /healthz HTTP/1.1\r\nHost: ${bracketed}`));
        conns.push(conn);
      } catch {
        refused++;
      }
    }
    // Give the gateway time to hit its descriptor limit while the connections are held.
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const conn of conns.splice(0)) {
      try {
        conn.close();
      } catch { /* already closed by the peer */ }
    }

    const started = performance.now();
    let answered: number | undefined;
    while (performance.now() - started < 15_000 && exited === undefined) {
      answered = await healthz(base);
      if (answered === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const recoveredMs = Math.round(performance.now() - started);
    assert.equal(exited, undefined, `the gateway exited (code ${exited?.code}): ${await Promise.race([stderr, ""])}`);
    assert.equal(answered, 200, "the gateway answers /healthz after the flood");
    const client = await connectClient(url, { token: await gatewayToken() });
    assert.equal(textOf(await client.callTool({ name: "steady__echo", arguments: { text: "after" } })), "after");
    await client.close();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const restarts = /^federation_gateway_listener_restarts_total (\d+)$/m.exec(metrics)?.[1];
    console.log(
      `flood: ${FLOOD - refused} connections opened (${refused} refused), healthz again after ${recoveredMs} ms, ` +
        `listener restarts ${restarts}`,
    );
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    if (exited === undefined) child.kill("SIGKILL");
    await status;
    output.release();
    await stderr;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Gateway bounds requests in progress: open SSE streams hold a slot, one more request gets 503 until one ends", async () => {
  await using member = await TestMember.start("bounded");
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(member.config);
  await using gateway = await serveGateway(proxy, {
    auth: { secret: GATEWAY_SECRET },
    port: 0,
    logger: quiet,
    maxConcurrentRequests: 1,
  });
  const base = gateway.url.replace(/\/mcp$/, "");
  const headers = {
    authorization: `Bearer ${await gatewayToken()}`,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  const init = await fetch(gateway.url, {
    method: "POST",
    headers,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bounded", version: "1" } },
    }),
  });
  assert.equal(init.status, 200);
  await init.text();
  const session = init.headers.get("mcp-session-id")!;
  const stream = await fetch(gateway.url, {
    headers: { ...headers, accept: "text/event-stream", "mcp-session-id": session },
  });
  assert.equal(stream.status, 200, "the GET stream is open and holds the only slot");
  const refused = await fetch(`${base}/healthz`);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.equal((await refused.json()).error.code, "ERR_OVERLOADED");
  await stream.body!.cancel();
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    const health = await fetch(`${base}/healthz`);
    status = health.status;
    await health.body?.cancel();
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(status, 200, "the slot is free once the stream ended");
});
