/**
 * Stateless scale-out for 2026-07-28 clients: three gateway replicas (the CLI, three processes) with NO store,
 * behind a round-robin forwarder that sends each request to the next replica. They share only configuration: the
 * same config file and the same key (`MCP_STORE_KEY`), which seals `requestState`s so that any replica opens what
 * another sealed. The conformance suite's 2026-07-28 requirements pass through the forwarder, and a Multi
 * Round-Trip retry sealed by one replica is routed by any other.
 *
 * @module
 */
import assert from "node:assert/strict";
import { SECRET } from "../_support/members.ts";
import { quiet, startDynamicMember, textOf } from "../_support/catalog_members.ts";
import { serveConformanceMember } from "../fixtures/conformance_member.ts";
import { assertConformance, startGatewayCli } from "../interop/_conformance.ts";
import { RequestStateSealer } from "../../packages/gateway/_sealed_state.ts";

const STATE_KEY = "modern-replicas-test-key-of-at-least-32-bytes";
const MODERN = "2026-07-28";

/** Three CLI replicas of one config, and a forwarder spreading requests over them round-robin. */
async function replicas(members: unknown[]) {
  const started = await Promise.all([0, 1, 2].map(() => startGatewayCli(members, { MCP_STORE_KEY: STATE_KEY })));
  const served = started.map(() => 0);
  let next = 0;
  const forwarder = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const index = next++ % started.length;
    served[index]!++;
    const target = new URL(started[index]!.url);
    const body = request.body === null ? null : await request.arrayBuffer();
    return await fetch(target, { method: request.method, headers: request.headers, body, signal: request.signal });
  });
  return {
    url: `http://127.0.0.1:${forwarder.addr.port}${new URL(started[0]!.url).pathname}`,
    served,
    async [Symbol.asyncDispose]() {
      await forwarder.shutdown();
      await Promise.all(started.map((replica) => replica[Symbol.asyncDispose]()));
    },
  };
}

/** POSTs one 2026-07-28 `tools/call` with the envelope and standard headers. */
async function callTool(url: string, name: string, params: Record<string, unknown>) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": MODERN,
      "mcp-method": "tools/call",
      "mcp-name": name,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: {
        name,
        ...params,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": MODERN,
          "io.modelcontextprotocol/clientCapabilities": { elicitation: {} },
        },
      },
    }),
  });
  const text = await response.text();
  const json = response.headers.get("content-type")?.includes("text/event-stream")
    ? text.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5)).at(-1)!
    : text;
  return { status: response.status, message: JSON.parse(json) as Record<string, unknown> };
}

Deno.test("Three gateway replicas with no store pass the 2026-07-28 conformance requirements round-robin", async () => {
  await using member = await serveConformanceMember("conformance", SECRET, quiet);
  await using group = await replicas([{
    serverId: "conformance",
    endpoints: { control: member.controlUrl!, data: member.dataUrl! },
    auth: { type: "jwt", config: {} },
  }]);
  await assertConformance(group.url, MODERN);
  assert.ok(group.served.every((count) => count > 10), `every replica served requests: ${group.served}`);
});

Deno.test("Any replica routes a round-trip retry sealed by another; a state under another key is refused", async () => {
  await using dynamic = await startDynamicMember("alpha");
  await using group = await replicas([dynamic.member.config]);
  // What a replica hands a client with a member's input_required result (the replicas' shared key).
  const sealer = await RequestStateSealer.fromSecret(STATE_KEY);
  const state = { member: "alpha", memberState: undefined, sub: undefined, method: "tools/call", name: "echo" };
  const requestState = await sealer.seal(state);
  for (let round = 0; round < 3; round++) {
    // Each retry reaches the next replica.
    const retry = await callTool(group.url, "echo", {
      arguments: { text: `round ${round}` },
      requestState,
      inputResponses: { ask: { action: "accept", content: {} } },
    });
    assert.equal(retry.status, 200, JSON.stringify(retry.message));
    assert.equal(textOf(retry.message.result), `round ${round}`);
  }
  const foreign = await (await RequestStateSealer.fromSecret("another-deployment-key-of-at-least-32-bytes")).seal(
    state,
  );
  const refused = await callTool(group.url, "echo", { arguments: { text: "x" }, requestState: foreign });
  assert.equal((refused.message.error as { code: number }).code, -32602);
  const elsewhere = await sealer.seal({ ...state, name: "wait" });
  const misrouted = await callTool(group.url, "echo", { arguments: { text: "x" }, requestState: elsewhere });
  assert.equal((misrouted.message.error as { code: number }).code, -32602, "sealed for another tool");
});
