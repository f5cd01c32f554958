// Internal: a member's report becomes one typed event (`events.ts`) and, for state changes and errors, one log
// line (warn for trouble, debug otherwise); and the proxy's events become the `status()` stream.
import { AsyncQueue } from "../core/_async_queue.ts";
import { FederationError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { MemberEventInit } from "./_member.ts";
import {
  type FederationEvent,
  type FederationEventMap,
  type FederationEventType,
  MemberErrorEvent,
  MemberNotificationEvent,
  type MemberState,
  MemberStateEvent,
  type StatusEvent,
} from "./events.ts";

/** The event types `status()` yields (a member's state changes and its errors). */
export const STATUS_TYPES = [
  "connecting",
  "connected",
  "degraded",
  "reconnecting",
  "disconnected",
  "closed",
  "error",
] as const satisfies readonly (keyof FederationEventMap)[];

/** The typed event of a member's report, logged unless it is a notification. */
export function memberEvent(logger: Logger, type: FederationEventType, init: MemberEventInit): FederationEvent {
  const { serverId, channel, cause } = init;
  if (type === "notification") {
    return new MemberNotificationEvent({
      serverId,
      channel: channel ?? "control",
      method: init.method ?? "",
      params: init.params,
    });
  }
  const level = type === "error" || type === "reconnecting" || type === "disconnected" ? "warn" : "debug";
  const data: Record<string, unknown> = { serverId };
  if (channel) data.channel = channel;
  if (cause) data.cause = cause instanceof FederationError ? cause.code : cause.name;
  logger[level](`Server '${serverId}' ${type}${cause ? `: ${cause.message}` : ""}`, data);
  return type === "error"
    ? new MemberErrorEvent({ serverId, channel, cause: cause ?? new Error("Unknown error") })
    : new MemberStateEvent(type as MemberState, { serverId, channel, cause, era: init.era });
}

/** What {@link statusEvents} listens on. */
interface StatusTarget {
  addEventListener(type: (typeof STATUS_TYPES)[number], listener: (event: StatusEvent) => void): void;
  removeEventListener(type: (typeof STATUS_TYPES)[number], listener: (event: StatusEvent) => void): void;
}

/** Every state change and error from now on, until `closed` resolves (what is queued is still delivered). */
export async function* statusEvents(
  target: StatusTarget,
  closed: Promise<void>,
  signal: AbortSignal | undefined,
): AsyncGenerator<StatusEvent, void, undefined> {
  const queue = new AsyncQueue<StatusEvent>({ signal });
  const onEvent = (event: StatusEvent) => queue.push(event);
  for (const type of STATUS_TYPES) target.addEventListener(type, onEvent);
  void closed.then(() => queue.end());
  try {
    yield* queue;
  } finally {
    for (const type of STATUS_TYPES) target.removeEventListener(type, onEvent);
  }
}
