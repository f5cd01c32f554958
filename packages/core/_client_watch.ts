// Internal: whether the client of an HTTP request has gone away, for a request that may run long. Deno builds a
// `DOMException` (stack and all) for every finished request whose `signal` was ever read (~45 µs per request), so a
// request that ends within the window never reads it: its client is watched only once the window has passed, and a
// client gone earlier is noticed then.
import type { TimeWindows } from "./_time_windows.ts";

/** The watch of one request's client. */
export interface ClientWatch {
  /** Aborted once the client is seen gone. */
  signal: AbortSignal;
  /** Ends the watch (the request is answered). */
  stop: () => void;
  /** Aborts `signal` as if the client had gone (its endpoint is closing). */
  cancel: () => void;
}

/**
 * Watches `request`'s client once a window of `windows` has passed.
 *
 * @param request The HTTP request.
 * @param windows How long the request runs before its signal is read.
 */
export function watchClient(request: Request, windows: TimeWindows): ClientWatch {
  const gone = new AbortController();
  const stop = windows.open(() => {
    const signal = request.signal;
    if (signal.aborted) gone.abort(signal.reason);
    else signal.addEventListener("abort", () => gone.abort(signal.reason), { once: true, signal: gone.signal });
  });
  return { signal: gone.signal, stop, cancel: () => gone.abort() };
}
