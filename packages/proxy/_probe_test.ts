import assert from "node:assert/strict";
import { ConnectionError, TimeoutError } from "../core/errors.ts";
import { failedFast, foundNothingListening, PROBE_PATH, probeUntilAnswered, probeUrl } from "./_probe.ts";

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
