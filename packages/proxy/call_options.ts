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
 *
 * @example Answer what the member asks and logs during this call only
 * ```ts
 * import type { CallOptions } from "@federated-mcp/federation/proxy";
 *
 * // The member's tool asks for the caller's roots and logs while it runs: both reach this call's handlers and
 * // no other call's, even when other calls to the same member are in progress.
 * const options: CallOptions = {
 *   onrequest: (request) => {
 *     if (request.method === "roots/list") return Promise.resolve({ roots: [{ uri: "file:///home/alice" }] });
 *     return Promise.reject(new Error(`Unsupported request ${request.method}`));
 *   },
 *   onlog: (message) => console.log(`[${message.serverId}] ${message.level}:`, message.data),
 * };
 * console.log(typeof options.onrequest); // pass it to proxy.callTool("server-1", "scan", {}, options)
 * ```
 * @module
 */

import type { Channel } from "../core/errors.ts";
import type { ServerLogHandler, ServerRequestHandler } from "./server_requests.ts";

/** A progress notification's numbers. */
export interface Progress {
  /** Progress so far. */
  progress: number;
  /** Total, if known. */
  total?: number | undefined;
  /** A human-readable message, if any. */
  message?: string | undefined;
}

/**
 * The user a call is made for (a gateway client's token subject): the member gets a token of its own for that user
 * (`sub` = the user, `act.sub` = the proxy, `orig_iss` = the user's issuer), never one shared with other users.
 */
export interface CallIdentity {
  /** The user's subject (`sub` of the client's token). */
  sub: string;
  /** The user's issuer (`iss` of the client's token), sent to the member as `orig_iss`. */
  iss?: string | undefined;
}

/** Options of a call. */
export interface CallOptions {
  /** Cancels the call: the member gets `notifications/cancelled` and the call rejects with `CancelledError`. */
  signal?: AbortSignal | undefined;
  /**
   * Per-call timeout in ms, for the whole call: waking a member whose channels are down, opening a deferred
   * connection, re-opening a lost session and a retry on the other channel come out of it, never on top of it. Each
   * progress notification starts it again, and each round of a modern member's input requests has it whole (the
   * time a person takes to answer between rounds is not counted).
   * @default {the proxy's requestTimeout}
   */
  timeout?: number | undefined;
  /** Receives the member's progress notifications (the progress token is set for you). */
  onprogress?: ((progress: Progress) => void) | undefined;
  /**
   * Answers the requests the member sends during this call (`elicitation/create`, `sampling/createMessage`,
   * `roots/list`, …), and no other call's. Without it they go to `FederationProxy.onServerRequest`.
   */
  onrequest?: ServerRequestHandler | undefined;
  /**
   * Receives the log messages (`notifications/message`) the member sends during this call, and no other call's.
   * Without it they are dispatched as the proxy's `notification` events.
   */
  onlog?: ServerLogHandler | undefined;
  /**
   * Make the call on behalf of this user: it carries a short-lived token minted for the user (cached per user for
   * its lifetime): on the data channel as its HTTP request's `Authorization` header, on the control channel (one
   * WebSocket authenticated once, for the proxy) under `_meta["io.github.federated-mcp/user-token"]` of its request,
   * which members built with `serveMember` verify. The gateway sets it from each client's token subject.
   */
  onBehalfOf?: CallIdentity | undefined;
  /** Force a channel instead of the routing policy (still fails over when it is down). */
  channel?: Channel | undefined;
  /**
   * Return a modern member's `input_required` result as it is (from `callTool`, `getPrompt`, `readResource` and the
   * catalog's versions; check it with `isInputRequiredResult`) instead of fulfilling it: the caller gathers the input
   * and retries with `inputResponses` and `requestState`. Without it, the proxy answers the member's input requests
   * itself through `onrequest` (else `FederationProxy.onServerRequest`) and retries, up to 8 rounds; with neither (a
   * gateway serving the proxy sets `onServerRequest` to refuse everything: that counts as none), the member is told
   * that the caller has no client capabilities, and a member that needs input anyway fails the call with a
   * `ProtocolError` of `rpcCode` -32021 (a client capability is missing). A legacy member asks with server-to-client
   * requests instead, which go to the same handlers (a gateway's refuses them with -32600).
   */
  allowInputRequired?: boolean | undefined;
  /** The answers to a modern member's input requests, for a retry of an `input_required` round. */
  inputResponses?: Record<string, unknown> | undefined;
  /** The member's `requestState` of an `input_required` round, echoed on its retry. */
  requestState?: string | undefined;
  /**
   * Whether a retry on the other channel is safe if the first one drops mid-call. Read-only requests always are;
   * for tools, defaults to the tool's `readOnlyHint`/`idempotentHint` annotations as last listed.
   */
  idempotent?: boolean | undefined;
}
