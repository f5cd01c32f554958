import assert from "node:assert/strict";
import { CloseCode, MCP_SUBPROTOCOL, RELATED_REQUEST_META_KEY, WebSocketTransport } from "./websocket_transport.ts";
import type { WebSocketTransportOptions } from "./websocket_transport.ts";
import {
  AuthenticationError,
  CancelledError,
  ConnectionError,
  FederationError,
  ProtocolError,
  TimeoutError,
} from "./errors.ts";
import type { JSONRPCMessage } from "./_sdk.ts";

interface TestServer extends AsyncDisposable {
  url: string;
  /** Server-side transports, in accept order. */
  transports: WebSocketTransport[];
  /** The `Authorization` header of each request, in arrival order. */
  authorizations: (string | null)[];
  /** Resolves with the first server-side transport. */
  first: Promise<WebSocketTransport>;
}

/**
 * A member-like server on 127.0.0.1:0 that wraps each upgraded socket in a WebSocketTransport. `setup` runs
 * synchronously in the handler, before any frame can arrive. `authorization`, when set, is the only accepted
 * `Authorization` header; other requests get `reject` (401 by default).
 */
function serveMcp(
  options: {
    transport?: WebSocketTransportOptions;
    setup?: (transport: WebSocketTransport) => void;
    authorization?: string;
    reject?: number;
  } = {},
): TestServer {
  const controller = new AbortController();
  const transports: WebSocketTransport[] = [];
  const authorizations: (string | null)[] = [];
  const { promise: first, resolve } = Promise.withResolvers<WebSocketTransport>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} }, (req) => {
    authorizations.push(req.headers.get("authorization"));
    if (options.authorization !== undefined && req.headers.get("authorization") !== options.authorization) {
      return new Response("Unauthorized", { status: options.reject ?? 401 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req, { protocol: MCP_SUBPROTOCOL });
    const transport = new WebSocketTransport(socket, options.transport);
    options.setup?.(transport);
    transports.push(transport);
    resolve(transport);
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}`,
    transports,
    authorizations,
    first,
    async [Symbol.asyncDispose]() {
      await Promise.all(transports.map((t) => closeAndWait(t)));
      controller.abort();
      await server.finished;
    },
  };
}

/** Closes a transport and waits for its `onclose` (chaining any handler already set). */
async function closeAndWait(transport: WebSocketTransport): Promise<void> {
  if (transport.closeCode !== undefined) return;
  const { promise, resolve } = Promise.withResolvers<void>();
  const previous = transport.onclose;
  transport.onclose = () => {
    previous?.();
    resolve();
  };
  await transport.close();
  await promise;
}

/** Opens a raw client WebSocket offering the `mcp` subprotocol. */
async function rawClient(url: string): Promise<WebSocket & AsyncDisposable> {
  const ws = new WebSocket(url, { protocols: [MCP_SUBPROTOCOL] });
  const closed = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve(), { once: true }));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error("raw client failed to open")), { once: true });
  });
  return Object.assign(ws, {
    async [Symbol.asyncDispose]() {
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      await closed;
    },
  });
}

function nextFrame(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve) => {
    ws.addEventListener("message", (event) => resolve(JSON.parse(event.data as string)), { once: true });
  });
}

function nextMessage(transport: WebSocketTransport): Promise<JSONRPCMessage> {
  const { promise, resolve } = Promise.withResolvers<JSONRPCMessage>();
  transport.onmessage = (message) => resolve(message);
  return promise;
}

Deno.test("WebSocketTransport carries messages both ways and sends the upgrade headers", async () => {
  await using server = serveMcp();
  const client = await WebSocketTransport.connect(server.url, { headers: { Authorization: "Bearer test-token" } });
  await using _closeClient = { [Symbol.asyncDispose]: () => closeAndWait(client) };
  const member = await server.first;
  assert.deepEqual(server.authorizations, ["Bearer test-token"]);
  assert.equal(client.isOpen, true);
  await client.start();

  const request: JSONRPCMessage = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };
  const atMember = nextMessage(member);
  await client.send(request);
  assert.deepEqual(await atMember, request);

  const response: JSONRPCMessage = { jsonrpc: "2.0", id: 1, result: { tools: [] } };
  const atClient = nextMessage(client);
  await member.send(response);
  assert.deepEqual(await atClient, response);

  const notification: JSONRPCMessage = { jsonrpc: "2.0", method: "notifications/tools/list_changed" };
  const notified = nextMessage(client);
  await member.send(notification);
  assert.deepEqual(await notified, notification);

  const error: JSONRPCMessage = { jsonrpc: "2.0", id: "a", error: { code: -32601, message: "Method not found" } };
  const errored = nextMessage(member);
  await client.send(error);
  assert.deepEqual(await errored, error);
});

Deno.test("WebSocketTransport answers a malformed JSON frame with -32700 and id null, and stays open", async () => {
  const received: JSONRPCMessage[] = [];
  await using server = serveMcp({ setup: (t) => void (t.onmessage = (m) => void received.push(m)) });
  await using raw = await rawClient(server.url);
  const reply = nextFrame(raw);
  raw.send("{not json");
  assert.deepEqual(await reply, {
    jsonrpc: "2.0",
    id: null,
    error: { code: -32700, message: "Parse error: frame is not valid JSON" },
  });
  assert.equal(received.length, 0);

  // Still open, and still delivering.
  assert.equal(raw.readyState, WebSocket.OPEN);
  const member = await server.first;
  assert.equal(member.isOpen, true);
  const delivered = nextMessage(member);
  raw.send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }));
  assert.deepEqual(await delivered, { jsonrpc: "2.0", id: 2, method: "ping" });
});

Deno.test("WebSocketTransport answers a JSON frame that is not JSON-RPC with -32600, echoing its id", async () => {
  const received: JSONRPCMessage[] = [];
  await using server = serveMcp({ setup: (t) => void (t.onmessage = (m) => void received.push(m)) });
  await using raw = await rawClient(server.url);
  const cases: [unknown, unknown][] = [
    [{ id: 7, method: "ping" }, 7], // no jsonrpc
    [{ jsonrpc: "1.0", id: "abc", method: "ping" }, "abc"], // wrong version
    [{ jsonrpc: "2.0", id: 8 }, 8], // neither method nor result/error
    [{ jsonrpc: "2.0", id: 9, method: "ping", params: "x" }, 9], // params not structured
    [{ jsonrpc: "2.0", id: true }, null], // an id of a bad type is not echoed
    [[{ jsonrpc: "2.0", id: 1, method: "ping" }], null], // batches are not accepted
    [42, null],
    [null, null],
  ];
  for (const [frame, id] of cases) {
    const reply = nextFrame(raw);
    raw.send(JSON.stringify(frame));
    const answer = await reply as { jsonrpc: string; id: unknown; error: { code: number } };
    assert.equal(answer.jsonrpc, "2.0");
    assert.equal(answer.error.code, -32600, `frame ${JSON.stringify(frame)}`);
    assert.equal(answer.id, id, `frame ${JSON.stringify(frame)}`);
  }
  assert.equal(received.length, 0);
  assert.equal(raw.readyState, WebSocket.OPEN);
});

Deno.test("WebSocketTransport answers a binary frame with -32600 and does not deliver it", async () => {
  const received: JSONRPCMessage[] = [];
  await using server = serveMcp({ setup: (t) => void (t.onmessage = (m) => void received.push(m)) });
  await using raw = await rawClient(server.url);
  const reply = nextFrame(raw);
  raw.send(new TextEncoder().encode(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" })));
  const answer = await reply as { id: unknown; error: { code: number } };
  assert.equal(answer.error.code, -32600);
  assert.equal(answer.id, null);
  assert.equal(received.length, 0);
  assert.equal(raw.readyState, WebSocket.OPEN);
});

Deno.test("WebSocketTransport closes with 1009 on a message larger than maxMessageBytes", async () => {
  const received: JSONRPCMessage[] = [];
  const firstDelivered = Promise.withResolvers<void>();
  const errors: Error[] = [];
  const memberClosed = Promise.withResolvers<void>();
  await using server = serveMcp({
    transport: { maxMessageBytes: 1024 },
    setup: (t) => {
      t.onclose = () => memberClosed.resolve();
      t.onmessage = (m) => {
        received.push(m);
        firstDelivered.resolve();
      };
      t.onerror = (e) => void errors.push(e);
    },
  });
  const client = await WebSocketTransport.connect(server.url);
  const closed = Promise.withResolvers<void>();
  client.onclose = () => closed.resolve();

  // Under the limit: delivered.
  await client.send({ jsonrpc: "2.0", method: "notifications/small", params: { blob: "x".repeat(900) } });
  await firstDelivered.promise;

  await client.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { blob: "x".repeat(2000) } });
  await closed.promise;
  assert.equal(client.closeCode, CloseCode.MESSAGE_TOO_BIG);
  assert.equal(client.closeCode, 1009);
  assert.equal(received.length, 1, "the oversized message is not delivered");
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof RangeError);
  await memberClosed.promise;
  assert.equal((await server.first).closeCode, 1009);
});

Deno.test("WebSocketTransport measures maxMessageBytes in UTF-8 bytes, not characters", async () => {
  await using server = serveMcp({ transport: { maxMessageBytes: 1024 } });
  const client = await WebSocketTransport.connect(server.url);
  const closed = Promise.withResolvers<void>();
  client.onclose = () => closed.resolve();
  // 400 characters of 3 bytes each: under 1024 characters, over 1024 bytes.
  await client.send({ jsonrpc: "2.0", method: "notifications/euro", params: { blob: "€".repeat(400) } });
  await closed.promise;
  assert.equal(client.closeCode, 1009);
});

Deno.test("WebSocketTransport.connect() rejects with AuthenticationError ERR_AUTH_REJECTED on HTTP 401 and 403", async () => {
  for (const status of [401, 403]) {
    await using server = serveMcp({ authorization: "Bearer right", reject: status });
    await assert.rejects(
      WebSocketTransport.connect(server.url, { headers: { Authorization: "Bearer wrong" } }),
      (e: unknown) => {
        assert.ok(e instanceof AuthenticationError, `HTTP ${status}: got ${String(e)}`);
        assert.equal(e.code, "ERR_AUTH_REJECTED");
        assert.equal(e.channel, "control");
        assert.ok(!e.message.includes("wrong"), "the message never carries the token");
        return true;
      },
    );
    // The right token gets through.
    const client = await WebSocketTransport.connect(server.url, { headers: { Authorization: "Bearer right" } });
    await closeAndWait(client);
  }
});

Deno.test("WebSocketTransport.connect() rejects with ConnectionError when the server refuses the upgrade", async () => {
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    () => new Response("Internal error", { status: 500 }),
  );
  try {
    await assert.rejects(WebSocketTransport.connect(`ws://127.0.0.1:${server.addr.port}`), (e: unknown) => {
      assert.ok(e instanceof ConnectionError && !(e instanceof AuthenticationError), `got ${String(e)}`);
      assert.equal(e.code, "ERR_CONNECTION_FAILED");
      return true;
    });
  } finally {
    controller.abort();
    await server.finished;
  }
});

Deno.test("WebSocketTransport.connect() rejects with ConnectionError when nothing listens on the port", async () => {
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    () => new Response(),
  );
  const port = server.addr.port;
  controller.abort();
  await server.finished;

  await assert.rejects(WebSocketTransport.connect(`ws://127.0.0.1:${port}`, { timeout: 5000 }), (e: unknown) => {
    assert.ok(e instanceof ConnectionError, `got ${String(e)}`);
    assert.equal(e.code, "ERR_CONNECTION_FAILED");
    assert.equal(e.channel, "control");
    return true;
  });
});

Deno.test("WebSocketTransport.connect() rejects with TimeoutError when the server never answers the upgrade", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) conns.push(conn);
  })();
  try {
    const started = performance.now();
    await assert.rejects(
      WebSocketTransport.connect(`ws://127.0.0.1:${listener.addr.port}`, { timeout: 200 }),
      (e: unknown) => {
        assert.ok(e instanceof TimeoutError, `got ${String(e)}`);
        assert.equal(e.code, "ERR_TIMEOUT");
        assert.equal(e.timeoutMs, 200);
        return true;
      },
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 5000, `timed out after ${elapsed}ms`);
  } finally {
    listener.close();
    await accepting;
    for (const conn of conns) conn.close();
  }
});

Deno.test("WebSocketTransport.connect() rejects with CancelledError when the signal aborts mid-upgrade", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) conns.push(conn);
  })();
  try {
    const controller = new AbortController();
    const reason = new Error("user gave up");
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(
      WebSocketTransport.connect(`ws://127.0.0.1:${listener.addr.port}`, { signal: controller.signal }),
      (e: unknown) => e instanceof CancelledError && e.code === "ERR_CANCELLED" && e.cause === reason,
    );
  } finally {
    listener.close();
    await accepting;
    for (const conn of conns) conn.close();
  }
});

Deno.test("WebSocketTransport.connect() with an already-aborted signal rejects with CancelledError at once", async () => {
  await using server = serveMcp();
  const reason = new Error("stop");
  await assert.rejects(
    WebSocketTransport.connect(server.url, { signal: AbortSignal.abort(reason) }),
    (e: unknown) => {
      assert.ok(e instanceof CancelledError);
      assert.ok(e instanceof FederationError);
      assert.equal(e.code, "ERR_CANCELLED");
      assert.equal(e.cause, reason);
      return true;
    },
  );
  assert.equal(server.authorizations.length, 0, "no connection is attempted");
});

Deno.test("WebSocketTransport.send() after close rejects with ConnectionError ERR_CONNECTION_CLOSED", async () => {
  await using server = serveMcp();
  const client = await WebSocketTransport.connect(server.url);
  await closeAndWait(client);
  assert.equal(client.isOpen, false);
  await assert.rejects(
    client.send({ jsonrpc: "2.0", method: "notifications/late" }),
    (e: unknown) => e instanceof ConnectionError && e.code === "ERR_CONNECTION_CLOSED",
  );
  await assert.rejects(client.start(), ConnectionError);
});

Deno.test("WebSocketTransport fires onclose exactly once on both sides and passes the close code and reason", async () => {
  let memberCloses = 0;
  const memberClosed = Promise.withResolvers<void>();
  await using server = serveMcp({
    setup: (t) =>
      void (t.onclose = () => {
        memberCloses++;
        memberClosed.resolve();
      }),
  });
  const client = await WebSocketTransport.connect(server.url);
  let clientCloses = 0;
  const clientClosed = Promise.withResolvers<void>();
  client.onclose = () => {
    clientCloses++;
    clientClosed.resolve();
  };
  await client.close(CloseCode.TOKEN_EXPIRED, "Token expired");
  await client.close();
  await Promise.all([clientClosed.promise, memberClosed.promise]);
  await client.close(); // already closed: must not fire again
  assert.equal(clientCloses, 1);
  assert.equal(memberCloses, 1);
  const member = await server.first;
  assert.equal(member.closeCode, 4001);
  assert.equal(member.closeReason, "Token expired");
  assert.equal(client.closeCode, 4001);
});

Deno.test("WebSocketTransport.start() resolves on a server socket once it opens", async () => {
  const started = Promise.withResolvers<void>();
  await using server = serveMcp({ setup: (t) => void t.start().then(started.resolve, started.reject) });
  const client = await WebSocketTransport.connect(server.url);
  await started.promise;
  assert.equal((await server.first).isOpen, true);
  await closeAndWait(client);
});

// A JSON-RPC error response with `id: null` (exactly what #reply sends) must not be answered, or two transports
// would answer each other forever after a single bad frame.
Deno.test({
  name: "WebSocketTransport does not answer a JSON-RPC error response that has id null",
  async fn() {
    await using server = serveMcp({
      setup: (t) =>
        void (t.onmessage = (m) => void t.send({ jsonrpc: "2.0", id: (m as { id: number }).id, result: {} })),
    });
    await using raw = await rawClient(server.url);
    const first = nextFrame(raw);
    raw.send(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }));
    raw.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }));
    assert.deepEqual(await first, { jsonrpc: "2.0", id: 1, result: {} });
  },
});

Deno.test("WebSocketTransport.send() puts relatedRequestId under _meta of requests and notifications, not responses", async () => {
  await using server = serveMcp();
  const client = await WebSocketTransport.connect(server.url);
  await using _closeClient = { [Symbol.asyncDispose]: () => closeAndWait(client) };
  const member = await server.first;
  const request = nextMessage(client);
  await member.send({ jsonrpc: "2.0", id: 9, method: "roots/list", params: { _meta: { keep: 1 } } }, {
    relatedRequestId: 3,
  });
  assert.deepEqual(await request, {
    jsonrpc: "2.0",
    id: 9,
    method: "roots/list",
    params: { _meta: { keep: 1, [RELATED_REQUEST_META_KEY]: 3 } },
  });
  const notification = nextMessage(client);
  await member.send({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: 1 } }, {
    relatedRequestId: "r",
  });
  assert.deepEqual(await notification, {
    jsonrpc: "2.0",
    method: "notifications/message",
    params: { level: "info", data: 1, _meta: { [RELATED_REQUEST_META_KEY]: "r" } },
  });
  const response = nextMessage(client);
  await member.send({ jsonrpc: "2.0", id: 3, result: {} }, { relatedRequestId: 3 });
  assert.deepEqual(await response, { jsonrpc: "2.0", id: 3, result: {} });
});

Deno.test("WebSocketTransport.send() refuses a message over maxMessageBytes with ERR_MESSAGE_TOO_LARGE and stays open", async () => {
  await using server = serveMcp();
  const client = await WebSocketTransport.connect(server.url, { maxMessageBytes: 1024 });
  await using _closeClient = { [Symbol.asyncDispose]: () => closeAndWait(client) };
  const member = await server.first;
  const error = await client.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { blob: "€".repeat(400) } })
    .then(() => undefined, (e) => e);
  assert.ok(error instanceof ProtocolError);
  assert.equal(error.code, "ERR_MESSAGE_TOO_LARGE");
  assert.equal(client.isOpen, true);
  const delivered = nextMessage(member);
  await client.send({ jsonrpc: "2.0", id: 2, method: "ping" });
  assert.deepEqual(await delivered, { jsonrpc: "2.0", id: 2, method: "ping" });
});

Deno.test("WebSocketTransport.send() replaces a result over maxMessageBytes by an error answer for the same id", async () => {
  await using server = serveMcp({ transport: { maxMessageBytes: 1024 } });
  const client = await WebSocketTransport.connect(server.url);
  await using _closeClient = { [Symbol.asyncDispose]: () => closeAndWait(client) };
  const member = await server.first;
  const answer = nextMessage(client);
  const error = await member.send({ jsonrpc: "2.0", id: 4, result: { blob: "x".repeat(2000) } })
    .then(() => undefined, (e) => e);
  assert.ok(error instanceof ProtocolError);
  assert.equal(error.code, "ERR_MESSAGE_TOO_LARGE");
  const received = await answer as { id: number; error: { code: number; message: string } };
  assert.equal(received.id, 4);
  assert.equal(received.error.code, -32603);
  assert.match(received.error.message, /Result is larger than the limit of 1024 bytes/);
  assert.equal(member.isOpen, true);
});
