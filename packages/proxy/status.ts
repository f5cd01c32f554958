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

/**
 * A member's protocol era: `"modern"` speaks MCP 2026-07-28 (stateless, `server/discover`, `_meta` envelope on every
 * request, input requests as `input_required` results), `"legacy"` speaks 2025-11-25 (`initialize`, sessions,
 * server-to-client requests). The SDK's own words.
 */
export type MemberEra = "modern" | "legacy";

/** State of one channel: `up`, `connecting` (first attempt or reconnecting), `down` (waiting to retry), `closed`. */
export type ChannelState = "connecting" | "up" | "down" | "closed";

/** One channel of one member. */
export interface ChannelStatus {
  /** The endpoint URL; for a stdio member `stdio:<command>` (without its arguments). */
  url: string;
  /** The channel's state. */
  state: ChannelState;
  /**
   * Present (`true`) while the channel is up without an open MCP connection: a data channel registered beside a
   * control channel is verified, not connected, at registration (one authenticated request showed that its endpoint
   * answers and accepts the token) and opens its connection on the first call it carries: a 2025-11-25 member's
   * session then (`initialize`), a 2026-07-28 member has none to open. A failure to open it marks the channel down
   * like any connection failure; the call goes to the other channel.
   */
  deferred?: true;
  /** Median of the latest request and heartbeat latencies of the current connection, in ms. */
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
  /**
   * The member's protocol era as last determined (at registration, then on every reconnection: a member restarted
   * as the other era is seen as it is now); `undefined` until a channel has connected.
   */
  era?: MemberEra | undefined;
  /** What the member announced in `initialize` (or `server/discover`). */
  serverInfo: Implementation | undefined;
  /** The member's capabilities. */
  capabilities: ServerCapabilities | undefined;
  /** The last failure on any channel. */
  lastError: FederationError | undefined;
  /** Requests in flight. */
  inFlight: number;
}
