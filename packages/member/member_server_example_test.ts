import assert from "node:assert/strict";
import { httpClient, SECRET, textOf, wsClient } from "./_helpers_test.ts";
import { AuthManager } from "../core/auth.ts";

const EXAMPLE = new URL("../../examples/member_server.ts", import.meta.url).pathname;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", RUST_BACKTRACE: "0" };
  for (const name of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  return text;
}

Deno.test("examples/member_server.ts serves the demo tools on ws://localhost and http://localhost, drains on SIGTERM", async () => {
  const controlPort = freePort();
  const dataPort = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      EXAMPLE,
      "--server-id",
      "server-9",
      "--control-port",
      String(controlPort),
      "--data-port",
      String(dataPort),
    ],
    env: { ...baseEnv(), MCP_SECRET_KEY: SECRET },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = collect(child.stderr);
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!output.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    output += value;
  }
  const rest = (async () => {
    for (;;) if ((await lines.read()).done) return;
  })();
  assert.match(
    output,
    new RegExp(`listening: control ws://127.0.0.1:${controlPort}/ data http://127.0.0.1:${dataPort}/`),
  );

  const token = await new AuthManager(SECRET).createToken({}, { audience: "server-9", subject: "test" });
  const ws = await wsClient(`ws://localhost:${controlPort}`, token);
  const http = await httpClient(`http://localhost:${dataPort}`, token);
  assert.equal(textOf(await ws.client.callTool({ name: "add", arguments: { a: 20, b: 22 } })), "42");
  const sum = await http.callTool({ name: "add", arguments: { a: 1.5, b: 2 } });
  assert.equal(textOf(sum), "3.5");
  assert.deepEqual(sum.structuredContent, { sum: 3.5 });
  assert.match(textOf(await http.callTool({ name: "time" })), /^\d{4}-\d\d-\d\dT/);
  const info = await http.readResource({ uri: "info://server" });
  assert.match(JSON.stringify(info.contents), /serverId: server-9/);
  await http.close();

  child.kill("SIGTERM");
  const status = await child.status;
  await rest;
  await ws.client.close();
  assert.equal(status.code, 0, await stderr);
});

Deno.test("examples/member_server.ts refuses to start without MCP_SECRET_KEY", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", EXAMPLE, "--control-port", "0", "--data-port", "0"],
    env: baseEnv(),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 1);
  assert.match(new TextDecoder().decode(output.stderr), /MCP_SECRET_KEY is not set/);
  assert.equal(new TextDecoder().decode(output.stdout), "");
});

Deno.test("examples/member_server.ts reports a weak secret once, through its logger", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", EXAMPLE, "--control-port", String(freePort()), "--data-port", String(freePort())],
    env: { ...baseEnv(), MCP_SECRET_KEY: "short-dev-secret" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = collect(child.stderr);
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!output.includes("listening")) {
    const { value, done } = await stdout.read();
    if (done) break;
    output += value;
  }
  child.kill("SIGTERM");
  while (!(await stdout.read()).done) { /* drain */ }
  assert.equal((await child.status).code, 0);
  const warnings = (await stderr).split("\n").filter((line) => line.includes("Weak secret"));
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0]!, /^\[federated-mcp\] warn: Weak secret: 16 bytes, at least 32/);
});
