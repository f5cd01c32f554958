import assert from "node:assert/strict";
import {
  MemberSync,
  MemoryRegistryStore,
  resolveMember,
  SecretBox,
  SessionTokens,
  toStoredMember,
} from "../../packages/cluster/mod.ts";
import { ConfigError } from "../../packages/core/errors.ts";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { SECRET, TestMember, waitFor } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";

const KEY = "a-shared-key-of-at-least-thirty-two-bytes";
const OTHER_KEY = "another-shared-key-of-at-least-32-bytes!";
const INIT = {
  protocolVersion: "2025-11-25",
  capabilities: { elicitation: {} },
  clientInfo: { name: "app", version: "1.0.0", icons: [{ src: "data:," }] },
};

Deno.test("SessionTokens.open() returns what issue() sealed, without the client info it does not need", async () => {
  const tokens = await SessionTokens.create(KEY);
  const token = await tokens.issue({ subject: "alice", init: INIT });
  assert.match(token, /^s1\.[A-Za-z0-9_-]+$/);
  const claims = await tokens.open(token);
  assert.equal(claims?.subject, "alice");
  assert.deepEqual(claims?.init, { ...INIT, clientInfo: { name: "app", version: "1.0.0" } });
  assert.notEqual((await tokens.open(await tokens.issue({ init: INIT })))?.id, claims?.id, "ids are random");
});

Deno.test("SessionTokens.open() refuses altered, forged, foreign-key and expired tokens", async () => {
  let now = 1_000_000;
  const tokens = await SessionTokens.create(KEY, { maxAge: 60_000, now: () => now });
  const token = await tokens.issue({ init: INIT });
  for (let i = 3; i < token.length; i += 7) {
    const altered = token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
    assert.equal(await tokens.open(altered), undefined, `altered at ${i}`);
  }
  assert.equal(await tokens.open("s1." + "A".repeat(80)), undefined);
  assert.equal(await tokens.open(crypto.randomUUID()), undefined);
  assert.equal(await tokens.open("s1." + "A".repeat(9_000)), undefined, "too long");
  const foreign = await SessionTokens.create(OTHER_KEY, { now: () => now });
  assert.equal(await foreign.open(token), undefined);
  now += 60_001;
  assert.equal(await tokens.open(token), undefined, "expired");
});

Deno.test("SessionTokens accept tokens of a previous key during a rotation", async () => {
  const old = await SessionTokens.create(OTHER_KEY);
  const token = await old.issue({ init: INIT });
  const rotated = await SessionTokens.create(KEY, { previousKeys: [OTHER_KEY] });
  assert.ok(await rotated.open(token));
  await assert.rejects(SessionTokens.create("short"), ConfigError);
});

Deno.test("SecretBox opens a sealed secret only for its member and with its key", async () => {
  const box = await SecretBox.create(KEY);
  const sealed = await box.seal(SECRET, "docs");
  assert.ok(!sealed.includes(SECRET));
  assert.equal(await box.open(sealed, "docs"), SECRET);
  await assert.rejects(box.open(sealed, "other"), (error: ConfigError) => error.field === "auth.config.sealedSecret");
  await assert.rejects((await SecretBox.create(OTHER_KEY)).open(sealed, "docs"), ConfigError);
  await assert.rejects(box.open(sealed.slice(0, -3) + "xyz", "docs"), ConfigError);
});

Deno.test("toStoredMember() keeps secretEnv, seals a literal secret, and names the bad field", async () => {
  const env = (name: string) => name === "DOCS_SECRET" ? SECRET : undefined;
  const box = await SecretBox.create(KEY);
  const endpoints = { data: "http://127.0.0.1:3001/mcp" };
  const byEnv = await toStoredMember({
    serverId: "docs",
    endpoints,
    auth: { type: "jwt", config: { secretEnv: "DOCS_SECRET" } },
  }, { env });
  assert.deepEqual(byEnv.auth, { type: "jwt", config: { secretEnv: "DOCS_SECRET" } });
  const literal = await toStoredMember(
    { serverId: "docs", endpoints, auth: { type: "jwt", config: { secret: SECRET, expiresIn: "1h" } } },
    { box },
  );
  assert.ok(!JSON.stringify(literal).includes(SECRET), "no secret in clear");
  const resolved = await resolveMember(literal, { box });
  assert.deepEqual(resolved.auth, { type: "jwt", config: { expiresIn: "1h", secret: SECRET } });
  assert.equal((await resolveMember(byEnv, { env })).auth?.type, "jwt");

  const cases: [unknown, string][] = [
    [{ serverId: "docs", endpoints, auth: { type: "jwt", config: { secret: SECRET } } }, "auth.config.secret"],
    [{ serverId: "docs", endpoints, auth: { type: "jwt", config: { secretEnv: "MISSING" } } }, "auth.config.secretEnv"],
    [
      { serverId: "docs", endpoints, auth: { type: "jwt", config: { secretEnv: "bad name" } } },
      "auth.config.secretEnv",
    ],
    [
      { serverId: "docs", endpoints, auth: { type: "jwt", config: { sealedSecret: "v1.x" } } },
      "auth.config.sealedSecret",
    ],
    [{ serverId: "docs", endpoints: { data: "ftp://x" } }, "endpoints.data"],
    [{ serverId: "a b", endpoints }, "serverId"],
    [{ serverId: "docs", endpoints, extra: 1 }, "extra"],
  ];
  for (const [input, field] of cases) {
    await assert.rejects(toStoredMember(input, { env }), (error: ConfigError) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.field, field, JSON.stringify(input));
      return true;
    });
  }
});

Deno.test("MemoryRegistryStore: create is exclusive, every change bumps the revision and is published", async () => {
  await using store = new MemoryRegistryStore();
  const notices: string[] = [];
  const unsubscribe = await store.subscribe("members", (message) => notices.push(message));
  const config = { serverId: "a", endpoints: { data: "http://127.0.0.1:1/mcp" } };
  assert.equal((await store.createMember(config, "r1"))?.revision, 1);
  assert.equal(await store.createMember(config, "r2"), undefined);
  assert.equal(await store.deleteMember("a"), true);
  assert.equal(await store.deleteMember("a"), false);
  assert.equal(await store.revision(), 2);
  await Promise.resolve();
  assert.deepEqual(notices, ["1", "2"]);
  assert.equal(await store.publish("members", "x"), 1);
  await unsubscribe();
  assert.equal(await store.publish("members", "y"), 0);
});

Deno.test("MemoryRegistryStore forgets replicas and revocations when they expire", async () => {
  let now = 0;
  await using store = new MemoryRegistryStore({ now: () => now });
  await store.heartbeat({ id: "r1", startedAt: 0, seenAt: 0, members: 0, sessions: 0 }, 1_000);
  await store.revokeSession("s", 1_000);
  assert.equal((await store.listReplicas()).length, 1);
  assert.equal(await store.isRevoked("s"), true);
  now = 1_000;
  assert.equal((await store.listReplicas()).length, 0);
  assert.equal(await store.isRevoked("s"), false);
});

Deno.test("MemberSync registers stored members, retries unreachable ones, removes deleted ones", async () => {
  await using store = new MemoryRegistryStore();
  await using proxy = new FederationProxy(SECRET, { logger: quiet, connectTimeout: 1_000 });
  await using sync = new MemberSync(proxy, store, {
    replicaId: "r1",
    logger: quiet,
    retryDelay: 20,
    maxRetryDelay: 100,
    reconcileInterval: 60_000,
  });
  await sync.start();
  const member = await TestMember.start("m");
  const config = member.config;
  await store.createMember({ serverId: "m", endpoints: config.endpoints }, "r2");
  await waitFor(() => sync.members()[0]?.state === "registered", 5_000, "m registered");
  assert.deepEqual(proxy.getConnectedServers(), ["m"]);
  assert.equal(sync.owns("m"), true);

  // Stopped, deleted and recreated: the sync retries until it answers again.
  await proxy.removeServer("m");
  await store.deleteMember("m");
  await waitFor(() => !sync.owns("m"), 5_000, "m forgotten");
  await member.stop();
  await store.createMember({ serverId: "m", endpoints: config.endpoints }, "r2");
  await waitFor(() => sync.members()[0]?.state === "retrying", 5_000, "retrying");
  await member.restart();
  await waitFor(() => proxy.getConnectedServers().includes("m"), 5_000, "m back");

  await store.deleteMember("m");
  await waitFor(() => !proxy.hasServer("m"), 5_000, "m removed");
  await member.stop();
});

Deno.test("MemberSync leaves a member registered by other means alone and reports the conflict", async () => {
  await using member = await TestMember.start("static");
  await using store = new MemoryRegistryStore();
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(member.config);
  await using sync = new MemberSync(proxy, store, { replicaId: "r1", logger: quiet });
  await sync.start();
  await store.createMember({ serverId: "static", endpoints: { data: "http://127.0.0.1:1/mcp" } }, "r2");
  await waitFor(() => sync.members()[0]?.state === "conflict", 2_000, "conflict");
  await store.deleteMember("static");
  await sync.reconcile();
  assert.equal(proxy.hasServer("static"), true, "not removed: the sync never registered it");
});

Deno.test("SessionTokens.open() accepts only the canonical spelling of a token", async () => {
  const tokens = await SessionTokens.create(KEY);
  const token = await tokens.issue({ subject: "alice", init: INIT });
  assert.ok(await tokens.open(token));
  const middle = Math.floor(token.length / 2);
  for (
    const variant of [
      `${token}=`,
      `${token}==`,
      `${token.slice(0, middle)} ${token.slice(middle)}`,
      `${token.slice(0, middle)}\n${token.slice(middle)}`,
      ` ${token}`,
      token.replace(/-/g, "+").replace(/_/g, "/"),
    ]
  ) {
    if (variant === token) continue;
    assert.equal(await tokens.open(variant), undefined, JSON.stringify(variant.slice(middle - 2, middle + 3)));
  }
});

Deno.test("SessionTokens.issue() keeps only bounded initialize parts and refuses larger ones with a RangeError", async () => {
  const tokens = await SessionTokens.create(KEY);
  const small = await tokens.issue({ init: INIT });
  const big = await tokens.issue({
    init: { ...INIT, capabilities: { ...INIT.capabilities, experimental: { blob: "x".repeat(100_000) } } },
  });
  assert.equal(big.length, small.length, "dropped capabilities do not grow the token");
  assert.deepEqual((await tokens.open(big))?.init.capabilities, INIT.capabilities);
  await assert.rejects(
    tokens.issue({ init: { ...INIT, capabilities: { sampling: { blob: "x".repeat(600) } } } }),
    (error) => error instanceof RangeError && /capabilities\.sampling .*512 bytes/.test(error.message),
  );
  await assert.rejects(tokens.issue({ subject: "s".repeat(600), init: INIT }), RangeError);
});

Deno.test("MemberSync picks up a stored member within about a second of it listening, despite a 30 s delay", async () => {
  const member = await TestMember.start("late");
  const config = member.config;
  await member.stop();
  await using store = new MemoryRegistryStore();
  await using proxy = new FederationProxy(SECRET, { logger: quiet, connectTimeout: 1_000 });
  await using sync = new MemberSync(proxy, store, {
    replicaId: "r1",
    logger: quiet,
    retryDelay: 30_000,
    maxRetryDelay: 30_000,
    reconcileInterval: 60_000,
  });
  await sync.start();
  await store.createMember({ serverId: "late", endpoints: config.endpoints }, "r2");
  await waitFor(() => sync.members()[0]?.state === "retrying", 5_000, "retrying");
  await new Promise((resolve) => setTimeout(resolve, 300)); // into the wait before the second attempt
  await member.restart();
  const listening = performance.now();
  try {
    await waitFor(() => sync.members()[0]?.state === "registered", 10_000, "late registered");
    const pickUp = performance.now() - listening;
    assert.ok(pickUp < 1_500, `picked up ${Math.round(pickUp)} ms after listening`);
  } finally {
    await member.stop();
  }
});
