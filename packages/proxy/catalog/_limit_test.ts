import assert from "node:assert/strict";
import { Limiter } from "./_limit.ts";

Deno.test("Limiter runs at most max tasks at once, in arrival order, and a failed task frees its place", async () => {
  const limiter = new Limiter(3);
  const gates: (() => void)[] = [];
  const started: number[] = [];
  let running = 0;
  let peak = 0;
  const results = Array.from({ length: 8 }, (_, i) =>
    limiter.run(async () => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      if (i === 1) throw new RangeError("task 1 fails");
      return i;
    }));
  const settled = Promise.allSettled(results);
  // Let the first ones start, then open the gates one by one.
  for (let opened = 0; opened < 8; opened++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.ok(limiter.active <= 3);
    gates.shift()!();
  }
  const outcomes = await settled;
  assert.equal(peak, 3);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(outcomes[1]!.status, "rejected");
  assert.deepEqual(
    outcomes.flatMap((o) => o.status === "fulfilled" ? [o.value] : []),
    [0, 2, 3, 4, 5, 6, 7],
  );
  assert.equal(limiter.active, 0);
});
