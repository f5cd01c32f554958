/**
 * Status of members as plain data: {@link ServerStatus} per member, {@link ChannelStatus} per channel.
 *
 * @example
 * ```ts ignore
 * const status = proxy.getServerStatus("server-1");
 * console.log(status?.state, status?.channels.control?.latencyMs);
 * ```
 * @module
 */

import type { FederationError } from "../core/errors.ts";
import type { Implementation, ServerCapabilities } from "../core/mcp_types.ts";
import type { MemberState } from "./events.ts";

/** State of one channel: `up`, `connecting` (first attempt or reconnecting), `down` (waiting to retry), `closed`. */
export type ChannelState = "connecting" | "up" | "down" | "closed";

/** One channel of one member. */
export interface ChannelStatus {
  /** The endpoint URL; for a stdio member `stdio:<command>` (without its arguments). */
  url: string;
  /** The channel's state. */
  state: ChannelState;
  /** Moving average of request and heartbeat latency, in ms. */
  latencyMs: number | undefined;
  /** Reconnection attempts since the channel was last stably up. */
  reconnectAttempts: number;
  /** The last failure on this channel. */
  lastError: FederationError | undefined;
  /** The process id while a stdio member's process runs (stdio channel only). */
  pid?: number | undefined;
}

/** One member. */
export interface ServerStatus {
  /** The member's id. */
  serverId: string;
  /** Overall state. */
  state: MemberState;
  /** Per-channel state (only the channels the member offers; a stdio member has `stdio` alone). */
  channels: { control?: ChannelStatus; data?: ChannelStatus; stdio?: ChannelStatus };
  /** What the member announced in `initialize`. */
  serverInfo: Implementation | undefined;
  /** The member's capabilities. */
  capabilities: ServerCapabilities | undefined;
  /** The last failure on any channel. */
  lastError: FederationError | undefined;
  /** Requests in flight. */
  inFlight: number;
}
