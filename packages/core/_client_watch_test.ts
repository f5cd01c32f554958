import assert from "node:assert/strict";
import { watchClient } from "./_client_watch.ts";
import { TimeWindows } from "./_time_windows.ts";

Deno.test("watchClient: a request answered within the window never has its signal read", async () => {
  let reads = 0;
  const request = {
    get signal() {
      reads++;
      return new AbortController().signal;
    },
  } as Request;
  const windows = new TimeWindows(30);
  watchClient(request, windows).stop();
  const late = watchClient(request, windows);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(reads, 1, "only the request still running after the window reads its signal");
  late.stop();
});

Deno.test("watchClient: a client gone before the window passes is seen gone when it passes", async () => {
  const windows = new TimeWindows(200);
  const seen = Promise.withResolvers<number>();
  let started = 0;
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    started = performance.now();
    const client = watchClient(request, windows);
    await new Promise((resolve) => client.signal.addEventListener("abort", resolve, { once: true }));
    seen.resolve(performance.now() - started);
    client.stop();
    return new Response("late");
  });
  const leaving = new AbortController();
  const pending = fetch(`http://127.0.0.1:${server.addr.port}/`, { signal: leaving.signal }).catch((e) => e);
  while (started === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  leaving.abort();
  assert.ok((await pending) instanceof Error);
  const after = await seen.promise;
  assert.ok(after >= 190, `seen gone after ${after.toFixed(0)} ms, not before the window passed`);
});
