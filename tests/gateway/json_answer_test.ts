// A 2025-11-25 POST whose stream would carry nothing but its response is answered with plain JSON; one that carries
// anything else first (progress), or runs long (it keeps its resumable stream), is answered with SSE.
import assert from "node:assert/strict";
import { openRawSession, postRaw, resumeRaw, toolCall } from "../_support/raw_session.ts";
import { withGateway } from "../_support/gateway.ts";

Deno.test("Gateway answers a 2025-11-25 call whose stream carries only its response with plain JSON", async () => {
  await withGateway({ auth: false }, async (url) => {
    const session = await openRawSession(url);
    const response = await postRaw(url, toolCall(7, "a__echo", { text: "hi" }), session);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    // The session id is the initialize answer's, not repeated on every answer (the spec sends it there only).
    assert.equal(response.headers.get("mcp-session-id"), null);
    const body = await response.json();
    assert.equal(body.id, 7);
    assert.equal(body.result.content[0].text, "hi");
  });
});

/**
 * The gateway's counters of SSE events stored, of events never stored (JSON answers), and of calls served outside
 * the SDK transport, from `/metrics`.
 */
async function eventCounts(base: string): Promise<{ stored: number; skipped: number; plain: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
  return {
    stored: value("federation_stream_events_stored_total"),
    skipped: value("federation_stream_events_skipped_total"),
    plain: value("federation_gateway_plain_calls_total"),
  };
}

Deno.test("Gateway stores no SSE event for a request answered with plain JSON, and stores a streamed call's", async () => {
  await withGateway({ auth: false }, async (url, base) => {
    // Served outside the SDK transport: nothing primed, nothing held back, nothing stored.
    const plain = await openRawSession(url);
    const start = await eventCounts(base);
    for (let id = 10; id < 15; id++) {
      const response = await postRaw(url, toolCall(id, "a__echo", { text: "hi" }), plain);
      assert.equal(response.headers.get("content-type"), "application/json");
      assert.equal((await response.json()).id, id);
    }
    const afterPlain = await eventCounts(base);
    assert.deepEqual({ ...afterPlain, plain: afterPlain.plain - start.plain }, { ...start, plain: 5 });
    // Requests other than tools/call take the SDK's way.
    const session = await openRawSession(url, { roots: {} });
    const before = await eventCounts(base);
    for (let id = 20; id < 25; id++) {
      const response = await postRaw(url, { jsonrpc: "2.0", id, method: "tools/list" }, session);
      assert.equal(response.headers.get("content-type"), "application/json");
      assert.equal((await response.json()).id, id);
    }
    const afterJson = await eventCounts(base);
    assert.equal(afterJson.stored, before.stored, "a JSON answer stores no event (no priming, no response)");
    // Each JSON-answered request held back its priming event and its response, then dropped them.
    assert.equal(afterJson.skipped - before.skipped, 10);
    const streamed = await postRaw(
      url,
      toolCall(30, "a__progress", { steps: 2, interval: 10 }, { progressToken: "p" }),
      session,
    );
    assert.equal(streamed.headers.get("content-type"), "text/event-stream");
    await streamed.text();
    const afterStream = await eventCounts(base);
    // The priming event, two progress notifications and the response: all stored, so the stream is resumable.
    assert.equal(afterStream.stored - afterJson.stored, 4);
    assert.equal(afterStream.skipped, afterJson.skipped);
  });
});

Deno.test("Gateway answers a call that reports progress with SSE: the progress, then the result", async () => {
  await withGateway({ auth: false }, async (url) => {
    const session = await openRawSession(url);
    const response = await postRaw(
      url,
      toolCall(8, "a__progress", { steps: 2, interval: 10 }, { progressToken: "p" }),
      session,
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const text = await response.text();
    const data = text.split("\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)));
    assert.deepEqual(data.map((m) => m.method ?? m.id), ["notifications/progress", "notifications/progress", 8]);
  });
});

Deno.test("Gateway answers a long call with its resumable SSE stream (the priming event first)", async () => {
  await withGateway({ auth: false }, async (url) => {
    const session = await openRawSession(url);
    const response = await postRaw(url, toolCall(9, "a__slow_read", { ms: 1_300 }), session);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const text = await response.text();
    assert.match(text, /^id: \S+\n(retry: \d+\n)?data: \n\n/);
    assert.match(text, /"id":9/);
  });
});

Deno.test("Gateway keeps a long call resumable: cut after its priming event, the result is replayed on GET", async () => {
  await withGateway({ auth: false }, async (url) => {
    const session = await openRawSession(url);
    const response = await postRaw(url, toolCall(40, "a__slow_read", { ms: 1_300 }), session);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n\n")) text += (await reader.read()).value ?? "";
    const primingId = /^id: (\S+)\n/.exec(text)?.[1];
    assert.ok(primingId, "the stream starts with its priming event");
    await reader.cancel();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const resumed = await resumeRaw(url, session, primingId);
    assert.equal(resumed.status, 200);
    const replay = resumed.body!.pipeThrough(new TextDecoderStream()).getReader();
    let replayed = "";
    while (!replayed.includes('"id":40')) replayed += (await replay.read()).value ?? "";
    await replay.cancel();
    assert.match(replayed, /"result"/);
  });
});
