// Internal: the servers the gateway serves a client with, built by one factory for both eras. Every one carries the
// shared catalog handlers (_catalog_handlers.ts: lists, tools/call, resources/read, prompts/get, completion).
// - A 2025-11-25 session's server (`createClientSession`) lives as long as the session: it records activity for the
//   idle sweep, relates what a member asks or logs during a call to that session (`SessionHub.relate`), and adds
//   what only sessions have (resource subscriptions, the logging level, roots changes).
// - A 2026-07-28 server (`createModernServer`) serves one request over HTTP, or one stdio connection: it announces
//   the federation's merged capabilities and instructions in `server/discover`, and carries Multi Round-Trip
//   Requests (sealed `requestState`). It holds no state: building one registers closures over the shared hub.
import { type Implementation, Server } from "../core/_sdk.ts";
import type { CallIdentity } from "../proxy/call_options.ts";
import { gatewayCapabilities, mergedCapabilities, mergedInstructions } from "./_discover.ts";
import { ClientSession, type SessionHub } from "./_hub.ts";
import { toMcpError } from "./_errors.ts";
import { catalogHandlers, type HandlerScope, modernRelation, registerCatalogHandlers } from "./_catalog_handlers.ts";
import { discoverSource } from "./_proxy_modern.ts";
import type { RequestStateSealer } from "./_sealed_state.ts";
import type { InputBridge } from "./_input_bridge.ts";
import { legacyTasksCapability, withTasksExtension } from "./_tasks.ts";

/** What a session's server needs from its gateway. */
export interface ClientSessionSettings {
  hub: SessionHub;
  serverInfo: Implementation;
  instructions: string | undefined;
  callTimeout: number | undefined;
  /**
   * The client's identity (its token's `sub`, and the issuer the gateway requires): calls routed to members are
   * made on its behalf (`CallOptions.onBehalfOf`), so each member sees this user, never another's.
   */
  identity?: CallIdentity | undefined;
}

/** What a 2026-07-28 server needs besides a session's settings. */
export interface ModernServerSettings extends ClientSessionSettings {
  /** Seals and opens `requestState` (a key every replica has). */
  sealer: RequestStateSealer;
  /** Bridges a 2025-11-25 member's requests during a call into rounds (absent: they are refused). */
  bridge?: InputBridge | undefined;
}

const NOOP = () => {};

/** Creates the MCP server of one 2025-11-25 client session. */
export function createClientSession(settings: ClientSessionSettings): ClientSession {
  const { hub, callTimeout } = settings;
  const catalog = hub.catalog;
  const tasks = legacyTasksCapability(hub.proxy);
  const server = new Server(settings.serverInfo, {
    capabilities: tasks ? { ...gatewayCapabilities(), tasks } : gatewayCapabilities(),
    ...(settings.instructions === undefined ? {} : { instructions: settings.instructions }),
  });
  const session = new ClientSession(server);
  session.handlers = catalogHandlers({
    hub,
    callTimeout,
    identity: settings.identity,
    touch: () => void (session.lastActive = performance.now()),
    begin: (ctx) => ({ relation: hub.relate(session, ctx.mcpReq.id), end: session.begin(ctx.mcpReq.id) }),
    project: (result, outputSchema) => server.projectCallToolResult(result, outputSchema),
    clientEnvelope: () => session.envelope,
  });
  session.handlers.register(server);

  /** Runs a handler: the session marked active, failures mapped to JSON-RPC errors. */
  async function run<T>(work: () => Promise<T>): Promise<T> {
    session.lastActive = performance.now();
    try {
      return await work();
    } catch (error) {
      throw toMcpError(error);
    }
  }

  // A client subscribes to a URI once, however often it asks; concurrent requests share the first one's work.
  const subscribing = new Map<string, Promise<unknown>>();
  server.setRequestHandler("resources/subscribe", (request) =>
    run(async () => {
      const { uri } = request.params;
      if (session.subscriptions.has(uri)) return {};
      let pending = subscribing.get(uri);
      if (!pending) {
        pending = catalog.subscribe(uri).then((origin) => void session.subscriptions.set(uri, origin));
        subscribing.set(uri, pending);
        pending.then(() => subscribing.delete(uri), () => subscribing.delete(uri));
      }
      await pending;
      return {};
    }));

  server.setRequestHandler("resources/unsubscribe", (request) =>
    run(async () => {
      const { uri } = request.params;
      await subscribing.get(uri)?.catch(() => {});
      if (session.subscriptions.delete(uri)) await catalog.unsubscribe(uri);
      return {};
    }));

  server.setRequestHandler("logging/setLevel", (request) =>
    run(async () => {
      session.loggingLevel = request.params.level;
      await hub.applyLoggingLevel();
      return {};
    }));

  server.setNotificationHandler("notifications/roots/list_changed", async () => {
    await Promise.all(
      hub.proxy.getConnectedServers().map((serverId) =>
        hub.proxy.request(serverId, "notifications/roots/list_changed", (client) => client.sendRootsListChanged())
          .catch(() => {})
      ),
    );
  });

  return session;
}

/**
 * Creates a 2026-07-28 server: the federation's merged capabilities and instructions (read now, from the members
 * connected now), the shared catalog handlers, calls on behalf of `identity`, round trips sealed for its subject.
 */
export function createModernServer(settings: ModernServerSettings): Server {
  const source = discoverSource(settings.hub.proxy);
  const instructions = mergedInstructions(settings.instructions, source);
  const server = new Server(settings.serverInfo, {
    capabilities: withTasksExtension(mergedCapabilities(source), settings.hub.proxy),
    ...(instructions === undefined ? {} : { instructions }),
  });
  registerCatalogHandlers(server, modernScope(settings));
  return server;
}

/**
 * The handlers' scope of one 2026-07-28 request: calls on behalf of `identity`, round trips sealed for its subject,
 * nothing kept.
 */
export function modernScope(settings: Omit<ModernServerSettings, "serverInfo" | "instructions">): HandlerScope {
  const { hub, callTimeout, identity, sealer } = settings;
  return {
    hub,
    callTimeout,
    identity,
    touch: NOOP,
    begin: (ctx) => ({ relation: modernRelation(ctx), end: NOOP }),
    modern: { sub: identity?.sub, sealer, bridge: settings.bridge },
  };
}
