import assert from "node:assert/strict";
import { RequestStateSealer } from "./_sealed_state.ts";
import {
  clientDeclaresTasks,
  decodeTaskId,
  encodeTaskId,
  isLegacyTaskRequest,
  runnableTools,
  TaskRequestError,
  taskSupportOf,
} from "./_tasks.ts";

const SECRET = "a-gateway-client-secret-of-32-bytes!!";

function isUnknownTask(error: unknown): boolean {
  return error instanceof TaskRequestError && error.code === -32602;
}

Deno.test("A federated task id names the member and its task, and opens on another replica with the same key", async () => {
  const one = await RequestStateSealer.fromSecret(SECRET);
  const other = await RequestStateSealer.fromSecret(SECRET);
  const id = await encodeTaskId(one, { serverId: "weather.eu", taskId: "t/1 ü" }, "alice");
  assert.match(id, /^ft1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
  assert.equal(id, await encodeTaskId(other, { serverId: "weather.eu", taskId: "t/1 ü" }, "alice"), "stable");
  assert.deepEqual(await decodeTaskId(other, id, "alice"), { serverId: "weather.eu", taskId: "t/1 ü" });
});

Deno.test("A task id is refused for another subject, under another key, when forged or malformed", async () => {
  const sealer = await RequestStateSealer.fromSecret(SECRET);
  const id = await encodeTaskId(sealer, { serverId: "a", taskId: "t1" }, "alice");
  await assert.rejects(decodeTaskId(sealer, id, "mallory"), isUnknownTask);
  await assert.rejects(decodeTaskId(sealer, id, undefined), isUnknownTask);
  const foreign = await RequestStateSealer.fromSecret("another-secret-of-at-least-32-bytes!!");
  await assert.rejects(decodeTaskId(foreign, id, "alice"), isUnknownTask);
  const [version, , task, tag] = id.split(".");
  const moved = [version, "Yg", task, tag].join("."); // member "b", same tag
  await assert.rejects(decodeTaskId(sealer, moved, "alice"), isUnknownTask);
  for (const bad of ["", "t1", "ft1.a.b", "ft1.!!.b.c", 42, null, "x".repeat(5000)]) {
    await assert.rejects(decodeTaskId(sealer, bad, "alice"), isUnknownTask, String(bad));
  }
});

Deno.test("An id tagged before a key rotation still opens while the old key is listed", async () => {
  const old = await RequestStateSealer.fromSecret(SECRET);
  const id = await encodeTaskId(old, { serverId: "a", taskId: "t1" }, undefined);
  const rotated = await RequestStateSealer.fromSecret("the-new-secret-of-at-least-32-bytes!!", {
    previousSecrets: [SECRET],
  });
  assert.deepEqual(await decodeTaskId(rotated, id, undefined), { serverId: "a", taskId: "t1" });
});

Deno.test("A client without the tasks extension is not offered a tool that requires a task", () => {
  const tools = [
    { name: "a", execution: { taskSupport: "required" } },
    { name: "b", execution: { taskSupport: "optional" } },
    { name: "c" },
  ];
  const extension = {
    "io.modelcontextprotocol/clientCapabilities": { extensions: { "io.modelcontextprotocol/tasks": {} } },
  };
  assert.deepEqual(runnableTools(tools, {}).map((t) => t.name), ["b", "c"]);
  assert.deepEqual(runnableTools(tools, extension).map((t) => t.name), ["a", "b", "c"]);
  assert.deepEqual(runnableTools(tools, undefined).map((t) => t.name), ["a", "b", "c"], "2025-11-25: every tool");
  assert.equal(clientDeclaresTasks(extension), true);
  assert.equal(clientDeclaresTasks({ "io.modelcontextprotocol/clientCapabilities": {} }), false);
  assert.equal(taskSupportOf(tools[2]), "forbidden");
});

Deno.test("Only task-augmented calls and the tasks methods are taken off a 2025-11-25 session", () => {
  const request = (method: string, params?: unknown) => ({ jsonrpc: "2.0" as const, id: 1, method, params } as never);
  assert.equal(isLegacyTaskRequest(request("tools/call", { name: "x", task: { ttl: 1 } })), true);
  assert.equal(isLegacyTaskRequest(request("tools/call", { name: "x" })), false);
  for (const method of ["tasks/get", "tasks/result", "tasks/list", "tasks/cancel"]) {
    assert.equal(isLegacyTaskRequest(request(method, { taskId: "t" })), true, method);
  }
  assert.equal(isLegacyTaskRequest(request("tools/list")), false);
  assert.equal(isLegacyTaskRequest({ jsonrpc: "2.0", method: "tasks/get" } as never), false, "a notification");
});
