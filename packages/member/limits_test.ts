import assert from "node:assert/strict";
import { McpServer } from "../core/_sdk.ts";
import { CloseCode } from "../core/websocket_transport.ts";
import {
  closeCodeOf,
  httpClient,
  httpEcho,
  initializeBody,
  mint,
  openHttpSession,
  postHeaders,
  RawSocket,
  startMember,
  textOf,
  waitFor,
  WebSocketTransport,
  wsClient,
} from "./_helpers_test.ts";

Deno.test("a WebSocket frame over maxMessageBytes closes that socket with 1009; others keep working", async () => {
  const { member } = await startMember({ maxMessageBytes: 2048 });
  const token = await mint();
  const other = await wsClient(member.controlUrl!, token);
  const raw = await RawSocket.open(member.controlUrl!, token);
  await raw.initialize();
  raw.send({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "echo", arguments: { text: "x".repeat(4096) } },
  });
  const closed = await raw.closed;
  assert.equal(closed.code, CloseCode.MESSAGE_TOO_BIG);
  assert.equal(textOf(await other.client.callTool({ name: "echo", arguments: { text: "ok" } })), "ok");
  await other.client.close();
  await member.close();
});

Deno.test("a POST over maxMessageBytes gets 413, with or without Content-Length, on new and open sessions", async () => {
  const { member } = await startMember({ maxMessageBytes: 2048 });
  const token = await mint();
  const big = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x".repeat(4096), version: "1" } },
  });
  const declared = await fetch(member.dataUrl!, { method: "POST", headers: postHeaders(token), body: big });
  assert.equal(declared.status, 413);
  await declared.body?.cancel();
  const chunked = await fetch(member.dataUrl!, {
    method: "POST",
    headers: postHeaders(token),
    body: ReadableStream.from([
      new TextEncoder().encode(big.slice(0, 1500)),
      new TextEncoder().encode(big.slice(1500)),
    ]),
  });
  assert.equal(chunked.status, 413);
  await chunked.body?.cancel();
  const sessionId = await openHttpSession(member.dataUrl!, token);
  const onSession = await fetch(member.dataUrl!, {
    method: "POST",
    headers: postHeaders(token, { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" }),
    body: ReadableStream.from([new TextEncoder().encode(big)]),
  });
  assert.equal(onSession.status, 413);
  await onSession.body?.cancel();
  assert.equal((await httpEcho(member.dataUrl!, token, sessionId)).status, 200);
  await member.close();
});

Deno.test("malformed and non-JSON-RPC frames on the control socket get JSON-RPC errors; the session keeps working", async () => {
  const { member } = await startMember();
  const raw = await RawSocket.open(member.controlUrl!, await mint());
  raw.send("{not json");
  assert.equal(((await raw.next()).error as { code: number }).code, -32700);
  raw.send({ hello: "world", id: 3 });
  const invalid = await raw.next();
  assert.equal((invalid.error as { code: number }).code, -32600);
  assert.equal(invalid.id, 3);
  raw.send("[1,2,3]");
  assert.equal(((await raw.next()).error as { code: number }).code, -32600);
  raw.socket.send(new Uint8Array([1, 2, 3]));
  assert.equal(((await raw.next()).error as { code: number }).code, -32600);
  await raw.initialize();
  const reply = await raw.request(7, "tools/call", { name: "echo", arguments: { text: "after" } });
  assert.equal(textOf(reply.result), "after");
  const unknown = await raw.request(8, "no/such/method");
  assert.equal((unknown.error as { code: number }).code, -32601);
  await raw.close();
  await member.close();
});

Deno.test("malformed bodies on the data endpoint get 400 JSON-RPC errors; the session keeps working", async () => {
  const { member } = await startMember();
  const token = await mint();
  const post = (body: string, extra: Record<string, string> = {}) =>
    fetch(member.dataUrl!, { method: "POST", headers: postHeaders(token, extra), body });
  for (const body of ["{not json", "", "[]"]) {
    const response = await post(body);
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.ok(((await response.json()) as { error: { code: number } }).error.code < 0);
  }
  const notInit = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }));
  assert.equal(notInit.status, 400);
  await notInit.body?.cancel();
  const sessionId = await openHttpSession(member.dataUrl!, token);
  const session = { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" };
  for (const body of ["{not json", '{"foo":1}', JSON.stringify({ jsonrpc: "2.0", id: 1, method: 5 })]) {
    const response = await post(body, session);
    assert.equal(response.status, 400, body);
    await response.body?.cancel();
  }
  const badType = await fetch(member.dataUrl!, {
    method: "POST",
    headers: { ...postHeaders(token, session), "content-type": "text/plain" },
    body: "{}",
  });
  assert.equal(badType.status, 415);
  await badType.body?.cancel();
  const put = await fetch(member.dataUrl!, { method: "PUT", headers: postHeaders(token, session), body: "{}" });
  assert.equal(put.status, 405);
  await put.body?.cancel();
  assert.equal((await httpEcho(member.dataUrl!, token, sessionId, "fine")).status, 200);
  await member.close();
});

Deno.test("100 concurrent sessions, half WebSocket and half HTTP, each call echo", async () => {
  const { member } = await startMember();
  const token = await mint();
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
    if (i % 2 === 0) {
      const { client } = await wsClient(member.controlUrl!, token);
      const text = textOf(await client.callTool({ name: "echo", arguments: { text: `ws-${i}` } }));
      return { text, close: () => client.close() };
    }
    const client = await httpClient(member.dataUrl!, token);
    const text = textOf(await client.callTool({ name: "echo", arguments: { text: `http-${i}` } }));
    return { text, close: () => client.close() };
  }));
  const elapsed = performance.now() - started;
  assert.deepEqual(
    results.map((r) => r.text),
    Array.from({ length: 100 }, (_, i) => `${i % 2 === 0 ? "ws" : "http"}-${i}`),
  );
  assert.deepEqual(member.sessionCount(), { control: 50, data: 50 });
  console.log(`100 concurrent sessions connected and called echo in ${elapsed.toFixed(0)} ms`);
  await Promise.all(results.map((r) => r.close()));
  await member.close();
});

Deno.test("sessions over maxSessions get close 1013 on control and 503 on data", async () => {
  const { member, lines } = await startMember({ maxSessions: 2 });
  const token = await mint();
  const open = [await wsClient(member.controlUrl!, token), await wsClient(member.controlUrl!, token)];
  const extra = await WebSocketTransport.connect(member.controlUrl!, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(await closeCodeOf(extra), CloseCode.TRY_AGAIN_LATER);
  assert.equal(extra.closeReason, "Too many sessions");
  const sessions = [await openHttpSession(member.dataUrl!, token), await openHttpSession(member.dataUrl!, token)];
  const refused = await fetch(member.dataUrl!, { method: "POST", headers: postHeaders(token), body: initializeBody() });
  assert.equal(refused.status, 503);
  await refused.body?.cancel();
  assert.ok(lines.some((l) => l.level === "warn" && /too many sessions/.test(l.message)));
  // Existing sessions are unaffected, and a slot freed is reusable.
  assert.equal((await httpEcho(member.dataUrl!, token, sessions[0]!)).status, 200);
  const deleted = await fetch(member.dataUrl!, {
    method: "DELETE",
    headers: postHeaders(token, { "mcp-session-id": sessions[0]!, "mcp-protocol-version": "2025-11-25" }),
  });
  assert.equal(deleted.status, 200);
  await deleted.body?.cancel();
  assert.equal((await httpEcho(member.dataUrl!, token, sessions[0]!)).status, 404);
  assert.ok(await openHttpSession(member.dataUrl!, token));
  await open[0]!.client.close();
  await waitFor(() => member.sessionCount().control === 1);
  const again = await wsClient(member.controlUrl!, token);
  assert.equal(textOf(await again.client.callTool({ name: "echo", arguments: { text: "slot" } })), "slot");
  await again.client.close();
  await open[1]!.client.close();
  await member.close();
});

Deno.test("idle sessions are reaped: WebSocket close 4002, HTTP session gone (404)", async () => {
  const { member } = await startMember({ idleTimeout: 200 });
  const token = await mint();
  const { client, transport } = await wsClient(member.controlUrl!, token);
  const sessionId = await openHttpSession(member.dataUrl!, token);
  const started = Date.now();
  assert.equal(await closeCodeOf(transport), CloseCode.IDLE_TIMEOUT);
  assert.equal(transport.closeReason, "Idle timeout");
  assert.ok(Date.now() - started >= 150);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal((await httpEcho(member.dataUrl!, token, sessionId)).status, 404);
  assert.deepEqual(member.sessionCount(), { control: 0, data: 0 });
  await client.close();
  await member.close();
});

Deno.test("traffic, a request in progress or an open GET stream keep a session from being reaped", async () => {
  const release = Promise.withResolvers<void>();
  const { member } = await startMember({
    idleTimeout: 150,
    server: () => {
      const server = new McpServer({ name: "slow", version: "1.0.0" });
      server.registerTool("slow", {}, async () => {
        await release.promise;
        return { content: [{ type: "text", text: "slow done" }] };
      });
      server.registerTool("fast", {}, () => ({ content: [{ type: "text", text: "fast" }] }));
      return server;
    },
  });
  const token = await mint();
  const ws = await wsClient(member.controlUrl!, token);
  const http = await httpClient(member.dataUrl!, token); // the SDK client keeps a GET stream open
  const slowWs = ws.client.callTool({ name: "slow" });
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(textOf(await http.callTool({ name: "fast" })), "fast");
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  release.resolve();
  assert.equal(textOf(await slowWs), "slow done");
  assert.ok(ws.transport.isOpen);
  assert.equal(textOf(await http.callTool({ name: "fast" })), "fast");
  await ws.client.close();
  await http.close();
  await member.close();
});
