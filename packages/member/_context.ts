// Internal: what both endpoints of a member share.

import type { Logger } from "../core/logger.ts";
import type { AuthGuard } from "./_auth_guard.ts";
import type { InflightCounter } from "./_inflight.ts";
import type { SessionInfo, SessionServer } from "./types.ts";

/** Settings and shared state handed to each endpoint. */
export interface EndpointContext {
  serverId: string;
  factory: (session: SessionInfo) => SessionServer;
  guard: AuthGuard;
  logger: Logger;
  maxMessageBytes: number;
  maxSessions: number;
  idleTimeout: number;
  now: () => number;
  inflight: InflightCounter;
  draining: () => boolean;
  /** Refuse calls (tools/call, resources/read, prompts/get, completion/complete) made without a user identity. */
  requireUserIdentity: boolean;
  /** Whether the member serves a control channel (its servers then advertise the control channel extension). */
  controlChannel: boolean;
}

/** Resolves after `ms`, or at once when `promise` settles first; never leaves a timer behind. */
export async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.then(() => {}, () => {}),
    new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}
