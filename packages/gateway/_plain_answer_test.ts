import assert from "node:assert/strict";
import type { JSONRPCMessage } from "../core/_sdk.ts";
import { TimeWindows } from "../core/_time_windows.ts";
import { MemoryEventStore } from "./_event_store.ts";
import { PlainAnswer } from "./_plain_answer.ts";
import { STREAM_HIGH_WATER } from "./_stream_flow.ts";

function progress(n: number): JSONRPCMessage {
  return { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "t", progress: n } };
}

/** The messages of an SSE body (the priming event has none). */
function messagesOf(text: string): JSONRPCMessage[] {
  return [...text.matchAll(/^data: (.+)$/gm)].map((match) => JSON.parse(match[1]!));
}

Deno.test("PlainAnswer: progress for a client that reads nothing waits coalesced; nothing else is lost, the response last", async () => {
  const seen = { coalesced: 0, overruns: 0 };
  const store = new MemoryEventStore(10_000);
  const answer = new PlainAnswer({
    window: new TimeWindows(60_000),
    keepAliveMs: 0,
    events: { coalesced: () => void seen.coalesced++, overrun: () => void seen.overruns++ },
    store,
  });
  const total = 5 * STREAM_HIGH_WATER;
  const log: JSONRPCMessage = { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "x" } };
  answer.push(progress(0));
  const response = await answer.response;
  // Nobody reads: the stream's queue fills up to its high-water mark, then progress waits, one per token.
  for (let n = 1; n <= total; n++) {
    answer.push(progress(n));
    if (n === total / 2) answer.push(log);
    await Promise.resolve();
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(seen.coalesced > total / 2, `coalesced ${seen.coalesced} of ${total}`);
  answer.finish({ jsonrpc: "2.0", id: 1, result: { content: [] } });
  const messages = messagesOf(await response.text());
  const last = messages.at(-1) as { id?: number };
  assert.equal(last.id, 1, "the response comes last");
  assert.ok(messages.some((m) => (m as { method?: string }).method === "notifications/message"), "the log line");
  const progresses = messages.flatMap((m) => {
    const p = (m as { params?: { progress?: number } }).params?.progress;
    return p === undefined ? [] : [p];
  });
  assert.equal(progresses.at(-1), total, "the latest progress reaches the client");
  assert.deepEqual(progresses, progresses.toSorted((a, b) => a - b), "in order");
  assert.equal(seen.overruns, 0);
});

function line(n: number): JSONRPCMessage {
  return { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: n } };
}

/** An answer turned into a stream, the id of its priming event, and its connection's reader (read no further). */
async function streaming(options: { keepAliveMs?: number } = {}) {
  const seen = { coalesced: 0, overruns: 0 };
  const store = new MemoryEventStore(10_000);
  const answer = new PlainAnswer({
    window: new TimeWindows(60_000),
    keepAliveMs: options.keepAliveMs ?? 0,
    events: { coalesced: () => void seen.coalesced++, overrun: () => void seen.overruns++ },
    store,
  });
  answer.push(line(0));
  const reader = (await answer.response).body!.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n\n")) first += (await reader.read()).value;
  const priming = /^id: (.+)$/m.exec(first)![1]!;
  return { answer, store, reader, priming, seen };
}

async function replayed(store: MemoryEventStore, after: string): Promise<JSONRPCMessage[]> {
  const messages: JSONRPCMessage[] = [];
  await store.replayEventsAfter(after, {
    send: (_id, message) => {
      messages.push(message);
      return Promise.resolve();
    },
  });
  return messages;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

Deno.test("PlainAnswer: once a slow client's connection is gone, every message is stored for it to resume, none held back", async () => {
  const { answer, store, reader, priming, seen } = await streaming();
  for (let n = 1; n <= 200; n++) answer.push(line(n));
  await settle();
  await reader.cancel();
  await settle(); // the connection's end reaches the answer
  for (let n = 201; n <= 1_400; n++) answer.push(line(n));
  answer.finish({ jsonrpc: "2.0", id: 1, result: { content: [] } });
  await settle();
  const messages = await replayed(store, priming);
  const lines = messages.flatMap((m) => {
    const data = (m as { params?: { data?: number } }).params?.data;
    return data === undefined ? [] : [data];
  });
  const missing = Array.from({ length: 1_401 }, (_, n) => n).filter((n) => !lines.includes(n));
  assert.deepEqual(missing, [], `every log line (${lines.length} stored)`);
  assert.deepEqual(lines, lines.toSorted((a, b) => a - b), "in order");
  assert.equal((messages.at(-1) as { id?: number }).id, 1, "the response last");
  assert.equal(seen.overruns, 0);
});

Deno.test("PlainAnswer: the response reaches a slow client behind many waiting messages; keep-alives do not pile up", async () => {
  const { answer, reader, seen } = await streaming({ keepAliveMs: 2 });
  for (let n = 1; n <= 1_000; n++) answer.push(line(n));
  await new Promise((resolve) => setTimeout(resolve, 100));
  answer.finish({ jsonrpc: "2.0", id: 1, result: { content: [] } });
  let text = "";
  for (let next = await reader.read(); !next.done; next = await reader.read()) text += next.value;
  const messages = messagesOf(text);
  assert.equal((messages.at(-1) as { id?: number }).id, 1, "the response last");
  assert.equal(messages.length, 1_002, "the 1,001 lines and the response");
  assert.equal(seen.overruns, 0);
});

Deno.test("PlainAnswer: a resumption that overlaps the response gets what was waiting and the response", async () => {
  const { answer, store, reader, priming } = await streaming();
  for (let n = 1; n <= 200; n++) answer.push(line(n));
  await settle();
  const resumed = answer.resume(store, priming);
  answer.finish({ jsonrpc: "2.0", id: 1, result: { content: [] } });
  await reader.cancel().catch(() => {});
  const messages = messagesOf(await resumed.text());
  assert.equal(messages.length, 202, "the 201 lines and the response");
  assert.equal((messages.at(-1) as { id?: number }).id, 1);
});
