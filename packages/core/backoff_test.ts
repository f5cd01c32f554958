import assert from "node:assert/strict";
import { backoffDelay, type BackoffPolicy, DEFAULT_BACKOFF } from "./backoff.ts";
import { REGISTER_BACKOFF } from "../gateway/_register_members.ts";

Deno.test("backoffDelay() draws uniformly between the floor and min(maxDelay, initialDelay · multiplier^attempt)", () => {
  const policy: BackoffPolicy = { ...DEFAULT_BACKOFF, initialDelay: 100, maxDelay: 1_000, minDelay: 10 };
  // random() = 0 gives the floor, random() → 1 the cap.
  assert.deepEqual([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(policy, a, () => 0)), [10, 10, 10, 10, 10, 10]);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 10].map((a) => backoffDelay(policy, a, () => 0.999_999)),
    [99, 199, 399, 799, 999, 999],
  );
  assert.equal(backoffDelay(policy, 2, () => 0.5), 205); // 10 + 0.5 · (400 − 10)
  // Without a floor, full jitter reaches 0.
  assert.equal(backoffDelay(DEFAULT_BACKOFF, 5, () => 0), 0);
  // A floor above the cap wins: the delay is the floor.
  assert.equal(backoffDelay({ ...policy, minDelay: 5_000 }, 0, () => 0.5), 5_000);
});

Deno.test("The gateway's start-up registration retries between 100 ms and 30 s (REGISTER_BACKOFF)", () => {
  assert.equal(backoffDelay(REGISTER_BACKOFF, 0, () => 0), 100);
  assert.equal(backoffDelay(REGISTER_BACKOFF, 0, () => 0.999_999), 999);
  assert.equal(backoffDelay(REGISTER_BACKOFF, 20, () => 0.999_999), 29_999);
});
