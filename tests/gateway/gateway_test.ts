import assert from "node:assert/strict";
import { ConnectionError, FederationProxy, type FederationProxyOptions } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import type { StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { GATEWAY_SECRET, SECRET, TestMember, waitFor } from "../_support/members.ts";
import { connectClient, gatewayToken, quiet, startDynamicMember, textOf } from "../_support/catalog_members.ts";

function newProxy(options: FederationProxyOptions = {}): FederationProxy {
  return new FederationProxy(SECRET, {
    logger: quiet,
    backoff: { initialDelay: 20, maxDelay: 100 },
    heartbeatInterval: 100,
    heartbeatTimeout: 500,
    ...options,
  });
}

Deno.test("Gateway lists the tools of three members namespaced, and each is callable", async () => {
  await using a = await TestMember.start("alpha");
  await using b = await TestMember.start("beta", { control: false });
  await using c = await TestMember.start("gamma", { data: false });
  await using proxy = newProxy();
  for (const member of [a, b, c]) await proxy.registerServer(member.config);
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const client = await connectClient(gateway.url);
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const id of ["alpha", "beta", "gamma"]) {
      assert.ok(names.includes(`${id}__echo`), `${id}__echo in ${names.join()}`);
      const result = await client.callTool({ name: `${id}__echo`, arguments: { text: `to ${id}` } });
      assert.equal(textOf(result), `to ${id}`);
    }
    assert.deepEqual([a, b, c].map((m) => m.stats.executions.get("echo")), [1, 1, 1]);
    const unknown = await client.callTool({ name: "delta__echo", arguments: {} }).catch((e) => e);
    assert.equal(unknown.code, -32602, "an unknown tool is an invalid-params JSON-RPC error");
    assert.match(unknown.message, /No tool named 'delta__echo'/);
  } finally {
    await client.close();
  }
});

Deno.test("Gateway sends tools/list_changed when a member is added or removed at run time", async () => {
  await using a = await TestMember.start("a");
  await using b = await TestMember.start("b");
  await using proxy = newProxy();
  await proxy.registerServer(a.config);
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const client = await connectClient(gateway.url);
  let changes = 0;
  client.setNotificationHandler("notifications/tools/list_changed", () => void changes++);
  try {
    assert.ok(!(await client.listTools()).tools.some((t) => t.name.startsWith("b__")));
    await proxy.registerServer(b.config);
    await waitFor(() => changes === 1, 5_000, "list_changed after adding b");
    assert.ok((await client.listTools()).tools.some((t) => t.name === "b__echo"));
    await proxy.removeServer("b");
    await waitFor(() => changes === 2, 5_000, "list_changed after removing b");
    assert.ok(!(await client.listTools()).tools.some((t) => t.name.startsWith("b__")));
  } finally {
    await client.close();
  }
});

Deno.test("Gateway passes a member's own tools/list_changed on to its clients", async () => {
  await using d = await startDynamicMember("d");
  await using proxy = newProxy();
  await proxy.registerServer(d.member.config);
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const client = await connectClient(gateway.url);
  let changes = 0;
  client.setNotificationHandler("notifications/tools/list_changed", () => void changes++);
  try {
    await client.listTools();
    d.addTool("late");
    await waitFor(() => changes >= 1, 5_000, "list_changed");
    const result = await client.callTool({ name: "d__late", arguments: {} });
    assert.equal(textOf(result), "late");
  } finally {
    await client.close();
  }
});

Deno.test("Gateway keeps listing and calling the other members when one member dies", async () => {
  await using a = await TestMember.start("a");
  const b = await TestMember.start("b");
  await using proxy = newProxy();
  await proxy.registerServer(a.config);
  await proxy.registerServer(b.config);
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const client = await connectClient(gateway.url);
  let changes = 0;
  client.setNotificationHandler("notifications/tools/list_changed", () => void changes++);
  try {
    assert.ok((await client.listTools()).tools.some((t) => t.name === "b__echo"));
    await b.stop();
    await waitFor(() => !proxy.getConnectedServers().includes("b"), 5_000, "b down");
    await waitFor(() => changes >= 1, 5_000, "list_changed after b died");
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes("a__echo"), names.join());
    assert.ok(!names.some((n) => n.startsWith("b__")), "a dead member's tools are not offered");
    assert.equal(textOf(await client.callTool({ name: "a__echo", arguments: { text: "still here" } })), "still here");
  } finally {
    await client.close();
    await proxy.removeServer("b");
  }
});

Deno.test("Gateway serves /healthz, /readyz (503 without a usable member) and Prometheus /metrics", async () => {
  await using a = await TestMember.start("a");
  await using proxy = newProxy();
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const base = gateway.url.replace(/\/mcp$/, "");
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  const notReady = await fetch(`${base}/readyz`);
  assert.equal(notReady.status, 503);
  const { store, ...readiness } = await notReady.json();
  assert.deepEqual(readiness, { status: "not ready", members: { usable: 0, registered: 0 } });
  assert.equal(store.backend, "memory");
  assert.equal(store.state, "ok");
  await proxy.registerServer(a.config);
  const ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 200);
  await ready.body?.cancel();
  const client = await connectClient(gateway.url);
  await client.callTool({ name: "a__echo", arguments: { text: "x" } });
  await client.close();
  const metrics = await fetch(`${base}/metrics`);
  assert.match(metrics.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const body = await metrics.text();
  assert.match(body, /^federation_member_up\{server_id="a"\} 1$/m);
  assert.match(body, /^federation_member_state\{server_id="a",state="connected"\} 1$/m);
  assert.match(body, /^federation_requests_total\{server_id="a",method="tools\/call",outcome="ok"\} 1$/m);
  assert.match(body, /^federation_request_duration_seconds_count\{server_id="a",method="tools\/call"\} 1$/m);
  assert.match(
    body,
    /^federation_request_duration_seconds_bucket\{server_id="a",method="tools\/list",le="\+Inf"\} 1$/m,
  );
  assert.match(body, /^# TYPE federation_request_duration_seconds histogram$/m);
  assert.match(body, /^federation_store_up\{backend="memory"\} 1$/m);
});

Deno.test("Gateway ends a session on DELETE and answers 404 to its id afterwards", async () => {
  await using a = await TestMember.start("a");
  await using proxy = newProxy();
  await proxy.registerServer(a.config);
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const client = await connectClient(gateway.url);
  const transport = client.transport as StreamableHTTPClientTransport;
  const sessionId = transport.sessionId!;
  assert.equal(gateway.sessionCount(), 1);
  await transport.terminateSession();
  await waitFor(() => gateway.sessionCount() === 0, 2_000, "session closed");
  const gone = await fetch(gateway.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${await gatewayToken()}`,
      "mcp-session-id": sessionId,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
  });
  assert.equal(gone.status, 404);
  await gone.body?.cancel();
  await client.close();
});

Deno.test("Gateway fails to start on a taken port with ConnectionError and gives the proxy its handler back", async () => {
  await using proxy = newProxy();
  const handler = () => Promise.resolve({});
  proxy.onServerRequest = handler;
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await assert.rejects(
      serveGateway(proxy, { auth: false, port: taken.addr.port, logger: quiet }),
      (e) => e instanceof ConnectionError && e.message.includes(`127.0.0.1:${taken.addr.port}`),
    );
    assert.equal(proxy.onServerRequest, handler);
    await using gateway = await serveGateway(proxy, { auth: false, port: 0, logger: quiet });
    assert.notEqual(proxy.onServerRequest, handler, "a running gateway answers members' requests");
    await gateway.close();
    assert.equal(proxy.onServerRequest, handler, "and gives the handler back when it stops");
  } finally {
    taken.close();
  }
});

Deno.test("Gateway drain() lets a call in progress finish and refuses new sessions", async () => {
  await using a = await TestMember.start("a");
  await using proxy = newProxy();
  await proxy.registerServer(a.config);
  const gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const client = await connectClient(gateway.url);
  const call = client.callTool({ name: "a__slow", arguments: { ms: 300 } });
  await waitFor(() => a.stats.executions.get("slow") === 1, 5_000, "call started");
  const drained = gateway.drain();
  const refused = await fetch(gateway.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${await gatewayToken()}`,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "late", version: "1" } },
    }),
  });
  assert.equal(refused.status, 503, "no new session while draining");
  await refused.body?.cancel();
  assert.equal(textOf(await call), "slept 300");
  await drained;
  await gateway.closed();
  assert.equal(gateway.sessionCount(), 0);
  await client.close().catch(() => {});
});

Deno.test({
  name: "Gateway that cannot listen leaves no timer behind (no idle sweep without a listener)",
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    await using proxy = newProxy();
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      await assert.rejects(
        serveGateway(proxy, { auth: false, port: taken.addr.port, logger: quiet, sessionIdleTimeout: 60_000 }),
        (e) => e instanceof ConnectionError,
      );
    } finally {
      taken.close();
    }
  },
});
