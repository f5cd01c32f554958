/**
 * Server-to-client requests: a member asks the proxy's side (sampling, elicitation, roots).
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
