import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { GatewayMetrics } from "../../packages/gateway/_metrics.ts";
import { PrometheusWriter } from "../../packages/core/_prometheus.ts";
import { SECRET, TestMember } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { startModernMember } from "../fixtures/modern_member.ts";

Deno.test("GatewayMetrics reports each member's era as federation_member_era", async () => {
  await using legacy = await TestMember.start("old", { era: "legacy" }); // a dual-era member, pinned to 2025-11-25
  await using modern = await startModernMember({ serverId: "new", secret: SECRET });
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(legacy.config);
  await proxy.registerServer({ serverId: "new", endpoints: { data: modern.url }, auth: { type: "jwt", config: {} } });
  const metrics = new GatewayMetrics(proxy, () => 0);
  try {
    const out = new PrometheusWriter();
    metrics.write(out);
    const body = out.text();
    assert.match(body, /^federation_member_era\{server_id="old",era="legacy"\} 1$/m);
    assert.match(body, /^federation_member_era\{server_id="new",era="modern"\} 1$/m);
    assert.equal(body.match(/^federation_member_era\{/gm)?.length, 2);
  } finally {
    metrics.close();
  }
});
