/**
 * Tasks through the federation for 2026-07-28 clients (the `io.modelcontextprotocol/tasks` extension): two gateways
 * with no store and the same client-token secret, in front of one server-everything. A client declaring the
 * extension starts `simulate-research-query` on one gateway (`resultType: "task"`) and polls `tasks/get` on the
 * other, which never saw the task, until the result is in; a client without the extension does not see the tool,
 * which it could not run.
 *
 * The two gateways share one proxy: server-everything (a 2025-11-25 member) keeps its tasks per MCP session, so a
 * replica with its own proxy (its own session with the member) gets the member's "Task not found". The gateway side
 * is stateless: the id alone routes the request.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gatewayToken, quiet } from "../_support/catalog_members.ts";
import { GATEWAY_SECRET } from "../_support/members.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { Federation } from "../interop/_support.ts";
import { registerEverything, startEverything } from "../_support/everything.ts";
import { serveTasksMember } from "../fixtures/tasks_member.ts";
import { modernPost } from "../_support/modern_post.ts";

const TOOL = "everything__simulate-research-query";
const TASKS = "io.modelcontextprotocol/tasks";

/** POSTs one 2026-07-28 request with its envelope; returns the JSON-RPC answer. */
function post(
  url: string,
  token: string,
  method: string,
  params: Record<string, unknown>,
  capabilities: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  return modernPost(url, token, method, params, { capabilities, clientName: "tasks-test" });
}

Deno.test("A 2026-07-28 client runs a member's task through two gateways without a store (tasks extension)", async () => {
  const everything = startEverything();
  await using _server = everything.process;
  await using a = await Federation.start({ proxy: { connectTimeout: 2_000 } });
  await using second = await serveGateway(a.proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const b = { gateway: second };
  await registerEverything(a.proxy, everything.url);
  const token = await gatewayToken();
  const withTasks = { extensions: { [TASKS]: {} } };

  const discover = await post(a.gateway.url, token, "server/discover", {}, withTasks);
  const capabilities = (discover.result as { capabilities: { extensions?: Record<string, unknown> } }).capabilities;
  assert.deepEqual(capabilities.extensions?.[TASKS], {}, "the gateway announces the extension a member backs");

  const listed = await post(a.gateway.url, token, "tools/list", {}, withTasks);
  const names = (listed.result as { tools: { name: string }[] }).tools.map((t) => t.name);
  assert.ok(names.includes(TOOL), "listed to a client that can run tasks");
  const plain = await post(a.gateway.url, token, "tools/list", {}, {});
  const plainNames = (plain.result as { tools: { name: string }[] }).tools.map((t) => t.name);
  assert.ok(!plainNames.includes(TOOL), "not listed to a client that cannot");
  assert.ok(plainNames.includes("everything__echo"));

  const created = await post(
    a.gateway.url,
    token,
    "tools/call",
    { name: TOOL, arguments: { topic: "replicas" } },
    withTasks,
  );
  const task = created.result as Record<string, unknown>;
  assert.equal(task.resultType, "task", JSON.stringify(created));
  assert.equal(task.status, "working");
  const taskId = task.taskId as string;
  assert.match(taskId, /^ft1\./);

  // Polled on the other replica, which has never seen the task: the id routes it.
  let got: Record<string, unknown> = {};
  for (let i = 0; i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answer = await post(b.gateway.url, token, "tasks/get", { taskId }, withTasks);
    got = answer.result as Record<string, unknown>;
    assert.ok(got, JSON.stringify(answer));
    assert.equal(got.resultType, "complete");
    assert.equal(got.taskId, taskId);
    if (got.status === "completed" || got.status === "failed") break;
  }
  assert.equal(got.status, "completed", JSON.stringify(got));
  const result = got.result as { resultType: string; content: { text: string }[] };
  assert.equal(result.resultType, "complete");
  assert.match(result.content[0]!.text, /Research Report: replicas/);

  // Another caller's token, or a forged id: an unknown task (-32602), on either replica.
  const mallory = await gatewayToken("mallory");
  const refused = await post(b.gateway.url, mallory, "tasks/get", { taskId }, withTasks);
  assert.equal((refused.error as { code: number }).code, -32602);
  const forged = await post(
    a.gateway.url,
    token,
    "tasks/get",
    { taskId: taskId.replace(/\.[^.]*$/, ".AAAA") },
    withTasks,
  );
  assert.equal((forged.error as { code: number }).code, -32602);
});

Deno.test("Two replicas, each with its own proxy and no store, route a task by its id alone (stateless member)", async () => {
  await using member = serveTasksMember();
  await using a = await Federation.start();
  await using b = await Federation.start();
  for (const federation of [a, b]) {
    await federation.proxy.registerServer({
      serverId: "tasks",
      endpoints: { data: member.url },
      auth: { type: "none" },
    });
  }
  const token = await gatewayToken();
  const withTasks = { extensions: { [TASKS]: {} } };
  const created = await post(
    a.gateway.url,
    token,
    "tools/call",
    { name: "tasks__slow_compute", arguments: { seconds: 0.5, label: "replicas" } },
    withTasks,
  );
  const taskId = (created.result as { taskId: string }).taskId;
  assert.match(taskId, /^ft1\./, JSON.stringify(created));
  let got: Record<string, unknown> = {};
  for (let i = 0; i < 50 && got.status !== "completed"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    got = (await post(b.gateway.url, token, "tasks/get", { taskId }, withTasks)).result as Record<string, unknown>;
  }
  assert.equal(got.status, "completed", JSON.stringify(got));
  assert.match((got.result as { content: { text: string }[] }).content[0]!.text, /Computed replicas/);

  // Cancelled through the other replica again: the ack, then the cancelled status.
  const long = await post(
    b.gateway.url,
    token,
    "tools/call",
    { name: "tasks__slow_compute", arguments: { seconds: 60, label: "cancel" } },
    withTasks,
  );
  const longId = (long.result as { taskId: string }).taskId;
  const ack = await post(a.gateway.url, token, "tasks/cancel", { taskId: longId }, withTasks);
  assert.deepEqual(ack.result, { resultType: "complete" });
  const cancelled = await post(b.gateway.url, token, "tasks/get", { taskId: longId }, withTasks);
  assert.equal((cancelled.result as { status: string }).status, "cancelled");

  // Without the extension: tasks/get is refused (-32021), the task-required tool too.
  const refused = await post(a.gateway.url, token, "tasks/get", { taskId }, {});
  assert.equal((refused.error as { code: number }).code, -32021);
  const required = await post(a.gateway.url, token, "tools/call", { name: "tasks__failing_job", arguments: {} }, {});
  assert.equal((required.error as { code: number }).code, -32021);
});
