import assert from "node:assert/strict";
import { ChannelLatency, LATENCY_WINDOW, LatencyWindow } from "./_latency.ts";

Deno.test("LatencyWindow: the median of the latest samples; one outlier does not move it", () => {
  const window = new LatencyWindow();
  assert.equal(window.median, undefined);
  window.add(4);
  assert.equal(window.median, 4);
  window.add(2);
  assert.equal(window.median, 3);
  window.add(1000);
  assert.equal(window.median, 4);
  assert.equal(window.size, 3);
});

Deno.test("LatencyWindow keeps only the latest LATENCY_WINDOW samples", () => {
  const window = new LatencyWindow();
  for (let i = 0; i < LATENCY_WINDOW; i++) window.add(100);
  for (let i = 0; i < LATENCY_WINDOW; i++) window.add(1);
  assert.equal(window.size, LATENCY_WINDOW);
  assert.equal(window.median, 1);
});

Deno.test("ChannelLatency: calls count in both estimates, heartbeats and verifications in the status's only", () => {
  const latency = new ChannelLatency();
  latency.addProbe(1);
  latency.addProbe(1);
  assert.equal(latency.calls.size, 0);
  assert.equal(latency.all.median, 1);
  latency.addCall(40);
  assert.equal(latency.calls.median, 40);
  assert.equal(latency.calls.latest, 40);
  assert.equal(latency.all.median, 1);
  assert.equal(latency.all.size, 3);
});
