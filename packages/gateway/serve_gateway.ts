/**
 * {@link serveGateway}: serves a federation as one MCP server over Streamable HTTP, with health, readiness and
 * Prometheus metrics endpoints.
 *
 * The server itself is the `Gateway` class (`_gateway.ts`) with its endpoint files: `_mcp_endpoint.ts` (sessions),
 * `_probes.ts` (`/healthz`, `/readyz`, `/metrics`), `_admin_api.ts`, `_http_guard.ts` (Host, Origin and the token),
 * `_body_limit.ts`, `_listener.ts` and `_options.ts`. A single replica runs the cluster path too (an in-process
 * store and a random key), so one code path serves one replica and many.
 *
 * @example Serve a proxy's federation on loopback
 * ```ts ignore
 * import { FederationProxy } from "@federated-mcp/federation/proxy";
 * import { serveGateway } from "@federated-mcp/federation/gateway";
 *
 * const secret = Deno.env.get("MCP_SECRET_KEY")!;
 * await using proxy = new FederationProxy(secret);
 * await proxy.registerServer({ serverId: "server-1", endpoints: { control: "ws://localhost:3000" } });
 * // Client tokens use their own secret: never one the proxy signs member tokens with.
 * const clientSecret = Deno.env.get("MCP_GATEWAY_SECRET")!;
 * await using gateway = await serveGateway(proxy, { auth: { secret: clientSecret }, port: 8080 });
 * console.log(`MCP clients connect to ${gateway.url}`);
 * await gateway.closed();
 * ```
 * @module
 */

import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { Gateway } from "./_gateway.ts";
import { resolveGatewayOptions } from "./_options.ts";
import type { GatewayHandle, GatewayOptions } from "./options.ts";

/**
 * Serves a federation as one MCP server: Streamable HTTP at `path` (sessions, SSE, the GET notification stream and
 * DELETE), plus `GET /healthz` (always 200), `GET /readyz` (200 when at least one member is usable, else 503)
 * and `GET /metrics` (Prometheus text). Every client session gets its own MCP server whose handlers use
 * `proxy.catalog`; members' progress, log messages, resource updates and list changes reach the clients, and
 * members' sampling, elicitation and roots requests are forwarded to a client that supports them.
 *
 * Every request needs a `Host` that is a bare `host[:port]` (400 otherwise) and an allowed `Origin`/`Host` (403
 * otherwise), on every path. Requests to the MCP endpoint need `Authorization: Bearer <JWT>` (401 otherwise) unless
 * `auth` is `false`: signed with `auth.secret`, addressed to the gateway (`aud`, default `"federated-mcp-gateway"`,
 * never a member's serverId) and with a string `sub`; a session is bound to that `sub`. Bodies larger than
 * `maxBodyBytes` (1 MiB) get 413 before they are buffered.
 *
 * Session ids are sealed tokens that carry the client's `initialize` parameters, so any replica sharing
 * `cluster.key` serves any session (see {@link GatewayClusterOptions}); `/admin/members` is the membership API
 * (tokens with the `federation:admin` scope) and `/readyz` and `/metrics` report the registry store.
 *
 * @param proxy The federation to serve. The gateway never closes it.
 * @param options `auth` (required), listen address, origins, limits, timeouts.
 * @returns The running gateway.
 * @throws {ConfigError} For missing `auth`, a client secret the proxy signs member tokens with (the proxy's own
 *   or a member's `auth.config.secret`), or an invalid option.
 * @throws {ConnectionError} When it cannot listen (the port is taken).
 * @example Connect an SDK client
 * ```ts ignore
 * const gateway = await serveGateway(proxy, { auth: false, port: 0 }); // loopback only
 * const client = new Client({ name: "app", version: "1.0.0" });
 * await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
 * console.log((await client.listTools()).tools.map((t) => t.name));
 * await gateway.drain();
 * ```
 */
export async function serveGateway(proxy: FederationProxy, options: GatewayOptions): Promise<GatewayHandle> {
  return await Gateway.start(proxy, options, resolveGatewayOptions(options));
}
