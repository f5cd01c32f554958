/**
 * The WebSocket control channel as an MCP extension: its identifier and the settings a member advertises under
 * `capabilities.extensions` (in its `initialize` result on 2025-11-25 and its `server/discover` result on
 * 2026-07-28) when it serves a control channel. The channel itself is specified in `docs/control-channel.md`;
 * a member without it is fully usable over Streamable HTTP alone.
 *
 * @example Tell whether a member offers the control channel
 * ```ts
 * import { CONTROL_CHANNEL_EXTENSION } from "@federated-mcp/federation/core";
 *
 * const capabilities = {
 *   tools: {},
 *   extensions: { [CONTROL_CHANNEL_EXTENSION]: { version: "1", subprotocol: "mcp" } },
 * };
 * console.log(CONTROL_CHANNEL_EXTENSION in capabilities.extensions); // true
 * ```
 * @module
 */

import { MCP_SUBPROTOCOL } from "./websocket_transport.ts";

/**
 * Identifier of the WebSocket control channel extension, in the reverse-DNS form of the MCP extension framework,
 * under the project's own prefix (`io.github.federated-mcp/`, the prefix of its `_meta` keys too).
 *
 * @example Read a member's advertisement
 * ```ts
 * import { CONTROL_CHANNEL_EXTENSION } from "@federated-mcp/federation/core";
 *
 * const discovered = { capabilities: { extensions: { [CONTROL_CHANNEL_EXTENSION]: { version: "1", subprotocol: "mcp" } } } };
 * console.log(discovered.capabilities.extensions[CONTROL_CHANNEL_EXTENSION].subprotocol); // mcp
 * ```
 */
export const CONTROL_CHANNEL_EXTENSION = "io.github.federated-mcp/websocket-control";

/** What a member advertises under `capabilities.extensions[CONTROL_CHANNEL_EXTENSION]`. */
export interface ControlChannelExtensionSettings {
  /** Version of the control channel specification the member implements (`"1"`). */
  version: string;
  /** The WebSocket subprotocol the member selects on upgrade (`"mcp"`). */
  subprotocol: string;
  /** Index signature: the settings are a JSON object, as every extension's are. */
  [key: string]: string;
}

/**
 * The settings of the control channel extension this library implements and advertises.
 *
 * @example
 * ```ts
 * import { CONTROL_CHANNEL_EXTENSION_SETTINGS } from "@federated-mcp/federation/core";
 *
 * console.log(CONTROL_CHANNEL_EXTENSION_SETTINGS.version); // 1
 * ```
 */
export const CONTROL_CHANNEL_EXTENSION_SETTINGS: Readonly<ControlChannelExtensionSettings> = Object.freeze({
  version: "1",
  subprotocol: MCP_SUBPROTOCOL,
});
