/**
 * The federation proxy: {@link FederationProxy} registers members, opens a WebSocket control channel and a
 * Streamable HTTP data channel to each, keeps them healthy, and calls their tools, resources and prompts.
 *
 * @example
 * ```ts
 * import { FederationProxy } from "@federated-mcp/federation/proxy";
 *
 * await using proxy = new FederationProxy("a-secret-of-at-least-thirty-two-bytes!!", { heartbeatInterval: 5_000 });
 * console.log(proxy.getStatus()); // []
 * ```
 * @module
 */

export * from "./federation_proxy.ts";
export * from "./options.ts";
export * from "./events.ts";
export * from "./status.ts";
export * from "./call_options.ts";
export * from "./server_requests.ts";
export * from "./request_runner.ts";
export * from "./catalog.ts";
export { checkOutboundUrl, METADATA_HOSTNAMES } from "../core/outbound_guard.ts";
export type { CheckOutboundUrlOptions, HostResolver, OutboundGuardOptions } from "../core/outbound_guard.ts";
