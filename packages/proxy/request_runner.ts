/**
 * {@link RequestRunner}: the function {@link FederationProxy.request} runs on the routed channel's MCP client.
 *
 * @example Send any MCP request to one member
 * ```ts ignore
 * import { z } from "npm:zod@4";
 *
 * const result = await proxy.request("server-1", "completion/complete", (client, options) =>
 *   client.request({ method: "completion/complete", params }, z.object({ completion: z.any() }).loose(), options));
 * ```
 * @module
 */

import type { McpClient, McpRequestOptions } from "../core/mcp_types.ts";

/** Runs one MCP request on a channel's client with the call's options (timeout, signal, progress). */
export type RequestRunner<T> = (client: McpClient, options: McpRequestOptions) => Promise<T>;
