// What a gateway's clients see of a member whose `tools/list` fails (its connection dropped by a real relay): a
// 2026-07-28 client gets the others' tools with `ttlMs: 0` (an incomplete list is not to be cached), a 2025-11-25
// client gets `notifications/tools/list_changed` when the member is back, and both then list it with the members'
// own cache hint.
import assert from "node:assert/strict";
import { type FederationConfig, FederationProxy } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { GATEWAY_SECRET, SECRET, waitFor } from "../_support/members.ts";
import { connectClient, gatewayToken, quiet } from "../_support/catalog_members.ts";
import { ListDropRelay } from "../_support/list_drop_relay.ts";
import { modernPost } from "../_support/modern_post.ts";
import { startModernMember } from "../fixtures/modern_member.ts";

const HINT = { ttlMs: 60_000, cacheScope: "public" as const };

function config(serverId: string, endpoints: FederationConfig["endpoints"]): FederationConfig {
  return { serverId, endpoints, auth: { type: "jwt", config: {} } };
}

function names(result: Record<string, unknown>): string[] {
  const tools = (result.result as { tools: { name: string }[] }).tools;
  return tools.map((t) => t.name).sort();
}

Deno.test("Gateway tools/list with a member whose list fails: ttlMs 0 for 2026-07-28, list_changed for 2025-11-25 when it is back", async () => {
  await using a = await startModernMember({
    serverId: "a",
    secret: SECRET,
    control: true,
    cacheHints: { tools: HINT },
  });
  await using flaky = await startModernMember({ serverId: "flaky", secret: SECRET, cacheHints: { tools: HINT } });
  await using relay = new ListDropRelay(flaky.port);
  await using proxy = new FederationProxy(SECRET, {
    logger: quiet,
    heartbeatInterval: 60_000,
    catalog: { retryAfter: 200 },
  });
  await proxy.registerServer(config("a", { control: a.controlUrl!, data: a.url }));
  await proxy.registerServer(config("flaky", { data: relay.through(flaky.url) }));
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const token = await gatewayToken();
  const legacy = await connectClient(gateway.url);
  let changed = 0;
  legacy.setNotificationHandler("notifications/tools/list_changed", () => {
    changed++;
  });
  try {
    relay.fault = "drop";
    const partial = await modernPost(gateway.url, token, "tools/list", {});
    assert.ok(names(partial).includes("a__echo"));
    assert.ok(!names(partial).some((name) => name.startsWith("flaky__")), "the failing member is left out");
    assert.equal((partial.result as { ttlMs?: number }).ttlMs, 0, "an incomplete list carries no cache lifetime");
    const before = await legacy.listTools();
    assert.ok(!before.tools.some((t) => t.name.startsWith("flaky__")));

    relay.fault = "none";
    await waitFor(() => changed > 0, 10_000, "notifications/tools/list_changed");
    const after = await legacy.listTools();
    assert.ok(after.tools.some((t) => t.name === "flaky__echo"));
    const complete = await modernPost(gateway.url, token, "tools/list", {});
    assert.ok(names(complete).includes("flaky__echo"));
    assert.equal((complete.result as { ttlMs?: number }).ttlMs, HINT.ttlMs);
    assert.equal((complete.result as { cacheScope?: string }).cacheScope, HINT.cacheScope);
  } finally {
    await legacy.close();
  }
});
