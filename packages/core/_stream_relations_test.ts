import assert from "node:assert/strict";
import { RELATED_REQUEST_META_KEY } from "./websocket_transport.ts";
import { StreamRelations } from "./_stream_relations.ts";
import { takeRelation } from "./_relation_meta.ts";
import { ProtocolError } from "./errors.ts";

const KEY = RELATED_REQUEST_META_KEY;

/** An SSE response whose body arrives in the given chunks. */
function sse(chunks: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

/** The JSON data of each SSE event of a body. */
async function events(response: Response): Promise<unknown[]> {
  const text = await response.text();
  return text.split("\n\n").filter((e) => e.includes("data:")).map((event) =>
    JSON.parse(event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n"))
  );
}

const post = (id: number): RequestInit => ({
  method: "POST",
  body: JSON.stringify({ method: "tools/call", params: { name: "t" }, jsonrpc: "2.0", id }),
});

Deno.test("StreamRelations relates what a POST's stream carries to the POST's request, across chunk and CRLF splits", async () => {
  const relations = new StreamRelations();
  const init = post(7);
  assert.equal(relations.relationOf(init), 7);
  const request = JSON.stringify({ jsonrpc: "2.0", id: 0, method: "roots/list" });
  const log = JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: 1 } });
  const result = JSON.stringify({ jsonrpc: "2.0", id: 7, result: { content: [] } });
  const body = `event: message\r\ndata: ${request}\r\n\r\nevent: message\ndata: ${log}\n\ndata: ${result}\n\n`;
  // Split everywhere, including between the CR and the LF of a CRLF.
  const chunks = [
    body.slice(0, 20),
    body.slice(20, body.indexOf("\r\n\r\n") + 1),
    body.slice(body.indexOf("\r\n\r\n") + 1),
  ];
  const out = await events(await relations.relate(sse(chunks), relations.relationOf(init)));
  assert.deepEqual(out, [
    { jsonrpc: "2.0", id: 0, method: "roots/list", params: { _meta: { [KEY]: 7 } } },
    { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: 1, _meta: { [KEY]: 7 } } },
    { jsonrpc: "2.0", id: 7, result: { content: [] } },
  ]);
});

Deno.test("StreamRelations replaces a relation the member wrote itself, and strips it on the standalone GET stream", async () => {
  const relations = new StreamRelations();
  const forged = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "sampling/createMessage",
    params: { _meta: { [KEY]: 99, other: true } },
  });
  const onPost = await events(await relations.relate(sse([`data: ${forged}\n\n`]), relations.relationOf(post(3))));
  assert.deepEqual((onPost[0] as { params: unknown }).params, { _meta: { other: true, [KEY]: 3 } });
  const get: RequestInit = { method: "GET", headers: { accept: "text/event-stream" } };
  assert.equal(relations.relationOf(get), undefined);
  const onGet = await events(await relations.relate(sse([`data: ${forged}\n\n`]), relations.relationOf(get)));
  assert.deepEqual((onGet[0] as { params: unknown }).params, { _meta: { other: true } });
  assert.deepEqual(takeRelation((onGet[0] as { params: unknown }).params).named, false);
});

Deno.test("StreamRelations relates a resumed stream (Last-Event-ID) to the request of the stream that event was on", async () => {
  const relations = new StreamRelations();
  const log = JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: 1 } });
  await (await relations.relate(sse([`id: ev-1\ndata: ${log}\n\n`]), 5)).text();
  const resume: RequestInit = { method: "GET", headers: { "last-event-id": "ev-1" } };
  assert.equal(relations.relationOf(resume), 5);
  assert.equal(relations.relationOf({ method: "GET", headers: { "last-event-id": "unknown" } }), undefined);
});

Deno.test("StreamRelations leaves non-JSON event data and plain JSON results as they are", async () => {
  const relations = new StreamRelations();
  const response = await relations.relate(sse([": comment\n", "id: 1\ndata: not json\ndata: two lines\n\n"]), 1);
  const text = await response.text();
  assert.equal(text, ": comment\nid: 1\ndata: not json\ndata: two lines\n\n");
  const json = new Response(JSON.stringify({ jsonrpc: "2.0", id: 1, result: {} }), {
    headers: { "content-type": "application/json" },
  });
  assert.deepEqual(await (await relations.relate(json, 1)).json(), { jsonrpc: "2.0", id: 1, result: {} });
});

Deno.test("StreamRelations passes result events on byte for byte, also with a character split across chunks", async () => {
  const relations = new StreamRelations();
  const result = `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", id: 1, result: { text: "€uro €" } })}\n\n`;
  const log = `data: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { data: "€" } })}\n\n`;
  const bytes = new TextEncoder().encode(result + log + result);
  for (let cut = 1; cut < bytes.length; cut += 7) {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, cut));
        controller.enqueue(bytes.slice(cut));
        controller.close();
      },
    });
    const response = new Response(body, { headers: { "content-type": "text/event-stream" } });
    const text = await (await relations.relate(response, 4)).text();
    const expected = result +
      `data: ${
        JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { data: "€", _meta: { [KEY]: 4 } } })
      }\n\n` + result;
    assert.equal(text, expected, `cut at ${cut}`);
  }
});

Deno.test("StreamRelations relates a request inside a JSON response body to the POST's request", async () => {
  const relations = new StreamRelations();
  const body = JSON.stringify([
    { jsonrpc: "2.0", id: 2, method: "roots/list", params: { _meta: { [KEY]: 99 } } },
    { jsonrpc: "2.0", id: 1, result: {} },
  ]);
  const json = new Response(body, { headers: { "content-type": "application/json" } });
  assert.deepEqual(await (await relations.relate(json, 1)).json(), [
    { jsonrpc: "2.0", id: 2, method: "roots/list", params: { _meta: { [KEY]: 1 } } },
    { jsonrpc: "2.0", id: 1, result: {} },
  ]);
});

/** A body that never ends: `chunk` again and again; `pulled()` says how many bytes were taken from it. */
function endless(chunk: string): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  const bytes = new TextEncoder().encode(chunk);
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += bytes.byteLength;
      controller.enqueue(bytes);
    },
  });
  return { body, pulled: () => pulled };
}

// A forged relation with its keys written as unicode escapes: JSON.parse (and so the SDK) reads `method` and `_meta`.
const ESCAPED_METHOD = `{"jsonrpc":"2.0","id":1,"\\u006dethod":"elicitation/create","params":{"message":"m",` +
  `"_meta":{"${KEY}":99,"other":true}}}`;
const ESCAPED_META = `{"jsonrpc":"2.0","id":2,"\\u006dethod":"roots/list","params":{"\\u005fmeta":{"${KEY}":99}}}`;
const ESCAPED_KEY = `{"jsonrpc":"2.0","\\u006dethod":"notifications/message","params":{"level":"info","data":1,` +
  `"_meta":{"${KEY.replace("-", "\\u002d")}":99}}}`;

Deno.test("StreamRelations overwrites a relation forged with escaped keys, on SSE and JSON, and strips it on the GET stream", async () => {
  const relations = new StreamRelations();
  const get: RequestInit = { method: "GET", headers: { accept: "text/event-stream" } };
  for (const forged of [ESCAPED_METHOD, ESCAPED_META, ESCAPED_KEY]) {
    assert.equal((JSON.parse(forged) as { params: { _meta: Record<string, unknown> } }).params._meta[KEY], 99);
    const onPost = await events(await relations.relate(sse([`data: ${forged}\n\n`]), relations.relationOf(post(3))));
    assert.equal((onPost[0] as { params: { _meta: Record<string, unknown> } }).params._meta[KEY], 3, forged);
    const json = new Response(forged, { headers: { "content-type": "application/json" } });
    const onJson = await (await relations.relate(json, relations.relationOf(post(4)))).json();
    assert.equal((onJson as { params: { _meta: Record<string, unknown> } }).params._meta[KEY], 4, forged);
    const onGet = await events(await relations.relate(sse([`data: ${forged}\n\n`]), relations.relationOf(get)));
    assert.equal(takeRelation((onGet[0] as { params: unknown }).params).named, false, forged);
  }
  // The same event in one whole chunk (the byte fast path) and after a result in the same chunk.
  const result = JSON.stringify({ jsonrpc: "2.0", id: 9, result: { text: "plain" } });
  const onGet = await events(
    await relations.relate(sse([`data: ${result}\n\ndata: ${ESCAPED_METHOD}\n\n`]), relations.relationOf(get)),
  );
  assert.deepEqual(onGet[0], JSON.parse(result));
  assert.equal(takeRelation((onGet[1] as { params: unknown }).params).named, false);
});

Deno.test("StreamRelations passes a result with escapes in its text on as the same bytes", async () => {
  const relations = new StreamRelations();
  const result = `data: {"jsonrpc":"2.0","id":1,"result":{"text":"caf\\u00e9 \\"method\\""}}\n\n`;
  assert.equal(await (await relations.relate(sse([result]), 1)).text(), result);
});

Deno.test("StreamRelations refuses a JSON body larger than the limit with ERR_MESSAGE_TOO_LARGE, reading no more of it", async () => {
  const relations = new StreamRelations(64 * 1024);
  const { body, pulled } = endless(`{"jsonrpc":"2.0","id":1,"result":{"text":"${"x".repeat(4_000)}`);
  const response = new Response(body, { headers: { "content-type": "application/json" } });
  await assert.rejects(relations.relate(response, 1), (error) => {
    assert.ok(error instanceof ProtocolError, String(error));
    assert.equal(error.code, "ERR_MESSAGE_TOO_LARGE");
    return true;
  });
  assert.ok(pulled() <= 64 * 1024 + 2 * 4_100, `pulled ${pulled()} bytes`);
  // An announced length over the limit is refused before reading.
  const announced = new Response("{}", {
    headers: { "content-type": "application/json", "content-length": String(64 * 1024 + 1) },
  });
  await assert.rejects(relations.relate(announced, 1), { code: "ERR_MESSAGE_TOO_LARGE" });
});

const LOG_LINE = JSON.stringify({
  jsonrpc: "2.0",
  method: "notifications/message",
  params: { level: "info", data: 1 },
});

/** One complete log event (LOG_LINE), then `start` followed by `chunk` forever (an SSE line or event that never ends). */
function logThenEndless(start: string, chunk: string): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  const { body: rest, pulled } = endless(chunk);
  const reader = rest.getReader();
  let first = true;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (first) {
        first = false;
        return controller.enqueue(new TextEncoder().encode(`data: ${LOG_LINE}\n\n${start}`));
      }
      const { value } = await reader.read();
      controller.enqueue(value!);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { body, pulled };
}

for (
  const [name, start, chunk] of [
    ["a line that never ends", "data: ", "x".repeat(1_000)],
    ["an event that never ends", "", `data: ${"x".repeat(100)}\n: comment\n`],
  ] as const
) {
  Deno.test(`StreamRelations ends a call's stream at ${name}, with an error answer to the call after the events before it`, async () => {
    const relations = new StreamRelations(16 * 1024);
    const { body, pulled } = logThenEndless(start, chunk);
    const response = await relations.relate(
      new Response(body, { headers: { "content-type": "text/event-stream" } }),
      7,
    );
    const out = await events(response);
    assert.equal(out.length, 2);
    assert.equal((out[0] as { params: { _meta: Record<string, unknown> } }).params._meta[KEY], 7);
    const answer = out[1] as { id: unknown; error: { code: number; message: string } };
    assert.equal(answer.id, 7);
    assert.equal(answer.error.code, -32600);
    assert.match(answer.error.message, /larger than the limit of 16384 bytes/);
    assert.ok(pulled() < 2 * 16 * 1024, `pulled ${pulled()} bytes`);
  });

  Deno.test(`StreamRelations errors the GET stream at ${name} with ERR_MESSAGE_TOO_LARGE, after the events before it`, async () => {
    const relations = new StreamRelations(16 * 1024);
    const { body, pulled } = logThenEndless(start, chunk);
    const response = await relations.relate(
      new Response(body, { headers: { "content-type": "text/event-stream" } }),
      undefined,
    );
    const out = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    await assert.rejects(
      (async () => {
        for (;;) {
          const { done, value } = await out.read();
          if (done) return;
          text += value;
        }
      })(),
      (error) => {
        assert.ok(error instanceof ProtocolError, String(error));
        assert.equal(error.code, "ERR_MESSAGE_TOO_LARGE");
        return true;
      },
    );
    assert.equal(text, `data: ${LOG_LINE}\n\n`);
    assert.ok(pulled() < 2 * 16 * 1024, `pulled ${pulled()} bytes`);
  });
}

Deno.test("StreamRelations lets an event of exactly the limit through, in one chunk or many", async () => {
  const relations = new StreamRelations(1_000);
  const message = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { text: "" } });
  const exact = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { text: "y".repeat(1_000 - message.length) } });
  assert.equal(exact.length, 1_000);
  const event = `event: message\nid: e1\ndata: ${exact}\n\n`;
  for (const chunks of [[event], event.match(/[^]{1,7}/g)!]) {
    assert.deepEqual(await events(await relations.relate(sse(chunks), 1)), [JSON.parse(exact)]);
  }
});
