/**
 * Tasks through the federation for 2025-11-25 clients: server-everything's `simulate-research-query` (a tool it runs
 * as a task) is called with `params.task` through the gateway, polled with `tasks/get`, listed, and its result read
 * with `tasks/result`; the task id the client sees names the member and is refused when forged or presented by
 * another client's token.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connectClient, gatewayToken, textOf } from "../_support/catalog_members.ts";
import { Federation } from "../interop/_support.ts";
import {
  CreateTaskResultSchema,
  GetTaskPayloadResultSchema,
  GetTaskResultSchema,
  ListTasksResultSchema,
} from "../../packages/core/_sdk.ts";
import { registerEverything, startEverything } from "../_support/everything.ts";

const TOOL = "everything__simulate-research-query";

Deno.test("A 2025-11-25 client runs server-everything's simulate-research-query as a task through the gateway", async () => {
  const everything = startEverything();
  await using _server = everything.process;
  await using federation = await Federation.start({ proxy: { connectTimeout: 2_000 } });
  await registerEverything(federation.proxy, everything.url);
  const client = await connectClient(federation.gateway.url);
  try {
    const capabilities = client.getServerCapabilities() as Record<string, unknown>;
    assert.deepEqual(capabilities.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
    const tool = (await client.listTools()).tools.find((t) => t.name === TOOL);
    assert.equal((tool as { execution?: { taskSupport?: string } } | undefined)?.execution?.taskSupport, "required");

    const created = await client.request(
      { method: "tools/call", params: { name: TOOL, arguments: { topic: "federation" }, task: { ttl: 60_000 } } },
      CreateTaskResultSchema,
    );
    const taskId = created.task.taskId;
    assert.match(taskId, /^ft1\./, "the client sees the federated id");
    assert.equal(created.task.status, "working");

    let status: string = created.task.status;
    for (let i = 0; i < 100 && status !== "completed" && status !== "failed"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const task = await client.request({ method: "tasks/get", params: { taskId } }, GetTaskResultSchema);
      assert.equal(task.taskId, taskId);
      status = task.status;
    }
    assert.equal(status, "completed");

    const listed = await client.request({ method: "tasks/list", params: {} }, ListTasksResultSchema);
    assert.ok(listed.tasks.some((t) => t.taskId === taskId), "tasks/list names it by the same federated id");

    const result = await client.request({ method: "tasks/result", params: { taskId } }, GetTaskPayloadResultSchema);
    assert.match(textOf(result), /Research Report: federation/);

    // A forged id and another client's id are unknown tasks (-32602).
    const forged = taskId.slice(0, -2) + (taskId.endsWith("AA") ? "BB" : "AA");
    await assert.rejects(
      client.request({ method: "tasks/get", params: { taskId: forged } }, GetTaskResultSchema),
      (error: { code?: number }) => error.code === -32602,
    );
    const other = await connectClient(federation.gateway.url, { token: await gatewayToken("mallory") });
    try {
      await assert.rejects(
        other.request({ method: "tasks/get", params: { taskId } }, GetTaskResultSchema),
        (error: { code?: number }) => error.code === -32602,
      );
      // The member keeps every user's tasks on the proxy's one connection: another user's tasks/list must not show them.
      const theirs = await other.request({ method: "tasks/list", params: {} }, ListTasksResultSchema);
      assert.deepEqual(theirs.tasks, []);
    } finally {
      await other.close();
    }
  } finally {
    await client.close();
  }
});

Deno.test("A task that asks for input: the member's elicitation reaches the client waiting on tasks/result", async () => {
  const everything = startEverything();
  await using _server = everything.process;
  await using federation = await Federation.start({ proxy: { connectTimeout: 2_000 } });
  await registerEverything(federation.proxy, everything.url);
  const client = await connectClient(federation.gateway.url, { capabilities: { elicitation: {} } });
  try {
    const asked: string[] = [];
    client.setRequestHandler("elicitation/create", (request) => {
      asked.push(request.params.message);
      const schema =
        (request.params as { requestedSchema: { properties: Record<string, { oneOf: { const: string }[] }> } })
          .requestedSchema;
      return { action: "accept", content: { interpretation: schema.properties.interpretation!.oneOf[0]!.const } };
    });
    const created = await client.request(
      {
        method: "tools/call",
        params: { name: TOOL, arguments: { topic: "python", ambiguous: true }, task: { ttl: 60_000 } },
      },
      CreateTaskResultSchema,
    );
    const result = await client.request(
      { method: "tasks/result", params: { taskId: created.task.taskId } },
      GetTaskPayloadResultSchema,
    );
    assert.equal(asked.length, 1, "the member asked once, through the gateway");
    assert.match(asked[0]!, /python/);
    assert.doesNotMatch(textOf(result), /elicitation unavailable/);
  } finally {
    await client.close();
  }
});
