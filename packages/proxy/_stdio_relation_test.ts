import assert from "node:assert/strict";
import { RELATED_REQUEST_META_KEY } from "../core/websocket_transport.ts";
import { Client } from "../core/_sdk.ts";
import type { JSONRPCMessage, Transport } from "../core/_sdk.ts";
import { ProtocolError } from "../core/errors.ts";
import { StdioProcessTransport } from "../core/_stdio_process.ts";
import { SoleCallTransport } from "./_stdio_relation.ts";

/** The process side of a transport: what we wrote to it, and a way to make it speak. */
class Pipe implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  written: JSONRPCMessage[] = [];
  start(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  send(message: JSONRPCMessage): Promise<void> {
    this.written.push(message);
    return Promise.resolve();
  }
  say(message: Record<string, unknown>): void {
    this.onmessage?.({ jsonrpc: "2.0", ...message } as JSONRPCMessage);
  }
}

function setup() {
  const pipe = new Pipe();
  let now = 0;
  const transport = new SoleCallTransport(pipe, {
    serverId: "s",
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    cancelledGrace: 1_000,
    now: () => now,
  });
  const received: JSONRPCMessage[] = [];
  transport.onmessage = (message) => void received.push(message);
  return { pipe, transport, received, advance: (ms: number) => now += ms };
}

function relationOf(message: JSONRPCMessage | undefined): unknown {
  const params = (message as { params?: { _meta?: Record<string, unknown> } } | undefined)?.params;
  return params?._meta?.[RELATED_REQUEST_META_KEY];
}

const elicit = (id: number) => ({ id, method: "elicitation/create", params: { message: "?", requestedSchema: {} } });

Deno.test("SoleCallTransport relates a process's request to the only request outstanding, and to none otherwise", async () => {
  const { pipe, transport, received } = setup();
  pipe.say(elicit(100));
  assert.equal(relationOf(received.at(-1)), undefined, "none outstanding: unsolicited");
  await transport.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "a" } });
  await transport.send({ jsonrpc: "2.0", id: 2, method: "ping" });
  pipe.say(elicit(101));
  assert.equal(relationOf(received.at(-1)), 1, "one outstanding (pings do not count)");
  await transport.send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "b" } });
  const before = received.length;
  pipe.say(elicit(102));
  assert.equal(received.length, before, "two outstanding: not handed on");
  const refusal = pipe.written.at(-1) as { id: number; error: { code: number } };
  assert.equal(refusal.id, 102);
  assert.equal(refusal.error.code, -32600);
  pipe.say({ id: 1, result: {} });
  pipe.say(elicit(103));
  assert.equal(relationOf(received.at(-1)), 3, "call 1 answered: call 3 is alone");
});

Deno.test("SoleCallTransport removes a relation the process wrote itself", async () => {
  const { pipe, transport, received } = setup();
  await transport.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "a" } });
  await transport.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "b" } });
  pipe.say({
    method: "notifications/message",
    params: { level: "info", data: "x", _meta: { [RELATED_REQUEST_META_KEY]: 2 } },
  });
  assert.equal(relationOf(received.at(-1)), undefined);
});

Deno.test("SoleCallTransport counts a cancelled request until answered or for the grace period", async () => {
  const { pipe, transport, received, advance } = setup();
  await transport.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "a" } });
  await transport.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } });
  await transport.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "b" } });
  const before = received.length;
  pipe.say(elicit(100));
  assert.equal(received.length, before, "the cancelled call may still be asking: refused");
  assert.equal(transport.outstanding, 2);
  advance(1_000);
  pipe.say(elicit(101));
  assert.equal(relationOf(received.at(-1)), 2, "after the grace, call 2 is alone");
});

Deno.test("SoleCallTransport does not count a request whose send was refused (too large): the next call is alone", async () => {
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  // A real process: it answers nothing, and asks for an elicitation each time it reads a tools/call.
  const elicitation =
    `{"jsonrpc":"2.0","id":100,"method":"elicitation/create","params":{"message":"?","requestedSchema":{}}}`;
  const script =
    `while IFS= read -r line; do case "$line" in *tools/call*) printf '%s\\n' '${elicitation}';; esac; done`;
  const process = new StdioProcessTransport({
    command: "sh",
    args: ["-c", script],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
  }, { serverId: "s", logger, maxMessageBytes: 1_024 });
  const transport = new SoleCallTransport(process, { serverId: "s", logger, cancelledGrace: 1_000 });
  const received = Promise.withResolvers<JSONRPCMessage>();
  transport.onmessage = (message) => received.resolve(message);
  await transport.start();
  try {
    const big = {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "a", arguments: { t: "x".repeat(2_000) } },
    };
    await assert.rejects(
      transport.send(big as JSONRPCMessage),
      (error) => error instanceof ProtocolError && error.code === "ERR_MESSAGE_TOO_LARGE",
    );
    assert.equal(transport.outstanding, 0, "a refused send is not outstanding");
    await transport.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "b" } });
    const asked = await received.promise;
    assert.equal((asked as { method?: string }).method, "elicitation/create");
    assert.equal(relationOf(asked), 2, "related to the one call in flight");
  } finally {
    await transport.close();
  }
});

Deno.test("SoleCallTransport lets the process's own ping through while two calls run: the client answers it", async () => {
  const { pipe, transport } = setup();
  // The process answers initialize, then nothing: two calls stay in flight.
  const send = pipe.send.bind(pipe);
  pipe.send = (message) => {
    const m = message as { id?: number; method?: string };
    if (m.method === "initialize") {
      queueMicrotask(() =>
        pipe.say({
          id: m.id,
          result: {
            protocolVersion: "2025-06-18",
            capabilities: {},
            serverInfo: { name: "p", version: "1" },
          },
        })
      );
    }
    return send(message);
  };
  const client = new Client({ name: "c", version: "1" });
  await client.connect(transport);
  const calls = [1, 2].map((n) => client.callTool({ name: `t${n}` }).catch(() => {}));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(transport.outstanding, 2);
  pipe.say({ id: 100, method: "ping" });
  await new Promise((resolve) => setTimeout(resolve, 10));
  const answer = pipe.written.find((m) => (m as { id?: unknown }).id === 100) as Record<string, unknown> | undefined;
  assert.deepEqual(answer, { jsonrpc: "2.0", id: 100, result: {} });
  pipe.onclose?.(); // the process exits: the calls in flight fail
  await Promise.all(calls);
  await client.close();
});
