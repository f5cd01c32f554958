/**
 * The federation gateway: serves a `FederationProxy`'s whole federation as one MCP server, over Streamable HTTP
 * ({@link serveGateway}: sessions, SSE, JWT authentication, Origin checks, `/healthz`, `/readyz`, `/metrics`)
 * and over stdio ({@link serveGatewayStdio}), so that any MCP client sees every member's tools, resources and
 * prompts under federated names, with progress, cancellation, logging, completions, subscriptions and members'
 * sampling, elicitation and roots requests passed through.
 *
 * Run it from a config file with the CLI: `deno task start --config federation.json`.
 *
 * @example Serve the federation to MCP clients
 * ```ts ignore
 * import { FederationProxy } from "@federated-mcp/federation/proxy";
 * import { serveGateway } from "@federated-mcp/federation/gateway";
 *
 * await using proxy = new FederationProxy(Deno.env.get("MCP_SECRET_KEY")!);
 * await proxy.registerServer({
 *   serverId: "server-1",
 *   endpoints: { control: "ws://localhost:3000", data: "http://localhost:3001" },
 * });
 * // Client tokens have their own secret (never one the proxy signs member tokens with).
 * const secret = Deno.env.get("MCP_GATEWAY_SECRET")!;
 * await using gateway = await serveGateway(proxy, { auth: { secret }, port: 8080 });
 * console.log(gateway.url); // http://127.0.0.1:8080/mcp
 * await gateway.closed();
 * ```
 * @module
 */

export { serveGateway } from "./serve_gateway.ts";
export { serveGatewayStdio } from "./serve_gateway_stdio.ts";
export { loadGatewayConfig, parseGatewayConfig, storeConfig } from "./config_file.ts";
export type { GatewayConfig, GatewayStoreConfig, LoadGatewayConfigOptions } from "./config_file.ts";
export { DEFAULT_ADMIN_SCOPE } from "./cluster_options.ts";
export type { GatewayClusterOptions } from "./cluster_options.ts";
export { DEFAULT_GATEWAY_AUDIENCE, DEFAULT_MCP_SCOPE } from "./options.ts";
export type { GatewaySessionAndAdminConfig } from "./config_file.ts";
export type { MemberSecretEnvPolicy } from "./options.ts";
export type {
  GatewayAuth,
  GatewayBaseOptions,
  GatewayHandle,
  GatewayOAuthAuth,
  GatewayOptions,
  GatewaySecretAuth,
  GatewayStdioOptions,
} from "./options.ts";
