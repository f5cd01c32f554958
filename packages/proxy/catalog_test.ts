import assert from "node:assert/strict";
import fc from "fast-check";
import { ServerNotFoundError } from "../core/errors.ts";
import { assignNames, FEDERATED_NAME_PATTERN, type NamingEntry, type PrefixMode } from "./_naming.ts";
import { assignUris, parseRewrittenUri } from "./_uris.ts";
import { FederationProxy } from "./federation_proxy.ts";
import type { FederationProxyOptions } from "./options.ts";
import type { CatalogEvent } from "./catalog.ts";
import { SECRET, TestMember, waitFor } from "../../tests/_support/members.ts";
import {
  quiet,
  startDynamicMember,
  startHangingMember,
  startManyToolsMember,
} from "../../tests/_support/catalog_members.ts";

function newProxy(options: FederationProxyOptions = {}): FederationProxy {
  return new FederationProxy(SECRET, { logger: quiet, ...options });
}

function text(result: { content: unknown }): string {
  return (result.content as { text: string }[])[0]!.text;
}

// ── Naming properties ─────────────────────────────────────────────────────────────────────────────────────────────

const serverIdArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/).filter((id) => !id.includes("__"));
const nameArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
  fc.string({ minLength: 0, maxLength: 90 }),
  fc.stringMatching(/^[a-z_]{50,80}$/),
  fc.constantFrom("echo", "a__b", "_x", "__x", "x_", "tool.name", "tool name", "ünïcode", ""),
);
const entriesArb = fc.uniqueArray(fc.record({ serverId: serverIdArb, name: nameArb }), {
  minLength: 0,
  maxLength: 40,
  selector: (e) => `${e.serverId}\u0000${e.name}`,
});

for (const mode of ["always", "on-collision"] as PrefixMode[]) {
  Deno.test(`assignNames() (${mode}) gives valid, distinct, order-independent names that map back`, () => {
    fc.assert(
      fc.property(entriesArb, fc.integer(), (entries: NamingEntry[], seed) => {
        const names = assignNames(entries, mode);
        for (const name of names) assert.match(name, FEDERATED_NAME_PATTERN);
        assert.equal(new Set(names).size, entries.length, "distinct entries must get distinct names");
        const back = new Map(names.map((name, i) => [name, entries[i]!]));
        entries.forEach((entry, i) => assert.deepEqual(back.get(names[i]!), entry));
        // Deterministic: the same set in another order gets the same names.
        const order = entries.map((_, i) => i).sort((a, b) => ((a * 7919 + seed) % 97) - ((b * 7919 + seed) % 97));
        const shuffled = order.map((i) => entries[i]!);
        const again = assignNames(shuffled, mode);
        order.forEach((i, j) => assert.equal(again[j], names[i]));
      }),
      { numRuns: 300 },
    );
  });
}

Deno.test("assignNames() keeps valid names, prefixes them, and shortens long or invalid ones", () => {
  const long = "x".repeat(70);
  const names = assignNames([
    { serverId: "a", name: "echo" },
    { serverId: "b", name: "echo" },
    { serverId: "b", name: "only_b" },
    { serverId: "a", name: long },
    { serverId: "a", name: "has space" },
  ], "on-collision");
  assert.deepEqual(names.slice(0, 3), ["a__echo", "b__echo", "only_b"]);
  assert.equal(names[3]!.length, 64);
  assert.ok(names[3]!.startsWith("xxxxxxxx"));
  assert.match(names[4]!, /^has_space_[0-9a-f]{8}$/);
  // The clash of "a_" + "__" + "_x" with "a" + "__" + "__x" (both "a____x") is resolved.
  const clash = assignNames([{ serverId: "a_", name: "_x" }, { serverId: "a", name: "__x" }], "always");
  assert.notEqual(clash[0], clash[1]);
});

Deno.test("assignUris() keeps unique URIs and rewrites shared ones reversibly", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(
        fc.record({
          serverId: serverIdArb,
          uri: fc.oneof(
            fc.stringMatching(/^[a-z]{1,4}:\/\/[a-z0-9/]{0,6}$/),
            fc.constantFrom("a://x", "federated://s/y"),
          ),
        }),
        {
          maxLength: 30,
          selector: (e) => `${e.serverId}\u0000${e.uri}`,
        },
      ),
      (entries) => {
        const uris = assignUris(entries);
        assert.equal(new Set(uris).size, entries.length);
        uris.forEach((uri, i) => {
          const entry = entries[i]!;
          if (uri === entry.uri) {
            assert.equal(entries.filter((e) => e.uri === entry.uri).length, 1);
            assert.equal(parseRewrittenUri(uri), undefined);
          } else {
            assert.deepEqual(parseRewrittenUri(uri), { serverId: entry.serverId, uri: entry.uri });
          }
        });
      },
    ),
    { numRuns: 200 },
  );
});

// ── The catalog over real members ─────────────────────────────────────────────────────────────────────────────────

Deno.test("FederatedCatalog lists every member's tools namespaced and routes calls back", async () => {
  await using a = await TestMember.start("a");
  await using b = await TestMember.start("b");
  await using proxy = newProxy();
  await proxy.registerServer(a.config);
  await proxy.registerServer(b.config);
  const tools = await proxy.catalog.listTools();
  const names = tools.map((t) => t.name);
  assert.ok(names.includes("a__echo") && names.includes("b__echo"), names.join());
  assert.deepEqual(tools.find((t) => t.name === "b__echo")?._meta?.["io.github.federated-mcp/origin"], {
    serverId: "b",
    name: "echo",
  });
  assert.equal(text(await proxy.catalog.callTool("b__echo", { text: "hi" })), "hi");
  assert.equal(b.stats.executions.get("echo"), 1);
  assert.equal(a.stats.executions.get("echo"), undefined);
  await assert.rejects(
    proxy.catalog.callTool("nobody__echo"),
    (e) => e instanceof ServerNotFoundError && e.code === "ERR_NOT_FOUND",
  );
  await assert.rejects(
    proxy.catalog.getPrompt("c__greet"),
    (e) => e instanceof ServerNotFoundError && e.code === "ERR_NOT_FOUND",
  );
});

Deno.test("FederatedCatalog with prefix on-collision leaves unique names unprefixed", async () => {
  await using a = await TestMember.start("a");
  await using d = await startDynamicMember("d");
  await using proxy = newProxy({ catalog: { prefix: "on-collision" } });
  await proxy.registerServer(a.config);
  await proxy.registerServer(d.member.config);
  const names = (await proxy.catalog.listTools()).map((t) => t.name);
  assert.ok(names.includes("a__echo") && names.includes("d__echo"), "echo is offered twice: prefixed");
  assert.ok(names.includes("increment") && names.includes("touch"), "unique names: unprefixed");
  assert.equal(text(await proxy.catalog.callTool("touch")), "touched");
});

Deno.test("FederatedCatalog follows pagination and a warm listTools() of 2,000 tools takes under 1 ms", async () => {
  await using member = await startManyToolsMember("many", 2_000, 300);
  await using proxy = newProxy();
  await proxy.registerServer(member.config);
  const cold = await proxy.catalog.listTools();
  assert.equal(cold.length, 2_000);
  assert.equal(cold[1_999]!.name, "many__tool_1999");
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    const warm = await proxy.catalog.listTools();
    samples.push(performance.now() - started);
    assert.equal(warm, cold, "a warm call returns the cached array");
  }
  samples.sort((x, y) => x - y);
  const median = samples[100]!;
  assert.ok(median < 1, `median warm listTools() took ${median.toFixed(3)} ms`);
});

Deno.test("FederatedCatalog returns the other members' tools when one member hangs, and records the failure", async () => {
  await using a = await TestMember.start("a");
  await using hanging = await startHangingMember("slowpoke");
  await using proxy = newProxy({ catalog: { listTimeout: 1_000, retryAfter: 60_000 } });
  await proxy.registerServer(a.config);
  await proxy.registerServer(hanging.config);
  const started = performance.now();
  const names = (await proxy.catalog.listTools()).map((t) => t.name);
  assert.ok(performance.now() - started < 5_000, "the hanging member is given up on after listTimeout");
  assert.ok(names.includes("a__echo"));
  assert.ok(!names.some((n) => n.startsWith("slowpoke__")));
  const failures = proxy.catalog.failures();
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.serverId, "slowpoke");
  assert.equal(failures[0]!.list, "tools");
  assert.equal(failures[0]!.error.code, "ERR_TIMEOUT");
  // Within retryAfter the failing member is not asked again: the next list does not wait for listTimeout.
  const again = performance.now();
  await proxy.catalog.listTools();
  assert.ok(performance.now() - again < 500);
});

Deno.test("FederatedCatalog refreshes on a member's tools/list_changed and dispatches toolsChanged", async () => {
  await using d = await startDynamicMember("d");
  await using proxy = newProxy();
  await proxy.registerServer(d.member.config);
  const events: string[] = [];
  proxy.catalog.addEventListener("toolsChanged", (e: CatalogEvent) => events.push(e.type));
  const before = (await proxy.catalog.listTools()).map((t) => t.name);
  assert.ok(!before.includes("d__fresh"));
  d.addTool("fresh");
  await waitFor(() => events.length > 0, 5_000, "toolsChanged");
  const after = (await proxy.catalog.listTools()).map((t) => t.name);
  assert.ok(after.includes("d__fresh"), after.join());
  assert.equal(text(await proxy.catalog.callTool("d__fresh")), "fresh");
});

Deno.test("FederatedCatalog announces members added and removed at run time", async () => {
  await using a = await TestMember.start("a");
  await using b = await TestMember.start("b");
  await using proxy = newProxy();
  await proxy.registerServer(a.config);
  let changes = 0;
  proxy.catalog.addEventListener("toolsChanged", () => changes++);
  await proxy.catalog.listTools();
  await proxy.registerServer(b.config);
  await waitFor(() => changes === 1, 5_000, "toolsChanged after registering b");
  assert.ok((await proxy.catalog.listTools()).some((t) => t.name === "b__echo"));
  await proxy.removeServer("b");
  await waitFor(() => changes === 2, 5_000, "toolsChanged after removing b");
  assert.ok(!(await proxy.catalog.listTools()).some((t) => t.name.startsWith("b__")));
});

Deno.test("FederatedCatalog rewrites shared resource URIs and reads each from its member", async () => {
  await using a = await TestMember.start("a");
  await using b = await TestMember.start("b");
  await using d = await startDynamicMember("d");
  await using proxy = newProxy();
  for (const config of [a.config, b.config, d.member.config]) await proxy.registerServer(config);
  const uris = (await proxy.catalog.listResources()).map((r) => r.uri).sort();
  assert.deepEqual(uris, ["federated://a/info://server", "federated://b/info://server", "note://d"]);
  const read = await proxy.catalog.readResource("federated://b/info://server");
  assert.deepEqual(read.contents, [{ uri: "federated://b/info://server", text: "server b" }]);
  assert.deepEqual((await proxy.catalog.readResource("note://d")).contents, [{ uri: "note://d", text: "note of d" }]);
  await assert.rejects(
    proxy.catalog.readResource("info://server"),
    (e) => e instanceof ServerNotFoundError && e.code === "ERR_NOT_FOUND",
  );
});

Deno.test("FederatedCatalog forwards resource updates of subscribed URIs and re-subscribes after a reconnection", async () => {
  // Legacy: it counts the member's resources/subscribe calls (a 2026-07-28 member gets a listen stream instead).
  await using d = await startDynamicMember("d", { data: false, era: "legacy" });
  await using proxy = newProxy({ backoff: { initialDelay: 10, maxDelay: 50 } });
  await proxy.registerServer(d.member.config);
  const updates: (string | undefined)[] = [];
  proxy.catalog.addEventListener("resourceUpdated", (e) => updates.push(e.uri));
  const origin = await proxy.catalog.subscribe("note://d");
  assert.deepEqual(origin, { serverId: "d", uri: "note://d" });
  assert.equal(d.subscriptions.get("note://d"), 1);
  await proxy.catalog.callTool("d__touch");
  await waitFor(() => updates.length === 1, 5_000, "resourceUpdated");
  assert.deepEqual(updates, ["note://d"]);
  await d.member.stop();
  d.subscriptions.clear(); // a restarted member has forgotten its subscribers
  await d.member.restart();
  await waitFor(() => d.subscriptions.get("note://d") === 1, 10_000, "re-subscription after restart");
  await proxy.catalog.unsubscribe("note://d");
  await waitFor(() => !d.subscriptions.has("note://d"), 5_000, "unsubscribe");
});

Deno.test("FederatedCatalog passes on log messages a member sends during a call on the data channel", async () => {
  await using d = await startDynamicMember("d");
  await using proxy = newProxy({ routing: "data" });
  await proxy.registerServer(d.member.config);
  const messages: unknown[] = [];
  proxy.catalog.addEventListener("message", (e) => messages.push(e.params?.data));
  await proxy.catalog.callTool("d__log");
  await waitFor(() => messages.length === 3, 5_000, "three log messages");
  assert.deepEqual(messages, ["one", "two", "three"]);
});
