import assert from "node:assert/strict";
import { FederationError, ProtocolError, ServerNotFoundError, TimeoutError } from "../core/errors.ts";
import { ServerProtocolError } from "../core/_sdk.ts";
import { toMcpError } from "./_errors.ts";

Deno.test("toMcpError keeps a member's JSON-RPC code and data, and maps local failures to MCP's codes", () => {
  const remote = toMcpError(new ProtocolError("Server 'a' answered: nope", { rpcCode: -32042, data: { url: "x" } }));
  assert.ok(remote instanceof ServerProtocolError);
  assert.deepEqual([remote.code, remote.message, remote.data], [-32042, "Server 'a' answered: nope", { url: "x" }]);
  assert.equal(toMcpError(new ServerNotFoundError("No tool 'x'", { code: "ERR_NOT_FOUND" })).code, -32602);
  assert.equal(toMcpError(new ServerNotFoundError("No server 'x'")).code, -32602);
  assert.equal(toMcpError(new TimeoutError("tools/call timed out")).code, -32001, "the v1 SDK's RequestTimeout code");
  const other = toMcpError(new FederationError("ERR_CONNECTION_FAILED", "Cannot reach 'a'"));
  assert.deepEqual([other.code, other.data], [-32603, { code: "ERR_CONNECTION_FAILED" }]);
  const unknown = toMcpError(new Error("secret detail"));
  assert.deepEqual([unknown.code, unknown.message], [-32603, "Internal error in the federation gateway"]);
  const passed = new ServerProtocolError(-32601, "Method not found");
  assert.equal(toMcpError(passed), passed);
});
