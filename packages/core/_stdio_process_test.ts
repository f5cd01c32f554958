import assert from "node:assert/strict";
import { StdioProcessTransport } from "./_stdio_process.ts";
import type { JSONRPCMessage } from "./_sdk.ts";
import type { ProtocolError } from "./errors.ts";
import { alive, groupMembers } from "../../tests/_support/processes.ts";

function collector() {
  const lines: { message: string; data: Record<string, unknown> | undefined }[] = [];
  const log = (message: string, data?: Record<string, unknown>) => lines.push({ message, data });
  return { lines, logger: { debug: log, info: log, warn: log, error: log } };
}

Deno.test("StdioProcessTransport speaks newline-delimited JSON-RPC and logs stderr line by line, cut at the bound", async () => {
  const { lines, logger } = collector();
  // A one-line echo server in sh: every stdin line back on stdout, and a long stderr line.
  const transport = new StdioProcessTransport({
    command: "sh",
    args: ["-c", `printf '%0300d\\n' 0 >&2; while IFS= read -r line; do printf '%s\\n' "$line"; done`],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
  }, { serverId: "t", logger, stderrMessage: "Upstream stderr", maxStderrLine: 100 });
  const received: JSONRPCMessage[] = [];
  const got = Promise.withResolvers<void>();
  transport.onmessage = (message) => {
    received.push(message);
    got.resolve();
  };
  let closed = 0;
  transport.onclose = () => closed++;
  await transport.start();
  await transport.send({ jsonrpc: "2.0", id: 1, method: "ping" });
  await got.promise;
  assert.deepEqual(received, [{ jsonrpc: "2.0", id: 1, method: "ping" }]);
  await transport.close();
  assert.equal(closed, 1);
  const stderr = lines.find((l) => l.message === "Upstream stderr");
  assert.equal((stderr?.data?.line as string).length, 101, "cut at 100 characters plus an ellipsis");
  assert.equal(stderr?.data?.serverId, "t");
  await assert.rejects(transport.send({ jsonrpc: "2.0", id: 2, method: "ping" }), /not running/);
});

Deno.test("StdioProcessTransport.close() ends the whole process group, even children that ignore SIGTERM", async () => {
  const { logger } = collector();
  const transport = new StdioProcessTransport({
    command: "sh",
    // A child that ignores SIGTERM and stdin's end, like a wrapper's grandchild (npx → sh → node).
    args: ["-c", "sh -c 'trap \"\" TERM; sleep 30' & sleep 30"],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
  }, { serverId: "t", logger, label: {}, killGrace: 300 });
  await transport.start();
  const pid = transport.pid!;
  for (let i = 0; groupMembers(pid).length < 3; i++) {
    if (i > 100) assert.fail(`the process tree did not start: ${groupMembers(pid)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const members = groupMembers(pid);
  await transport.close();
  for (let i = 0; members.some(alive); i++) {
    if (i > 100) assert.fail(`left behind: ${members.filter(alive)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(groupMembers(pid), []);
});

Deno.test("StdioProcessTransport reports an exit it did not cause through onclose, and skips non-JSON lines", async () => {
  const { lines, logger } = collector();
  const transport = new StdioProcessTransport({
    command: "sh",
    args: ["-c", `echo 'not json'; echo '{"jsonrpc":"2.0","method":"notifications/message","params":{}}'; exit 3`],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
  }, { serverId: "t", logger, label: {} });
  const received: JSONRPCMessage[] = [];
  transport.onmessage = (message) => received.push(message);
  const closed = Promise.withResolvers<void>();
  transport.onclose = () => closed.resolve();
  await transport.start();
  await closed.promise;
  await transport.close();
  const exit = lines.find((l) => l.message === "Upstream process exited");
  assert.equal(exit?.data?.code, 3);
  assert.ok(lines.some((l) => l.message === "Ignored a line of the upstream's stdout that is not JSON"));
  assert.deepEqual(received.map((m) => (m as { method?: string }).method), ["notifications/message"]);
});

Deno.test("StdioProcessTransport applies the size policy to a line over the limit, whichever chunk completes it", async () => {
  const { logger } = collector();
  const long = JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { data: "x".repeat(200) } });
  const small = (n: number) => JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { n } });
  // Over the limit: one line in one write; one whose start is under the limit and whose end comes in a later write.
  const script = `printf '%s\\n%s\\n' '${long}' '${small(1)}'; printf '%s' '${long.slice(0, 60)}'; sleep 0.3; ` +
    `printf '%s\\n%s\\n' '${long.slice(60)}' '${small(2)}'`;
  const transport = new StdioProcessTransport({
    command: "sh",
    args: ["-c", script],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
  }, { serverId: "t", logger, label: {}, maxMessageBytes: 100, oversize: "skip" });
  const received: JSONRPCMessage[] = [];
  const errors: unknown[] = [];
  transport.onmessage = (message) => received.push(message);
  transport.onerror = (error) => errors.push((error as ProtocolError).code);
  const closed = Promise.withResolvers<void>();
  transport.onclose = () => closed.resolve();
  await transport.start();
  await closed.promise;
  assert.deepEqual(received.map((m) => (m as unknown as { params: { n?: number } }).params.n), [1, 2]);
  assert.deepEqual(errors, ["ERR_MESSAGE_TOO_LARGE", "ERR_MESSAGE_TOO_LARGE"]);
});

Deno.test("StdioProcessTransport goes on reading stdout after a message handler throws", async () => {
  const { lines, logger } = collector();
  const message = (n: number) => JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { n } });
  const transport = new StdioProcessTransport({
    command: "sh",
    args: ["-c", `printf '%s\\n' '${message(1)}'; sleep 0.2; printf '%s\\n' '${message(2)}'`],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
  }, { serverId: "t", logger, label: {} });
  const received: number[] = [];
  transport.onmessage = (m) => {
    const n = (m as unknown as { params: { n: number } }).params.n;
    received.push(n);
    if (n === 1) throw new Error("Handler fault");
  };
  const closed = Promise.withResolvers<void>();
  transport.onclose = () => closed.resolve();
  await transport.start();
  await closed.promise;
  assert.deepEqual(received, [1, 2]);
  const fault = lines.find((l) => l.message === "A handler of an upstream message failed");
  assert.equal(fault?.data?.error, "Handler fault");
});
