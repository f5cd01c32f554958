import assert from "node:assert/strict";
import { RELATED_REQUEST_META_KEY } from "./websocket_transport.ts";
import { StreamRelations } from "./_stream_relations.ts";
import { takeRelation } from "./_relation_meta.ts";

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
