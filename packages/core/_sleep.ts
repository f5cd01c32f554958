// Internal: the one abortable sleep of the library. It resolves (never rejects) after `ms` or as soon as `signal`
// aborts, and leaves no timer behind, so a retry loop can `await sleep(…)` and then check `signal.aborted`. And the
// one bounded wait for work: `settledWithin`.

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

/** Waits until `work` settles, `ms` pass or `signal` aborts, whichever comes first; never rejects, leaves no timer. */
export async function settledWithin(work: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<void> {
  const settled = new AbortController();
  const waited = signal ? AbortSignal.any([signal, settled.signal]) : settled.signal;
  try {
    await Promise.race([work.catch(() => {}), sleep(ms, waited)]);
  } finally {
    settled.abort();
  }
}
