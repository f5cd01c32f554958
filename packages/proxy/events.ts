/**
 * Status events of a {@link FederationProxy}: every change of a member's state, in order, its failures, and the
 * notifications it sends. One class per kind, keyed on `type` ({@link FederationEventMap}), so a listener gets the
 * fields of its kind without `!`.
 *
 * @example Follow a member's state
 * ```ts ignore
 * proxy.addEventListener("reconnecting", (event) => {
 *   console.log(event.serverId, event.channel, event.cause?.message);
 * });
 * proxy.addEventListener("notification", (event) => console.log(event.method, event.params));
 * for await (const event of proxy.status()) console.log(event.type, event.serverId);
 * ```
 * @module
 */

import type { Channel } from "../core/errors.ts";
import type { MemberEra } from "./status.ts";

/** A member's overall state. */
export type MemberState = "connecting" | "connected" | "degraded" | "reconnecting" | "disconnected" | "closed";

/** Types of status events: the states, plus `error` (something failed without changing the state) and `notification`. */
export type FederationEventType = MemberState | "error" | "notification";

/** Fields every {@link FederationEvent} has. */
export interface FederationEventInit {
  /** The member concerned. */
  serverId: string;
  /** The channel concerned, if one. */
  channel?: Channel | undefined;
}

/** Fields of a {@link MemberStateEvent}. */
export interface MemberStateEventInit extends FederationEventInit {
  /** Why it happened, if known. */
  cause?: Error | undefined;
  /** The member's protocol era then (as its latest connection found it), if known. */
  era?: MemberEra | undefined;
}

/** Fields of a {@link MemberErrorEvent}. */
export interface MemberErrorEventInit extends FederationEventInit {
  /** What failed. */
  cause: Error;
}

/** Fields of a {@link MemberNotificationEvent}. */
export interface MemberNotificationEventInit extends FederationEventInit {
  /** The channel it came on. */
  channel: Channel;
  /** The MCP notification's method. */
  method: string;
  /** Its params. */
  params?: Record<string, unknown> | undefined;
}

/**
 * What every event of a {@link FederationProxy} has: the member, the channel (if one) and the time. The concrete
 * kinds are {@link MemberStateEvent}, {@link MemberErrorEvent} and {@link MemberNotificationEvent}.
 *
 * @example Narrow on `type`
 * ```ts
 * import { type FederationEventMap, MemberStateEvent } from "@federated-mcp/federation/proxy";
 *
 * function describe(event: FederationEventMap[keyof FederationEventMap]): string {
 *   if (event.type === "notification") return `${event.serverId} sent ${event.method}`;
 *   return `${event.serverId} ${event.type}${event.cause ? `: ${event.cause.message}` : ""}`;
 * }
 * console.log(describe(new MemberStateEvent("degraded", { serverId: "a", channel: "control" })));
 * ```
 */
export class FederationEvent extends Event {
  /** The member concerned. */
  readonly serverId: string;
  /** The channel concerned, if one. */
  readonly channel: Channel | undefined;
  /** When it happened (ms since the epoch). */
  readonly at: number;

  /**
   * Creates the common part of an event (use a concrete kind).
   *
   * @param type The event type.
   * @param init Member and channel.
   */
  protected constructor(type: FederationEventType, init: FederationEventInit) {
    super(type);
    this.serverId = init.serverId;
    this.channel = init.channel;
    this.at = Date.now();
  }

  /** The event type, narrowed. */
  override get type(): FederationEventType {
    return super.type as FederationEventType;
  }
}

/**
 * A member entered a state (`connecting`, `connected`, `degraded`, `reconnecting`, `disconnected`, `closed`).
 *
 * @example
 * ```ts
 * import { MemberStateEvent } from "@federated-mcp/federation/proxy";
 *
 * const event = new MemberStateEvent("degraded", { serverId: "a", channel: "control" });
 * console.log(event.type, event.serverId, event.channel);
 * ```
 */
export class MemberStateEvent extends FederationEvent {
  /** Why it happened, if known. */
  readonly cause: Error | undefined;
  /**
   * The member's protocol era then (`"modern"`: 2026-07-28, `"legacy"`: 2025-11-25), as its latest connection found
   * it: a `connected` event after a member restarted as the other era carries its new era.
   */
  readonly era: MemberEra | undefined;

  /**
   * Creates the event.
   *
   * @param type The state entered.
   * @param init Member, channel, cause.
   */
  constructor(type: MemberState, init: MemberStateEventInit) {
    super(type, init);
    this.cause = init.cause;
    this.era = init.era;
  }

  /** The state entered. */
  override get type(): MemberState {
    return super.type as MemberState;
  }
}

/**
 * Something failed without changing the member's state (a reconnection attempt, a refused registration).
 *
 * @example
 * ```ts
 * import { MemberErrorEvent } from "@federated-mcp/federation/proxy";
 *
 * const event = new MemberErrorEvent({ serverId: "a", cause: new Error("Refused") });
 * console.log(event.type, event.cause.message);
 * ```
 */
export class MemberErrorEvent extends FederationEvent {
  /** What failed. */
  readonly cause: Error;

  /**
   * Creates the event.
   *
   * @param init Member, channel, cause.
   */
  constructor(init: MemberErrorEventInit) {
    super("error", init);
    this.cause = init.cause;
  }

  /** Always `error`. */
  override get type(): "error" {
    return "error";
  }
}

/**
 * A member sent a notification that the proxy does not handle itself (`*\/list_changed`, `resources/updated`,
 * `notifications/message`, …).
 *
 * @example
 * ```ts
 * import { MemberNotificationEvent } from "@federated-mcp/federation/proxy";
 *
 * const event = new MemberNotificationEvent({
 *   serverId: "a",
 *   channel: "control",
 *   method: "notifications/tools/list_changed",
 * });
 * console.log(event.type, event.method);
 * ```
 */
export class MemberNotificationEvent extends FederationEvent {
  /** The channel it came on. */
  declare readonly channel: Channel;
  /** The MCP notification's method. */
  readonly method: string;
  /** Its params. */
  readonly params: Record<string, unknown> | undefined;

  /**
   * Creates the event.
   *
   * @param init Member, channel, method, params.
   */
  constructor(init: MemberNotificationEventInit) {
    super("notification", init);
    this.method = init.method;
    this.params = init.params;
  }

  /** Always `notification`. */
  override get type(): "notification" {
    return "notification";
  }
}

/** Each event type with its event class: what a listener of that type receives. */
export interface FederationEventMap {
  /** Registration started. */
  connecting: MemberStateEvent;
  /** Every offered channel is up. */
  connected: MemberStateEvent;
  /** One channel is down; the member is usable on the other. */
  degraded: MemberStateEvent;
  /** No channel is up; reconnection is scheduled. */
  reconnecting: MemberStateEvent;
  /** No channel is up and none will be retried. */
  disconnected: MemberStateEvent;
  /** Removed, or the proxy closed. */
  closed: MemberStateEvent;
  /** A failure that did not change the state. */
  error: MemberErrorEvent;
  /** A notification from the member. */
  notification: MemberNotificationEvent;
}

/** The events `FederationProxy.status()` yields: state changes and errors, a union keyed on `type`. */
export type StatusEvent = MemberStateEvent | MemberErrorEvent;
