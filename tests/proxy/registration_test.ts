import assert from "node:assert/strict";
import {
  AuthenticationError,
  AuthManager,
  ConfigError,
  ConnectionError,
  FederationProxy,
  type FederationProxyOptions,
  TimeoutError,
} from "../../mod.ts";
import type { FederationConfig } from "../../packages/core/types.ts";
import { SECRET, TestMember } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { freePort } from "../_support/ports.ts";

function newProxy(options: FederationProxyOptions = {}): FederationProxy {
  return new FederationProxy(SECRET, { logger: quiet, ...options });
}

Deno.test("FederationProxy.registerServer() connects both channels and records serverInfo (the guide's connection test)", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy();
  const status = await proxy.registerServer(member.config);
  assert.equal(status.state, "connected");
  assert.equal(status.channels.control?.state, "up");
  assert.equal(status.channels.data?.state, "up");
  assert.deepEqual(status.serverInfo, { name: "test-server-1", version: "1.0.0" });
  assert.ok(status.capabilities?.tools);
  // Modern first: the dual-era member is spoken to in 2026-07-28, whose data channel is stateless (no session).
  assert.equal(status.era, "modern");
  assert.deepEqual(member.handle.sessionCount(), { control: 1, data: 0 });
  // The guide's testConnection: register, check, remove.
  assert.ok(proxy.getConnectedServers().includes("server-1"));
  assert.equal(await proxy.removeServer("server-1"), true);
  assert.deepEqual(proxy.getConnectedServers(), []);
  assert.equal(proxy.getServerStatus("server-1"), undefined);
});

Deno.test("FederationProxy.removeServer() resolves false for an unknown id", async () => {
  await using proxy = newProxy();
  assert.equal(await proxy.removeServer("nope"), false);
});

Deno.test("FederationProxy.registerServer() rejects an invalid config with ConfigError and registers nothing", async () => {
  await using proxy = newProxy();
  const bad = { serverId: "bad id", endpoints: { control: "ws://127.0.0.1:9" } } as FederationConfig;
  await assert.rejects(proxy.registerServer(bad), (e) => e instanceof ConfigError && e.field === "serverId");
  await assert.rejects(
    proxy.registerServer({ serverId: "a", endpoints: { control: "http://127.0.0.1:9" } }),
    (e) => e instanceof ConfigError && e.field === "endpoints.control",
  );
  assert.deepEqual(proxy.getStatus(), []);
});

Deno.test("FederationProxy.registerServer() fails fast with ConnectionError when nothing listens", async () => {
  const port = freePort();
  await using proxy = newProxy();
  const started = performance.now();
  await assert.rejects(
    proxy.registerServer({
      serverId: "gone",
      endpoints: { control: `ws://127.0.0.1:${port}/`, data: `http://127.0.0.1:${port}/` },
    }),
    (e) => e instanceof ConnectionError && e.code === "ERR_CONNECTION_FAILED" && e.serverId === "gone",
  );
  assert.ok(performance.now() - started < 2_000);
  assert.equal(proxy.hasServer("gone"), false);
});

Deno.test("FederationProxy.registerServer() rejects with AuthenticationError when the member has another secret", async () => {
  await using member = await TestMember.start("server-1", { secret: "another-secret-of-at-least-thirty-two-bytes" });
  await using proxy = newProxy();
  await assert.rejects(
    proxy.registerServer(member.config),
    (e) => e instanceof AuthenticationError && e.code === "ERR_AUTH_REJECTED" && e.serverId === "server-1",
  );
  assert.equal(proxy.hasServer("server-1"), false);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(member.handle.sessionCount(), { control: 0, data: 0 });
});

Deno.test("FederationProxy.registerServer() honours a per-server secret over the proxy's", async () => {
  const own = "per-server-secret-of-at-least-thirty-two-bytes";
  await using member = await TestMember.start("server-1", { secret: own });
  await using proxy = newProxy();
  const status = await proxy.registerServer({ ...member.config, auth: { type: "jwt", config: { secret: own } } });
  assert.equal(status.state, "connected");
});

Deno.test("FederationProxy.registerServer() times out on a listener that accepts TCP and never answers", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) conns.push(conn);
  })();
  const port = listener.addr.port;
  await using proxy = newProxy({ connectTimeout: 300 });
  const started = performance.now();
  await assert.rejects(
    proxy.registerServer({
      serverId: "hole",
      endpoints: { control: `ws://127.0.0.1:${port}/`, data: `http://127.0.0.1:${port}/` },
    }),
    (e) => e instanceof TimeoutError && e.serverId === "hole",
  );
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 290 && elapsed < 2_000, `took ${elapsed}ms`);
  assert.equal(proxy.hasServer("hole"), false);
  listener.close();
  await accepting;
  for (const conn of conns) conn.close();
});

Deno.test("FederationProxy.registerServer() lets exactly one of two racing registrations of an id win", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy();
  const results = await Promise.allSettled([proxy.registerServer(member.config), proxy.registerServer(member.config)]);
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
  assert.ok(rejected.reason instanceof ConfigError);
  assert.equal(rejected.reason.code, "ERR_SERVER_EXISTS");
  await assert.rejects(
    proxy.registerServer(member.config),
    (e) => e instanceof ConfigError && e.code === "ERR_SERVER_EXISTS",
  );
  assert.deepEqual(proxy.getConnectedServers(), ["server-1"]);
});

Deno.test("FederationProxy registers a data-only member and a control-only member", async () => {
  await using dataOnly = await TestMember.start("data-only", { control: false });
  await using controlOnly = await TestMember.start("control-only", { data: false });
  await using proxy = newProxy();
  await proxy.registerServer(dataOnly.config);
  await proxy.registerServer(controlOnly.config);
  assert.deepEqual(proxy.getConnectedServers().sort(), ["control-only", "data-only"]);
  assert.equal(proxy.getServerStatus("data-only")?.channels.control, undefined);
  const echo = await proxy.callTool("data-only", "echo", { text: "d" });
  assert.deepEqual(echo.content, [{ type: "text", text: "d" }]);
  const viaControl = await proxy.callTool("control-only", "channel");
  assert.deepEqual(viaControl.content, [{ type: "text", text: "control" }]);
});

Deno.test("FederationProxy.close() makes registerServer reject, and await using closes every member", async () => {
  await using member = await TestMember.start("server-1");
  {
    await using proxy = newProxy();
    await proxy.registerServer(member.config);
    assert.deepEqual(member.handle.sessionCount(), { control: 1, data: 0 }); // 2026-07-28 data: stateless
    await proxy.close();
    await proxy.close();
    await assert.rejects(
      proxy.registerServer(member.config),
      (e) => e instanceof ConnectionError && e.code === "ERR_CLOSED",
    );
    assert.equal(await proxy.closed(), undefined);
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(member.handle.sessionCount().control, 0);
});

Deno.test("FederationProxy emits connecting, connected and closed events in order, also through status()", async () => {
  await using member = await TestMember.start("server-1");
  await using proxy = newProxy();
  const seen: string[] = [];
  for (const type of ["connecting", "connected", "degraded", "reconnecting", "closed"] as const) {
    proxy.addEventListener(type, (event) => seen.push(`${event.type}:${event.serverId}`));
  }
  const iterated: string[] = [];
  const iterating = (async () => {
    for await (const event of proxy.status()) {
      iterated.push(event.type);
      if (event.type === "closed") break;
    }
  })();
  await proxy.registerServer(member.config);
  await proxy.removeServer("server-1");
  await iterating;
  assert.deepEqual(seen, ["connecting:server-1", "connected:server-1", "closed:server-1"]);
  assert.deepEqual(iterated, ["connecting", "connected", "closed"]);
});

Deno.test("FederationProxy registers 200 members concurrently and removes them all without leaks", async () => {
  const members = await Promise.all(Array.from({ length: 200 }, (_, i) => TestMember.start(`m${i}`)));
  try {
    // A generous connect timeout: the suite runs test files in parallel on 2 cores.
    await using proxy = newProxy({ connectTimeout: 30_000 });
    const results = await Promise.allSettled(members.map((m) => proxy.registerServer(m.config)));
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 200);
    assert.equal(proxy.getConnectedServers().length, 200);
    const removed = await Promise.all(members.map((m) => proxy.removeServer(m.serverId)));
    assert.ok(removed.every(Boolean));
    assert.equal(proxy.getConnectedServers().length, 0);
  } finally {
    await Promise.all(members.map((m) => m.stop()));
  }
});

Deno.test("FederationProxy calls a secret provider on every connect, and a failing provider rejects with ERR_AUTH_NO_KEY", async () => {
  await using member = await TestMember.start("server-1");
  let calls = 0;
  await using proxy = new FederationProxy(() => {
    calls++;
    return Promise.resolve(SECRET);
  }, { logger: quiet, backoff: { initialDelay: 10, maxDelay: 20 } });
  await proxy.registerServer(member.config);
  assert.ok(calls >= 1);
  const before = calls;
  await member.stop();
  await member.restart();
  const deadline = performance.now() + 3_000;
  while (proxy.getServerStatus("server-1")?.state !== "connected" && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(proxy.getServerStatus("server-1")?.state, "connected");
  assert.ok(calls > before, "the provider was called again on reconnect");

  await using failing = new FederationProxy(() => Promise.reject(new Error("vault unreachable")), { logger: quiet });
  const errors: string[] = [];
  failing.addEventListener("error", (e) => errors.push(e.serverId));
  await assert.rejects(
    failing.registerServer(member.config),
    (e) =>
      e instanceof AuthenticationError && e.code === "ERR_AUTH_NO_KEY" && !/vault unreachable/.test(e.message) &&
      /vault unreachable/.test(String((e.cause as Error).message)),
  );
  assert.deepEqual(errors, ["server-1"]);
  assert.equal(failing.hasServer("server-1"), false);
});

Deno.test("FederationProxy calls after close() reject with ConnectionError ERR_CLOSED", async () => {
  await using member = await TestMember.start("server-1");
  const proxy = newProxy();
  await proxy.registerServer(member.config);
  await proxy.close();
  await assert.rejects(
    proxy.callTool("server-1", "echo", { text: "x" }),
    (e) => e instanceof ConnectionError && e.code === "ERR_CLOSED",
  );
  await assert.rejects(proxy.listTools("server-1"), (e) => e instanceof ConnectionError && e.code === "ERR_CLOSED");
});

Deno.test("FederationProxy signs with an asymmetric AuthManager; a member holding only the JWKS accepts it", async () => {
  const signer = await AuthManager.generate("EdDSA");
  const jwks = await signer.publicJwks();
  await using member = await TestMember.start("jwks-member", { extra: { verifier: jwks } });
  await using proxy = new FederationProxy(signer, { logger: quiet });
  const status = await proxy.registerServer(member.config);
  assert.equal(status.state, "connected");
  for (const channel of ["control", "data"] as const) {
    const result = await proxy.callTool("jwks-member", "echo", { text: channel }, { channel });
    assert.deepEqual(result.content, [{ type: "text", text: channel }]);
  }
  // A proxy holding only the public keys cannot mint, and an HMAC proxy is refused by the JWKS member.
  await using verifyOnly = new FederationProxy(await AuthManager.fromJwks(jwks), { logger: quiet });
  await assert.rejects(
    verifyOnly.registerServer(member.config),
    (e) => e instanceof AuthenticationError && e.code === "ERR_AUTH_NO_KEY",
  );
  await using hmac = newProxy();
  await assert.rejects(
    hmac.registerServer(member.config),
    (e) => e instanceof AuthenticationError && e.code === "ERR_AUTH_REJECTED",
  );
});
