/**
 * An abortable sleep for test tools: resolves after `ms`, rejects with the signal's reason when it aborts.
 *
 * @module
 */

/** Waits `ms` milliseconds unless `signal` aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
