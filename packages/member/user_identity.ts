/**
 * Which user a call to a member is made for. A federation proxy calling for a gateway client sends a token of that
 * user's own (`sub` = the user, `act: { sub: <the proxy> }` in the RFC 8693 style, `orig_iss` = the user's issuer),
 * and `serveMember` hands the tool, resource and prompt handlers its identity in `extra.authInfo`;
 * {@link userIdentity} reads it. `requireUserIdentity: true` refuses calls made without one.
 *
 * @example A tool that answers who is calling
 * ```ts
 * import { McpServer } from "npm:@modelcontextprotocol/sdk@1.32.2/server/mcp.js";
 * import { userIdentity } from "@federated-mcp/federation/member";
 *
 * const server = new McpServer({ name: "who", version: "1.0.0" });
 * server.registerTool("whoami", { description: "The calling user" }, (extra: Parameters<typeof userIdentity>[0]) => {
 *   const user = userIdentity(extra);
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

/**
 * The user a request handler is called for, from its `extra.authInfo`, or `undefined` when the call was made under
 * the proxy's own identity.
 *
 * @param extra The handler's `extra` (its `authInfo` is read).
 * @returns The identity.
 * @example
 * ```ts
 * import { userIdentity } from "@federated-mcp/federation/member";
 *
 * const extra = { authInfo: { extra: { "io.github.federated-mcp/user": { sub: "alice", iss: undefined, actor: "proxy" } } } };
 * console.log(userIdentity(extra)?.sub); // alice
 * ```
 */
export function userIdentity(extra: { authInfo?: { extra?: Record<string, unknown> | undefined } | undefined }):
  | UserIdentity
  | undefined {
  const value = extra?.authInfo?.extra?.[USER_IDENTITY_KEY];
  if (!isRecord(value) || typeof value.sub !== "string" || typeof value.actor !== "string") return undefined;
  return { sub: value.sub, iss: typeof value.iss === "string" ? value.iss : undefined, actor: value.actor };
}
