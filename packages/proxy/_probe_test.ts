import assert from "node:assert/strict";
import { ConnectionError, TimeoutError } from "../core/errors.ts";
import {
  failedFast,
  foundNothingListening,
  memberProbeUrls,
  PROBE_PATH,
  probeUntilAnswered,
  probeUrl,
  sleepUntilAnswered,
} from "./_probe.ts";

Deno.test("probeUrl() asks /healthz at the origin of a channel endpoint, and has none for a stdio command", () => {
  assert.equal(probeUrl("ws://127.0.0.1:8080/mcp/control"), "http://127.0.0.1:8080/healthz");
  assert.equal(probeUrl("wss://member.example:443/"), "https://member.example/healthz");
  assert.equal(probeUrl("http://[::1]:9000/mcp?x=1"), "http://[::1]:9000/healthz");
  assert.equal(probeUrl("stdio:deno"), undefined);
  assert.equal(probeUrl("not a url"), undefined);
});

Deno.test("foundNothingListening() and failedFast() tell a refused or timed-out connect from other failures", () => {
  const refused = new ConnectionError("Refused", { code: "ERR_CONNECTION_FAILED" });
  const timedOut = new TimeoutError("Timed out", { timeoutMs: 1 });
  const removed = new ConnectionError("Removed", { code: "ERR_CLOSED" });
  assert.deepEqual([refused, timedOut, removed, undefined].map(foundNothingListening), [true, true, false, false]);
  assert.deepEqual([refused, timedOut, removed, undefined].map(failedFast), [true, false, false, false]);
});

/** A server answering PROBE_PATH with `status` once `listening()` holds, and counting the probes. */
function probeTarget(status: () => number) {
  let probes = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    probes++;
    assert.equal(new URL(request.url).pathname, PROBE_PATH);
    assert.equal(request.headers.get("authorization"), null);
    return new Response("ok", { status: status() });
  });
  return { server, url: `http://127.0.0.1:${server.addr.port}${PROBE_PATH}`, probes: () => probes };
}

Deno.test("probeUntilAnswered() keeps probing through 5xx answers and stops at the first answer below 500", async () => {
  const answers = [503, 502, 404];
  const target = probeTarget(() => answers.shift() ?? 200);
  let answered = 0;
  await probeUntilAnswered({ url: target.url, interval: 10, timeout: 1_000 }, new AbortController().signal, () => {
    answered++;
  });
  assert.equal(answered, 1);
  assert.equal(target.probes(), 3, "the 404 ended it: a server without /healthz still shows it listens");
  await target.server.shutdown();
});

Deno.test("probeUntilAnswered() stops without calling back when aborted, and a refused probe is no answer", async () => {
  const target = probeTarget(() => 200);
  const url = target.url;
  await target.server.shutdown();
  const stop = new AbortController();
  let answered = false;
  let guarded = 0;
  const probing = probeUntilAnswered(
    { url, interval: 10, timeout: 500, beforeConnect: () => Promise.resolve(void guarded++) },
    stop.signal,
    () => answered = true,
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  stop.abort();
  await probing;
  assert.equal(answered, false);
  assert.ok(guarded >= 2, `the outbound guard ran before each probe (${guarded})`);
});

Deno.test("memberProbeUrls() probes each origin of a member's endpoints once", () => {
  const same = { control: "ws://127.0.0.1:9000/control", data: "http://127.0.0.1:9000/mcp" };
  assert.deepEqual(memberProbeUrls(same), ["http://127.0.0.1:9000/healthz"]);
  const two = { control: "wss://a.example/c", data: "http://127.0.0.1:9001/mcp" };
  assert.deepEqual(memberProbeUrls(two), ["https://a.example/healthz", "http://127.0.0.1:9001/healthz"]);
  assert.deepEqual(memberProbeUrls({}), []);
});

Deno.test("sleepUntilAnswered() ends a long wait at the first answer, and stops probing then", async () => {
  let status = 503;
  const target = probeTarget(() => status);
  const stop = new AbortController();
  const waiting = sleepUntilAnswered(60_000, ["http://127.0.0.1:1/healthz", target.url], 10, stop.signal);
  while (target.probes() < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  status = 200;
  await waiting; // without an answer, it would wait for a minute
  const probes = target.probes();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(target.probes(), probes, "no probe after the answer");
  assert.equal(stop.signal.aborted, false);
  await target.server.shutdown();
});
