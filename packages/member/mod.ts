/**
 * Member side of federated-mcp: {@link serveMember} serves any MCP server (built with the MCP SDK) on a WebSocket
 * control endpoint and a Streamable HTTP data endpoint, both guarded by JWT verification, so that a
 * `FederationProxy` can register it. Both endpoints serve both protocol eras (2025-11-25 sessions and stateless
 * 2026-07-28 requests) from the same server factory.
 *
 * The control channel also carries the federation's token renewal ({@link RENEW_TOKEN_METHOD}): a connection
 * never outlives its token.
 *
 * @example Serve a member and call it over its data endpoint
 * ```ts
 * import { McpServer } from "npm:@modelcontextprotocol/server@2.4.0";
 * import { Client, StreamableHTTPClientTransport } from "npm:@modelcontextprotocol/client@2.4.0";
 * import { AuthManager } from "@federated-mcp/federation/core";
 * import { serveMember } from "@federated-mcp/federation/member";
 *
 * const secret = "a-secret-of-at-least-thirty-two-bytes!!";
 * await using member = await serveMember({
 *   serverId: "server-1",
 *   server: () => {
 *     const server = new McpServer({ name: "server-1", version: "1.0.0" });
 *     server.registerTool("hello", { description: "Says hello" }, () => ({
 *       content: [{ type: "text", text: "hello" }],
 *     }));
 *     return server;
 *   },
 *   verifier: secret,
 * });
 *
 * const token = await new AuthManager(secret).createToken({}, { audience: "server-1", subject: "proxy" });
 * const client = new Client({ name: "demo", version: "1.0.0" });
 * await client.connect(
 *   new StreamableHTTPClientTransport(new URL(member.dataUrl!), {
 *     requestInit: { headers: { Authorization: `Bearer ${token}` } },
 *   }),
 * );
 * const result = await client.callTool({ name: "hello" });
 * console.log(result.content); // [ { type: "text", text: "hello" } ]
 * await client.close();
 * ```
 * @module
 */

export { serveMember } from "./serve_member.ts";
export { USER_IDENTITY_KEY, userIdentity } from "./user_identity.ts";
export type { UserAuthInfo, UserIdentity, UserIdentitySource } from "./user_identity.ts";
export type {
  MemberDataEndpointOptions,
  MemberEndpointOptions,
  MemberHandle,
  MemberJwksUrlVerifier,
  MemberNotifier,
  ServeMemberOptions,
  SessionInfo,
  SessionServer,
  SessionTransport,
} from "./types.ts";
export { MemberRpcErrorCode, RENEW_TOKEN_METHOD, USER_TOKEN_META_KEY } from "./control_protocol.ts";
export type { RenewTokenParams, RenewTokenResult } from "./control_protocol.ts";
// Core types that ServeMemberOptions refers to, so that this entry point documents itself completely. The root
// module exports them from core.
export type {
  AsymmetricAlgorithm,
  AuthManager,
  AuthManagerOptions,
  CreateTokenOptions,
  HmacAlgorithm,
  JsonWebKeySet,
  Logger,
  TokenPayload,
  VerifyTokenOptions,
} from "../core/mod.ts";
