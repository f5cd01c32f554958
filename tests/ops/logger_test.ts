// consoleLogger: timestamps in both formats, JSON mode, one line whatever the data (issue 17 §3).
import assert from "node:assert/strict";
import { ConnectionError } from "../../packages/core/errors.ts";
import { consoleLogger, formatLogLine } from "../../packages/core/logger.ts";

const T = Date.UTC(2026, 10, 27, 13, 4, 3, 123);

Deno.test("consoleLogger() text lines keep the [federated-mcp] form, data as key=value, one line each", () => {
  const lines: string[] = [];
  const logger = consoleLogger("info", { now: () => T, write: (line) => lines.push(line) });
  logger.debug("Hidden", {});
  logger.info("Member up", { serverId: "a", latencyMs: 1.5, ok: true, note: "two words" });
  logger.warn("Line\nbreak");
  assert.deepEqual(lines, [
    '[federated-mcp] info: Member up serverId=a latencyMs=1.5 ok=true note="two words"',
    "[federated-mcp] warn: Line\\nbreak",
  ]);
});

Deno.test("consoleLogger({ timestamps: true }) starts every text line with an ISO 8601 timestamp", () => {
  const lines: string[] = [];
  const logger = consoleLogger("debug", { timestamps: true, now: () => T, write: (line) => lines.push(line) });
  logger.debug("Probe", { path: "/readyz" });
  assert.deepEqual(lines, ["2026-11-27T13:04:03.123Z [federated-mcp] debug: Probe path=/readyz"]);
});

Deno.test("consoleLogger() JSON lines parse, carry time, level and msg, and never shadow them with data", () => {
  const lines: string[] = [];
  const logger = consoleLogger("debug", { format: "json", now: () => T, write: (line) => lines.push(line) });
  logger.debug("Call", { method: "tools/call", level: "spoofed", nested: { a: [1, 2] } });
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: "2026-11-27T13:04:03.123Z",
    level: "debug",
    msg: "Call",
    method: "tools/call",
    "data.level": "spoofed",
    nested: { a: [1, 2] },
  });
});

Deno.test("consoleLogger() writes an Error in data as its name, code and message, on one line", () => {
  const error = new ConnectionError("Cannot reach 'a'", {
    serverId: "a",
    cause: new TypeError("multi\nline"),
  });
  const text = formatLogLine("text", { time: T, level: "error", message: "Failed", data: { error } });
  assert.equal(
    text,
    "[federated-mcp] error: Failed error=\"ConnectionError [ERR_CONNECTION_FAILED]: Cannot reach 'a'\"",
  );
  const json = JSON.parse(formatLogLine("json", { time: T, level: "error", message: "Failed", data: { error } }));
  assert.deepEqual(json.error, { name: "ConnectionError", code: "ERR_CONNECTION_FAILED", message: "Cannot reach 'a'" });
});

Deno.test("consoleLogger() survives data that JSON cannot encode", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const line = formatLogLine("json", { time: T, level: "info", message: "Odd", data: { cyclic, big: 10n } });
  assert.equal(line.split("\n").length, 1);
  assert.deepEqual(JSON.parse(line), {
    time: "2026-11-27T13:04:03.123Z",
    level: "info",
    msg: "Odd",
    cyclic: { self: "[Circular]" },
    big: "10",
  });
  const text = formatLogLine("text", { time: T, level: "info", message: "Odd", data: { big: 10n } });
  assert.equal(text, '[federated-mcp] info: Odd big="10"');
});
