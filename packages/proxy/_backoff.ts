// Internal: exponential backoff with full jitter (AWS architecture blog's "Full Jitter").
import type { BackoffPolicy } from "./options.ts";

/** Delay before reconnection attempt `attempt` (0-based): uniform in [0, min(max, initial·multiplier^attempt)]. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelay, policy.initialDelay * policy.multiplier ** attempt);
  return Math.floor(random() * cap);
}
