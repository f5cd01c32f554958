// The membership API under a hostile (or careless) admin: bodies and fields have limits (413/400, nothing stored),
// a malformed path is a 400, `secretEnv` can name only allowed variables and the refusal does not tell whether a
// variable exists, and every change records the admin's `sub`.
import assert from "node:assert/strict";
import { MemoryRegistryStore, resolveMember } from "../../packages/cluster/mod.ts";
import { ConfigError } from "../../packages/core/errors.ts";
import { AuthManager } from "../../packages/core/auth.ts";
import { DEFAULT_GATEWAY_AUDIENCE, serveGateway } from "../../packages/gateway/mod.ts";
import type { GatewayOptions } from "../../packages/gateway/mod.ts";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { quiet } from "../_support/catalog_members.ts";
import { GATEWAY_SECRET, recordingLogger, SECRET } from "../_support/members.ts";

const KEY = "admin-bounds-store-key-of-at-least-32-bytes";
const MEMBER_SECRET = "member-secret-of-at-least-thirty-two-bytes";

function adminToken(subject = "operator-7"): Promise<string> {
  return new AuthManager(GATEWAY_SECRET).createToken({ scope: "federation:admin" }, {
    subject,
    expiresIn: "5m",
    audience: DEFAULT_GATEWAY_AUDIENCE,
  });
}

async function gateway(env: Record<string, string>, options: Partial<GatewayOptions> = {}) {
  const store = new MemoryRegistryStore();
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  const handle = await serveGateway(proxy, {
    auth: { secret: GATEWAY_SECRET },
    port: 0,
    logger: quiet,
    cluster: { store, key: KEY, env: (name) => env[name] },
    ...options,
  });
  return {
    store,
    base: handle.url.replace(/\/mcp$/, ""),
    async [Symbol.asyncDispose]() {
      await handle.close();
      await proxy.close();
      await store.close();
    },
  };
}

async function send(
  base: string,
  method: string,
  path: string,
  body?: string,
  subject?: string,
): Promise<
  { status: number; body: { error?: { code: string; message: string; field?: string } } & Record<string, unknown> }
> {
  const response = await fetch(`${base}/admin/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await adminToken(subject)}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

function member(serverId: string, extra: { url?: string; subject?: string; secretEnv?: string } = {}): string {
  return JSON.stringify({
    serverId,
    endpoints: { data: extra.url ?? "http://127.0.0.1:9/mcp" },
    auth: {
      type: "jwt",
      config: {
        secretEnv: extra.secretEnv ?? "MCP_MEMBER_DOCS",
        ...(extra.subject === undefined ? {} : { subject: extra.subject }),
      },
    },
  });
}

Deno.test("Membership API: oversized bodies get 413 and oversized fields 400; nothing is stored", async () => {
  await using g = await gateway({ MCP_MEMBER_DOCS: MEMBER_SECRET });
  const hugeUrl = await send(
    g.base,
    "POST",
    "members",
    member("a", { url: `http://127.0.0.1:9/${"a".repeat(10 << 20)}` }),
  );
  assert.equal(hugeUrl.status, 413);
  assert.equal(hugeUrl.body.error?.code, "ERR_BODY_TOO_LARGE");
  const hugeSubject = await send(g.base, "POST", "members", member("b", { subject: "s".repeat(1 << 20) }));
  assert.equal(hugeSubject.status, 413);
  const longUrl = await send(
    g.base,
    "POST",
    "members",
    member("c", { url: `http://127.0.0.1:9/${"a".repeat(4_096)}` }),
  );
  assert.equal(longUrl.status, 400);
  assert.equal(longUrl.body.error?.field, "endpoints.data");
  const longSubject = await send(g.base, "POST", "members", member("d", { subject: "s".repeat(1_024) }));
  assert.equal(longSubject.status, 400);
  assert.equal(longSubject.body.error?.field, "auth.config.subject");
  assert.equal((await g.store.listMembers()).members.length, 0);
});

Deno.test("Membership API: malformed percent-encoding in a path is a 400, not a 500", async () => {
  await using g = await gateway({});
  for (const path of ["members/%E0%A4%A", "members/%", "members/%ZZ"]) {
    const answer = await send(g.base, "GET", path);
    assert.equal(answer.status, 400, path);
    assert.equal(answer.body.error?.code, "ERR_BAD_REQUEST");
    assert.equal((await send(g.base, "DELETE", path)).status, 400);
  }
});

Deno.test("Membership API: secretEnv names only allowed variables, and the refusal does not tell which exist", async () => {
  const env = { MCP_MEMBER_DOCS: MEMBER_SECRET, MCP_GATEWAY_SECRET: GATEWAY_SECRET, TEAM_X_TOKEN: MEMBER_SECRET };
  {
    await using g = await gateway(env);
    const existing = await send(g.base, "POST", "members", member("a", { secretEnv: "MCP_GATEWAY_SECRET" }));
    const missing = await send(g.base, "POST", "members", member("a", { secretEnv: "NO_SUCH_VARIABLE" }));
    assert.equal(existing.status, 400);
    assert.equal(existing.body.error?.field, "auth.config.secretEnv");
    assert.equal(
      existing.body.error?.message.replace("MCP_GATEWAY_SECRET", "X"),
      missing.body.error?.message.replace("NO_SUCH_VARIABLE", "X"),
      "the same answer whether the variable exists or not",
    );
    assert.equal((await send(g.base, "POST", "members", member("a"))).status, 201, "the default prefix MCP_MEMBER_");
  }
  {
    await using g = await gateway(env, { memberSecretEnv: { prefixes: ["TEAM_X_"] } });
    assert.equal((await send(g.base, "POST", "members", member("a", { secretEnv: "TEAM_X_TOKEN" }))).status, 201);
    assert.equal((await send(g.base, "POST", "members", member("b"))).status, 400, "MCP_MEMBER_ no longer allowed");
  }
});

Deno.test("Membership API: every change records the admin's sub", async () => {
  const { lines, logger } = recordingLogger();
  await using g = await gateway({ MCP_MEMBER_DOCS: MEMBER_SECRET }, { logger });
  const created = await send(g.base, "POST", "members", member("docs"), "alice-admin");
  assert.equal(created.status, 201);
  assert.equal(created.body.createdBy, "alice-admin");
  assert.equal((await g.store.listMembers()).members[0]?.createdBy, "alice-admin");
  assert.equal((await send(g.base, "GET", "members/docs")).body.createdBy, "alice-admin");
  const deleted = await send(g.base, "DELETE", "members/docs", undefined, "bob-admin");
  assert.equal(deleted.status, 200);
  assert.equal(deleted.body.deletedBy, "bob-admin");
  assert.ok(lines.some((l) => l.includes("Member added") && l.includes('"by":"alice-admin"')));
  assert.ok(lines.some((l) => l.includes("Member deleted") && l.includes('"by":"bob-admin"')));
});

Deno.test("Membership API: a stdio member is refused (400 naming endpoints.stdio); nothing is stored", async () => {
  await using g = await gateway({ MCP_MEMBER_DOCS: MEMBER_SECRET, MCP_GATEWAY_SECRET: GATEWAY_SECRET });
  for (
    const stdio of [
      { command: "sh", args: ["-c", "echo pwned"] },
      { command: "env", envFrom: { S: "MCP_MEMBER_DOCS" } },
    ]
  ) {
    const answer = await send(g.base, "POST", "members", JSON.stringify({ serverId: "p", endpoints: { stdio } }));
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error?.code, "ERR_CONFIG_INVALID");
    assert.equal(answer.body.error?.field, "endpoints.stdio");
  }
  assert.equal((await g.store.listMembers()).members.length, 0);
});

Deno.test("resolveMember() refuses a stored stdio member (a record written to the store by other means)", async () => {
  await assert.rejects(
    resolveMember({ serverId: "p", endpoints: { stdio: { command: "sh" } } }),
    (e) => e instanceof ConfigError && e.field === "endpoints.stdio",
  );
});
