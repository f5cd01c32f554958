// examples/member_server.ts --log-level (issue 17 §6): a refused token leaves a trace on the member, never the token.
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { LineReader } from "../_support/lines.ts";
import { SECRET } from "../_support/members.ts";

const MEMBER = fromFileUrl(new URL("../../examples/member_server.ts", import.meta.url));

function start(logLevel: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MEMBER,
      "--control-port",
      "0",
      "--data-port",
      "0",
      "--log-level",
      logLevel,
      "--log-format",
      "json",
    ],
    env: { MCP_SECRET_KEY: SECRET, NO_COLOR: "1", RUST_BACKTRACE: "0" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function refusedRequestLog(logLevel: string): Promise<string[]> {
  const child = start(logLevel);
  const stderr = new Response(child.stderr).text();
  const output = new LineReader(child.stdout);
  try {
    const lines = await output.until((l) => l.includes("listening"));
    const data = / data (\S+)/.exec(lines.find((l) => l.includes("listening"))!)![1]!;
    const response = await fetch(data, {
      method: "POST",
      headers: { authorization: "Bearer forged.token.value", "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(response.status, 401);
    await response.body?.cancel();
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await output.rest();
    return (await stderr).split("\n").filter((l) => l.startsWith("{"));
  } finally {
    output.release();
  }
}

Deno.test("member_server --log-level debug logs a refused token's reason as JSON, never the token", async () => {
  const lines = await refusedRequestLog("debug");
  const refused = lines.map((l) => JSON.parse(l)).filter((e) => /Refused a request with an invalid token/.test(e.msg));
  assert.equal(refused.length, 1, lines.join("\n"));
  assert.equal(refused[0].level, "debug");
  assert.ok(!lines.join("\n").includes("forged.token.value"));
});

Deno.test("member_server --log-level warn stays quiet about refused tokens", async () => {
  const lines = await refusedRequestLog("warn");
  assert.ok(!lines.some((l) => l.includes("Refused a request")), lines.join("\n"));
});

Deno.test("member_server refuses an unknown --log-level", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MEMBER, "--log-level", "loud"],
    env: { MCP_SECRET_KEY: SECRET, NO_COLOR: "1" },
    clearEnv: true,
  }).output();
  assert.equal(output.code, 1);
  assert.match(new TextDecoder().decode(output.stderr), /--log-level must be debug, info, warn or error, got 'loud'/);
});
