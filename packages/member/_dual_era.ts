// Internal: what the member needs to serve a factory's product in both protocol eras. Only a v2 SDK server
// (`McpServer` or the low-level `Server` of `@modelcontextprotocol/server`) can be handed to the SDK's dual-era
// entries (`serveStdio`, `createMcpHandler`); any other `SessionServer` (the sidecar's relay, a server built on
// another SDK) is served on 2025-11-25 only, as before.

import { McpServer, Server } from "../core/_sdk.ts";
import { CONTROL_CHANNEL_EXTENSION, CONTROL_CHANNEL_EXTENSION_SETTINGS } from "../core/control_channel_extension.ts";
import type { SessionServer } from "./types.ts";

/** A server of the v2 SDK: it serves both eras. */
export type DualEraServer = McpServer | Server;

/** Whether a factory's product is a v2 SDK server (and so can serve 2026-07-28). */
export function isDualEraServer(product: SessionServer | DualEraServer): product is DualEraServer {
  return product instanceof McpServer || product instanceof Server;
}

/** The low-level server of a product. */
export function lowLevelServer(product: DualEraServer): Server {
  return product instanceof McpServer ? product.server : product;
}

/**
 * Adds the control channel extension to the capabilities the product advertises (`initialize` and `server/discover`
 * results). Must run before the product is connected.
 */
export function advertiseControlChannel(product: DualEraServer): void {
  lowLevelServer(product).registerCapabilities({
    extensions: { [CONTROL_CHANNEL_EXTENSION]: { ...CONTROL_CHANNEL_EXTENSION_SETTINGS } },
  });
}

/** A change a member announces to its clients ({@link MemberHandle.notify}). */
export type MemberChange =
  | { kind: "tools" }
  | { kind: "prompts" }
  | { kind: "resources" }
  | { kind: "resource"; uri: string };

/**
 * Announces a change on one connected product: the SDK sends it as a notification on a 2025-11-25 session, and routes
 * it onto the open `subscriptions/listen` streams of a 2026-07-28 control connection.
 */
export function announce(product: DualEraServer, change: MemberChange): Promise<void> {
  const server = lowLevelServer(product);
  if (!server.transport) return Promise.resolve();
  switch (change.kind) {
    case "tools":
      return server.sendToolListChanged();
    case "prompts":
      return server.sendPromptListChanged();
    case "resources":
      return server.sendResourceListChanged();
    case "resource":
      return server.sendResourceUpdated({ uri: change.uri });
  }
}
