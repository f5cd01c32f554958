// The replica bus under a hostile client: one POST cannot make thousands of store publishes (the batch limit applies
// before any fan-out, and answers are grouped per replica), and an answer is forwarded only when its id shows that
// the target replica sent that request in this session. With the in-process store and with a real Redis.
import assert from "node:assert/strict";
import { MemoryRegistryStore, RedisRegistryStore, type RegistryStore } from "../../packages/cluster/mod.ts";
import { Client, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { gatewayToken, quiet, textOf } from "../_support/catalog_members.ts";
import { GATEWAY_SECRET, SECRET } from "../_support/members.ts";
import { serveConformanceMember } from "../fixtures/conformance_member.ts";
import { redisAvailable, RedisServer } from "../scaleout/_support.ts";

const KEY = "bus-amplification-key-of-at-least-32-bytes";

/** Counts publishes to replicas' channels (answers forwarded between replicas). */
function counting<T extends RegistryStore>(store: T): T & { answers: () => number } {
  let answers = 0;
  const publish = store.publish.bind(store);
  store.publish = (channel: string, message: string) => {
    if (channel.startsWith("replica:")) answers++;
    return publish(channel, message);
  };
  return Object.assign(store, { answers: () => answers });
}

async function replica(store: RegistryStore, member: { controlUrl?: string | undefined }) {
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer({ serverId: "fixtures", endpoints: { control: member.controlUrl! } });
  const gateway = await serveGateway(proxy, {
    auth: { secret: GATEWAY_SECRET },
    port: 0,
    logger: quiet,
    cluster: { store, key: KEY },
  });
  return {
    url: gateway.url,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await proxy.close();
    },
  };
}

async function post(url: string, session: string, body: unknown): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await gatewayToken()}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
      "mcp-session-id": session,
    },
    body: JSON.stringify(body),
  });
  await response.body?.cancel();
  return response.status;
}

async function check(stores: [RegistryStore & { answers: () => number }, RegistryStore]): Promise<void> {
  const member = await serveConformanceMember("fixtures", SECRET, quiet);
  try {
    await using a = await replica(stores[0], member);
    await using b = await replica(stores[1], member);
    // A client whose answers to the gateway's requests go to replica A, everything else to replica B.
    const routed = (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const body = typeof init?.body === "string" ? init.body : "";
      const target = /"result"/.test(body) && !/"method"/.test(body) ? a.url : b.url;
      return fetch(target, init);
    };
    const client = new Client({ name: "bus", version: "1" }, { capabilities: { elicitation: {} } });
    client.setRequestHandler("elicitation/create", () => ({
      action: "accept",
      content: { username: "ada", email: "ada@example.com" },
    }));
    await client.connect(
      new StreamableHTTPClientTransport(new URL(b.url), {
        fetch: routed as typeof fetch,
        requestInit: { headers: { authorization: `Bearer ${await gatewayToken()}` } },
      }),
    );
    const session = (client.transport as StreamableHTTPClientTransport).sessionId!;

    // A real answer crosses replicas: one publish.
    const result = await client.callTool({ name: "fixtures__test_elicitation", arguments: { message: "q" } });
    assert.match(textOf(result), /action=accept/);
    assert.equal(stores[0].answers(), 1, "the answer was forwarded to the replica that asked");

    // 10,000 answers in one POST: refused before any publish.
    const flood = Array.from({ length: 10_000 }, (_, i) => ({ jsonrpc: "2.0", id: `other~${i}`, result: {} }));
    assert.equal(await post(a.url, session, flood), 400);
    // Within the batch limit, answers to requests no replica sent (untagged ids, forged tags) are dropped: no
    // publish.
    const forged = [
      ...Array.from({ length: 40 }, (_, i) => ({ jsonrpc: "2.0", id: `other~${i}`, result: {} })),
      ...Array.from({ length: 40 }, (_, i) => ({ jsonrpc: "2.0", id: `other~${i}~${"A".repeat(22)}`, result: {} })),
    ];
    assert.equal(await post(a.url, session, forged), 202);
    assert.equal(stores[0].answers(), 1, "no publish for forged answers");
    await client.close();
  } finally {
    await member.close();
    await member.closed();
  }
}

Deno.test("Replica bus: a POST of 10,000 answers makes no publish; only answers to requests a replica sent cross (in-process store)", async () => {
  const store = counting(new MemoryRegistryStore());
  try {
    await check([store, store]);
  } finally {
    await store.close();
  }
});

Deno.test({
  name: "Replica bus: a POST of 10,000 answers makes no publish; only answers to requests a replica sent cross (Redis)",
  ignore: !redisAvailable(),
}, async () => {
  await using redis = await RedisServer.start();
  const first = counting(new RedisRegistryStore(redis.url, { logger: quiet }));
  const second = new RedisRegistryStore(redis.url, { logger: quiet });
  await Promise.all([first.ready(5_000), second.ready(5_000)]);
  try {
    // Answers reach replica A (the first store), which forwards them to B.
    await check([first, second]);
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
});
