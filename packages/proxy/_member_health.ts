// Internal: a member's upkeep timers: the heartbeat (control and stdio channels pinged every interval, the data
// channel only when idle) and the in-band token renewal on the control channel (make before break: when renewal
// fails, a new connection with a fresh token replaces the old one before the token expires).
import type { Logger } from "../core/logger.ts";
import type { MemberChannel } from "./_channel.ts";
import { toFederationError } from "./_errors.ts";
import type { TokenSource } from "./_token_source.ts";

/** What of its member the upkeep needs. */
export interface MemberHealthHost {
  serverId: string;
  tokens: TokenSource;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  logger: Logger;
  /** The member's channels. */
  channels: () => MemberChannel[];
  /** Its control channel, if it has one. */
  control: () => MemberChannel | undefined;
  /** Reconnects a channel (with a fresh token). */
  reconnect: (channel: MemberChannel) => Promise<void>;
  /** Reports a failure that changes no state. */
  emitError: (cause: unknown) => void;
}

/** The heartbeat and token-renewal timers of one member. */
export class MemberHealth {
  #host: MemberHealthHost;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(host: MemberHealthHost) {
    this.#host = host;
  }

  /** Pings the channels every `heartbeatInterval` until stopped. */
  startHeartbeat(): void {
    if (this.#stopped) return;
    this.#heartbeatTimer = setTimeout(async () => {
      const { heartbeatInterval, heartbeatTimeout } = this.#host;
      const idleSince = performance.now() - heartbeatInterval;
      await Promise.all(
        this.#host.channels().map((channel) =>
          // The control and stdio channels are pinged every interval; the data channel only when idle (requests prove
          // it alive).
          channel.kind !== "data" || channel.lastSuccess <= idleSince
            ? channel.heartbeat(heartbeatTimeout)
            : Promise.resolve()
        ),
      );
      this.startHeartbeat();
    }, this.#host.heartbeatInterval);
  }

  /** Schedules the next renewal at the current token's `renewAt` (a connect of the control channel calls it). */
  scheduleRenewal(): void {
    clearTimeout(this.#renewTimer);
    if (!this.#host.tokens.enabled || this.#stopped) return;
    this.#host.tokens.current().then((issued) => {
      if (!issued || this.#stopped) return;
      const delay = Math.max(0, issued.renewAt - Date.now());
      clearTimeout(this.#renewTimer);
      this.#renewTimer = setTimeout(() => void this.#renew(), delay);
    }, (error) => this.#host.emitError(error));
  }

  /** Cancels a scheduled renewal (the control channel went down). */
  cancelRenewal(): void {
    clearTimeout(this.#renewTimer);
  }

  /** Stops both timers for good (the member closes). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#heartbeatTimer);
    clearTimeout(this.#renewTimer);
  }

  async #renew(): Promise<void> {
    const channel = this.#host.control();
    if (!channel?.isUp || this.#stopped) return;
    try {
      const issued = await this.#host.tokens.fresh();
      await channel.renewToken(issued.token, { timeout: this.#host.heartbeatTimeout });
      this.scheduleRenewal();
    } catch (raw) {
      if (this.#stopped) return;
      const { serverId } = this.#host;
      const error = toFederationError(raw, { serverId, channel: "control", what: "token renewal" });
      this.#host.logger.debug("In-band token renewal failed, reconnecting before expiry", {
        serverId,
        code: error.code,
      });
      // Make before break: a new connection with the fresh token replaces the old one.
      await this.#host.reconnect(channel).catch((e) => this.#host.emitError(e));
    }
  }
}
