// The request path through the catalog: URIs inside results in federated form, the safe-retry knowledge reached
// through the one `tools/call` path, notifications on both channels, and a sibling channel's immediate reconnect.
import assert from "node:assert/strict";
import { z } from "zod";
import { McpServer } from "../../packages/core/_sdk.ts";
import { ConnectionError, FederationProxy, type FederationProxyOptions, ServerNotFoundError } from "../../mod.ts";
import { FaultRelay } from "../_support/fault_relay.ts";
import { SECRET, TestMember, waitFor } from "../_support/members.ts";
import { quiet, startDynamicMember } from "../_support/catalog_members.ts";

function newProxy(options: FederationProxyOptions = {}): FederationProxy {
  return new FederationProxy(SECRET, { logger: quiet, ...options });
}

/** A member whose tool and prompt point at its resource `info://shared` (offered by every such member). */
function linkingServer(serverId: string): McpServer {
  const server = new McpServer({ name: `linking-${serverId}`, version: "1.0.0" });
  server.registerResource("shared", "info://shared", { mimeType: "text/plain" }, (uri) => ({
    contents: [{ uri: uri.href, text: `shared of ${serverId}` }],
  }));
  server.registerResource("own", `own://${serverId}`, { mimeType: "text/plain" }, (uri) => ({
    contents: [{ uri: uri.href, text: `own of ${serverId}` }],
  }));
  server.registerTool("links", { description: "Links its resources", inputSchema: z.object({}) }, () => ({
    content: [
      { type: "resource_link", uri: "info://shared", name: "shared" },
      { type: "resource", resource: { uri: "info://shared", text: `shared of ${serverId}` } },
      { type: "resource_link", uri: `own://${serverId}`, name: "own" },
      { type: "text", text: "see above" },
    ],
  }));
  server.registerPrompt("cite", { argsSchema: z.object({ topic: z.string() }) }, () => ({
    messages: [{ role: "user", content: { type: "resource", resource: { uri: "info://shared", text: "quoted" } } }],
  }));
  return server;
}

Deno.test("FederatedCatalog gives resource links and embedded resources in a tool result their federated URI", async () => {
  await using a = await TestMember.start("a", { extra: { server: () => linkingServer("a") } });
  await using b = await TestMember.start("b", { extra: { server: () => linkingServer("b") } });
  await using proxy = newProxy();
  await proxy.registerServer(a.config);
  await proxy.registerServer(b.config);
  const uris = (await proxy.catalog.listResources()).map((r) => r.uri).sort();
  assert.deepEqual(uris, ["federated://a/info://shared", "federated://b/info://shared", "own://a", "own://b"]);

  const result = await proxy.catalog.callTool("b__links");
  assert.deepEqual(result.content, [
    { type: "resource_link", uri: "federated://b/info://shared", name: "shared" },
    { type: "resource", resource: { uri: "federated://b/info://shared", text: "shared of b" } },
    { type: "resource_link", uri: "own://b", name: "own" },
    { type: "text", text: "see above" },
  ]);
  // The rewritten link reads the linking member's resource, not the other one's.
  const read = await proxy.catalog.readResource("federated://b/info://shared");
  assert.deepEqual(read.contents, [{ uri: "federated://b/info://shared", text: "shared of b" }]);

  const prompt = await proxy.catalog.getPrompt("a__cite", { topic: "x" });
  assert.deepEqual(prompt.messages[0]!.content, {
    type: "resource",
    resource: { uri: "federated://a/info://shared", text: "quoted" },
  });
});

Deno.test("FederatedCatalog calls a resolved origin without resolving the federated name again", async () => {
  await using a = await TestMember.start("a");
  await using proxy = newProxy();
  await proxy.registerServer(a.config);
  const origin = await proxy.catalog.resolveTool("a__echo");
  assert.deepEqual(origin, { serverId: "a", name: "echo" });
  // The name is not looked up: a name unknown to the catalog still reaches the resolved origin.
  const result = await proxy.catalog.callTool("not-listed", { text: "once" }, { origin });
  assert.deepEqual(result.content, [{ type: "text", text: "once" }]);
  await assert.rejects(
    proxy.catalog.callTool("not-listed", { text: "twice" }),
    (e) => e instanceof ServerNotFoundError && e.code === "ERR_NOT_FOUND",
  );
  const resource = await proxy.catalog.resolveResource("info://server");
  const read = await proxy.catalog.readResource("info://server", { origin: resource });
  assert.deepEqual(read.contents, [{ uri: "info://server", text: "server a" }]);
});

Deno.test("FederatedCatalog retries a read-only tool on the other channel at once when its channel drops mid-call", async () => {
  await using member = await TestMember.start("server-1");
  await using control = new FaultRelay(Number(new URL(member.handle.controlUrl!).port));
  const config = {
    serverId: "server-1",
    endpoints: { control: `ws://127.0.0.1:${control.port}/`, data: member.handle.dataUrl! },
  };
  // A dropped channel waits a minute before reconnecting: a retry that succeeds must have used the other channel.
  await using proxy = newProxy({
    heartbeatInterval: 60_000,
    backoff: { initialDelay: 60_000, maxDelay: 60_000, minDelay: 60_000 },
  });
  await proxy.registerServer(config);
  await proxy.catalog.listTools(); // the annotations: slow_read is read-only, slow is not

  const read = proxy.catalog.callTool("server-1__slow_read", { ms: 300 }, { channel: "control" });
  await waitFor(() => member.stats.executions.get("slow_read") === 1, 3_000, "read started on control");
  control.down();
  assert.deepEqual(
    (await read).content,
    [{ type: "text", text: "read after 300" }],
  );
  assert.equal(member.stats.executions.get("slow_read"), 2, "run again, on data");
  assert.notEqual(proxy.getServerStatus("server-1")?.channels.control?.state, "up", "control is still down");

  // Not read-only: never repeated, the call fails.
  control.restore();
  await using again = newProxy({ heartbeatInterval: 60_000, backoff: { minDelay: 60_000, maxDelay: 60_000 } });
  await again.registerServer(config);
  await again.catalog.listTools();
  const write = again.catalog.callTool("server-1__slow", { ms: 300 }, { channel: "control" });
  await waitFor(() => member.stats.executions.get("slow") === 1, 3_000, "write started on control");
  control.down();
  await assert.rejects(write, (e) => e instanceof ConnectionError && e.channel === "control");
  assert.equal(member.stats.executions.get("slow"), 1);
});

Deno.test("FederationProxy passes on equal log messages of calls on both channels: no cross-channel de-duplication", async () => {
  await using d = await startDynamicMember("d");
  await using proxy = newProxy();
  await proxy.registerServer(d.member.config);
  const messages: string[] = [];
  proxy.addEventListener("notification", (event) => {
    if (event.method === "notifications/message") messages.push(`${event.channel}:${event.params?.data}`);
  });
  await proxy.catalog.callTool("d__log", {}, { channel: "control" });
  await proxy.catalog.callTool("d__log", {}, { channel: "data" });
  await waitFor(() => messages.length === 6, 5_000, "six log messages");
  assert.deepEqual(messages, [
    "control:one",
    "control:two",
    "control:three",
    "data:one",
    "data:two",
    "data:three",
  ]);
});

Deno.test("FederationProxy reconnects a channel at once when its sibling comes back, without waiting out its backoff", async () => {
  await using member = await TestMember.start("server-1");
  await using control = new FaultRelay(Number(new URL(member.handle.controlUrl!).port));
  await using data = new FaultRelay(Number(new URL(member.handle.dataUrl!).port));
  // Exact delays (jitter pinned at its top): the first retry after 100 ms, the second after a minute.
  await using proxy = newProxy({
    heartbeatInterval: 50,
    heartbeatTimeout: 500,
    backoff: { initialDelay: 100, multiplier: 600, maxDelay: 60_000, resetAfter: 60_000 },
    random: () => 0.999,
  });
  await proxy.registerServer({
    serverId: "server-1",
    endpoints: { control: `ws://127.0.0.1:${control.port}/`, data: `http://127.0.0.1:${data.port}/` },
  });
  data.down();
  // Data is noticed down by its heartbeat, retried once after 100 ms (refused), then waits a minute.
  await waitFor(() => proxy.getServerStatus("server-1")?.channels.data?.reconnectAttempts === 2, 5_000, "data waits");
  data.restore();
  control.cut(); // control reconnects after 100 ms; data, still waiting, follows at once
  await waitFor(() => proxy.getServerStatus("server-1")?.state === "connected", 5_000, "both channels up");
  assert.equal(proxy.getServerStatus("server-1")?.channels.data?.state, "up");
});
