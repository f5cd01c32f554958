/**
 * {@link serveGatewayStdio}: serves a federation as one MCP server to a single client over stdio, the way
 * desktop MCP clients start local servers. Nothing but JSON-RPC is written to standard output.
 *
 * @example A stdio gateway for Claude Desktop
 * ```ts ignore
 * import { FederationProxy } from "@federated-mcp/federation/proxy";
 * import { serveGatewayStdio } from "@federated-mcp/federation/gateway";
 *
 * const proxy = new FederationProxy(Deno.env.get("MCP_SECRET_KEY")!);
 * await proxy.registerServer({ serverId: "server-1", endpoints: { control: "ws://localhost:3000" } });
 * const gateway = await serveGatewayStdio(proxy);
 * await gateway.closed(); // the client closed stdin
 * await proxy.close();
 * ```
 * @module
 */

import process from "node:process";
import { ConfigError } from "../core/errors.ts";
import { StdioServerTransport } from "../core/_sdk.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { createClientSession } from "./_client_session.ts";
import { hubFor } from "./_hub.ts";
import { RequestTracker } from "./_request_tracker.ts";
import { DEFAULT_SERVER_INFO } from "./_server_info.ts";
import type { GatewayHandle, GatewayStdioOptions } from "./options.ts";

/**
 * Serves a federation to one MCP client over stdio (newline-delimited JSON-RPC). Stdio needs no authentication:
 * the client started the process. The gateway stops when standard input ends, on `close()`/`drain()`, or when
 * `signal` aborts; it never closes the proxy. It shares the HTTP gateway's client session, session hub, request
 * tracker and server info; it has no listener, probes or cluster.
 *
 * @param proxy The federation to serve.
 * @param options Server info, timeouts, streams (default: the process's stdin and stdout).
 * @returns The running gateway; `url` is `"stdio:"`.
 * @throws {ConfigError} For an invalid option.
 * @example
 * ```ts ignore
 * await using gateway = await serveGatewayStdio(proxy, { instructions: "Tools of the whole federation" });
 * await gateway.closed();
 * ```
 */
export async function serveGatewayStdio(
  proxy: FederationProxy,
  options: GatewayStdioOptions = {},
): Promise<GatewayHandle> {
  const serverRequestTimeout = options.serverRequestTimeout ?? 300_000;
  if (!(serverRequestTimeout > 0)) {
    throw new ConfigError(`Invalid serverRequestTimeout ${serverRequestTimeout}: must be > 0`, {
      field: "serverRequestTimeout",
    });
  }
  const drainTimeout = options.drainTimeout ?? 10_000;
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const hub = hubFor(proxy);
  hub.acquire(serverRequestTimeout);
  const requests = new RequestTracker();
  const client = createClientSession({
    hub,
    serverInfo: options.serverInfo ?? DEFAULT_SERVER_INFO,
    instructions: options.instructions,
    callTimeout: options.callTimeout,
  });
  const transport = new StdioServerTransport(stdin, stdout);
  let closing: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  let open = true;
  const closed = Promise.withResolvers<void>();
  const onEnd = () => void close();
  const onAbort = () => void close();

  function close(): Promise<void> {
    closing ??= (async () => {
      stdin.off("end", onEnd);
      options.signal?.removeEventListener("abort", onAbort);
      open = false;
      await hub.remove(client);
      await client.server.close().catch(() => {});
      hub.release();
      closed.resolve();
    })();
    return closing;
  }

  function drain(): Promise<void> {
    if (closing) return closing;
    draining ??= (async () => {
      await requests.idle(drainTimeout);
      await close();
    })();
    return draining;
  }

  transport.onclose = () => void close();
  stdin.on("end", onEnd);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  await client.server.connect(transport);
  requests.watch(transport);
  hub.add(client);
  if (options.signal?.aborted) void close();
  return {
    url: "stdio:",
    sessionCount: () => open ? 1 : 0,
    close,
    drain,
    closed: () => closed.promise,
    [Symbol.asyncDispose]: drain,
  };
}
