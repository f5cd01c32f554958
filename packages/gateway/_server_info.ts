// Internal: what the gateway announces itself as.
import type { Implementation } from "../core/_sdk.ts";

/** Default `serverInfo` of the gateway. */
export const DEFAULT_SERVER_INFO: Implementation = { name: "federated-mcp-gateway", version: "0.1.0" };
