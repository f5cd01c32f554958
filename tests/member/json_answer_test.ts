// The member's data endpoint, 2025-11-25 era: a POST of one request whose stream would carry nothing but its
// response is answered with plain JSON; one that carries anything else first (progress), or runs longer than the
// window, keeps its SSE stream; a batch keeps its SSE stream.
import assert from "node:assert/strict";
import { AuthManager } from "../../packages/core/auth.ts";
import { SECRET, TestMember } from "../_support/members.ts";

const ACCEPT = "application/json, text/event-stream";

async function session(member: TestMember) {
  const token = await new AuthManager(SECRET).createToken({}, { audience: member.serverId, subject: "proxy" });
  const post = (body: unknown, id?: string) =>
    fetch(member.handle.dataUrl!, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: ACCEPT,
        ...(id === undefined ? {} : { "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" }),
      },
      body: JSON.stringify(body),
    });
  const init = await post({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
  });
  assert.equal(init.status, 200);
  await init.body?.cancel();
  const id = init.headers.get("mcp-session-id")!;
  const initialized = await post({ jsonrpc: "2.0", method: "notifications/initialized" }, id);
  assert.equal(initialized.status, 202);
  await initialized.body?.cancel();
  return { id, post: (body: unknown) => post(body, id) };
}

function call(id: number, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) {
  return {
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
  };
}

function sseMessages(text: string): { id?: number; method?: string }[] {
  return text.split("\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)));
}

Deno.test("Member answers a 2025-11-25 call whose stream carries only its response with plain JSON", async () => {
  await using member = await TestMember.start("m");
  const { id, post } = await session(member);
  const response = await post(call(1, "echo", { text: "hi" }));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal(response.headers.get("mcp-session-id"), id);
  const body = await response.json();
  assert.equal(body.id, 1);
  assert.equal(body.result.content[0].text, "hi");
  // An error answer is a response too.
  const unknown = await post(call(2, "no_such_tool", {}));
  assert.equal(unknown.headers.get("content-type"), "application/json");
  assert.equal((await unknown.json()).id, 2);
});

Deno.test("Member answers a call that reports progress with its SSE stream: the progress, then the result", async () => {
  await using member = await TestMember.start("m");
  const { post } = await session(member);
  const response = await post(call(3, "progress", { steps: 2, interval: 10 }, { progressToken: "p" }));
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const messages = sseMessages(await response.text());
  assert.deepEqual(messages.map((m) => m.method ?? m.id), ["notifications/progress", "notifications/progress", 3]);
});

Deno.test("Member answers a long call and a batch with their SSE streams", async () => {
  await using member = await TestMember.start("m");
  const { post } = await session(member);
  const long = await post(call(4, "slow_read", { ms: 1_300 }));
  assert.equal(long.headers.get("content-type"), "text/event-stream");
  assert.deepEqual(sseMessages(await long.text()).map((m) => m.id), [4]);
  const batch = await post([call(5, "echo", { text: "a" }), call(6, "echo", { text: "b" })]);
  assert.equal(batch.headers.get("content-type"), "text/event-stream");
  assert.deepEqual(sseMessages(await batch.text()).map((m) => m.id).sort(), [5, 6]);
});
