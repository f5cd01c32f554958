// The federated tool list across members one of which fails during `tools/list` (its connection dropped or held
// by a real relay on the socket, not a mock): the list never fails as a whole, a lost request is retried on the
// member's other channel (then once more), a member that still fails is reported and left out with a zero cache
// hint, and its tools come back by themselves once it answers again. Both eras of members.
import assert from "node:assert/strict";
import {
  type CatalogListFailedEvent,
  ConnectionError,
  type FederationConfig,
  FederationProxy,
  ProtocolError,
  TimeoutError,
} from "../../mod.ts";
import { recordingLogger, SECRET, waitFor } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { ListDropRelay } from "../_support/list_drop_relay.ts";
import { type ModernMember, startModernMember } from "../fixtures/modern_member.ts";

const HINT = { ttlMs: 60_000, cacheScope: "public" as const };

function config(serverId: string, endpoints: FederationConfig["endpoints"]): FederationConfig {
  return { serverId, endpoints, auth: { type: "jwt", config: {} } };
}

function start(serverId: string, era: "modern" | "legacy", control = true): Promise<ModernMember> {
  return startModernMember({ serverId, secret: SECRET, era, control, cacheHints: { tools: HINT } });
}

function owners(tools: { name: string }[]): string[] {
  return [...new Set(tools.map((t) => t.name.split("__")[0]!))].sort();
}

for (const era of ["modern", "legacy"] as const) {
  Deno.test(`FederatedCatalog.listTools() retries a ${era} member's dropped tools/list on its other channel`, async () => {
    await using a = await start("a", era);
    await using flaky = await start("flaky", era);
    await using relay = new ListDropRelay(flaky.port);
    // Every request goes to the data channel first, so the drop is where the list starts.
    await using proxy = new FederationProxy(SECRET, { logger: quiet, heartbeatInterval: 60_000, routing: "data" });
    await proxy.registerServer(config("a", { control: a.controlUrl!, data: a.url }));
    await proxy.registerServer(config("flaky", { control: flaky.controlUrl!, data: relay.through(flaky.url) }));
    const failed: CatalogListFailedEvent[] = [];
    proxy.catalog.addEventListener("listFailed", (event) => failed.push(event));
    relay.fault = "drop";

    const tools = await proxy.catalog.listTools();

    // (Deno's fetch itself sends a request again once when its pooled connection closes before any answer.)
    assert.ok(relay.faulted >= 1, "the data channel's tools/list was dropped");
    assert.ok(flaky.controlMethods.includes("tools/list"), "then sent on the control channel");
    assert.deepEqual(owners(tools), ["a", "flaky"]);
    assert.ok(tools.some((t) => t.name === "flaky__echo"));
    assert.deepEqual(failed, [], "a list that succeeded on retry is no failure");
    assert.deepEqual(proxy.catalog.failures(), []);
    if (era === "modern") assert.deepEqual(proxy.catalog.cacheHint("tools"), HINT);
  });

  Deno.test(`FederatedCatalog.listTools() leaves out a ${era} member whose tools/list keeps dropping, with a zero cache hint, and takes it back`, async () => {
    await using a = await start("a", era);
    await using b = await start("b", era);
    // Data-only: no other channel to fail over to.
    await using flaky = await start("flaky", era, false);
    await using relay = new ListDropRelay(flaky.port);
    const log = recordingLogger();
    await using proxy = new FederationProxy(SECRET, {
      logger: log.logger,
      heartbeatInterval: 60_000,
      catalog: { retryAfter: 200 },
    });
    await proxy.registerServer(config("a", { control: a.controlUrl!, data: a.url }));
    await proxy.registerServer(config("b", { control: b.controlUrl!, data: b.url }));
    await proxy.registerServer(config("flaky", { data: relay.through(flaky.url) }));
    const failed: CatalogListFailedEvent[] = [];
    proxy.catalog.addEventListener("listFailed", (event) => failed.push(event));
    const attempts: string[] = [];
    proxy.catalog.addEventListener("request", (event) => {
      if (event.serverId === "flaky") attempts.push(`${event.method} ${event.outcome} ${event.error?.code}`);
    });
    relay.fault = "drop";

    const tools = await proxy.catalog.listTools();

    assert.deepEqual(owners(tools), ["a", "b"], "the others' tools are listed");
    assert.equal(attempts.length, 2, `its lost request was retried once: ${attempts}`);
    assert.ok(attempts.every((a) => a.startsWith("tools/list error ERR_CONNECTION")), String(attempts));
    assert.ok(relay.faulted >= 2, "both attempts reached the member's socket");
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.serverId, "flaky");
    assert.equal(failed[0]!.list, "tools");
    assert.ok(failed[0]!.error instanceof ConnectionError, String(failed[0]!.error));
    assert.equal(failed[0]!.stale, false);
    assert.equal(failed[0]!.retryIn, 200);
    assert.deepEqual(proxy.catalog.failures().map((f) => f.serverId), ["flaky"]);
    const warned = log.lines.filter((line) => line.startsWith("warn A member's list is left out"));
    assert.equal(warned.length, 1, log.lines.join("\n"));
    assert.match(warned[0]!, /"serverId":"flaky","list":"tools"/);
    // An incomplete list is not to be cached.
    if (era === "modern") assert.deepEqual(proxy.catalog.cacheHint("tools"), { ttlMs: 0, cacheScope: "public" });
    else assert.equal(proxy.catalog.cacheHint("tools").ttlMs, 0);

    // The member answers again: its tools come back with a change event, without anyone listing.
    let changed = 0;
    proxy.catalog.addEventListener("toolsChanged", () => changed++);
    relay.fault = "none";
    await waitFor(() => changed > 0, 10_000, "toolsChanged");
    assert.deepEqual(owners(await proxy.catalog.listTools()), ["a", "b", "flaky"]);
    assert.deepEqual(proxy.catalog.failures(), []);
    if (era === "modern") assert.deepEqual(proxy.catalog.cacheHint("tools"), HINT);
  });
}

Deno.test("FederatedCatalog asks a member whose tools/list timed out again after retryAfter, and announces its tools", async () => {
  await using a = await start("a", "modern");
  await using stalled = await start("stalled", "modern", false);
  await using relay = new ListDropRelay(stalled.port);
  await using proxy = new FederationProxy(SECRET, {
    logger: quiet,
    heartbeatInterval: 60_000,
    catalog: { listTimeout: 300, retryAfter: 200 },
  });
  await proxy.registerServer(config("a", { control: a.controlUrl!, data: a.url }));
  await proxy.registerServer(config("stalled", { data: relay.through(stalled.url) }));
  const failed: CatalogListFailedEvent[] = [];
  proxy.catalog.addEventListener("listFailed", (event) => failed.push(event));
  relay.fault = "hold";

  assert.deepEqual(owners(await proxy.catalog.listTools()), ["a"]);
  assert.equal(relay.faulted, 1, "a timeout is not retried within the listing");
  assert.equal(failed.length, 1);
  assert.ok(failed[0]!.error instanceof TimeoutError);
  assert.equal(proxy.getServerStatus("stalled")?.state, "connected", "a timeout fails no channel");
  assert.equal(proxy.catalog.cacheHint("tools").ttlMs, 0);

  // Nothing reconnects and nobody lists: the catalog's own retry brings the member's tools back.
  let changed = 0;
  proxy.catalog.addEventListener("toolsChanged", () => changed++);
  relay.fault = "none";
  await waitFor(() => changed > 0, 5_000, "toolsChanged");
  assert.ok(relay.passed >= 1);
  assert.deepEqual(owners(await proxy.catalog.listTools()), ["a", "stalled"]);
  assert.deepEqual(proxy.catalog.cacheHint("tools"), HINT);
});

Deno.test("FederatedCatalog asks at most listConcurrency members at once", async () => {
  const members = await Promise.all(["m0", "m1", "m2", "m3", "m4"].map((id) => start(id, "modern", false)));
  const relays = members.map((m) => new ListDropRelay(m.port));
  try {
    await using proxy = new FederationProxy(SECRET, {
      logger: quiet,
      heartbeatInterval: 60_000,
      catalog: { listConcurrency: 2, listTimeout: 1_000, retryAfter: 60_000 },
    });
    for (const [i, member] of members.entries()) {
      await proxy.registerServer(config(`m${i}`, { data: relays[i]!.through(member.url) }));
    }
    for (const relay of relays) relay.fault = "hold";
    const asked = () => relays.filter((r) => r.faulted > 0).length;
    const listing = proxy.catalog.listTools();
    await waitFor(() => asked() >= 2, 5_000, "the first two members asked");
    // While the first two hold their answers, nobody else is asked.
    for (let i = 0; i < 20; i++) {
      assert.equal(asked(), 2);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(await listing, [], "every member timed out: an empty list, not an error");
    assert.equal(asked(), 5, "each was asked in its turn");
  } finally {
    for (const relay of relays) await relay.close();
    for (const member of members) await member.close();
  }
});

Deno.test("FederatedCatalog does not retry a member's list answered with an error by itself, nor mark the list incomplete; repeats log at debug", async () => {
  // The member's prompts/list is followed by its cache hint (data-only, 2026-07-28); it answers with an error while
  // `refusing`.
  let refusing = false;
  await using refuser = await startModernMember({
    serverId: "refuser",
    secret: SECRET,
    configure: (server) =>
      server.server.setRequestHandler("prompts/list", () => {
        if (refusing) throw new Error("Prompts are unavailable");
        return { prompts: [{ name: "p" }], ttlMs: 250, cacheScope: "public" };
      }),
  });
  const log = recordingLogger();
  await using proxy = new FederationProxy(SECRET, {
    logger: log.logger,
    heartbeatInterval: 60_000,
    catalog: { retryAfter: 100 },
  });
  await proxy.registerServer(config("refuser", { data: refuser.url }));
  const failed: CatalogListFailedEvent[] = [];
  proxy.catalog.addEventListener("listFailed", (event) => failed.push(event));
  const asked = () => refuser.requests.filter((r) => r.method === "prompts/list").length;
  const left = () => log.lines.filter((line) => line.includes("A member's list is left out"));

  assert.deepEqual((await proxy.catalog.listPrompts()).map((p) => p.name), ["refuser__p"]);
  const hint = { ttlMs: 250, cacheScope: "public" };
  assert.deepEqual(proxy.catalog.cacheHint("prompts"), hint);
  refusing = true;
  await new Promise((resolve) => setTimeout(resolve, 300));

  // Its hint ran out: listed again, refused. Its last good copy is served; an error answer is no transient failure.
  assert.deepEqual((await proxy.catalog.listPrompts()).map((p) => p.name), ["refuser__p"]);
  assert.equal(failed.length, 1);
  assert.ok(failed[0]!.error instanceof ProtocolError, String(failed[0]!.error));
  assert.equal(failed[0]!.stale, true);
  assert.equal(failed[0]!.retryIn, undefined);
  assert.equal(failed[0]!.repeated, false);
  assert.deepEqual(proxy.catalog.cacheHint("prompts"), hint, "the list is not incomplete");
  const afterFailure = asked();
  // No timer asks it again (retryAfter is 100 ms).
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(asked(), afterFailure);

  // The next listing after retryAfter asks again: refused again, a repeat.
  await proxy.catalog.listPrompts();
  assert.equal(asked(), afterFailure + 1);
  assert.equal(failed.length, 2);
  assert.equal(failed[1]!.repeated, true);
  assert.deepEqual(left().map((line) => line.split(" ")[0]), ["warn", "debug"]);

  // Answering again: back to normal; a new failure then starts a new streak.
  refusing = false;
  await new Promise((resolve) => setTimeout(resolve, 150));
  await proxy.catalog.listPrompts();
  assert.deepEqual(proxy.catalog.failures(), []);
  refusing = true;
  await new Promise((resolve) => setTimeout(resolve, 300));
  await proxy.catalog.listPrompts();
  assert.equal(failed.length, 3);
  assert.equal(failed[2]!.repeated, false);
  assert.deepEqual(left().map((line) => line.split(" ")[0]), ["warn", "debug", "warn"]);
});
