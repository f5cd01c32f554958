import assert from "node:assert/strict";
import type { JSONRPCMessage } from "../core/_sdk.ts";
import { holdingEvents, MemoryEventStore } from "./_event_store.ts";

function big(i: number, bytes: number): JSONRPCMessage {
  return {
    jsonrpc: "2.0",
    method: "notifications/message",
    params: { level: "info", data: `${i}:${"x".repeat(bytes)}` },
  };
}

Deno.test("MemoryEventStore keeps at most its byte budget of events, and always the newest", async () => {
  const store = new MemoryEventStore(256, 1_000_000);
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push(await store.storeEvent("s", big(i, 300_000)));
  // 300 KB each: three fit in 1 MB; older ones are forgotten (a resume from them opens a fresh stream).
  assert.equal(await store.getStreamIdForEventId(ids[16]!), undefined);
  assert.equal(await store.getStreamIdForEventId(ids[17]!), "s");
  const replayed: string[] = [];
  await store.replayEventsAfter(ids[17]!, { send: (id) => Promise.resolve(void replayed.push(id)) });
  assert.deepEqual(replayed, [ids[18], ids[19]]);
  const huge = await store.storeEvent("s", big(99, 3_000_000));
  assert.equal(await store.getStreamIdForEventId(huge), "s", "the newest is kept even above the budget");
  assert.equal(await store.getStreamIdForEventId(ids[19]!), undefined);
});

Deno.test("MemoryEventStore holds back a primed POST stream until settled: kept (resumable) or dropped", async () => {
  const counters = { eventsStored: 0, eventsSkipped: 0 };
  const store = new MemoryEventStore(256, 1_000_000, counters);
  const primeAndAnswer = async (stream: string) => {
    const held: { stream?: string } = {};
    const ids = await holdingEvents(held, async () => {
      const priming = await store.storeEvent(stream, {} as JSONRPCMessage);
      // Another stream's priming within the same POST is not claimed: only the first one is.
      await store.storeEvent(`${stream}-other`, {} as JSONRPCMessage);
      return [priming, await store.storeEvent(stream, big(1, 10))];
    });
    assert.equal(held.stream, stream);
    return ids;
  };
  const [dropped] = await primeAndAnswer("json");
  assert.equal(await store.getStreamIdForEventId(dropped!), undefined, "held back, not stored");
  store.settle("json", false);
  assert.equal(await store.getStreamIdForEventId(dropped!), undefined);
  assert.deepEqual(counters, { eventsStored: 1, eventsSkipped: 2 });
  const [priming, response] = await primeAndAnswer("sse");
  store.settle("sse", true);
  const later = await store.storeEvent("sse", big(2, 10));
  assert.equal(await store.getStreamIdForEventId(priming!), "sse");
  const replayed: string[] = [];
  await store.replayEventsAfter(priming!, { send: (id) => Promise.resolve(void replayed.push(id)) });
  assert.deepEqual(replayed, [response, later]);
  assert.deepEqual(counters, { eventsStored: 5, eventsSkipped: 2 });
});
