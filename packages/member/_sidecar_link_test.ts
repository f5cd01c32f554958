import assert from "node:assert/strict";
import { DEFAULT_BACKOFF } from "../core/backoff.ts";
import type { JSONRPCMessage, Transport } from "../core/_sdk.ts";
import { UpstreamLink } from "./_sidecar_link.ts";
import { RelaySession } from "./_sidecar_session.ts";

/** An in-memory transport: what was sent on it, and a way to make the other side speak. */
class Wire implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  sent: JSONRPCMessage[] = [];
  start(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.onclose?.();
    return Promise.resolve();
  }
  send(message: JSONRPCMessage): Promise<void> {
    this.sent.push(message);
    return Promise.resolve();
  }
  say(message: Record<string, unknown>): void {
    this.onmessage?.({ jsonrpc: "2.0", ...message } as JSONRPCMessage);
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const methods = (wire: Wire) => wire.sent.map((m) => (m as { method?: string }).method ?? "(answer)");

Deno.test("UpstreamLink never sends upstream a request cancelled while it waited for the upstream to be ready", async () => {
  const upstream = new Wire();
  const link = new UpstreamLink({
    connect: () => upstream,
    relatesByStream: false,
    backoff: DEFAULT_BACKOFF,
    readyTimeout: 10_000,
    linger: 60_000,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    label: {},
    onclose() {},
    now: Date.now,
  });
  const proxySide = new Wire();
  const session = new RelaySession(link, "control", 0);
  await session.connect(proxySide);
  try {
    proxySide.say({ id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {} } });
    proxySide.say({ id: 1, method: "tools/call", params: { name: "slow" } });
    proxySide.say({ method: "notifications/cancelled", params: { requestId: 1, reason: "The caller gave up" } });
    await tick();
    // The upstream answers initialize only now: the cancelled call was waiting.
    const initialize = upstream.sent.find((m) => (m as { method?: string }).method === "initialize") as { id: string };
    upstream.say({
      id: initialize.id,
      result: { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "u", version: "1" } },
    });
    await tick();
    assert.deepEqual(methods(upstream), ["initialize", "notifications/initialized"], "the cancelled call is not sent");
    assert.deepEqual(proxySide.sent.map((m) => (m as { id?: unknown }).id), [0], "only initialize is answered");
    assert.equal(session.upstreamIds.size, 0);
    // A call after that goes upstream as usual.
    proxySide.say({ id: 2, method: "tools/call", params: { name: "fast" } });
    await tick();
    assert.deepEqual(methods(upstream), ["initialize", "notifications/initialized", "tools/call"]);
  } finally {
    await session.close();
    await link.close();
  }
});
