// RedisRegistryStore against a real redis-server: the same contract as the in-process store, plus failure: calls
// fail fast with ConnectionError while Redis is down, health events report it, and subscriptions come back.
import assert from "node:assert/strict";
import { RedisRegistryStore, type StoreHealth } from "../../packages/cluster/mod.ts";
import { ConfigError, ConnectionError } from "../../packages/core/errors.ts";
import { quiet } from "../_support/catalog_members.ts";
import { eventually, redisAvailable, RedisServer } from "./_support.ts";
import { freePort } from "../_support/ports.ts";

const REDIS = redisAvailable();
const config = { serverId: "a", endpoints: { data: "http://127.0.0.1:1/mcp" } };

Deno.test({
  name: "RedisRegistryStore: exclusive create, revisions, change notices, replicas and revocations",
  ignore: !REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    await using store = new RedisRegistryStore(redis.url, { namespace: "t1:", logger: quiet });
    await using other = new RedisRegistryStore(redis.url, { namespace: "t2:", logger: quiet });
    await Promise.all([store.ready(2_000), other.ready(2_000)]);
    assert.equal(store.health().state, "ok");
    const notices: string[] = [];
    const unsubscribe = await store.subscribe("members", (message) => notices.push(message));

    const created = await store.createMember(config, "r1");
    assert.equal(created?.revision, 1);
    assert.equal(await store.createMember(config, "r2"), undefined, "exclusive");
    assert.deepEqual((await store.listMembers()).members.map((m) => [m.config.serverId, m.createdBy]), [["a", "r1"]]);
    assert.equal((await other.listMembers()).members.length, 0, "namespaces are separate");
    assert.equal(await store.deleteMember("a"), true);
    assert.equal(await store.deleteMember("a"), false);
    assert.equal(await store.revision(), 2);
    await eventually(() => notices.length === 2 || undefined, 2_000, "two notices");
    assert.deepEqual(notices, ["1", "2"]);
    assert.equal(await store.publish("members", "x"), 1, "one subscriber");
    await unsubscribe();
    assert.equal(await store.publish("members", "y"), 0);

    await store.heartbeat({ id: "r1", startedAt: 1, seenAt: 2, members: 3, sessions: 4 }, 200);
    await store.heartbeat({ id: "r2", startedAt: 1, seenAt: 2, members: 0, sessions: 0 }, 10_000);
    assert.deepEqual((await store.listReplicas()).map((r) => r.id).sort(), ["r1", "r2"]);
    await store.leave("r2");
    await eventually(async () => (await store.listReplicas()).length === 0 || undefined, 2_000, "r1 to expire");

    await store.revokeSession("s", 200);
    assert.equal(await store.isRevoked("s"), true);
    await eventually(async () => !(await store.isRevoked("s")) || undefined, 2_000, "revocation to expire");
  },
});

Deno.test({
  name: "RedisRegistryStore fails fast while Redis is down, reports it, and restores subscriptions after",
  ignore: !REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    await using store = new RedisRegistryStore(redis.url, { logger: quiet, maxReconnectDelay: 200 });
    await store.ready(2_000);
    const health: StoreHealth[] = [];
    store.addEventListener("health", (event) => health.push((event as CustomEvent<StoreHealth>).detail));
    const received: string[] = [];
    await store.subscribe("news", (message) => received.push(message));

    await redis.kill();
    await eventually(() => store.health().state === "degraded" || undefined, 2_000, "degraded");
    const started = performance.now();
    await assert.rejects(store.listMembers(), ConnectionError);
    await assert.rejects(store.createMember(config, "r1"), ConnectionError);
    assert.ok(performance.now() - started < 1_000, "no waiting for a dead Redis");

    await redis.restart();
    await eventually(() => store.health().state === "ok" || undefined, 5_000, "recovered");
    assert.deepEqual(health.map((h) => h.state), ["degraded", "ok"]);
    await eventually(async () => (await store.publish("news", "back")) === 1 || undefined, 3_000, "resubscribed");
    await eventually(() => received.includes("back") || undefined, 2_000, "message after the restart");
  },
});

Deno.test({
  name: "RedisRegistryStore starts degraded when Redis is not there, and refuses other URLs",
  ignore: !REDIS,
  async fn() {
    await using store = new RedisRegistryStore(`redis://127.0.0.1:${freePort()}`, { logger: quiet });
    await assert.rejects(store.ready(300), ConnectionError);
    assert.equal(store.health().state, "degraded");
    await assert.rejects(store.revision(), ConnectionError);
    assert.throws(() => new RedisRegistryStore("http://127.0.0.1:6379"), ConfigError);
  },
});
