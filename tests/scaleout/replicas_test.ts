// Three gateway replicas (separate processes, started through the CLI with --store) on a real Redis behave as one
// gateway to an MCP client: one session served round-robin by all of them, members added or removed through any
// replica reach every replica within 1 s, the session survives the death of the replica that created it (and held
// its GET stream), and forged or altered session ids are refused.
import assert from "node:assert/strict";
import { Client, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { gatewayToken, quiet, startDynamicMember, textOf } from "../_support/catalog_members.ts";
import { SECRET, TestMember } from "../_support/members.ts";
import { serveConformanceMember } from "../fixtures/conformance_member.ts";
import {
  admin,
  eventually,
  metrics,
  redisAvailable,
  RedisServer,
  Replica,
  roundRobinFetch,
  writeReplicaConfig,
} from "./_support.ts";

const REDIS = redisAvailable();

/** A member's registration as an operator posts it: its secret named by an environment variable. */
function registration(member: { config: { serverId: string; endpoints: object } }) {
  const { serverId, endpoints } = member.config;
  return { serverId, endpoints, auth: { type: "jwt", config: { secretEnv: "MCP_MEMBER_SECRET" } } };
}

async function directClient(replica: Replica): Promise<Client> {
  const client = new Client({ name: `probe-${replica.name}`, version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(replica.url), {
      requestInit: { headers: { authorization: `Bearer ${await gatewayToken()}` } },
    }),
  );
  return client;
}

/** Milliseconds until `tool` answers through `client`. */
async function msUntilCallable(client: Client, tool: string, started: number): Promise<number> {
  await eventually(
    async () => {
      const result = await client.callTool({ name: tool, arguments: { text: "ping" } });
      return result.isError ? undefined : true;
    },
    5_000,
    `${tool} to be callable`,
  );
  return performance.now() - started;
}

/** Milliseconds until `tool` is refused through `client`. */
async function msUntilGone(client: Client, tool: string, started: number): Promise<number> {
  await eventually(
    async () => {
      try {
        const result = await client.callTool({ name: tool, arguments: { text: "ping" } });
        return result.isError ? true : undefined;
      } catch {
        return true;
      }
    },
    5_000,
    `${tool} to be gone`,
  );
  return performance.now() - started;
}

/** POSTs one JSON-RPC request to a replica under a session id, and returns the status. */
async function statusFor(replica: Replica, sessionId: string, subject = "test-client"): Promise<number> {
  const response = await fetch(replica.url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await gatewayToken(subject)}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-session-id": sessionId,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test({
  name: "Three replicas on Redis serve one session round-robin, share members within 1 s, and survive a replica",
  ignore: !REDIS,
  async fn(t) {
    await using redis = await RedisServer.start();
    await using alpha = await TestMember.start("alpha");
    await using beta = await TestMember.start("beta");
    await using gamma = await TestMember.start("gamma");
    // A member with a subscribable resource (its tool `touch` updates it).
    await using notes = await startDynamicMember("notes");
    // A member whose tools ask the client questions (elicitation) and report progress.
    await using fixtures = await serveConformanceMember("fixtures", SECRET, quiet);
    const dir = await Deno.makeTempDir();
    const config = await writeReplicaConfig(dir, redis.url);
    const replicas = await Promise.all(["r1", "r2", "r3"].map((name) => Replica.start(name, config, redis.url)));
    const [r1, r2, r3] = replicas as [Replica, Replica, Replica];
    const probes: Client[] = [];
    let client: Client | undefined;
    try {
      for (const replica of replicas) probes.push(await directClient(replica));

      await t.step("a member registered through replica 1 is callable through 2 and 3 within 1 s", async () => {
        const started = performance.now();
        const created = await admin(r1, "POST", "members", registration(alpha));
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const delays = await Promise.all(probes.map((probe) => msUntilCallable(probe, "alpha__echo", started)));
        for (const ms of delays) assert.ok(ms < 1_000, `callable after ${Math.round(ms)} ms`);
        const endpoints = { control: fixtures.controlUrl!, data: fixtures.dataUrl! };
        const posted = await admin(
          r1,
          "POST",
          "members",
          registration({ config: { serverId: "fixtures", endpoints } }),
        );
        assert.equal(posted.status, 201);
        assert.equal((await admin(r1, "POST", "members", registration(notes.member))).status, 201);
      });

      // One client, one session; every request goes to the next replica, except GET streams, pinned to the
      // replica that created the session until it dies.
      let live = [...replicas];
      let streamHolder: Replica | undefined = r1;
      let streamsOpened = 0;
      const { fetch: rotating, served } = roundRobinFetch(() => live, (init) => {
        // Subscriptions go to replica 2, so that its updates must travel to the stream on replica 1.
        if (typeof init?.body === "string" && init.body.includes('"resources/subscribe"')) return r2;
        if (init?.method !== "GET") return undefined;
        streamsOpened++;
        return streamHolder;
      });
      const listChanged: number[] = [];
      client = new Client({ name: "round-robin", version: "1.0.0" }, { capabilities: { elicitation: {} } });
      client.setRequestHandler("elicitation/create", (request) => ({
        action: "accept",
        content: { username: request.params.message, email: "ada@example.com" },
      }));
      client.setNotificationHandler("notifications/tools/list_changed", () => void listChanged.push(performance.now()));
      const transport = new StreamableHTTPClientTransport(new URL(r1.url), {
        fetch: rotating,
        requestInit: { headers: { authorization: `Bearer ${await gatewayToken()}` } },
        reconnectionOptions: {
          initialReconnectionDelay: 100,
          maxReconnectionDelay: 500,
          reconnectionDelayGrowFactor: 1.5,
          maxRetries: 20,
        },
      });
      await client.connect(transport);
      const session = transport.sessionId!;

      await t.step("one session spread round-robin over the three replicas: every call succeeds", async () => {
        for (let i = 0; i < 30; i++) {
          const result = await client!.callTool({ name: "alpha__echo", arguments: { text: `call ${i}` } });
          assert.equal(textOf(result), `call ${i}`);
        }
        assert.equal((await client!.listTools()).tools.some((tool) => tool.name === "alpha__echo"), true);
        for (const replica of replicas) assert.ok((served.get(replica.name) ?? 0) >= 10, `${replica.name} served`);
        assert.equal(transport.sessionId, session, "one session throughout");
        for (const replica of [r2, r3]) {
          assert.match(await metrics(replica), /^federation_sessions_restored_total [1-9]/m, "rebuilt from its id");
        }
      });

      await t.step("an elicitation answered through another replica reaches the member; progress arrives", async () => {
        const plainCalls = async () => {
          const counts = await Promise.all(replicas.map(async (replica) => {
            const match = /^federation_gateway_plain_calls_total (\d+)$/m.exec(await metrics(replica));
            return Number(match?.[1] ?? 0);
          }));
          return counts.reduce((a, b) => a + b);
        };
        const plainBefore = await plainCalls();
        for (let i = 0; i < 3; i++) {
          const result = await client!.callTool({
            name: "fixtures__test_elicitation",
            arguments: { message: `q${i}` },
          });
          const content = JSON.stringify({ username: `q${i}`, email: "ada@example.com" });
          assert.equal(textOf(result), `User response: action=accept, content=${content}`);
        }
        const forwarded = await Promise.all(replicas.map(async (replica) => {
          const match = /^federation_sessions_forwarded_total (\d+)$/m.exec(await metrics(replica));
          return Number(match?.[1] ?? 0);
        }));
        assert.ok(forwarded.reduce((a, b) => a + b) >= 3, `answers forwarded: ${forwarded}`);
        // Served outside the SDK transport: the member's request went on the call's own answer stream.
        assert.equal(await plainCalls() - plainBefore, 3);
        const progress: number[] = [];
        await client!.callTool({ name: "fixtures__test_tool_with_progress", arguments: {} }, {
          onprogress: (p) => void progress.push(p.progress),
        });
        assert.deepEqual(progress, [0, 50, 100]);
      });

      await t.step(
        "a resource update on the replica holding the subscription reaches the stream on another",
        async () => {
          const updates: string[] = [];
          client!.setNotificationHandler("notifications/resources/updated", (n) => void updates.push(n.params.uri));
          await client!.subscribeResource({ uri: "note://notes" });
          // The member notifies replica 2's connection (the one that subscribed); the client's stream is on replica 1.
          await probes[1]!.callTool({ name: "notes__touch", arguments: {} });
          await eventually(() => updates.length > 0 || undefined, 3_000, "resources/updated");
          assert.deepEqual(updates, ["note://notes"]);
          assert.match(await metrics(r2), /^federation_sessions_streamed_total [1-9]/m);
        },
      );

      await t.step(
        "adding and removing a member reaches every replica within 1 s, and the client hears of it",
        async () => {
          const heard = listChanged.length;
          let started = performance.now();
          assert.equal((await admin(r2, "POST", "members", registration(beta))).status, 201);
          const added = await Promise.all(probes.map((probe) => msUntilCallable(probe, "beta__echo", started)));
          for (const ms of added) assert.ok(ms < 1_000, `beta callable after ${Math.round(ms)} ms`);
          await eventually(() => listChanged.length > heard || undefined, 3_000, "tools/list_changed");

          started = performance.now();
          assert.equal((await admin(r3, "DELETE", "members/beta")).status, 200);
          const removed = await Promise.all(probes.map((probe) => msUntilGone(probe, "beta__echo", started)));
          for (const ms of removed) assert.ok(ms < 1_000, `beta gone after ${Math.round(ms)} ms`);
          assert.equal((await admin(r1, "GET", "members/beta")).status, 404);
        },
      );

      await t.step(
        "the replica that created the session dies: the session goes on, notifications come back",
        async () => {
          const heard = listChanged.length;
          const opened = streamsOpened;
          await r1.kill();
          live = [r2, r3];
          streamHolder = undefined;
          for (let i = 0; i < 10; i++) {
            const result = await client!.callTool({ name: "alpha__echo", arguments: { text: `after ${i}` } });
            assert.equal(textOf(result), `after ${i}`);
          }
          assert.equal(transport.sessionId, session, "still the same session");
          // The client's GET stream died with replica 1; it resumes on a live replica, which cannot replay what
          // replica 1 buffered and so starts the stream with list_changed notifications.
          await eventually(
            () => streamsOpened > opened && listChanged.length > heard || undefined,
            5_000,
            "a stream on a live replica",
          );
          const caughtUp = listChanged.length;
          assert.equal((await admin(r2, "POST", "members", registration(gamma))).status, 201);
          await eventually(
            () => listChanged.length > caughtUp || undefined,
            3_000,
            "list_changed on the new stream",
          );
          assert.equal(textOf(await client!.callTool({ name: "gamma__echo", arguments: { text: "hi" } })), "hi");
        },
      );

      await t.step("a forged or altered session id is refused with 404, another subject's with 403", async () => {
        const flipped = session[10] === "A" ? "B" : "A";
        const altered = session.slice(0, 10) + flipped + session.slice(11);
        for (const id of [altered, "s1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", crypto.randomUUID()]) {
          assert.equal(await statusFor(r2, id), 404, id);
        }
        assert.equal(await statusFor(r3, session, "someone-else"), 403);
        assert.equal(await statusFor(r3, session), 200);
      });
    } finally {
      await client?.close().catch(() => {});
      await Promise.all(probes.map((probe) => probe.close().catch(() => {})));
      await Promise.all(replicas.map((replica) => replica.kill()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
