// The hub's tool index (the checks before a 2026-07-28 call: `Mcp-Param-*` headers, task mode) follows the catalog's
// tool changes through its events while a gateway uses the hub; changes made while no gateway did are seen too.
import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { hubFor } from "../../packages/gateway/_hub.ts";
import { SECRET, TestMember } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { startModernMember } from "../fixtures/modern_member.ts";

Deno.test("SessionHub.acquire() forgets the tool index: a change of the tools made while released is seen", async () => {
  await using modern = await startModernMember({ serverId: "m", secret: SECRET });
  await using other = await TestMember.start("m");
  await using proxy = new FederationProxy(SECRET, { logger: quiet, heartbeatInterval: 60_000 });
  await proxy.registerServer({ serverId: "m", endpoints: { data: modern.url }, auth: { type: "jwt", config: {} } });
  const hub = hubFor(proxy);
  hub.acquire(1_000);
  assert.ok(JSON.stringify((await hub.tools.find("m__region"))?.inputSchema).includes("x-mcp-header"));
  hub.release();
  // Released: the catalog's change events reach no one. `m` is now another member, without a `region` tool.
  await proxy.removeServer("m");
  await proxy.registerServer(other.config);
  await proxy.catalog.listTools();
  hub.acquire(1_000);
  try {
    assert.equal(await hub.tools.find("m__region"), undefined);
    assert.ok(await hub.tools.find("m__echo"));
  } finally {
    hub.release();
  }
});
