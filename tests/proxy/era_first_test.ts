import assert from "node:assert/strict";
import { ConfigError, FederationProxy, validateConfig } from "../../mod.ts";
import { SECRET, TestMember, waitFor } from "../_support/members.ts";
import { quiet, startDynamicMember } from "../_support/catalog_members.ts";
import { parseGatewayConfig } from "../../packages/gateway/config_file.ts";

Deno.test("FederationProxy speaks 2026-07-28 first by default with a member that serves both eras", async () => {
  await using member = await TestMember.start("both");
  await using proxy = new FederationProxy(SECRET, { logger: quiet, heartbeatInterval: 60_000 });
  const status = await proxy.registerServer(member.config);
  assert.equal(status.era, "modern");
  // Stateless on data: no 2025-11-25 session was opened there.
  assert.equal(member.handle.sessionCount().data, 0);
});

Deno.test("FederationConfig.era overrides the proxy's eraPreference for one member, both ways", async () => {
  await using member = await TestMember.start("both");
  {
    await using proxy = new FederationProxy(SECRET, { logger: quiet, heartbeatInterval: 60_000 });
    const status = await proxy.registerServer({ ...member.config, era: "legacy" });
    assert.equal(status.era, "legacy");
    // The data channel's 2025-11-25 session opens on first use (issue 18): registration verified the endpoint only.
    assert.deepEqual(member.handle.sessionCount(), { control: 1, data: 0 });
  }
  {
    await using b = await TestMember.start("b");
    await using c = await TestMember.start("c");
    await using proxy = new FederationProxy(SECRET, {
      logger: quiet,
      heartbeatInterval: 60_000,
      eraPreference: "legacy",
    });
    assert.equal((await proxy.registerServer(b.config)).era, "legacy");
    assert.equal((await proxy.registerServer({ ...c.config, era: "modern" })).era, "modern");
    assert.equal(c.handle.sessionCount().data, 0);
  }
});

Deno.test("validateConfig() accepts era modern or legacy and refuses anything else, naming the field", () => {
  const base = { serverId: "a", endpoints: { data: "http://127.0.0.1:3000/mcp" } };
  assert.equal(validateConfig({ ...base, era: "legacy" }).era, "legacy");
  assert.equal(validateConfig({ ...base, era: "modern" }).era, "modern");
  assert.throws(
    () => validateConfig({ ...base, era: "2026-07-28" }),
    (e) => e instanceof ConfigError && e.code === "ERR_CONFIG_INVALID" && e.field === "era",
  );
});

Deno.test("A 2026-07-28 call over the data channel is cancelled at the member when the caller aborts it", async () => {
  await using d = await startDynamicMember("d", { control: false });
  await using proxy = new FederationProxy(SECRET, { logger: quiet, heartbeatInterval: 60_000 });
  assert.equal((await proxy.registerServer(d.member.config)).era, "modern");
  const controller = new AbortController();
  let started = false;
  const call = proxy.callTool("d", "wait", { ms: 30_000 }, {
    signal: controller.signal,
    onprogress: () => started = true,
  });
  await waitFor(() => started, 5_000, "the member's tool to start");
  controller.abort();
  await assert.rejects(call);
  await waitFor(() => d.cancelled() === 1, 5_000, "the member's signal to abort");
});

Deno.test("parseGatewayConfig() takes members[].era and proxy.eraPreference, and refuses other values by field", () => {
  const one = { serverId: "a", endpoints: { data: "http://127.0.0.1:1/mcp" }, auth: { type: "none" } };
  const config = parseGatewayConfig(
    {
      gateway: { auth: false },
      proxy: { eraPreference: "legacy" },
      members: [{ ...one, era: "modern" }],
    },
    "federation.json",
    { env: () => undefined },
  );
  assert.equal(config.proxy.eraPreference, "legacy");
  assert.equal(config.members[0]?.era, "modern");
  assert.throws(
    () =>
      parseGatewayConfig({ gateway: { auth: false }, members: [{ ...one, era: "old" }] }, "federation.json", {
        env: () => undefined,
      }),
    (e) => e instanceof ConfigError && e.field === "members[0].era",
  );
  assert.throws(
    () =>
      parseGatewayConfig({ gateway: { auth: false }, proxy: { eraPreference: "new" }, members: [one] }, "f.json", {
        env: () => undefined,
      }),
    (e) => e instanceof ConfigError && e.field === "proxy.eraPreference",
  );
});
