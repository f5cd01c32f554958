// A config-file member unreachable when the gateway starts is picked up within about a second of listening, however
// long its backoff has grown: between attempts its `/healthz` is probed (issue 17 §4).
import assert from "node:assert/strict";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { configuredMembersOf, registerMembers } from "../../packages/gateway/_register_members.ts";
import { REGISTER_BACKOFF } from "../../packages/gateway/_register_members.ts";
import { SECRET, TestMember, waitFor } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { sleep } from "../../packages/core/_sleep.ts";

Deno.test("Start-up registration picks up a member within about a second of it listening, after a long backoff", async () => {
  const member = await TestMember.start("late");
  const config = member.config;
  await member.stop();
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  // Quick attempts first (a history of failures), then the 30 s delay of REGISTER_BACKOFF's cap.
  const backoff = { ...REGISTER_BACKOFF, initialDelay: 20, maxDelay: 20, minDelay: 20 };
  const abort = new AbortController();
  const lines: string[] = [];
  const registering = registerMembers(proxy, [config], {
    signal: abort.signal,
    logger: quiet,
    report: (line) => lines.push(line),
    backoff,
  });
  const record = configuredMembersOf(proxy);
  const attempts = () => record.list()[0]?.attempts ?? 0;
  try {
    await registering.initial;
    await waitFor(() => attempts() >= 3, 5_000, "three failed attempts");
    Object.assign(backoff, { initialDelay: 30_000, maxDelay: 30_000, minDelay: 30_000 });
    const failed = attempts();
    await waitFor(() => attempts() > failed, 5_000, "an attempt under the long backoff");
    await sleep(300); // well into the 30 s wait
    assert.equal(record.list()[0]?.state, "retrying");
    await member.restart();
    const listening = performance.now();
    await waitFor(() => record.list()[0]?.state === "registered", 10_000, "registration");
    const pickUp = performance.now() - listening;
    assert.ok(pickUp < 1_500, `picked up ${Math.round(pickUp)} ms after listening`);
    assert.equal(proxy.hasServer("late"), true);
    assert.ok(lines.some((line) => /^member late {2}\w+ .*attempt \d+\)$/.test(line)), lines.join("\n"));
  } finally {
    abort.abort();
    await registering.done;
    await member.stop();
  }
});
