/**
 * Status events of a {@link FederationProxy}: every change of a member's state, in order.
 *
 * @example Follow a member's state
 * ```ts ignore
 * proxy.addEventListener("reconnecting", (event) => {
 *   console.log(event.serverId, event.channel, event.cause?.message);
 * });
 * for await (const event of proxy.status()) console.log(event.type, event.serverId);
 * ```
 * @module
 */

import type { Channel } from "../core/errors.ts";

/** A member's overall state. */
export type MemberState = "connecting" | "connected" | "degraded" | "reconnecting" | "disconnected" | "closed";

/** Types of status events: the states, plus `error` (something failed without changing the state) and `notification`. */
export type FederationEventType = MemberState | "error" | "notification";

/** Fields of a {@link FederationEvent}. */
export interface FederationEventInit {
  /** The member concerned. */
  serverId: string;
  /** The channel concerned, if one. */
  channel?: Channel | undefined;
  /** Why it happened, if known. */
  cause?: Error | undefined;
  /** For `notification`: the MCP notification's method. */
  method?: string | undefined;
  /** For `notification`: its params. */
  params?: Record<string, unknown> | undefined;
}

/**
 * One status change of one member (or one notification it sent).
 *
 * @example
 * ```ts
 * import { FederationEvent } from "@federated-mcp/federation/proxy";
 *
 * const event = new FederationEvent("degraded", { serverId: "a", channel: "control" });
 * console.log(event.type, event.serverId, event.channel);
 * ```
 */
export class FederationEvent extends Event {
  /** The member concerned. */
  readonly serverId: string;
  /** The channel concerned, if one. */
  readonly channel: Channel | undefined;
  /** Why it happened, if known. */
  readonly cause: Error | undefined;
  /** For `notification`: the method. */
  readonly method: string | undefined;
  /** For `notification`: the params. */
  readonly params: Record<string, unknown> | undefined;
  /** When it happened (ms since the epoch). */
  readonly at: number;

  /**
   * Creates the event.
   *
   * @param type The state entered, `error` or `notification`.
   * @param init Member, channel, cause.
   */
  constructor(type: FederationEventType, init: FederationEventInit) {
    super(type);
    this.serverId = init.serverId;
    this.channel = init.channel;
    this.cause = init.cause;
    this.method = init.method;
    this.params = init.params;
    this.at = Date.now();
  }

  /** The event type, narrowed. */
  override get type(): FederationEventType {
    return super.type as FederationEventType;
  }
}
