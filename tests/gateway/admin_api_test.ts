import assert from "node:assert/strict";
import { MemoryRegistryStore, RedisRegistryStore } from "../../packages/cluster/mod.ts";
import { ConfigError } from "../../packages/core/errors.ts";
import { AuthManager } from "../../packages/core/auth.ts";
import { DEFAULT_GATEWAY_AUDIENCE, serveGateway } from "../../packages/gateway/mod.ts";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { connectClient, gatewayToken, quiet, textOf } from "../_support/catalog_members.ts";
import { GATEWAY_SECRET, SECRET, TestMember, waitFor } from "../_support/members.ts";

const KEY = "admin-test-store-key-of-at-least-32-bytes";

function adminToken(scope = "federation:admin"): Promise<string> {
  return new AuthManager(GATEWAY_SECRET).createToken({ scope }, {
    subject: "operator",
    expiresIn: "5m",
    audience: DEFAULT_GATEWAY_AUDIENCE,
  });
}

async function call(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const token = options.token === undefined ? await adminToken() : options.token;
  const response = await fetch(`${base}/admin/${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
}

async function gatewayWith(store = new MemoryRegistryStore(), env: Record<string, string> = {}) {
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  const gateway = await serveGateway(proxy, {
    auth: { secret: GATEWAY_SECRET },
    port: 0,
    logger: quiet,
    cluster: { store, key: KEY, env: (name) => env[name] },
  });
  return {
    proxy,
    store,
    base: gateway.url.replace(/\/mcp$/, ""),
    url: gateway.url,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await proxy.close();
      await store.close();
    },
  };
}

Deno.test("Membership API refuses requests without a token (401) or without the admin scope (403)", async () => {
  await using g = await gatewayWith();
  const anonymous = await call(g.base, "GET", "members", { token: null });
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get("www-authenticate")!, /invalid_token/);
  assert.equal((await call(g.base, "GET", "members", { token: await gatewayToken() })).status, 403);
  assert.equal((await call(g.base, "GET", "members", { token: await adminToken("read other") })).status, 403);
  assert.equal((await call(g.base, "GET", "members")).status, 200);
});

Deno.test("Membership API is closed when the gateway runs without authentication", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await using gateway = await serveGateway(proxy, { auth: false, port: 0, logger: quiet });
  const response = await call(gateway.url.replace(/\/mcp$/, ""), "GET", "members");
  assert.equal(response.status, 403);
});

Deno.test("POST /admin/members validates like a config file: 400 with the field", async () => {
  await using g = await gatewayWith();
  const endpoints = { data: "http://127.0.0.1:1/mcp" };
  const cases: [unknown, string][] = [
    [{ serverId: "a b", endpoints }, "serverId"],
    [{ serverId: "a", endpoints: { control: "http://127.0.0.1:1" } }, "endpoints.control"],
    [{ serverId: "a", endpoints: { data: "http://169.254.169.254/latest" } }, "endpoints.data"],
    [{ serverId: "a", endpoints: { data: "http://metadata.google.internal/" } }, "endpoints.data"],
    [{ serverId: "a", endpoints, auth: { type: "jwt", config: { secretEnv: "UNSET" } } }, "auth.config.secretEnv"],
    [{ serverId: "a", endpoints, auth: { type: "jwt", config: { secret: "x", nope: 1 } } }, "auth.config.nope"],
  ];
  for (const [body, field] of cases) {
    const response = await call(g.base, "POST", "members", { body });
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal((response.body.error as { field: string }).field, field, JSON.stringify(response.body));
  }
  const notJson = await fetch(`${g.base}/admin/members`, {
    method: "POST",
    headers: { authorization: `Bearer ${await adminToken()}`, "content-type": "application/json" },
    body: "{",
  });
  assert.equal(notJson.status, 400);
  await notJson.body?.cancel();
  assert.equal((await g.store.listMembers()).members.length, 0, "nothing stored");
});

Deno.test("A member added through the API is stored sealed, served to MCP clients, and deleted again", async () => {
  await using member = await TestMember.start("dyn");
  await using g = await gatewayWith();
  const registration = { ...member.config, auth: { type: "jwt", config: { secret: SECRET } } };
  const created = await call(g.base, "POST", "members", { body: registration });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.headers.get("location"), "/admin/members/dyn");
  assert.deepEqual((created.body.config as { auth: unknown }).auth, {
    type: "jwt",
    config: { sealedSecret: "(sealed)" },
  });
  const stored = JSON.stringify(await g.store.listMembers());
  assert.ok(!stored.includes(SECRET), "the store never holds the secret in clear");
  assert.equal((await call(g.base, "POST", "members", { body: registration })).status, 409);

  await waitFor(() => g.proxy.getConnectedServers().includes("dyn"), 5_000, "dyn connected");
  const client = await connectClient(g.url);
  try {
    assert.equal(textOf(await client.callTool({ name: "dyn__echo", arguments: { text: "hi" } })), "hi");
  } finally {
    await client.close();
  }
  const one = await call(g.base, "GET", "members/dyn");
  assert.equal(one.status, 200);
  assert.match((one.body.here as { state: string }).state, /^(connected|degraded)$/, "usable here");

  assert.equal((await call(g.base, "DELETE", "members/dyn")).status, 200);
  await waitFor(() => !g.proxy.hasServer("dyn"), 5_000, "dyn removed");
  assert.equal((await call(g.base, "GET", "members/dyn")).status, 404);
  assert.equal((await call(g.base, "DELETE", "members/dyn")).status, 404);
});

Deno.test("A member registered by other means cannot be replaced or deleted through the API (409)", async () => {
  await using member = await TestMember.start("static");
  await using g = await gatewayWith();
  await g.proxy.registerServer(member.config);
  const body = { serverId: "static", endpoints: { data: "http://127.0.0.1:1/mcp" } };
  assert.equal((await call(g.base, "POST", "members", { body })).status, 409);
  assert.equal((await call(g.base, "DELETE", "members/static")).status, 409);
  const listed = await call(g.base, "GET", "members");
  assert.deepEqual(
    (listed.body.members as { serverId: string; source: string }[]).map((m) => [m.serverId, m.source]),
    [["static", "local"]],
  );
  assert.equal((await call(g.base, "PUT", "members/static")).status, 405);
  assert.equal((await call(g.base, "GET", "nothing")).status, 404);
});

Deno.test("serveGateway refuses a short cluster key, and a shared store without a key", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await assert.rejects(
    serveGateway(proxy, { auth: false, port: 0, logger: quiet, cluster: { key: "short" } }),
    (error: ConfigError) => error instanceof ConfigError && error.field === "cluster.key",
  );
  await using store = new RedisRegistryStore("redis://127.0.0.1:1", { logger: quiet, connectTimeout: 100 });
  await assert.rejects(
    serveGateway(proxy, { auth: false, port: 0, logger: quiet, cluster: { store } }),
    (error: ConfigError) => error instanceof ConfigError && error.field === "cluster.key",
  );
});
