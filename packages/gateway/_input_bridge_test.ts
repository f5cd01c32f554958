import assert from "node:assert/strict";
import {
  type BridgedCall,
  type BridgeHandlers,
  type BridgeStep,
  type ExchangeError,
  InputBridge,
} from "./_input_bridge.ts";
import { InvalidRequestStateError } from "./_sealed_state.ts";
import { ServerProtocolError } from "../core/_sdk.ts";

const CALL: BridgedCall = { member: "m", method: "tools/call", name: "m__ask", sub: "alice" };

/** A member call that asks `asks` (in turn) and returns the answers joined; records how it ended. */
function asker(asks: string[][], ended: { error?: unknown; aborted?: boolean } = {}) {
  return async ({ onrequest, signal }: BridgeHandlers) => {
    const answers: string[] = [];
    try {
      for (const round of asks) {
        const controllers = round.map(() => new AbortController());
        const results = await Promise.all(round.map((message, i) =>
          onrequest({
            serverId: "m",
            method: "elicitation/create",
            params: { message, requestedSchema: { type: "object" }, _meta: { "io.github.federated-mcp/x": 1 } },
            signal: controllers[i]!.signal,
          })
        ));
        answers.push(...results.map((result) => String(result.action)));
      }
    } catch (error) {
      ended.error = error;
      ended.aborted = signal.aborted;
      throw error;
    }
    return { text: answers.join(",") };
  };
}

function round(step: BridgeStep): Extract<BridgeStep, { done: false }> {
  assert.equal(step.done, false, JSON.stringify(step));
  return step as Extract<BridgeStep, { done: false }>;
}

const live = () => new AbortController().signal;

Deno.test("InputBridge: a call that does not ask completes at once and parks nothing", async () => {
  const bridge = new InputBridge({ replicaId: "r1", ttlMs: 60_000 });
  const step = await bridge.start(CALL, () => Promise.resolve({ ok: true }), live());
  assert.deepEqual(step, { done: true, result: { ok: true } });
  assert.equal(bridge.size, 0);
  bridge.close();
});

Deno.test("InputBridge: requests sent together form one round, without reserved _meta; answers continue the call", async () => {
  const bridge = new InputBridge({ replicaId: "r1", ttlMs: 60_000 });
  const first = round(await bridge.start(CALL, asker([["a", "b"], ["c"]]), live()));
  assert.equal(first.replica, "r1");
  assert.deepEqual(Object.values(first.inputRequests).map((r) => r.params.message), ["a", "b"]);
  assert.ok(Object.values(first.inputRequests).every((r) => r.params._meta === undefined));
  assert.equal(bridge.size, 1);
  const [k1, k2] = Object.keys(first.inputRequests) as [string, string];
  // Only one answered: the other is asked again in the next round.
  const again = round(await bridge.resume(first.exchange, CALL, { [k1]: { action: "accept" } }, live()));
  assert.deepEqual(Object.keys(again.inputRequests), [k2]);
  const second = round(await bridge.resume(first.exchange, CALL, { [k2]: { action: "decline" } }, live()));
  assert.deepEqual(Object.values(second.inputRequests).map((r) => r.params.message), ["c"]);
  const [k3] = Object.keys(second.inputRequests) as [string];
  const done = await bridge.resume(first.exchange, CALL, { [k3]: { action: "cancel" } }, live());
  assert.deepEqual(done, { done: true, result: { text: "accept,decline,cancel" } });
  assert.equal(bridge.size, 0);
  bridge.close();
});

Deno.test("InputBridge: a retry for another call or caller is refused; the exchange stays", async () => {
  const bridge = new InputBridge({ replicaId: "r1", ttlMs: 60_000 });
  const first = round(await bridge.start(CALL, asker([["a"]]), live()));
  for (const other of [{ ...CALL, sub: "bob" }, { ...CALL, name: "m__other" }, { ...CALL, member: "n" }]) {
    await assert.rejects(bridge.resume(first.exchange, other, {}, live()), InvalidRequestStateError);
  }
  await assert.rejects(
    bridge.resume("no-such-exchange", CALL, {}, live()),
    (error: ExchangeError) => error.code === -32000 && error.reason === "exchange_gone",
  );
  assert.equal(bridge.size, 1);
  bridge.close();
  assert.equal(bridge.size, 0);
});

Deno.test("InputBridge: an exchange not continued within the TTL is dropped: the member's request fails, the call is cancelled", async () => {
  const bridge = new InputBridge({ replicaId: "r1", ttlMs: 50 });
  const ended: { error?: unknown; aborted?: boolean } = {};
  const first = round(await bridge.start(CALL, asker([["a"]], ended), live()));
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(bridge.size, 0);
  assert.ok(ended.error instanceof ServerProtocolError);
  assert.match((ended.error as Error).message, /did not answer the input requests in time/);
  assert.equal(ended.aborted, true);
  await assert.rejects(
    bridge.resume(first.exchange, CALL, {}, live()),
    (error: ExchangeError) => error.reason === "exchange_gone",
  );
  bridge.close();
});

Deno.test("InputBridge: the total cap refuses a new exchange with exchange_limit and cancels its call", async () => {
  const bridge = new InputBridge({ replicaId: "r1", ttlMs: 60_000, maxTotal: 2 });
  round(await bridge.start({ ...CALL, sub: "a" }, asker([["x"]]), live()));
  round(await bridge.start({ ...CALL, sub: "b" }, asker([["x"]]), live()));
  const ended: { error?: unknown; aborted?: boolean } = {};
  await assert.rejects(
    bridge.start({ ...CALL, sub: "c" }, asker([["x"]], ended), live()),
    (error: ExchangeError) => error.code === -32000 && error.reason === "exchange_limit",
  );
  assert.equal(ended.aborted, true);
  assert.equal(bridge.size, 2);
  bridge.close();
});

Deno.test("InputBridge: a concurrent second retry of one exchange is refused as busy", async () => {
  const bridge = new InputBridge({ replicaId: "r1", ttlMs: 60_000 });
  const first = round(await bridge.start(CALL, asker([["a"], ["b"]]), live()));
  const [key] = Object.keys(first.inputRequests) as [string];
  const continuing = bridge.resume(first.exchange, CALL, { [key]: { action: "accept" } }, live());
  await assert.rejects(
    bridge.resume(first.exchange, CALL, {}, live()),
    (error: ExchangeError) => error.reason === "exchange_busy",
  );
  round(await continuing);
  bridge.close();
});

Deno.test("InputBridge: a client that cancels its retry drops the exchange and cancels the call", async () => {
  const bridge = new InputBridge({ replicaId: "r1", ttlMs: 60_000 });
  const ended: { error?: unknown; aborted?: boolean } = {};
  let release!: () => void;
  const slow = async (handlers: BridgeHandlers) => {
    await asker([["a"]], ended)(handlers);
    await new Promise<void>((resolve) => release = resolve);
    return {};
  };
  const first = round(await bridge.start(CALL, slow, live()));
  const [key] = Object.keys(first.inputRequests) as [string];
  const controller = new AbortController();
  const retry = bridge.resume(first.exchange, CALL, { [key]: { action: "accept" } }, controller.signal);
  controller.abort(new Error("client gone"));
  await assert.rejects(retry, /client gone/);
  assert.equal(bridge.size, 0);
  release();
  bridge.close();
});

Deno.test("InputBridge: a refused kind or capability fails the member's request at once, never reaching a round", async () => {
  const bridge = new InputBridge({
    replicaId: "r1",
    ttlMs: 60_000,
    refuse: (request) => request.method === "elicitation/create" ? "No elicitation here" : undefined,
  });
  const ended: { error?: unknown; aborted?: boolean } = {};
  await assert.rejects(bridge.start(CALL, asker([["a"]], ended), live()), /No elicitation here/);
  assert.equal((ended.error as ServerProtocolError).code, -32601);
  const ping = await bridge.start(CALL, async ({ onrequest }) => {
    try {
      await onrequest({ serverId: "m", method: "ping", params: {}, signal: live() });
    } catch (error) {
      return { refused: (error as ServerProtocolError).code };
    }
    return {};
  }, live());
  assert.deepEqual(ping, { done: true, result: { refused: -32601 } });
  bridge.close();
});

Deno.test("InputBridge: a retry for another replica's exchange is refused without a remote", async () => {
  const bridge = new InputBridge({ replicaId: "r1", ttlMs: 60_000 });
  await assert.rejects(
    bridge.continue({ id: "x", replica: "r2" }, CALL, {}, live()),
    (error: ExchangeError) =>
      error.reason === "exchange_unreachable" && /replica 'r2'/.test(error.message) &&
      (error.data as { replica: string }).replica === "r2",
  );
  bridge.close();
});
