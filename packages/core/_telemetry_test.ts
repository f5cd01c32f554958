// Without a tracer provider (no `OTEL_DENO=true`), telemetry costs nothing: every entry hands back what it was given.
// With one, see tests/ops/otel_test.ts (three processes exporting to an OTLP receiver).
import assert from "node:assert/strict";
import {
  errorTypeOf,
  instrumentServer,
  metricName,
  outsideAnyTrace,
  sessionFingerprint,
  traceClientOperation,
  traceServerOperation,
  tracingOn,
  withTraceContext,
} from "./_telemetry.ts";
import { traced } from "../proxy/_requests.ts";
import type { RequestRunner } from "../proxy/request_runner.ts";
import { ProtocolError, ProtocolErrorCode } from "./_sdk.ts";
import { TimeoutError } from "./errors.ts";

Deno.test("telemetry is off in a process without a tracer provider", () => {
  assert.equal(tracingOn(), false);
});

Deno.test("withTraceContext() returns the very params without a tracer provider (a client's traceparent passes as is)", () => {
  const params = { name: "echo", _meta: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } };
  assert.equal(withTraceContext(params), params);
});

Deno.test("instrumentServer() leaves a server's connect untouched without a tracer provider", () => {
  const connect = () => Promise.resolve();
  const server = { connect };
  assert.equal(instrumentServer(server, { protocol: "http" }), server);
  assert.equal(server.connect, connect);
});

Deno.test("traced() hands back the runner itself without a tracer provider", () => {
  const run: RequestRunner<number> = () => Promise.resolve(1);
  assert.equal(traced({ serverId: "a", channels: {} }, "tools/call 'echo'", run), run);
});

Deno.test("traceServerOperation() and traceClientOperation() run the work as it is without a tracer provider", async () => {
  assert.equal(
    await traceServerOperation({ method: "tools/call", target: "a__echo" }, {}, () => Promise.resolve(7)),
    7,
  );
  await assert.rejects(
    traceClientOperation({ method: "tools/call" }, () => Promise.reject(new TimeoutError("Timed out"))),
    TimeoutError,
  );
  assert.equal(outsideAnyTrace(() => 3), 3);
});

Deno.test("errorTypeOf() gives a remote error's JSON-RPC code, else the local error's code or class", () => {
  assert.equal(errorTypeOf(new ProtocolError(ProtocolErrorCode.InvalidParams, "Bad")), "-32602");
  assert.equal(errorTypeOf({ rpcCode: -32601, code: "ERR_PROTOCOL" }), "-32601");
  assert.equal(errorTypeOf(new TimeoutError("Timed out")), "ERR_TIMEOUT");
  assert.equal(errorTypeOf(new RangeError("Out")), "RangeError");
  assert.equal(errorTypeOf("text"), "_OTHER");
});

Deno.test("sessionFingerprint() is a stable 64-bit hex fingerprint that does not contain the session id", () => {
  const id = "s1.Yj5fRvtXsndLAWaR0RQ8Bl4Y1XPYNnu2VOo7tmf6qrKD7nBkHmaa";
  assert.match(sessionFingerprint(id), /^[0-9a-f]{16}$/);
  assert.equal(sessionFingerprint(id), sessionFingerprint(id));
  assert.notEqual(sessionFingerprint(id), sessionFingerprint(`${id}x`));
  // FNV-1a 64 of the empty string is its offset basis.
  assert.equal(sessionFingerprint(""), "cbf29ce484222325");
});

Deno.test("metricName() lets 200 tool or prompt names into the histograms, then records the others as _OTHER", () => {
  for (let i = 0; i < 200; i++) assert.equal(metricName(`tool-${i}`), `tool-${i}`);
  assert.equal(metricName("tool-200"), "_OTHER");
  assert.equal(metricName("tool-7"), "tool-7");
});
