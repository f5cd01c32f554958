/**
 * Options of one call to a member.
 *
 * @example
 * ```ts ignore
 * const controller = new AbortController();
 * await proxy.callTool("server-1", "echo", { text: "hi" }, {
 *   signal: controller.signal,
 *   timeout: 5_000,
 *   onprogress: (p) => console.log(p.progress, p.total),
 * });
 * ```
 * @module
 */

import type { Channel } from "../core/errors.ts";

/** A progress notification's numbers. */
export interface Progress {
  /** Progress so far. */
  progress: number;
  /** Total, if known. */
  total?: number | undefined;
  /** A human-readable message, if any. */
  message?: string | undefined;
}

/** Options of a call. */
export interface CallOptions {
  /** Cancels the call: the member gets `notifications/cancelled` and the call rejects with `CancelledError`. */
  signal?: AbortSignal | undefined;
  /** Per-call timeout in ms; progress resets it. @default {the proxy's requestTimeout} */
  timeout?: number | undefined;
  /** Receives the member's progress notifications (the progress token is set for you). */
  onprogress?: ((progress: Progress) => void) | undefined;
  /** Force a channel instead of the routing policy (still fails over when it is down). */
  channel?: Channel | undefined;
  /**
   * Whether a retry on the other channel is safe if the first one drops mid-call. Read-only requests always are;
   * for tools, defaults to the tool's `readOnlyHint`/`idempotentHint` annotations as last listed.
   */
  idempotent?: boolean | undefined;
}
