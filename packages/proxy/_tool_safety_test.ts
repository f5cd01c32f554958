import assert from "node:assert/strict";
import { ToolSafety } from "./_tool_safety.ts";

const schema = { type: "object" as const };

Deno.test("ToolSafety allows a retry only for tools annotated read-only or idempotent, as last listed", () => {
  const tools = new ToolSafety();
  assert.equal(tools.isSafe("read"), false, "unknown: not safe");
  tools.learn([
    { name: "read", inputSchema: schema, annotations: { readOnlyHint: true } },
    { name: "put", inputSchema: schema, annotations: { idempotentHint: true } },
    { name: "write", inputSchema: schema, annotations: { readOnlyHint: false } },
    { name: "plain", inputSchema: schema },
  ]);
  assert.deepEqual(["read", "put", "write", "plain"].map((name) => tools.isSafe(name)), [true, true, false, false]);
  tools.learn([{ name: "put", inputSchema: schema }]);
  assert.deepEqual([tools.isSafe("read"), tools.isSafe("put")], [false, false], "a new listing replaces the old one");
  tools.learn([{ name: "read", inputSchema: schema, annotations: { readOnlyHint: true } }]);
  tools.forget();
  assert.equal(tools.isSafe("read"), false, "forgotten after list_changed");
});
