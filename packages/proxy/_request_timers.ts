// Internal: one timer per connection for the SDK client's request timeouts. The SDK sets a Node-compatible
// `setTimeout` for every request and clears it on the answer (`Protocol._setupTimeout`, `_resetTimeout`,
// `_cleanupTimeout`): ~12-17 µs of each call's CPU in a busy gateway, where the timer almost never fires. Those three
// methods (private in the SDK's types; the SDK is pinned, `_sdk.ts`) are replaced on each client the proxy opens, with
// the same behaviour: a request's timeout, restarted by its progress when asked, bounded by its maximum total timeout.
// Two differences: the timer does not keep the process alive (a request in progress does, by its connection), and a
// timeout beyond a timer's range (`timerDelay`) no longer fires at once. The records the SDK reads itself stay where
// it reads them (`_timeoutInfo`: progress reads `resetTimeoutOnProgress`; closing clears them, and every request's own
// cleanup, which runs when it is settled, close included, removes its deadline).
import { type Client, SdkError, SdkErrorCode } from "../core/_sdk.ts";
import { timerDelay } from "../core/_timeout_signal.ts";

interface TimeoutInfo {
  timeoutId: undefined;
  startTime: number;
  timeout: number;
  maxTotalTimeout: number | undefined;
  resetTimeoutOnProgress: boolean;
  onTimeout: () => void;
}

/** The SDK `Protocol` members replaced (see the top of this file). */
interface ProtocolTimers {
  _timeoutInfo: Map<number, TimeoutInfo>;
  _setupTimeout(
    id: number,
    timeout: number,
    maxTotalTimeout: number | undefined,
    onTimeout: () => void,
    resetTimeoutOnProgress?: boolean,
  ): void;
  _resetTimeout(id: number): boolean;
  _cleanupTimeout(id: number): void;
}

interface Due {
  at: number;
  expire: () => void;
}

/**
 * Deadlines of any lengths kept by one timer, set for the earliest: it is set again only when a deadline comes before
 * it, or when it fires. Unreferenced: a request in progress keeps the process alive by its connection.
 */
export class Deadlines {
  #due = new Map<number, Due>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedAt = Infinity;

  /** Calls `expire` in `ms` from now unless {@link delete}d first; replaces `id`'s earlier deadline. */
  set(id: number, ms: number, expire: () => void): void {
    const at = performance.now() + ms;
    this.#due.set(id, { at, expire });
    if (at < this.#armedAt) this.#arm(at);
  }

  delete(id: number): void {
    this.#due.delete(id);
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedAt = at;
    // (A deadline beyond the timer's range re-arms it when it fires.)
    this.#timer = setTimeout(() => this.#fire(), timerDelay(at - performance.now()));
    Deno.unrefTimer(this.#timer);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = performance.now();
    for (const [id, due] of this.#due) {
      if (due.at > now) continue;
      this.#due.delete(id);
      try {
        due.expire();
      } catch {
        // The SDK's handler does not throw; one that did would lose only its own deadline.
      }
    }
    let next = Infinity;
    for (const due of this.#due.values()) next = Math.min(next, due.at);
    if (next < this.#armedAt) this.#arm(next);
  }
}

/**
 * Gives `client`'s requests one timer for all their timeouts (see the top of this file). A client without the SDK
 * members this replaces (another SDK version) is left as it is.
 */
export function shareRequestTimer(client: Client): void {
  const protocol = client as unknown as ProtocolTimers;
  if (
    !(protocol._timeoutInfo instanceof Map) || typeof protocol._setupTimeout !== "function" ||
    typeof protocol._resetTimeout !== "function" || typeof protocol._cleanupTimeout !== "function"
  ) {
    return;
  }
  const deadlines = new Deadlines();
  const info = protocol._timeoutInfo;
  protocol._setupTimeout = (id, timeout, maxTotalTimeout, onTimeout, resetTimeoutOnProgress = false) => {
    info.set(id, {
      timeoutId: undefined,
      startTime: Date.now(),
      timeout,
      maxTotalTimeout,
      resetTimeoutOnProgress,
      onTimeout,
    });
    deadlines.set(id, timeout, onTimeout);
  };
  protocol._resetTimeout = (id) => {
    const entry = info.get(id);
    if (!entry) return false;
    const totalElapsed = Date.now() - entry.startTime;
    if (entry.maxTotalTimeout && totalElapsed >= entry.maxTotalTimeout) {
      info.delete(id);
      deadlines.delete(id);
      throw new SdkError(SdkErrorCode.RequestTimeout, "Maximum total timeout exceeded", {
        maxTotalTimeout: entry.maxTotalTimeout,
        totalElapsed,
      });
    }
    deadlines.set(id, entry.timeout, entry.onTimeout);
    return true;
  };
  protocol._cleanupTimeout = (id) => {
    info.delete(id);
    deadlines.delete(id);
  };
}
