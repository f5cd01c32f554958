/**
 * Tasks for a 2025-11-25 client of the stdio gateway: a task-augmented `tools/call`, `tasks/get` and `tasks/result`
 * are answered off the SDK dispatch on the connection, like an HTTP session's.
 *
 * @module
 */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { FederationProxy } from "../../mod.ts";
import { serveGatewayStdio } from "../../packages/gateway/mod.ts";
import { SECRET } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { serveTasksMember } from "../fixtures/tasks_member.ts";

Deno.test("A 2025-11-25 stdio client runs a member's tool as a task through the stdio gateway", async () => {
  await using member = serveTasksMember();
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer({ serverId: "tasks", endpoints: { data: member.url }, auth: { type: "none" } });
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  await using _gateway = await serveGatewayStdio(proxy, { stdin, stdout, logger: quiet });
  const answers = new Map<number, PromiseWithResolvers<Record<string, unknown>>>();
  let buffer = "";
  stdout.on("data", (chunk: Uint8Array) => {
    buffer += new TextDecoder().decode(chunk);
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const message = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
      buffer = buffer.slice(newline + 1);
      if (typeof message.id === "number") answers.get(message.id)?.resolve(message);
    }
  });
  let next = 0;
  const request = (method: string, params: Record<string, unknown>) => {
    const id = ++next;
    const answer = Promise.withResolvers<Record<string, unknown>>();
    answers.set(id, answer);
    stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    return answer.promise;
  };
  const init = await request("initialize", {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "stdio-tasks", version: "1.0.0" },
  });
  const capabilities = (init.result as { capabilities: Record<string, unknown> }).capabilities;
  assert.deepEqual(capabilities.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
  stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");

  const created = await request("tools/call", {
    name: "tasks__slow_compute",
    arguments: { seconds: 0.3, label: "stdio" },
    task: { ttl: 30_000 },
  });
  const taskId = (created.result as { task: { taskId: string } }).task.taskId;
  assert.match(taskId, /^ft1\./, JSON.stringify(created));
  const result = await request("tasks/result", { taskId });
  assert.equal(
    (result.result as { content: { text: string }[] }).content[0]!.text,
    "Computed stdio in 0.3s",
  );
  const got = await request("tasks/get", { taskId });
  assert.equal((got.result as { status: string }).status, "completed");
  const unknown = await request("tasks/get", { taskId: "nope" });
  assert.equal((unknown.error as { code: number }).code, -32602);
  stdin.end();
});
