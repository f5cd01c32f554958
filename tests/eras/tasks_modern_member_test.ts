/**
 * Tasks of a 2026-07-28 member speaking the tasks extension, through the gateway: a 2026-07-28 client (raw POSTs
 * declaring the extension) and a 2025-11-25 client (`params.task`, `tasks/get`, `tasks/result`) each run the
 * member's `slow_compute` to completion, and cancel one. The gateway sends the member plain 2026-07-28 POSTs with
 * the standard headers and the extension in the envelope (the member answers `tasks/get` as a one-event stream).
 *
 * @module
 */
import assert from "node:assert/strict";
import { connectClient, gatewayToken, textOf } from "../_support/catalog_members.ts";
import { Federation } from "../interop/_support.ts";
import { CreateTaskResultSchema, GetTaskPayloadResultSchema, GetTaskResultSchema } from "../../packages/core/_sdk.ts";
import { serveModernTasksMember } from "../fixtures/modern_tasks_member.ts";
import { modernPost } from "../_support/modern_post.ts";

const MODERN = "2026-07-28";
const TASKS = "io.modelcontextprotocol/tasks";
const TOOL = "mt__slow_compute";

/** POSTs one 2026-07-28 request declaring the extension; returns the JSON-RPC answer. */
async function post(url: string, token: string, method: string, params: Record<string, unknown>) {
  const answer = await modernPost(url, token, method, params, {
    capabilities: { extensions: { [TASKS]: {} } },
    clientName: "tasks-test",
  });
  return answer as { result?: Record<string, unknown>; error?: { code: number; message: string } };
}

async function start() {
  const member = serveModernTasksMember();
  const federation = await Federation.start();
  await federation.proxy.registerServer({ serverId: "mt", endpoints: { data: member.url }, auth: { type: "none" } });
  assert.equal(federation.proxy.getServerStatus("mt")?.era, "modern");
  return { member, federation };
}

Deno.test("A 2026-07-28 client runs a 2026-07-28 member's task through the gateway (tasks extension both sides)", async () => {
  const { member, federation } = await start();
  await using _member = member;
  await using _federation = federation;
  const token = await gatewayToken();
  const url = federation.gateway.url;

  const created = await post(url, token, "tools/call", { name: TOOL, arguments: { seconds: 0.3, label: "modern" } });
  const task = created.result ?? {};
  assert.equal(task.resultType, "task", JSON.stringify(created));
  assert.equal(task.status, "working");
  const taskId = task.taskId as string;
  assert.match(taskId, /^ft1\./);

  let got: Record<string, unknown> = {};
  for (let i = 0; i < 50 && got.status !== "completed"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const answer = await post(url, token, "tasks/get", { taskId });
    got = answer.result ?? {};
    assert.equal(got.taskId, taskId, JSON.stringify(answer));
  }
  assert.equal(got.status, "completed", JSON.stringify(got));
  assert.match((got.result as { content: { text: string }[] }).content[0]!.text, /Computed modern/);

  const update = await post(url, token, "tasks/update", { taskId, inputResponses: {} });
  assert.deepEqual(update.result, { resultType: "complete" });

  const long = await post(url, token, "tools/call", { name: TOOL, arguments: { seconds: 60, label: "cancel" } });
  const longId = long.result!.taskId as string;
  assert.deepEqual((await post(url, token, "tasks/cancel", { taskId: longId })).result, { resultType: "complete" });
  assert.equal((await post(url, token, "tasks/get", { taskId: longId })).result?.status, "cancelled");

  // Another caller's token: an unknown task, the member never asked.
  const refused = await post(url, await gatewayToken("mallory"), "tasks/get", { taskId });
  assert.equal(refused.error?.code, -32602);

  // What the member got: plain 2026-07-28 requests with the standard headers, the member's own ids, the extension.
  const get = member.seen.find((r) => r.method === "tasks/get")!;
  assert.deepEqual(get.headers, { version: MODERN, method: "tasks/get", name: "t1" });
  const call = member.seen.find((r) => r.method === "tools/call")!;
  assert.deepEqual(call.headers, { version: MODERN, method: "tools/call", name: "slow_compute" });
  assert.deepEqual(call.meta["io.modelcontextprotocol/clientCapabilities"], { extensions: { [TASKS]: {} } });
  assert.equal(call.meta["io.modelcontextprotocol/protocolVersion"], MODERN);
});

Deno.test("A 2025-11-25 client runs a 2026-07-28 member's task through the gateway (tasks utility to extension)", async () => {
  const { member, federation } = await start();
  await using _member = member;
  await using _federation = federation;
  const client = await connectClient(federation.gateway.url);
  try {
    const capabilities = client.getServerCapabilities() as Record<string, unknown>;
    assert.deepEqual(capabilities.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
    const created = await client.request(
      {
        method: "tools/call",
        params: { name: TOOL, arguments: { seconds: 0.3, label: "legacy" }, task: { ttl: 60_000 } },
      },
      CreateTaskResultSchema,
    );
    const taskId = created.task.taskId;
    assert.match(taskId, /^ft1\./);
    assert.equal(created.task.status, "working");
    assert.equal(created.task.ttl, 60_000);

    const polled = await client.request({ method: "tasks/get", params: { taskId } }, GetTaskResultSchema);
    assert.equal(polled.taskId, taskId);

    // tasks/result waits until the member's task is terminal, then gives its result.
    const result = await client.request({ method: "tasks/result", params: { taskId } }, GetTaskPayloadResultSchema);
    assert.match(textOf(result), /Computed legacy/);
    const done = await client.request({ method: "tasks/get", params: { taskId } }, GetTaskResultSchema);
    assert.equal(done.status, "completed");

    const long = await client.request(
      { method: "tools/call", params: { name: TOOL, arguments: { seconds: 60 }, task: { ttl: 60_000 } } },
      CreateTaskResultSchema,
    );
    const cancelled = await client.request(
      { method: "tasks/cancel", params: { taskId: long.task.taskId } },
      GetTaskResultSchema,
    );
    assert.equal(cancelled.status, "cancelled");
    assert.equal(cancelled.taskId, long.task.taskId);
  } finally {
    await client.close();
  }
});
