import assert from "node:assert/strict";
import { MAY_HAVE_RUN, runLoad } from "./_load.ts";

const soakSeconds = Number(Deno.env.get("SOAK_SECONDS") ?? "0");

Deno.test({
  name:
    "Load: 10 members, 10,000 calls, 200 in flight, members restarted at random: every call settles once, none runs twice",
  ignore: soakSeconds > 0,
}, async () => {
  const report = await runLoad({
    members: 10,
    calls: 10_000,
    concurrency: 200,
    restartEvery: 100,
    maxRestarting: 3,
    echoShare: 0.1,
  });
  console.log(
    `load: ${report.calls} calls in ${(report.ms / 1000).toFixed(1)} s, ${report.ok} ok, errors ${
      JSON.stringify(report.errors)
    }, ${report.restarts} restarts, ${report.executed} executed, ${report.duplicates} duplicated, ran though failed ${
      JSON.stringify(report.ranThoughFailed)
    }`,
  );
  assert.equal(report.calls, 10_000);
  const errorCount = Object.values(report.errors).reduce((a, b) => a + b, 0);
  assert.equal(report.ok + errorCount, 10_000, "result count + error count = calls");
  assert.equal(report.doubleSettled, 0);
  assert.deepEqual(report.untyped, [], "every error is a FederationError");
  assert.deepEqual(report.unhandled, [], "no unhandled rejection");
  assert.equal(report.duplicates, 0, "no call executed twice");
  assert.equal(report.okNotExecuted, 0, "every success ran");
  assert.equal(report.unknownExecuted, 0, "every execution belongs to a call");
  for (const kind of Object.keys(report.ranThoughFailed)) {
    assert.ok(MAY_HAVE_RUN.has(kind), `a call that failed with ${kind} had run at the member`);
  }
  // The precise bounds, in aggregate: executions ≥ successes, executions ≤ successes + ERR_CONNECTION_CLOSED.
  const recordOk = report.recordOk;
  assert.ok(report.executed >= recordOk, `${report.executed} executions < ${recordOk} successes`);
  assert.ok(report.executed <= recordOk + (report.recordErrors["ConnectionError:ERR_CONNECTION_CLOSED"] ?? 0));
  // Not vacuous: members did restart under load, calls did fail because of it, and most succeeded.
  assert.ok(report.restarts >= 5, `${report.restarts} restarts`);
  assert.ok(errorCount > 0);
  assert.ok(report.ok > 3_000, `${report.ok} ok`);
});

Deno.test({
  name: `Soak: the load run for SOAK_SECONDS (${soakSeconds} s): same guarantees, RSS reported, growth flattens`,
  ignore: soakSeconds <= 0,
}, async () => {
  const gc = (globalThis as { gc?: () => void }).gc; // with --v8-flags=--expose-gc (deno task soak)
  const samples: { at: number; settled: number; rss: number; heap: number }[] = [];
  const started = performance.now();
  const sample = (settled: number) => {
    gc?.();
    const memory = Deno.memoryUsage();
    const s = {
      at: (performance.now() - started) / 1000,
      settled,
      rss: memory.rss / 2 ** 20,
      heap: memory.heapUsed / 2 ** 20,
    };
    samples.push(s);
    console.log(
      `soak: t=${s.at.toFixed(0)} s, ${s.settled} calls settled, RSS ${s.rss.toFixed(1)} MiB, heap used ${
        s.heap.toFixed(1)
      } MiB${gc ? " (after GC)" : ""}`,
    );
  };
  sample(0);
  const report = await runLoad({
    members: 10,
    calls: Infinity,
    durationMs: soakSeconds * 1000,
    concurrency: 200,
    restartEvery: 100,
    maxRestarting: 3,
    echoShare: 0.1,
    onSample: sample,
    sampleEvery: 10_000,
  });
  sample(report.calls);
  const errorCount = Object.values(report.errors).reduce((a, b) => a + b, 0);
  console.log(
    `soak: ${report.calls} calls in ${(report.ms / 1000).toFixed(1)} s, ${report.ok} ok, errors ${
      JSON.stringify(report.errors)
    }, ${report.restarts} restarts, ${report.executed} executed, ${report.duplicates} duplicated`,
  );
  assert.equal(report.ok + errorCount, report.calls);
  assert.equal(report.doubleSettled, 0);
  assert.deepEqual(report.untyped, []);
  assert.deepEqual(report.unhandled, []);
  assert.equal(report.duplicates, 0);
  assert.equal(report.okNotExecuted, 0);
  assert.equal(report.unknownExecuted, 0);
  for (const kind of Object.keys(report.ranThoughFailed)) assert.ok(MAY_HAVE_RUN.has(kind), kind);
  // Growth flattens: the second half of the run adds less than the first half did (32 MiB of noise allowed), for
  // the live heap (measured after a full GC when available) and for RSS.
  const first = samples[0]!;
  const middle = samples[Math.floor(samples.length / 2)]!;
  const last = samples.at(-1)!;
  console.log(
    `soak: RSS start ${first.rss.toFixed(1)} MiB, middle ${middle.rss.toFixed(1)} MiB, end ${
      last.rss.toFixed(1)
    } MiB;` +
      ` heap used ${first.heap.toFixed(1)} / ${middle.heap.toFixed(1)} / ${last.heap.toFixed(1)} MiB`,
  );
  for (const key of ["heap", "rss"] as const) {
    assert.ok(last[key] - middle[key] <= Math.max(middle[key] - first[key], 0) + 32, `${key} keeps growing`);
  }
});
