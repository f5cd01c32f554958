// Internal: a deadline as an AbortSignal whose timer is always cleared. `AbortSignal.timeout()` keeps Deno's event
// loop alive until it fires whenever a listener stays attached (the MCP SDK leaves one), which held processes open
// for the whole connect timeout after everything had closed.

/** A signal that aborts after `ms` or when `parent` aborts. Call `clear()` when done waiting. */
export interface TimeoutSignal {
  readonly signal: AbortSignal;
  /** Whether the deadline (not the parent) aborted it. */
  readonly expired: boolean;
  /** Stops the timer only: the signal still aborts with the parent. Idempotent. */
  disarm(): void;
  /** Stops the timer and detaches from the parent. Idempotent. */
  clear(): void;
}

/**
 * `ms` as a timer's delay: at most 2^31-1 ms (~24.8 days). A longer delay (`Infinity` included) would fire at once: the
 * global `setTimeout` takes it as 1 ms, with a warning.
 */
export function timerDelay(ms: number): number {
  return Math.min(Math.max(0, ms), 2 ** 31 - 1);
}

export function timeoutSignal(ms: number, parent?: AbortSignal): TimeoutSignal {
  const controller = new AbortController();
  let expired = false;
  const onParent = () => controller.abort(parent?.reason);
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`Timed out after ${ms}ms`, "TimeoutError"));
  }, timerDelay(ms));
  if (parent?.aborted) onParent();
  else parent?.addEventListener("abort", onParent, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    disarm() {
      clearTimeout(timer);
    },
    clear() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParent);
    },
  };
}
