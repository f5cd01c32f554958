// 10,000 stored members: listing them, /metrics and adding more cost linear time. The membership API lists them
// with one store read; a POST applies its own member without reading the whole store back, and other replicas apply
// the change notice with one member read.
import assert from "node:assert/strict";
import { type MemberSnapshot, MemoryRegistryStore } from "../../packages/cluster/mod.ts";
import { AuthManager } from "../../packages/core/auth.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { quiet } from "../_support/catalog_members.ts";
import { DEFAULT_GATEWAY_AUDIENCE } from "../../packages/gateway/options.ts";
import { GATEWAY_SECRET, SECRET } from "../_support/members.ts";

const KEY = "membership-scale-key-of-at-least-32-bytes";
const MEMBERS = 10_000;

/** The in-process store, counting whole-list reads. */
class CountingStore extends MemoryRegistryStore {
  lists = 0;
  override listMembers(): Promise<MemberSnapshot> {
    this.lists++;
    return super.listMembers();
  }
}

Deno.test("Membership at 10,000 members: GET /admin/members and /metrics are linear, a POST reads no list", async () => {
  const store = new CountingStore();
  for (let i = 0; i < MEMBERS; i++) {
    // Each names an allowed variable that is not set: refused here at once, no connection attempted.
    await store.createMember({
      serverId: `m${i}`,
      endpoints: { data: `http://127.0.0.1:9/m${i}` },
      auth: { type: "jwt", config: { secretEnv: `MCP_MEMBER_UNSET_${i}` } },
    }, "seed");
  }
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  const env = (name: string) => name === "MCP_MEMBER_DOCS" ? "m".repeat(40) : undefined;
  const gateway = await serveGateway(proxy, {
    auth: { secret: GATEWAY_SECRET },
    port: 0,
    logger: quiet,
    cluster: { store, key: KEY, env },
  });
  // A second replica on the same store: it hears of each change and applies it without reading every member.
  const otherProxy = new FederationProxy(SECRET, { logger: quiet });
  const other = await serveGateway(otherProxy, {
    auth: { secret: GATEWAY_SECRET },
    port: 0,
    logger: quiet,
    cluster: { store, key: KEY, env, reconcileInterval: 60_000 },
  });
  const base = gateway.url.replace(/\/mcp$/, "");
  const token = await new AuthManager(GATEWAY_SECRET).createToken({ scope: "federation:admin" }, {
    audience: DEFAULT_GATEWAY_AUDIENCE,
    subject: "operator",
    expiresIn: "5m",
  });
  const headers = { authorization: `Bearer ${token}` };
  try {
    // Wait until the replica applied the store (every member refused here).
    const deadline = performance.now() + 30_000;
    while (
      !(await (await fetch(`${base}/metrics`)).text()).includes(`federation_store_members{state="refused"} ${MEMBERS}`)
    ) {
      assert.ok(performance.now() < deadline, "the stored members were not applied");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    await (await fetch(`${base}/admin/members`, { headers })).body?.cancel(); // warm (JIT)
    const listsBefore = store.lists;
    let started = performance.now();
    const listed = await (await fetch(`${base}/admin/members`, { headers })).json();
    const listMs = performance.now() - started;
    assert.equal(listed.members.length, MEMBERS);
    assert.equal(listed.members[1234].here.sync, "refused");
    assert.equal(store.lists - listsBefore, 1, "one store read for the whole list");

    started = performance.now();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const metricsMs = performance.now() - started;
    assert.match(metrics, /federation_store_members\{state="refused"\} 10000/);

    const POSTS = 20;
    const listsBeforePosts = store.lists;
    started = performance.now();
    for (let i = 0; i < POSTS; i++) {
      const response = await fetch(`${base}/admin/members`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({
          serverId: `new${i}`,
          endpoints: { data: `http://127.0.0.1:9/new${i}` },
          auth: { type: "jwt", config: { secretEnv: "MCP_MEMBER_DOCS" } },
        }),
      });
      assert.equal(response.status, 201, await response.text());
    }
    const postMs = (performance.now() - started) / POSTS;
    // The other replica applies every change it hears of.
    const otherMetrics = other.url.replace(/\/mcp$/, "/metrics");
    while (!(await (await fetch(otherMetrics)).text()).includes(`federation_store_revision ${MEMBERS + POSTS}`)) {
      assert.ok(performance.now() < deadline + 30_000, "the other replica did not apply the new members");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const postLists = store.lists - listsBeforePosts;
    console.log(
      `membership at ${MEMBERS}: GET /admin/members ${listMs.toFixed(0)} ms, /metrics ${metricsMs.toFixed(0)} ms, ` +
        `POST ${postMs.toFixed(1)} ms each, ${postLists} whole-list reads for ${POSTS} POSTs on 2 replicas`,
    );
    assert.equal(postLists, 0, "neither replica reads the whole list for a POST");
    // Smoke bound only (the count assertions above are the test): quadratic listing took about a minute.
    assert.ok(listMs < 10_000, `listing took ${listMs} ms`);
  } finally {
    await other.close();
    await otherProxy.close();
    await gateway.close();
    await proxy.close();
    await store.close();
  }
});
