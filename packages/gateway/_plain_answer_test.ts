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
    sessionId: "s",
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
