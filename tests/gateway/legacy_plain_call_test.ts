// A 2025-11-25 session's `tools/call` is served outside the SDK transport
// (packages/gateway/_legacy_plain_call.ts). Each request below is sent both ways: as a 2025-06-18 request (the SDK's
// way) and as a 2025-11-25 one (the plain way), on sessions alike; both answers must be the same. `/metrics` counts
// which way each went.
import assert from "node:assert/strict";
import { openRawSession, plainCalls, postRaw, RAW_VERSION, resumeRaw, toolCall } from "../_support/raw_session.ts";
import { FederationProxy } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { quiet, startDynamicMember } from "../_support/catalog_members.ts";
import { SECRET, TestMember } from "../_support/members.ts";

/** A revision older than 2025-11-25: its calls take the SDK transport. */
const OLDER_VERSION = "2025-06-18";
import { Server } from "../../packages/core/_sdk.ts";

/** An answer as the client sees it: status, type, and its JSON-RPC messages (the SSE events' data, in order). */
async function messagesOf(response: Response): Promise<{ status: number; type: string | null; messages: unknown[] }> {
  const type = response.headers.get("content-type");
  const text = await response.text();
  const messages = type === "application/json"
    ? [JSON.parse(text)]
    : [...text.matchAll(/^data: (.+)$/gm)].map((match) => JSON.parse(match[1]!));
  return { status: response.status, type, messages };
}

/** A 2026-07-28 member whose tool's structured content is an array (not an object). */
function startArrayMember(): Promise<TestMember> {
  return TestMember.start("arr", {
    era: "modern",
    extra: {
      server: () => {
        const server = new Server({ name: "arr", version: "1.0.0" }, { capabilities: { tools: {} } });
        server.setRequestHandler("tools/list", () => ({
          tools: [{
            name: "numbers",
            inputSchema: { type: "object" },
            outputSchema: { type: "array", items: { type: "number" } },
          }],
        }));
        server.setRequestHandler("tools/call", () =>
          ({
            content: [{ type: "text", text: "[1,2,3]" }],
            structuredContent: [1, 2, 3],
          }) as never);
        return server;
      },
    },
  });
}

async function withGateway(
  run: (url: string, base: string, member: TestMember, cancelled: () => number) => Promise<void>,
): Promise<void> {
  await using member = await TestMember.start("a");
  await using dynamic = await startDynamicMember("dyn");
  await using array = await startArrayMember();
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(member.config);
  await proxy.registerServer(dynamic.member.config);
  await proxy.registerServer(array.config);
  await using gateway = await serveGateway(proxy, { auth: false, port: 0, logger: quiet });
  await run(gateway.url, new URL(gateway.url).origin, member, dynamic.cancelled);
}

/** Reads `reader` until `done(text so far)`; fails if the stream ends first. */
async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  done: (text: string) => boolean,
): Promise<string> {
  let text = "";
  while (!done(text)) {
    const next = await reader.read();
    if (next.done) throw new Error(`The stream ended after: ${text}`);
    text += next.value;
  }
  return text;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("Gateway answers a 2025-11-25 call outside the SDK transport as the SDK's way does", async () => {
  await withGateway(async (url, base) => {
    // The same kind of session both ways: requests sent as the older revision 2025-06-18 take the SDK transport.
    const sdk = await openRawSession(url, { roots: {} });
    const plain = await openRawSession(url, { roots: {} });
    const cases = [
      toolCall(1, "a__echo", { text: "hi" }),
      toolCall(2, "a__echo", { text: "meta" }, { "example.com/trace": "x" }),
      toolCall(3, "a__nope", {}),
      toolCall(4, "a__echo", { text: 5 }),
      // A member's log lines during the call come first: the answer is an SSE stream of them, then the result.
      toolCall(5, "dyn__log", {}),
      // A 2026-07-28 member's non-object structured content, as a 2025-11-25 client reads it: `{ result }`.
      toolCall(6, "arr__numbers", {}),
      // The member's progress on a call with a progress token: an SSE stream of it, then the result.
      toolCall(9, "a__progress", { steps: 2, interval: 10 }, { progressToken: "p" }),
    ];
    for (const body of cases) {
      const before = await plainCalls(base);
      const viaSdk = await messagesOf(await postRaw(url, body, sdk, OLDER_VERSION));
      assert.equal(await plainCalls(base), before);
      const viaPlain = await messagesOf(await postRaw(url, body, plain));
      assert.equal(await plainCalls(base), before + 1);
      assert.deepEqual(viaPlain, viaSdk, JSON.stringify(body));
    }
    const wrapped = await messagesOf(await postRaw(url, toolCall(7, "arr__numbers", {}), plain));
    assert.deepEqual((wrapped.messages[0] as { result: unknown }).result, {
      content: [{ type: "text", text: "[1,2,3]" }],
      structuredContent: { result: [1, 2, 3] },
    });
    const logged = await messagesOf(await postRaw(url, toolCall(8, "dyn__log", {}), plain));
    assert.equal(logged.type, "text/event-stream");
    assert.deepEqual(logged.messages.map((m) => (m as { method?: string }).method ?? "result"), [
      "notifications/message",
      "notifications/message",
      "notifications/message",
      "result",
    ]);
  });
});

Deno.test("Gateway leaves a call of an older revision to the SDK; capabilities and progress tokens do not", async () => {
  await withGateway(async (url, base) => {
    const plain = await openRawSession(url);
    const before = await plainCalls(base);
    const older = await messagesOf(await postRaw(url, toolCall(2, "a__echo", { text: "o" }), plain, OLDER_VERSION));
    assert.equal(older.status, 200);
    // A progress token of a type the SDK's schema refuses: the SDK's way words the refusal.
    await messagesOf(await postRaw(url, toolCall(5, "a__echo", { text: "p" }, { progressToken: 1.5 }), plain));
    assert.equal(await plainCalls(base), before);
    // A client that declared sampling, elicitation or roots: a member's request during the call goes on the plain
    // answer's stream (tests/security/isolation_test.ts runs such rounds).
    for (const capabilities of [{ sampling: {} }, { elicitation: {} }, { roots: {} }]) {
      const session = await openRawSession(url, capabilities);
      await messagesOf(await postRaw(url, toolCall(3, "a__echo", { text: "c" }), session));
    }
    // A progress token: the member's progress is coalesced for a client that reads slowly
    // (tests/reliability/slow_reader_test.ts).
    const withProgress = await messagesOf(
      await postRaw(url, toolCall(4, "a__echo", { text: "p" }, { progressToken: "t" }), plain),
    );
    assert.equal(withProgress.type, "application/json");
    assert.equal(await plainCalls(base), before + 4);
  });
});

Deno.test("Gateway cancels a 2025-11-25 plain call at the member on the client's notifications/cancelled", async () => {
  await withGateway(async (url, base, _member, cancelled) => {
    const plain = await openRawSession(url);
    const before = await plainCalls(base);
    // The answer becomes a stream after the JSON window; the call runs on at the member until cancelled.
    const response = await postRaw(url, toolCall(7, "dyn__wait", { ms: 30_000 }), plain);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    assert.equal(await plainCalls(base), before + 1);
    const cancel = await postRaw(url, {
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: 7, reason: "enough" },
    }, plain);
    assert.equal(cancel.status, 202);
    await cancel.body?.cancel();
    await until(() => cancelled() === 1, "the member's call to be cancelled");
    // The stream ends without a response (the SDK's way would leave it open until the client closes it).
    const { messages } = await messagesOf(response);
    assert.deepEqual(messages, []);
  });
});

Deno.test("Gateway resumes a 2025-11-25 plain call's stream on GET with Last-Event-ID, then carries the rest", async () => {
  await withGateway(async (url) => {
    const plain = await openRawSession(url);
    const response = await postRaw(url, toolCall(8, "a__slow_read", { ms: 2_500 }), plain);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const text = await readUntil(reader, (text) => text.includes("\n\n"));
    const primingId = /^id: (\S+)\n/m.exec(text)?.[1];
    assert.ok(primingId, "the stream starts with its priming event");
    await reader.cancel();
    // Resumed while the call still runs: the result arrives on the resumed stream.
    const resumed = await resumeRaw(url, plain, primingId);
    assert.equal(resumed.status, 200);
    const replay = resumed.body!.pipeThrough(new TextDecoderStream()).getReader();
    const replayed = await readUntil(replay, (text) => text.includes('"id":8'));
    await replay.cancel();
    assert.match(replayed, /"result".*read after 2500/);
  });
});

Deno.test("Gateway cancels a 2025-11-25 plain call when its session is deleted", async () => {
  await withGateway(async (url, base, _member, cancelled) => {
    const plain = await openRawSession(url);
    const before = await plainCalls(base);
    const response = await postRaw(url, toolCall(9, "dyn__wait", { ms: 30_000 }), plain);
    assert.equal(await plainCalls(base), before + 1);
    const deleted = await fetch(url, {
      method: "DELETE",
      headers: { "mcp-session-id": plain, "mcp-protocol-version": RAW_VERSION },
    });
    await deleted.body?.cancel();
    await until(() => cancelled() === 1, "the member's call to be cancelled");
    // Its answer ends with the session.
    assert.deepEqual((await messagesOf(response)).messages, []);
  });
});

Deno.test("Gateway keeps each answer on its own stream when a client reuses the id of a plain call in progress", async () => {
  await withGateway(async (url) => {
    const plain = await openRawSession(url);
    const first = postRaw(url, toolCall(20, "dyn__wait", { ms: 300 }), plain);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await messagesOf(await postRaw(url, toolCall(20, "a__echo", { text: "again" }), plain));
    assert.deepEqual(second.messages, [{
      jsonrpc: "2.0",
      id: 20,
      result: { content: [{ type: "text", text: "again" }] },
    }]);
    const { messages } = await messagesOf(await first);
    assert.equal(messages.length, 1);
    assert.match(JSON.stringify(messages[0]), /waited 300/);
  });
});
