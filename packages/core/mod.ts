/**
 * Core of federated-mcp: the {@link FederationConfig} types and their validation, the JWT {@link AuthManager},
 * typed errors, the logger seam and the WebSocket transport of the control channel.
 *
 * @example Validate a config and mint a member token
 * ```ts
 * import { AuthManager, validateConfig } from "@federated-mcp/federation/core";
 *
 * const secret = "a-secret-of-at-least-thirty-two-bytes!!";
 * const config = validateConfig({
 *   serverId: "server-1",
 *   endpoints: { control: "ws://localhost:3000", data: "http://localhost:3001" },
 *   auth: { type: "jwt", config: { secret, expiresIn: "1h" } },
 * });
 * const token = await new AuthManager(secret).createToken({}, { audience: config.serverId });
 * console.log(token.split(".").length); // 3
 * ```
 * @module
 */

export * from "./errors.ts";
export * from "./types.ts";
export * from "./config.ts";
export * from "./auth.ts";
export * from "./remote_jwks.ts";
export * from "./duration.ts";
export * from "./backoff.ts";
export * from "./logger.ts";
export * from "./typed_event_target.ts";
export * from "./websocket_transport.ts";
export * from "./control_channel_extension.ts";
export type * from "./mcp_types.ts";
