// FederationError's printed form (issue 17 §5): one or two lines in `console.error` and `Deno.inspect`.
import assert from "node:assert/strict";
import { ConfigError, ConnectionError, FederationError, TimeoutError } from "../../packages/core/errors.ts";
import { freePort } from "../_support/ports.ts";

async function socketErrorEvent(): Promise<Event> {
  const socket = new WebSocket(`ws://127.0.0.1:${freePort()}`); // nothing listens: a DOM ErrorEvent
  return await new Promise<Event>((resolve) => socket.onerror = resolve);
}

Deno.test("Deno.inspect(FederationError) is two lines: code, message, member, channel, then the causes summarised", async () => {
  const event = await socketErrorEvent();
  const error = new ConnectionError("Cannot reach server 'a'", {
    serverId: "a",
    channel: "control",
    cause: new TypeError("error sending request", { cause: event }),
  });
  const text = Deno.inspect(error);
  const lines = text.split("\n");
  assert.equal(lines.length, 2, text);
  assert.equal(
    lines[0],
    "ConnectionError [ERR_CONNECTION_FAILED]: Cannot reach server 'a' (serverId: a, channel: control)",
  );
  assert.match(lines[1]!, /^ {2}caused by: TypeError: error sending request ← ErrorEvent 'error'/);
  assert.ok(!text.includes("WebSocket {"), "the event's target is not dumped");
  assert.ok(!text.includes("    at "), "no stack frames");
});

Deno.test("Deno.inspect(FederationError) without a cause is one line with the subclass's own fields", () => {
  assert.equal(
    Deno.inspect(new TimeoutError("Call to 'a' timed out (timeout: 5ms)", { serverId: "a", timeoutMs: 5 })),
    "TimeoutError [ERR_TIMEOUT]: Call to 'a' timed out (timeout: 5ms) (serverId: a, timeoutMs: 5)",
  );
  assert.equal(
    Deno.inspect(new ConfigError("Invalid serverId", { field: "serverId" })),
    "ConfigError [ERR_CONFIG_INVALID]: Invalid serverId (field: serverId)",
  );
});

Deno.test("Deno.inspect(FederationError) bounds a long cause chain and a cycle", () => {
  let cause: Error = new Error("root");
  for (let i = 0; i < 6; i++) cause = new Error(`level ${i}`, { cause });
  const deep = Deno.inspect(new FederationError("ERR_PROTOCOL", "Deep", { cause }));
  assert.equal(deep.split("\n").length, 2);
  assert.match(deep, /level 5 ← Error: level 4 ← Error: level 3 ← …$/);
  const a = new Error("a");
  const b = new Error("b", { cause: a });
  (a as { cause?: unknown }).cause = b;
  const cyclic = Deno.inspect(new FederationError("ERR_PROTOCOL", "Cycle", { cause: a }));
  assert.equal(cyclic, "FederationError [ERR_PROTOCOL]: Cycle\n  caused by: Error: a ← Error: b");
});

Deno.test("console.error('…', FederationError) prints at most two lines in a real process", async () => {
  const errors = new URL("../../packages/core/errors.ts", import.meta.url).href;
  const source = `import { ConnectionError } from ${JSON.stringify(errors)};
    const cause = new TypeError("error sending request", { cause: new ErrorEvent("error", { message: "tcp connect error" }) });
    console.error("Federation failed:", new ConnectionError("Cannot reach server 'a'", { serverId: "a", channel: "data", cause }));`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", source],
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stderr).trimEnd();
  assert.equal(output.code, 0, text);
  assert.deepEqual(text.split("\n"), [
    "Federation failed: ConnectionError [ERR_CONNECTION_FAILED]: Cannot reach server 'a' (serverId: a, channel: data)",
    "  caused by: TypeError: error sending request ← ErrorEvent 'error': tcp connect error",
  ]);
});

Deno.test("FederationError keeps its stack and message for programs that read them", () => {
  const error = new ConnectionError("Cannot reach server 'a'", { serverId: "a" });
  assert.equal(error.message, "Cannot reach server 'a'");
  assert.match(error.stack ?? "", /errors_inspect_test\.ts/);
  assert.equal(String(error), "ConnectionError: Cannot reach server 'a'");
});
