// Internal: the one abortable sleep of the library. It resolves (never rejects) after `ms` or as soon as `signal`
// aborts, and leaves no timer behind, so a retry loop can `await sleep(…)` and then check `signal.aborted`.

/** Waits `ms` milliseconds, or until `signal` aborts; always resolves. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
