/**
 * Where every retry delay in the library is decided: a {@link BackoffPolicy} (plain data) and
 * {@link backoffDelay}, exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
 * Jitter"). Every retry loop of the library computes its delays here, each with its own policy (plain data):
 * member channels ({@link DEFAULT_BACKOFF}, overridable by `FederationProxyOptions.backoff`), the gateway's start-up
 * registration (`REGISTER_BACKOFF` in `gateway/_register_members.ts`: 1 s to 30 s, floor 100 ms), the cluster's
 * member sync (`SYNC_BACKOFF` in `cluster/member_sync.ts`: 250 ms to 30 s, floor 10 ms) and the Redis store's
 * reconnection (`REDIS_BACKOFF` in `cluster/redis_store.ts`: 100 ms to 5 s, floor 10 ms).
 *
 * @example The delay before the third attempt
 * ```ts
 * import { backoffDelay, DEFAULT_BACKOFF } from "@federated-mcp/federation/core";
 *
 * const delay = backoffDelay(DEFAULT_BACKOFF, 2, () => 0.5);
 * console.log(delay); // 500: half of min(5000, 250 · 2²)
 * ```
 * @module
 */

/** When to retry after a failure. Every field has a documented default ({@link DEFAULT_BACKOFF}). */
export interface BackoffPolicy {
  /** First delay cap, in ms. @default {250} */
  initialDelay: number;
  /**
   * Largest delay, in ms. Member channels also probe a vanished member between attempts (`probeInterval`), so a
   * long cap no longer delays its pick-up. @default {5000}
   */
  maxDelay: number;
  /** Growth factor per attempt. @default {2} */
  multiplier: number;
  /** Attempts before giving up (`Infinity`: never). @default {Infinity} */
  maxAttempts: number;
  /** Uptime after which the attempt count resets, in ms. @default {1000} */
  resetAfter: number;
  /** Smallest delay, in ms: full jitter never draws below it. @default {0} */
  minDelay?: number;
  /**
   * Member channels, the gateway's start-up registration and the cluster's member sync: while waiting to retry a
   * member that was not listening, how often to ask the member's `/healthz` (no token); the first answer starts the
   * next attempt at once. `0` turns probing off.
   * @default {200}
   */
  probeInterval?: number;
}

/** The default {@link BackoffPolicy}. */
export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  initialDelay: 250,
  maxDelay: 5_000,
  multiplier: 2,
  maxAttempts: Infinity,
  resetAfter: 1_000,
  minDelay: 0,
  probeInterval: 200,
});

/**
 * The delay before retry `attempt` (0-based): uniform in [minDelay, max(minDelay, min(maxDelay,
 * initialDelay · multiplier^attempt))].
 *
 * @param policy The policy.
 * @param attempt How many attempts have failed before this one (0 for the first retry).
 * @param random A source of uniform numbers in [0, 1) (tests pass a fixed one).
 * @returns The delay in whole milliseconds.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "@federated-mcp/federation/core";
 *
 * const policy = { initialDelay: 100, maxDelay: 5_000, multiplier: 2, maxAttempts: Infinity, resetAfter: 0 };
 * console.log(backoffDelay({ ...policy, minDelay: 10 }, 10, () => 0)); // 10
 * ```
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const floor = policy.minDelay ?? 0;
  const cap = Math.max(floor, Math.min(policy.maxDelay, policy.initialDelay * policy.multiplier ** attempt));
  return Math.floor(floor + random() * (cap - floor));
}
