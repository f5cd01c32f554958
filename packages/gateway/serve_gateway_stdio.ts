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
import { type McpRequestContext, type Server, serveStdio, StdioServerTransport, type Transport } from "../core/_sdk.ts";
import type { CatalogListChangedEvent } from "../proxy/catalog.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { createClientSession, createModernServer } from "./_client_session.ts";
import { type ClientSession, hubFor } from "./_hub.ts";
import { RequestStateSealer } from "./_sealed_state.ts";
import { RequestTracker } from "./_request_tracker.ts";
import { DEFAULT_SERVER_INFO } from "./_server_info.ts";
import type { GatewayHandle, GatewayStdioOptions } from "./options.ts";

/**
 * Serves a federation to one MCP client over stdio (newline-delimited JSON-RPC), in the era its first message
 * chooses: a 2025-11-25 client (`initialize`) gets a session as over HTTP, a 2026-07-28 client (`server/discover`
 * or any request with the per-request `_meta` envelope) a stateless server for the connection's lifetime. Stdio
 * needs no authentication: the client started the process. The gateway stops when standard input ends, on `close()`/`drain()`, or when
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
  const settings = {
    hub,
    serverInfo: options.serverInfo ?? DEFAULT_SERVER_INFO,
    instructions: options.instructions,
    callTimeout: options.callTimeout,
  };
  // The state of a 2026-07-28 round trip comes back to this process only: a key of its own.
  const sealer = await RequestStateSealer.fromSecret(crypto.getRandomValues(new Uint8Array(32)));
  const sessions = new Set<ClientSession>();
  // A 2026-07-28 connection's server: the catalog's changes go to its subscriptions/listen streams.
  const modern = new Set<Server>();
  const onListChanged = (event: CatalogListChangedEvent) => {
    for (const server of modern) {
      const sent = event.type === "toolsChanged"
        ? server.sendToolListChanged()
        : event.type === "resourcesChanged"
        ? server.sendResourceListChanged()
        : server.sendPromptListChanged();
      sent.catch(() => {});
    }
  };
  const LIST_EVENTS = ["toolsChanged", "resourcesChanged", "promptsChanged"] as const;
  const stdio = new StdioServerTransport(stdin, stdout);
  // The connection as serveStdio sees it: the stdio transport, watched by the request tracker (for drain).
  const transport: Transport = {
    start: () => stdio.start(),
    send: (message) => stdio.send(message),
    close: () => stdio.close(),
  };
  stdio.onmessage = (message) => transport.onmessage?.(message);
  stdio.onerror = (error) => transport.onerror?.(error);
  stdio.onclose = () => {
    transport.onclose?.();
    void close();
  };
  requests.watch(stdio);
  let closing: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  let open = true;
  const closed = Promise.withResolvers<void>();
  const onEnd = () => void close();
  const onAbort = () => void close();

  /** The connection's server, in the era of its first message (a 2025 one joins the hub as a session). */
  function build(context: McpRequestContext): Server {
    if (context.era === "modern") {
      const server = createModernServer({ ...settings, sealer });
      if (modern.size === 0) { for (const type of LIST_EVENTS) hub.catalog.addEventListener(type, onListChanged); }
      modern.add(server);
      return server;
    }
    const session = createClientSession(settings);
    sessions.add(session);
    hub.add(session);
    return session.server;
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      stdin.off("end", onEnd);
      options.signal?.removeEventListener("abort", onAbort);
      open = false;
      for (const session of sessions) await hub.remove(session);
      for (const type of LIST_EVENTS) hub.catalog.removeEventListener(type, onListChanged);
      modern.clear();
      await served.close().catch(() => {});
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

  stdin.on("end", onEnd);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const served = serveStdio(build, {
    transport,
    onerror: (error) => options.logger?.debug("Stdio client error", { error: error.message }),
  });
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
