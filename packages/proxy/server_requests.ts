/**
 * Server-to-client requests and log messages: a member asks the proxy's side (sampling, elicitation, roots) or
 * logs, during a call or outside any.
 *
 * What a member sends during a call goes to that call's own handlers (`CallOptions.onrequest`, `CallOptions.onlog`):
 * the relation to the call is established by the channel (the call's own response stream on Streamable HTTP, the
 * call's id in `_meta` on the control channel). `FederationProxy.onServerRequest` answers only requests related to
 * no call, and those of calls made without `onrequest`; a request that names a call no longer in progress is refused.
 *
 * @example Answer `roots/list` for every member
 * ```ts
 * import type { ServerRequestHandler } from "@federated-mcp/federation/proxy";
 *
 * const onServerRequest: ServerRequestHandler = (request) => {
 *   if (request.method === "roots/list") return Promise.resolve({ roots: [] });
 *   return Promise.reject(new Error(`Unsupported request ${request.method}`));
 * };
 * console.log(typeof onServerRequest);
 * ```
 * @module
 */

/** A request a member sent to the proxy. */
export interface ServerRequest {
  /** The member that sent it. */
  serverId: string;
  /** JSON-RPC method, e.g. `sampling/createMessage`, `elicitation/create`, `roots/list`. */
  method: string;
  /** Its params. */
  params: Record<string, unknown> | undefined;
  /** Aborted when the member cancels the request or disconnects. */
  signal: AbortSignal;
}

/** Answers a member's request with a result, or rejects (the member then gets a JSON-RPC error). */
export type ServerRequestHandler = (request: ServerRequest) => Promise<Record<string, unknown>>;

/** A log message (`notifications/message`) a member sent during a call. */
export interface ServerLogMessage {
  /** The member that sent it. */
  serverId: string;
  /** Its level (`debug` … `emergency`). */
  level: string;
  /** The member's logger name, if any. */
  logger?: string | undefined;
  /** The logged data. */
  data: unknown;
}

/** Receives the log messages a member sends during one call. */
export type ServerLogHandler = (message: ServerLogMessage) => void;
