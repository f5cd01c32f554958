import assert from "node:assert/strict";
import { FederationProxy } from "../proxy/federation_proxy.ts";
import { CatalogListChangedEvent, ResourceUpdatedEvent } from "../proxy/catalog.ts";
import { SessionHub } from "./_hub.ts";
import { MAX_UNREAD_MESSAGES, serveListen } from "./_listen.ts";
import { SECRET, TestMember, waitFor } from "../../tests/_support/members.ts";
import { quiet, startDynamicMember } from "../../tests/_support/catalog_members.ts";

const SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId";

interface Frame {
  method?: string;
  id?: unknown;
  params?: Record<string, unknown> & { _meta?: Record<string, unknown> };
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** Reads an SSE body: JSON frames and comment lines, as they come. */
class SseReader {
  readonly frames: Frame[] = [];
  readonly comments: string[] = [];
  done = false;
  #reader: ReadableStreamDefaultReader<string>;
  #pump: Promise<void>;

  constructor(response: Response) {
    this.#reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    this.#pump = this.#run();
  }

  async #run(): Promise<void> {
    let buffer = "";
    try {
      while (true) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of event.split("\n")) {
            if (line.startsWith("data: ")) this.frames.push(JSON.parse(line.slice(6)));
            else if (line.startsWith(":")) this.comments.push(line);
          }
        }
      }
    } catch {
      // Cancelled.
    }
    this.done = true;
  }

  async next(predicate: (frame: Frame) => boolean, what: string): Promise<Frame> {
    await waitFor(() => this.frames.some(predicate), 5_000, what);
    return this.frames.find(predicate)!;
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
    await this.#pump;
  }

  finished(): Promise<void> {
    return this.#pump;
  }
}

/** Dynamic members "d" and "e" behind a proxy, with a hub over the proxy. */
async function federation() {
  // Legacy: these tests count the members' resources/subscribe calls (a 2026-07-28 member gets the URIs in its listen
  // filter instead).
  const d = await startDynamicMember("d", { era: "legacy" });
  const e = await startDynamicMember("e", { era: "legacy" });
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(d.member.config);
  await proxy.registerServer(e.member.config);
  const hub = new SessionHub(proxy);
  const uris = (await proxy.catalog.listResources()).map((r) => r.uri);
  const note = uris.find((uri) => uri.includes("note://d"))!;
  const noteE = uris.find((uri) => uri.includes("note://e"))!;
  return {
    d,
    e,
    proxy,
    hub,
    note,
    noteE,
    async [Symbol.asyncDispose]() {
      await proxy.close();
      await d[Symbol.asyncDispose]();
      await e[Symbol.asyncDispose]();
    },
  };
}

function listen(
  hub: SessionHub,
  id: number | string,
  notifications: unknown,
  extra: { signal?: AbortSignal; keepAliveMs?: number; maxUris?: number; maxListens?: number } = {},
): Response {
  const { signal = new AbortController().signal, ...rest } = extra;
  return serveListen({ id, params: { notifications } }, { hub, signal, keepAliveMs: 0, ...rest });
}

Deno.test("serveListen() acknowledges first, with only the resource URIs the members accepted", async () => {
  await using f = await federation();
  // A member that serves a resource but does not support subscriptions.
  await using plain = await TestMember.start("plain");
  await f.proxy.registerServer(plain.config);
  const info = (await f.proxy.catalog.listResources()).find((r) => r.uri.includes("info://server"))!.uri;
  const response = listen(f.hub, 7, {
    toolsListChanged: true,
    resourceSubscriptions: [f.note, "nowhere://missing", info, f.noteE, f.note],
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const sse = new SseReader(response);
  const ack = await sse.next((frame) => frame.method !== undefined, "the acknowledgement");
  assert.equal(sse.frames[0], ack);
  assert.equal(ack.method, "notifications/subscriptions/acknowledged");
  assert.deepEqual(ack.params, {
    notifications: { toolsListChanged: true, resourceSubscriptions: [f.note, f.noteE] },
    _meta: { [SUBSCRIPTION_ID]: 7 },
  });
  assert.equal(f.d.subscriptions.get("note://d"), 1);
  assert.equal(f.e.subscriptions.get("note://e"), 1);
  await sse.cancel();
});

Deno.test("serveListen() delivers list changes and resource updates tagged with the subscription id", async () => {
  await using f = await federation();
  const sse = new SseReader(listen(f.hub, "sub-1", { toolsListChanged: true, resourceSubscriptions: [f.note] }));
  await sse.next((frame) => frame.method === "notifications/subscriptions/acknowledged", "the acknowledgement");
  f.d.addTool("added");
  const changed = await sse.next((frame) => frame.method === "notifications/tools/list_changed", "a tools change");
  assert.deepEqual(changed.params, { _meta: { [SUBSCRIPTION_ID]: "sub-1" } });
  await f.proxy.catalog.callTool("d__touch", {});
  const updated = await sse.next((frame) => frame.method === "notifications/resources/updated", "an update");
  assert.deepEqual(updated.params, { uri: f.note, _meta: { [SUBSCRIPTION_ID]: "sub-1" } });
  for (const frame of sse.frames) assert.equal(frame.params?._meta?.[SUBSCRIPTION_ID], "sub-1");
  await sse.cancel();
});

Deno.test("serveListen() sends only the notification types the client asked for", async () => {
  await using f = await federation();
  const tools = new SseReader(listen(f.hub, 1, { toolsListChanged: true }));
  const prompts = new SseReader(listen(f.hub, 2, { promptsListChanged: true }));
  await tools.next((frame) => frame.method === "notifications/subscriptions/acknowledged", "tools ack");
  const promptsAck = await prompts.next((frame) => frame.method !== undefined, "prompts ack");
  assert.deepEqual(promptsAck.params?.notifications, { promptsListChanged: true });
  f.d.addTool("added");
  await f.proxy.catalog.callTool("d__touch", {});
  await tools.next((frame) => frame.method === "notifications/tools/list_changed", "a tools change");
  // The same catalog event reached both streams' listeners synchronously; the prompts stream kept only its ack.
  assert.deepEqual(prompts.frames.map((frame) => frame.method), ["notifications/subscriptions/acknowledged"]);
  await tools.cancel();
  await prompts.cancel();
});

Deno.test("serveListen() releases the member subscriptions when the client goes away", async () => {
  await using f = await federation();
  const sse = new SseReader(listen(f.hub, 1, { resourceSubscriptions: [f.note] }));
  await sse.next((frame) => frame.method === "notifications/subscriptions/acknowledged", "the acknowledgement");
  const again = new SseReader(listen(f.hub, 2, { resourceSubscriptions: [f.note] }));
  await again.next((frame) => frame.method === "notifications/subscriptions/acknowledged", "the second ack");
  assert.equal(f.d.subscriptions.get("note://d"), 1); // counted by the catalog: one member subscription
  await sse.cancel();
  await f.proxy.catalog.callTool("d__touch", {});
  await again.next((frame) => frame.method === "notifications/resources/updated", "the update on the open stream");
  assert.equal(f.d.subscriptions.get("note://d"), 1);
  await again.cancel();
  await waitFor(() => !f.d.subscriptions.has("note://d"), 5_000, "the member unsubscribed");
});

Deno.test("serveListen() ends gracefully with the final result when the gateway aborts its signal", async () => {
  await using f = await federation();
  const stop = new AbortController();
  const sse = new SseReader(
    serveListen({ id: 9, params: { notifications: { resourceSubscriptions: [f.note] } } }, {
      hub: f.hub,
      signal: stop.signal,
      keepAliveMs: 0,
      resultMeta: { "io.modelcontextprotocol/serverInfo": { name: "gw", version: "1" } },
    }),
  );
  await sse.next((frame) => frame.method === "notifications/subscriptions/acknowledged", "the acknowledgement");
  stop.abort();
  await sse.finished();
  assert.deepEqual(sse.frames.at(-1), {
    jsonrpc: "2.0",
    id: 9,
    result: {
      resultType: "complete",
      _meta: { "io.modelcontextprotocol/serverInfo": { name: "gw", version: "1" }, [SUBSCRIPTION_ID]: 9 },
    },
  });
  await waitFor(() => !f.d.subscriptions.has("note://d"), 5_000, "the member unsubscribed");
});

Deno.test("serveListen() sends keep-alive comments on an idle stream", async () => {
  await using f = await federation();
  const sse = new SseReader(listen(f.hub, 1, { toolsListChanged: true }, { keepAliveMs: 10 }));
  await waitFor(() => sse.comments.length >= 2, 5_000, "keep-alive comments");
  assert.equal(sse.comments[0], ": keep-alive");
  await sse.cancel();
});

Deno.test("serveListen() refuses a malformed filter and too many URIs with -32602", async () => {
  await using f = await federation();
  const cases: unknown[] = [
    "all",
    { toolsListChanged: "yes" },
    { resourceSubscriptions: "note://d" },
    { resourceSubscriptions: [1] },
    { resourceSubscriptions: ["a://1", "a://2", "a://3"] },
  ];
  for (const notifications of cases) {
    const response = listen(f.hub, 3, notifications, { maxUris: 2 });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.id, 3);
    assert.equal(body.error.code, -32602);
  }
});

Deno.test("serveListen() caps the streams open at once on a hub, and frees a slot when one closes", async () => {
  await using f = await federation();
  const first = new SseReader(listen(f.hub, 1, { toolsListChanged: true }, { maxListens: 1 }));
  await first.next((frame) => frame.method !== undefined, "the first ack");
  const refused = listen(f.hub, 2, { toolsListChanged: true }, { maxListens: 1 });
  assert.equal(refused.status, 503);
  assert.equal((await refused.json()).error.code, -32000);
  await first.cancel();
  const second = new SseReader(listen(f.hub, 3, { toolsListChanged: true }, { maxListens: 1 }));
  await second.next((frame) => frame.method !== undefined, "the second ack");
  await second.cancel();
});

Deno.test("serveListen() over a real HTTP server: a client that disconnects releases the member subscriptions", async () => {
  await using f = await federation();
  const shutdown = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const body = await request.json();
    return serveListen({ id: body.id, params: body.params }, {
      hub: f.hub,
      signal: shutdown.signal, // a disconnect cancels the body: no need for request.signal
      keepAliveMs: 0,
    });
  });
  try {
    const disconnect = new AbortController();
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/mcp`, {
      method: "POST",
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 5,
        method: "subscriptions/listen",
        params: {
          notifications: { resourceSubscriptions: [f.note] },
        },
      }),
      signal: disconnect.signal,
    });
    const sse = new SseReader(response);
    await sse.next((frame) => frame.method === "notifications/subscriptions/acknowledged", "the acknowledgement");
    assert.equal(f.d.subscriptions.get("note://d"), 1);
    await f.proxy.catalog.callTool("d__touch", {});
    await sse.next((frame) => frame.method === "notifications/resources/updated", "the update");
    disconnect.abort();
    await sse.finished();
    await waitFor(() => !f.d.subscriptions.has("note://d"), 5_000, "the member unsubscribed");
  } finally {
    shutdown.abort();
    await server.shutdown();
  }
});

Deno.test("serveListen() delivers what changed while it was acknowledging, after the acknowledgement", async () => {
  await using f = await federation();
  const sse = new SseReader(listen(f.hub, 4, { toolsListChanged: true, resourceSubscriptions: [f.note] }));
  // The listen is still subscribing (asynchronously) when these changes happen.
  const catalog = f.proxy.catalog;
  catalog.dispatchEvent(new CatalogListChangedEvent("toolsChanged"));
  catalog.dispatchEvent(new CatalogListChangedEvent("promptsChanged"));
  catalog.dispatchEvent(new ResourceUpdatedEvent({ serverId: "d", uri: f.note, originalUri: "note://d" }));
  catalog.dispatchEvent(new ResourceUpdatedEvent({ serverId: "e", uri: f.noteE, originalUri: "note://e" }));
  await sse.next((frame) => frame.method === "notifications/resources/updated", "the early update");
  assert.deepEqual(sse.frames.map((frame) => frame.method), [
    "notifications/subscriptions/acknowledged",
    "notifications/tools/list_changed",
    "notifications/resources/updated",
  ]);
  assert.equal(sse.frames[2]!.params?.uri, f.note);
  await sse.cancel();
});

Deno.test("serveListen() ends the stream of a client that stops reading, and releases its subscriptions", async () => {
  await using f = await federation();
  const response = listen(f.hub, 6, { resourceSubscriptions: [f.note] });
  const reader = response.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /notifications\/subscriptions\/acknowledged/);
  assert.equal(f.d.subscriptions.get("note://d"), 1);
  // Never read again: the updates pile up to the limit; one more ends the stream.
  const update = () => new ResourceUpdatedEvent({ serverId: "d", uri: f.note, originalUri: "note://d" });
  for (let i = 0; i <= MAX_UNREAD_MESSAGES; i++) f.proxy.catalog.dispatchEvent(update());
  await waitFor(() => !f.d.subscriptions.has("note://d"), 5_000, "the member unsubscribed");
  let chunks = 0;
  while (!(await reader.read()).done) chunks++;
  assert.equal(chunks, MAX_UNREAD_MESSAGES);
});
