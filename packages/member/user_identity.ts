/**
 * Which user a call to a member is made for. A federation proxy calling for a gateway client sends a token of that
 * user's own (`sub` = the user, `act: { sub: <the proxy> }` in the RFC 8693 style, `orig_iss` = the user's issuer),
 * and `serveMember` hands the tool, resource and prompt handlers its identity in `ctx.http.authInfo`;
 * {@link userIdentity} reads it. `requireUserIdentity: true` refuses calls made without one.
 *
 * @example A tool that answers who is calling
 * ```ts
 * import { McpServer } from "npm:@modelcontextprotocol/server@2.4.0";
 * import { userIdentity } from "@federated-mcp/federation/member";
 *
 * const server = new McpServer({ name: "who", version: "1.0.0" });
 * server.registerTool("whoami", { description: "The calling user" }, (ctx) => {
 *   const user = userIdentity(ctx);
 *   return { content: [{ type: "text", text: user ? `${user.sub} via ${user.actor}` : "nobody" }] };
 * });
 * console.log(userIdentity({}) === undefined); // true
 * ```
 * @module
 */

import { isRecord } from "../core/_json.ts";

/** The user a call is made for, as the member verified it. */
export interface UserIdentity {
  /** The user's subject (`sub` of the token). */
  sub: string;
  /** The user's own issuer (`orig_iss` of the token), when the proxy knew it. */
  iss: string | undefined;
  /** Who calls on the user's behalf (`act.sub`: the proxy's subject). */
  actor: string;
}

/** The key of {@link UserIdentity} in `authInfo.extra`. */
export const USER_IDENTITY_KEY = "io.github.federated-mcp/user";

/** The SDK's `authInfo`, as far as {@link userIdentity} reads it. */
export interface UserAuthInfo {
  /** What the member attached to the verified token ({@link USER_IDENTITY_KEY} among it). */
  extra?: Record<string, unknown> | undefined;
}

/** What {@link userIdentity} reads: a v2 request handler's `ctx` (`ctx.http.authInfo`), or a bare `{ authInfo }`. */
export interface UserIdentitySource {
  /** The HTTP (or control channel) details of the request: `ctx.http` of a v2 SDK handler. */
  http?: { authInfo?: UserAuthInfo | undefined } | undefined;
  /** The `authInfo` itself (the v1 SDK's `ctx.http.authInfo`). */
  authInfo?: UserAuthInfo | undefined;
}

/**
 * The user a request handler is called for, from its `ctx.http.authInfo`, or `undefined` when the call was made
 * under the proxy's own identity.
 *
 * @param ctx The handler's context (its `http.authInfo` is read; a plain `{ authInfo }` works too).
 * @returns The identity.
 * @example
 * ```ts
 * import { userIdentity } from "@federated-mcp/federation/member";
 *
 * const authInfo = { extra: { "io.github.federated-mcp/user": { sub: "alice", iss: undefined, actor: "proxy" } } };
 * console.log(userIdentity({ http: { authInfo } })?.sub); // alice
 * ```
 */
export function userIdentity(ctx: UserIdentitySource): UserIdentity | undefined {
  const value = (ctx?.http?.authInfo ?? ctx?.authInfo)?.extra?.[USER_IDENTITY_KEY];
  if (!isRecord(value) || typeof value.sub !== "string" || typeof value.actor !== "string") return undefined;
  return { sub: value.sub, iss: typeof value.iss === "string" ? value.iss : undefined, actor: value.actor };
}
