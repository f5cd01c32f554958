import assert from "node:assert/strict";
import { timeoutSignal, timerDelay } from "./_timeout_signal.ts";
import { sleep } from "./_sleep.ts";

Deno.test("timeoutSignal: disarm stops the deadline only; the parent still aborts it", async () => {
  const parent = new AbortController();
  const deadline = timeoutSignal(30, parent.signal);
  deadline.disarm();
  await sleep(60);
  assert.equal(deadline.signal.aborted, false, "the disarmed deadline did not fire");
  assert.equal(deadline.expired, false);
  parent.abort("gave up");
  assert.equal(deadline.signal.aborted, true);
  assert.equal(deadline.signal.reason, "gave up");
  deadline.clear();
});

Deno.test("timeoutSignal: clear stops the deadline and detaches from the parent", async () => {
  const parent = new AbortController();
  const deadline = timeoutSignal(30, parent.signal);
  deadline.clear();
  await sleep(60);
  parent.abort();
  assert.equal(deadline.signal.aborted, false);
});

Deno.test("timeoutSignal: the deadline aborts it, marked expired", async () => {
  const deadline = timeoutSignal(10);
  await sleep(40);
  assert.equal(deadline.signal.aborted, true);
  assert.equal(deadline.expired, true);
  deadline.clear();
});

Deno.test("timeoutSignal: a deadline beyond a timer's range (Infinity included) does not expire at once", async () => {
  for (const ms of [Infinity, 3e9]) {
    const deadline = timeoutSignal(ms);
    await sleep(30);
    assert.equal(deadline.signal.aborted, false, `${ms}`);
    deadline.clear();
  }
  assert.equal(timerDelay(Infinity), 2 ** 31 - 1);
  assert.equal(timerDelay(-5), 0);
});
