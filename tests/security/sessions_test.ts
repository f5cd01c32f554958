// Gateway sessions under a hostile client: one subject cannot take every session slot, an `initialize` with
// huge parameters gets a 4xx naming the limit and never grows the session id, and a session id opens a session
// only in its canonical spelling, so that a DELETE ends it on every replica, with the in-process store and with a
// real Redis.
import assert from "node:assert/strict";
import { MemoryRegistryStore, RedisRegistryStore, type RegistryStore } from "../../packages/cluster/mod.ts";
import { ConfigError } from "../../packages/core/errors.ts";
import { parseGatewayConfig, serveGateway } from "../../packages/gateway/mod.ts";
import { SubjectQuota } from "../../packages/gateway/_session_quota.ts";
import type { GatewayHandle, GatewayOptions } from "../../packages/gateway/mod.ts";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { gatewayToken, quiet } from "../_support/catalog_members.ts";
import { GATEWAY_SECRET, SECRET } from "../_support/members.ts";
import { redisAvailable, RedisServer } from "../scaleout/_support.ts";

const KEY = "sessions-test-store-key-of-at-least-32-bytes";

interface Replica extends AsyncDisposable {
  url: string;
  gateway: GatewayHandle;
}

async function replica(store: RegistryStore, options: Partial<GatewayOptions> = {}): Promise<Replica> {
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  const gateway = await serveGateway(proxy, {
    auth: { secret: GATEWAY_SECRET },
    port: 0,
    logger: quiet,
    cluster: { store, key: KEY },
    ...options,
  });
  return {
    url: gateway.url,
    gateway,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await proxy.close();
    },
  };
}

function initialize(params: Record<string, unknown> = {}) {
  return {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "probe", version: "1" }, ...params },
  };
}

async function post(
  url: string,
  body: unknown,
  options: { subject?: string; session?: string } = {},
): Promise<{ status: number; session: string | null; text: string }> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await gatewayToken(options.subject ?? "alice")}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
      ...(options.session === undefined ? {} : { "mcp-session-id": options.session }),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, session: response.headers.get("mcp-session-id"), text: await response.text() };
}

/** Opens a session (initialize + initialized) and returns its id. */
async function open(url: string, subject = "alice"): Promise<string> {
  const init = await post(url, initialize(), { subject });
  assert.equal(init.status, 200, init.text);
  await post(url, { jsonrpc: "2.0", method: "notifications/initialized" }, { subject, session: init.session! });
  return init.session!;
}

async function ping(url: string, session: string, subject = "alice"): Promise<number> {
  return (await post(url, { jsonrpc: "2.0", id: 7, method: "ping" }, { subject, session })).status;
}

async function remove(url: string, session: string, subject = "alice"): Promise<number> {
  const response = await fetch(url, {
    method: "DELETE",
    headers: { authorization: `Bearer ${await gatewayToken(subject)}`, "mcp-session-id": session },
  });
  await response.body?.cancel();
  return response.status;
}

/** Other spellings of the same sealed bytes: padding, whitespace inside, non-zero unused bits in the last character. */
function respellings(token: string): string[] {
  const body = token.slice(3);
  const bytes = Uint8Array.fromBase64(body, { alphabet: "base64url" });
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const same = [...alphabet].map((c) => body.slice(0, -1) + c).filter((candidate) => {
    if (candidate === body) return false;
    try {
      const other = Uint8Array.fromBase64(candidate, { alphabet: "base64url" });
      return other.length === bytes.length && other.every((b, i) => b === bytes[i]);
    } catch {
      return false;
    }
  });
  const middle = Math.floor(token.length / 2);
  const padding = "=".repeat((4 - (body.length % 4)) % 4 || 4);
  return [
    token + padding,
    `${token.slice(0, middle)} ${token.slice(middle)}`,
    `${token.slice(0, middle)}\t${token.slice(middle)}`,
    ...same.slice(0, 1),
  ];
}

async function checkCanonical(a: Replica, b: Replica): Promise<void> {
  const token = await open(a.url);
  assert.equal(await ping(b.url, token), 200, "the canonical id works on the other replica");
  for (const variant of respellings(token)) {
    assert.equal(await ping(a.url, variant), 404, `refused on the replica that issued it: ${JSON.stringify(variant)}`);
    assert.equal(await ping(b.url, variant), 404, `refused on another replica: ${JSON.stringify(variant)}`);
  }
  assert.equal(await remove(a.url, token), 200);
  // The revocation reaches the other replica (which holds a rebuilt session) by the bus and the store.
  const deadline = performance.now() + 3_000;
  while (await ping(b.url, token) !== 404) {
    assert.ok(performance.now() < deadline, "the other replica still serves the deleted session");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(await ping(a.url, token), 404);
  for (const variant of respellings(token)) assert.equal(await ping(b.url, variant), 404);
}

Deno.test("Session ids: only the canonical spelling opens a session; DELETE ends it on every replica (in-process store)", async () => {
  await using store = new MemoryRegistryStore();
  await using a = await replica(store);
  await using b = await replica(store);
  await checkCanonical(a, b);
});

Deno.test({
  name: "Session ids: only the canonical spelling opens a session; DELETE ends it on every replica (Redis)",
  ignore: !redisAvailable(),
}, async () => {
  await using redis = await RedisServer.start();
  const stores = [new RedisRegistryStore(redis.url, { logger: quiet }), new RedisRegistryStore(redis.url)];
  await Promise.all(stores.map((s) => s.ready(5_000)));
  try {
    await using a = await replica(stores[0]!);
    await using b = await replica(stores[1]!);
    await checkCanonical(a, b);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

Deno.test("initialize with oversized parameters gets 400 naming the limit; the session id stays small", async () => {
  await using store = new MemoryRegistryStore();
  await using a = await replica(store);
  // Capabilities the gateway does not act on are dropped: the id does not grow with them.
  const big = await post(a.url, initialize({ capabilities: { experimental: { blob: "x".repeat(64 * 1024) } } }));
  assert.equal(big.status, 200, big.text);
  const small = await post(a.url, initialize());
  assert.ok(Math.abs(big.session!.length - small.session!.length) < 8, "same length with and without 64 KiB");
  for (
    const [params, limit] of [
      [{ capabilities: { sampling: { blob: "x".repeat(8 * 1024) } } }, /capabilities\.sampling .*512 bytes/],
      [{ capabilities: { elicitation: { blob: "x".repeat(6 * 1024) } } }, /capabilities\.elicitation .*512 bytes/],
      [{ clientInfo: { name: "n".repeat(10_000), version: "1" } }, /clientInfo\.name exceeds 256 bytes/],
      [{ protocolVersion: "9".repeat(5_000) }, /protocolVersion exceeds 64 bytes/],
    ] as const
  ) {
    const answer = await post(a.url, initialize(params));
    assert.equal(answer.status, 400, answer.text);
    assert.match(JSON.parse(answer.text).error.message, limit);
  }
  // The largest accepted initialize still gives an id under 5 KiB.
  const largest = await post(
    a.url,
    initialize({
      capabilities: Object.fromEntries(
        ["roots", "sampling", "elicitation", "tasks"].map((k) => [k, { pad: "p".repeat(490) }]),
      ),
      clientInfo: { name: "n".repeat(254), version: "v".repeat(62), title: "t".repeat(254) },
    }),
    { subject: "s".repeat(500) },
  );
  assert.equal(largest.status, 200, largest.text);
  console.log(`largest session id: ${largest.session!.length} characters; smallest: ${small.session!.length}`);
  assert.ok(largest.session!.length < 5 * 1024);
});

Deno.test("One subject cannot take every session slot: 429 beyond its quota, other subjects still served", async () => {
  await using store = new MemoryRegistryStore();
  await using a = await replica(store, { maxSessions: 10, maxSessionsPerSubject: 3 });
  // Concurrent initializes of one subject cannot overrun the quota.
  const opened = await Promise.all(Array.from({ length: 8 }, () => post(a.url, initialize(), { subject: "mallory" })));
  const statuses = opened.map((o) => o.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429, 429, 429]);
  assert.match(opened.find((o) => o.status === 429)!.text, /limit 3 per subject/);
  const bob = await post(a.url, initialize(), { subject: "bob" });
  assert.equal(bob.status, 200);
  // Ending one of mallory's sessions frees a slot.
  const first = opened.find((o) => o.status === 200)!.session!;
  assert.equal(await remove(a.url, first, "mallory"), 200);
  assert.equal((await post(a.url, initialize(), { subject: "mallory" })).status, 200);
  assert.equal(a.gateway.sessionCount(), 4);
});

Deno.test("A session being opened counts once against its subject's quota: its reservation becomes its count", () => {
  let refused = 0;
  const quota = new SubjectQuota(2, () => refused++);
  const first = quota.admit("mallory");
  assert.ok(!(first instanceof Response));
  // Linked while its initialize is still being answered: one place, not a reservation and a count.
  first.open();
  const second = quota.admit("mallory");
  assert.ok(!(second instanceof Response), "the first session holds one place of two");
  first.release(); // the initialize finishing after the link gives nothing back twice
  const third = quota.admit("mallory");
  assert.ok(third instanceof Response && third.status === 429);
  second.release(); // failed to open: its place is free again
  const fourth = quota.admit("mallory");
  assert.ok(!(fourth instanceof Response));
  fourth.open();
  fourth.open();
  assert.ok(quota.admit("mallory") instanceof Response, "opening twice counts once; two sessions are open");
  quota.count("mallory", -1);
  assert.ok(!(quota.admit("mallory") instanceof Response), "a closed session frees its place");
  assert.ok(!(quota.admit("bob") instanceof Response), "other subjects have their own quota");
  assert.equal(refused, 2);
});

Deno.test("Config file: session limits and the member secretEnv policy are read from the gateway section", () => {
  const config = parseGatewayConfig({
    gateway: {
      auth: false,
      maxSessions: 500,
      maxSessionsPerSubject: 20,
      sessionIdleTimeout: 60_000,
      memberSecretEnv: { prefixes: ["TEAM_A_"], names: ["DOCS_SECRET"] },
    },
    members: [],
  }, "federation.json");
  assert.equal(config.gateway.maxSessions, 500);
  assert.equal(config.gateway.maxSessionsPerSubject, 20);
  assert.equal(config.gateway.sessionIdleTimeout, 60_000);
  assert.deepEqual(config.gateway.memberSecretEnv, { prefixes: ["TEAM_A_"], names: ["DOCS_SECRET"] });
  for (
    const [gateway, field] of [
      [{ maxSessionsPerSubject: 0 }, "gateway.maxSessionsPerSubject"],
      [{ maxSessions: 1.5 }, "gateway.maxSessions"],
      [{ sessionIdleTimeout: "1h" }, "gateway.sessionIdleTimeout"],
      [{ memberSecretEnv: { prefixes: ["bad prefix"] } }, "gateway.memberSecretEnv.prefixes"],
      [{ memberSecretEnv: { all: true } }, "gateway.memberSecretEnv.all"],
    ] as const
  ) {
    assert.throws(
      () => parseGatewayConfig({ gateway: { auth: false, ...gateway }, members: [] }, "f.json"),
      (error) => error instanceof ConfigError && error.field === field,
      field,
    );
  }
});

/** A POST with the session id, with a token for `subject`; returns the status and the whole body. */
async function request(url: string, session: string, subject: string, id: number) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await gatewayToken(subject)}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
      "mcp-session-id": session,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id, method: "ping" }),
  });
  return { status: response.status, text: await response.text() };
}

/** A store whose revocation check takes a while: concurrent first requests on a replica overlap in it. */
class SlowRevocationStore extends MemoryRegistryStore {
  override async isRevoked(sessionId: string): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return await super.isRevoked(sessionId);
  }
}

Deno.test("A session new to a replica: concurrent requests each get their own full answer, the subject checked per caller", async () => {
  await using store = new SlowRevocationStore();
  await using a = await replica(store);
  await using b = await replica(store);
  // Two requests of the owner at once, both rebuilding the session on b.
  const first = await open(a.url);
  const both = await Promise.all([request(b.url, first, "alice", 1), request(b.url, first, "alice", 2)]);
  for (const [i, answer] of both.entries()) {
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, new RegExp(`"id":${i + 1}`));
  }
  // Another subject first, the owner right after: each gets its own answer (403, 200), over several sessions.
  for (let round = 0; round < 3; round++) {
    const session = await open(a.url);
    const mallory = request(b.url, session, "mallory", 3);
    const alice = request(b.url, session, "alice", 4);
    const [refused, served] = await Promise.all([mallory, alice]);
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.text, /another subject/);
    assert.equal(served.status, 200, served.text);
    assert.match(served.text, /"id":4/);
  }
  // Refusals too: two requests at once for a session that is gone each read a whole 404 body.
  const gone = await open(a.url);
  assert.equal(await remove(a.url, gone), 200);
  const refused = await Promise.all([request(b.url, gone, "alice", 5), request(b.url, gone, "alice", 6)]);
  for (const answer of refused) {
    assert.equal(answer.status, 404);
    assert.match(answer.text, /Session not found/);
  }
});
