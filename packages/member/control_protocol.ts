/**
 * The federation's own messages on a member's control channel, next to MCP: token renewal, and the JSON-RPC error
 * codes a member answers with.
 *
 * A control connection never outlives its token. Before the token expires the proxy sends, on the open socket, a
 * JSON-RPC request `{"jsonrpc":"2.0","id":7,"method":"federation/renewToken","params":{"token":"<new JWT>"}}`.
 * The member handles it before its MCP server sees it: it verifies the new token exactly like the one of the
 * upgrade (signature with the pinned algorithm, `exp`, `aud` = serverId, `iss` when configured) and requires the
 * same `sub` and `iss` as the connection's first token. It answers `{"jsonrpc":"2.0","id":7,"result":
 * {"expiresAt":1767225600}}` and moves the connection's deadline to the new `exp`, or answers the error
 * {@link MemberRpcErrorCode.RENEWAL_REFUSED} (`"Token renewal refused: ERR_AUTH_EXPIRED"`, …) and keeps the old
 * deadline. When the deadline passes the member closes the socket with `CloseCode.TOKEN_EXPIRED` (4001).
 *
 * What a member sends during a call (a request such as `elicitation/create`, `sampling/createMessage`,
 * `roots/list`, or a notification such as `notifications/message`) names the call: the member's transport puts the
 * call's JSON-RPC id under `_meta["io.github.federated-mcp/related-request"]` (`RELATED_REQUEST_META_KEY` of the
 * core package) whenever the MCP server sends it with `relatedRequestId`, as the SDK does for `ctx.mcpReq.send`
 * and `ctx.mcpReq.notify` in a request handler. The proxy routes such a message to the client that made that
 * call only, and refuses a request that names no call in progress.
 *
 * A call made on behalf of a user carries that user's own token (minted by the proxy: `sub` = the user, `act.sub` =
 * the proxy) under `_meta["io.github.federated-mcp/user-token"]` ({@link USER_TOKEN_META_KEY}) of its request, since
 * the socket was authenticated once for the proxy. The member verifies it like any token, requires its actor to be
 * the connection's own subject and issuer, removes it from the request, and hands the user to the handler as
 * `ctx.http.authInfo`. A refused user token fails that request only (error -32001); messages keep their order.
 *
 * @example Renew the token of a control connection with the SDK client
 * ```ts ignore
 * import { Client } from "npm:@modelcontextprotocol/client@2.4.0";
 * import { z } from "npm:zod@4";
 * import { RENEW_TOKEN_METHOD } from "@federated-mcp/federation/member";
 *
 * declare const client: Client; // connected over a WebSocketTransport
 * declare const freshToken: string;
 * const { expiresAt } = await client.request(
 *   { method: RENEW_TOKEN_METHOD, params: { token: freshToken } },
 *   z.object({ expiresAt: z.number() }),
 * );
 * console.log(new Date(expiresAt * 1000));
 * ```
 * @module
 */

/** `_meta` key of the user token a request on the control channel carries when made on a user's behalf. */
export const USER_TOKEN_META_KEY = "io.github.federated-mcp/user-token";

/** JSON-RPC method of a token renewal on the control channel. */
export const RENEW_TOKEN_METHOD = "federation/renewToken";

/** `params` of a {@link RENEW_TOKEN_METHOD} request. */
export interface RenewTokenParams {
  /** The new compact JWT: same `sub` (and `iss`) as the connection's token, `aud` = the member's serverId. */
  token: string;
}

/** `result` of a successful {@link RENEW_TOKEN_METHOD} request. */
export interface RenewTokenResult {
  /** The connection's new deadline: the new token's `exp`, in seconds since the epoch. */
  expiresAt: number;
}

/**
 * JSON-RPC error codes a member sends on its control channel, besides MCP's own.
 *
 * @example
 * ```ts
 * import { MemberRpcErrorCode } from "@federated-mcp/federation/member";
 *
 * const reply = { jsonrpc: "2.0", id: 1, error: { code: -32002, message: "Token renewal refused: ERR_AUTH_EXPIRED" } };
 * if (reply.error.code === MemberRpcErrorCode.RENEWAL_REFUSED) console.log("renewal refused");
 * ```
 */
export const MemberRpcErrorCode: {
  /** A {@link RENEW_TOKEN_METHOD} request was refused; the message ends with the `AuthenticationError` code. */
  readonly RENEWAL_REFUSED: -32002;
  /** The member is draining and accepts no new request; retry on another channel or later. */
  readonly DRAINING: -32003;
} = { RENEWAL_REFUSED: -32002, DRAINING: -32003 };
