// The proxy's lifecycle vocabulary: `[Symbol.asyncDispose]` drains (in-flight calls finish) and is idempotent,
// `close()` stops now, and `status()` ends once the proxy has closed, after the last `closed` event.
import assert from "node:assert/strict";
import {
  ConnectionError,
  FederationProxy,
  MemberErrorEvent,
  MemberNotificationEvent,
  MemberStateEvent,
} from "../../mod.ts";
import { SECRET, TestMember, waitFor } from "../_support/members.ts";
import { quiet, startDynamicMember } from "../_support/catalog_members.ts";

function text(result: { content: unknown }): string {
  return (result.content as { text: string }[])[0]!.text;
}

Deno.test("FederationProxy [Symbol.asyncDispose] drains: a call in flight finishes, and disposing twice is harmless", async () => {
  await using member = await TestMember.start("server-1");
  const proxy = new FederationProxy(SECRET, { logger: quiet, drainTimeout: 5_000 });
  await proxy.registerServer(member.config);
  const call = proxy.callTool("server-1", "slow", { ms: 200 });
  const disposed = proxy[Symbol.asyncDispose]();
  assert.equal(text(await call), "slept 200");
  await Promise.all([disposed, proxy[Symbol.asyncDispose](), proxy.closed()]);
  assert.equal(proxy.getStatus().length, 0);
  await assert.rejects(proxy.callTool("server-1", "echo", { text: "x" }), ConnectionError);
});

Deno.test("FederationProxy.close() stops now: a call in flight ends with ConnectionError", async () => {
  await using member = await TestMember.start("server-1");
  const proxy = new FederationProxy(SECRET, { logger: quiet, drainTimeout: 5_000 });
  await proxy.registerServer(member.config);
  const call = proxy.callTool("server-1", "slow", { ms: 2_000 });
  call.catch(() => {});
  await new Promise((r) => setTimeout(r, 50));
  await proxy.close();
  await assert.rejects(call, ConnectionError);
});

Deno.test("FederationProxy.status() yields typed state events and ends after the proxy closed", async () => {
  await using member = await TestMember.start("server-1");
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  const seen: string[] = [];
  const iterating = (async () => {
    for await (const event of proxy.status()) {
      assert.ok(event instanceof MemberStateEvent || event instanceof MemberErrorEvent);
      seen.push(`${event.type}:${event.serverId}`);
    }
  })();
  await proxy.registerServer(member.config);
  await proxy.close();
  await iterating; // ends by itself: the loop above has no break
  assert.deepEqual(seen, ["connecting:server-1", "connected:server-1", "closed:server-1"]);
});

Deno.test("FederationProxy notification events carry their channel, method and params", async () => {
  await using d = await startDynamicMember("d");
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(d.member.config);
  const events: MemberNotificationEvent[] = [];
  proxy.addEventListener("notification", (event) => events.push(event));
  await proxy.callTool("d", "log", {}, { channel: "control" });
  await waitFor(() => events.some((e) => e.method === "notifications/message"), 5_000, "a log message");
  const first = events.find((e) => e.method === "notifications/message");
  assert.ok(first instanceof MemberNotificationEvent);
  assert.equal(first.type, "notification");
  assert.equal(first.channel, "control");
  assert.deepEqual(first.params, { level: "info", logger: "tool", data: "one" });
});
