// A heartbeat that times out while its connection keeps answering other requests fails no channel (the member is
// busy, not gone: failing the channel would lose every request in flight on it), and one on an idle connection
// still does. The member's answer to `ping` is slowed on its side; everything else answers at once.
import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { SECRET, waitFor } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { startModernMember } from "../fixtures/modern_member.ts";

const SLOW_PING_MS = 600;

Deno.test("A heartbeat timing out while the channel answers other requests fails nothing; on an idle channel it does", async () => {
  await using member = await startModernMember({
    serverId: "busy",
    secret: SECRET,
    era: "legacy",
    control: true,
    configure: (server) =>
      server.server.setRequestHandler("ping", async () => {
        await new Promise((resolve) => setTimeout(resolve, SLOW_PING_MS));
        return {};
      }),
  });
  await using proxy = new FederationProxy(SECRET, {
    logger: quiet,
    routing: "control",
    heartbeatInterval: 100,
    heartbeatTimeout: 200,
  });
  // Control only: the heartbeat's channel is the one the calls take.
  await proxy.registerServer({
    serverId: "busy",
    endpoints: { control: member.controlUrl! },
    auth: { type: "jwt", config: {} },
  });
  const downs: string[] = [];
  proxy.addEventListener("reconnecting", (event) => downs.push(`${event.type} ${event.cause?.message}`));

  // Busy: calls answered all along, for several heartbeat timeouts.
  const until = performance.now() + 4 * SLOW_PING_MS;
  let calls = 0;
  while (performance.now() < until) {
    await proxy.callTool("busy", "echo", { text: "x" });
    calls++;
  }
  assert.ok(calls > 10);
  assert.deepEqual(downs, [], "no heartbeat failed the busy channel");
  assert.equal(proxy.getServerStatus("busy")?.state, "connected");

  // Idle: the next slow heartbeat fails the channel, as before.
  await waitFor(() => downs.length > 0, 5_000, "the idle channel's heartbeat to fail it");
  assert.match(downs[0]!, /heartbeat/);
});

Deno.test("A heartbeat answered with an error fails the channel even while the channel answers other requests", async () => {
  await using member = await startModernMember({
    serverId: "refusing",
    secret: SECRET,
    era: "legacy",
    control: true,
    configure: (server) =>
      server.server.setRequestHandler("ping", async () => {
        // Long enough for calls to be answered meanwhile, well within the heartbeat's timeout: not a timeout.
        await new Promise((resolve) => setTimeout(resolve, 100));
        throw new Error("Ping refused");
      }),
  });
  await using proxy = new FederationProxy(SECRET, {
    logger: quiet,
    routing: "control",
    heartbeatInterval: 100,
    heartbeatTimeout: 2_000,
    backoff: { initialDelay: 60_000, maxDelay: 60_000, probeInterval: 0 },
  });
  await proxy.registerServer({
    serverId: "refusing",
    endpoints: { control: member.controlUrl! },
    auth: { type: "jwt", config: {} },
  });
  const downs: string[] = [];
  proxy.addEventListener("reconnecting", (event) => downs.push(`${event.type} ${event.cause?.name}`));
  // Busy all along: only an error answer, not the busy rule, decides.
  const until = performance.now() + 3_000;
  let calls = 0;
  while (downs.length === 0 && performance.now() < until) {
    // The call in flight when the channel fails may fail with it.
    const ok = await proxy.callTool("refusing", "echo", { text: "x" }).then(() => true, () => downs.length > 0);
    assert.ok(ok, "a call failed before the channel did");
    calls++;
  }
  assert.ok(calls > 0);
  assert.equal(downs.length, 1, "the refused heartbeat failed the channel");
  assert.doesNotMatch(downs[0]!, /TimeoutError/);
});
