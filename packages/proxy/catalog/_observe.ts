// Internal: the catalog's metrics tap. Every request the catalog makes to a member ends in one `request` event
// (method, outcome, duration, error), which the gateway's metrics count.
import type { FederationError } from "../../core/errors.ts";
import { toFederationError } from "../_errors.ts";
import { CatalogRequestEvent } from "./events.ts";

/** Awaits a request to a member and dispatches its `request` event on `target`, whatever the outcome. */
export async function observe<T>(
  target: EventTarget,
  serverId: string,
  method: string,
  promise: Promise<T>,
): Promise<T> {
  const started = performance.now();
  let error: FederationError | undefined;
  try {
    return await promise;
  } catch (raw) {
    error = toFederationError(raw, { serverId, channel: "data", what: method });
    throw raw;
  } finally {
    target.dispatchEvent(
      new CatalogRequestEvent({
        serverId,
        method,
        outcome: error === undefined ? "ok" : "error",
        durationMs: performance.now() - started,
        error,
      }),
    );
  }
}
