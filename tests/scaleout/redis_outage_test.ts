// Redis dies (SIGKILL) and comes back while a client calls through three replicas: no replica crashes, calls to the
// members they know keep working, the outage shows in /readyz and /metrics, writes are refused (503) rather than
// acknowledged and lost, and after the restart the replicas converge; what was acknowledged before the kill is
// still there (Redis runs with appendfsync always).
import assert from "node:assert/strict";
import { Client, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { gatewayToken, textOf } from "../_support/catalog_members.ts";
import { TestMember } from "../_support/members.ts";
import {
  admin,
  eventually,
  metrics,
  readiness,
  redisAvailable,
  RedisServer,
  Replica,
  roundRobinFetch,
  writeReplicaConfig,
} from "./_support.ts";
import { sleep } from "../../packages/core/_sleep.ts";

const REDIS = redisAvailable();

function registration(member: TestMember) {
  const { serverId, endpoints } = member.config;
  return { serverId, endpoints, auth: { type: "jwt", config: { secretEnv: "MCP_MEMBER_SECRET" } } };
}

async function connect(url: string, fetch?: typeof globalThis.fetch): Promise<Client> {
  const client = new Client({ name: "outage", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      ...(fetch ? { fetch } : {}),
      requestInit: { headers: { authorization: `Bearer ${await gatewayToken()}` } },
    }),
  );
  return client;
}

async function callable(client: Client, tool: string): Promise<true | undefined> {
  const result = await client.callTool({ name: tool, arguments: { text: "ping" } });
  return result.isError ? undefined : true;
}

Deno.test({
  name: "Replicas keep serving through a Redis kill and restart, report it, refuse writes, and converge after",
  ignore: !REDIS,
  async fn() {
    await using redis = await RedisServer.start({ appendOnly: true });
    await using alpha = await TestMember.start("alpha");
    await using beta = await TestMember.start("beta");
    const dir = await Deno.makeTempDir();
    const config = await writeReplicaConfig(dir, redis.url);
    const replicas = await Promise.all(["r1", "r2", "r3"].map((name) => Replica.start(name, config, redis.url)));
    const [r1, r2, r3] = replicas as [Replica, Replica, Replica];
    const clients: Client[] = [];
    let stop = false;
    let traffic: Promise<{ ok: number; failed: string[] }> | undefined;
    try {
      assert.equal((await admin(r1, "POST", "members", registration(alpha))).status, 201);
      const probes = await Promise.all(replicas.map((replica) => connect(replica.url)));
      clients.push(...probes);
      await Promise.all(probes.map((probe) => eventually(() => callable(probe, "alpha__echo"), 5_000, "alpha")));

      // One client round-robin over the three replicas, calling all along (bounded in count and time).
      const { fetch: rotating } = roundRobinFetch(() => replicas);
      const client = await connect(r1.url, rotating);
      clients.push(client);
      traffic = (async () => {
        let ok = 0;
        const failed: string[] = [];
        const deadline = performance.now() + 60_000;
        for (let i = 0; i < 20_000 && !stop && performance.now() < deadline; i++) {
          try {
            const result = await client.callTool({ name: "alpha__echo", arguments: { text: `${i}` } });
            if (textOf(result) === `${i}`) ok++;
            else failed.push(textOf(result));
          } catch (error) {
            failed.push(String(error));
          }
          await sleep(5);
        }
        return { ok, failed };
      })();
      await sleep(300);

      await redis.kill();
      for (const replica of replicas) {
        const store = await eventually(
          async () => {
            const { store } = await readiness(replica);
            return store.state === "degraded" ? store : undefined;
          },
          5_000,
          `${replica.name} to report the store degraded`,
        );
        assert.equal(store.backend, "redis");
        assert.match(await metrics(replica), /^federation_store_up\{backend="redis"\} 0$/m);
        const ready = await fetch(`${replica.base}/readyz`);
        assert.equal(ready.status, 200, "still ready: it serves the members it knows");
        await ready.body?.cancel();
      }
      const refused = await admin(r2, "POST", "members", registration(beta));
      assert.equal(refused.status, 503, "not acknowledged while Redis is down");
      assert.equal((await admin(r3, "DELETE", "members/alpha")).status, 503);
      const newcomer = await connect(r3.url);
      clients.push(newcomer);
      assert.equal(await callable(newcomer, "alpha__echo"), true, "a new session during the outage");
      await sleep(500);

      await redis.restart();
      for (const replica of replicas) {
        await eventually(
          async () => {
            const { store } = await readiness(replica);
            return store.state === "ok" ? true : undefined;
          },
          15_000,
          `${replica.name} to reconnect`,
        );
      }
      const listed = await admin(r2, "GET", "members");
      assert.equal(listed.status, 200);
      const ids = (listed.body.members as { serverId: string }[]).map((m) => m.serverId);
      assert.deepEqual(
        ids,
        ["alpha"],
        "the member acknowledged before the kill survived it; the refused one is absent",
      );

      const started = performance.now();
      assert.equal((await admin(r3, "POST", "members", registration(beta))).status, 201);
      await Promise.all(probes.map((probe) => eventually(() => callable(probe, "beta__echo"), 5_000, "beta")));
      const converged = performance.now() - started;
      assert.ok(converged < 1_000, `converged in ${Math.round(converged)} ms`);

      stop = true;
      const { ok, failed } = await traffic;
      assert.deepEqual(failed, [], "no call failed while Redis was down or restarting");
      assert.ok(ok > 50, `${ok} calls`);
      for (const replica of replicas) assert.equal(await replica.running(), true, `${replica.name} is alive`);
    } finally {
      stop = true;
      await traffic;
      await Promise.all(clients.map((client) => client.close().catch(() => {})));
      await Promise.all(replicas.map((replica) => replica.kill()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
