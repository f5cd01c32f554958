// Internal: one client session's MCP server. A low-level SDK `Server` whose handlers call the federated catalog,
// passing progress, cancellation and `_meta` through (without the project's reserved `_meta` keys), with each
// call's own handlers for what its member asks or logs during it (`SessionHub.relate`). One path per request: the
// name or URI is resolved once here, the call is recorded as in progress (the idle sweep skips a busy session),
// and the catalog is called with the resolved origin (it does not resolve again).
import { type Implementation, Server, type ServerContext } from "../core/_sdk.ts";
import type { CatalogCallOptions } from "../proxy/catalog.ts";
import type { CallIdentity, Progress } from "../proxy/call_options.ts";
import { ClientSession, type SessionHub } from "./_hub.ts";
import { toMcpError } from "./_errors.ts";

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

type Meta = Record<string, unknown> & { progressToken?: string | number };

/**
 * The project's reserved `_meta` namespace (the user token, the related request, origins): only the proxy and the
 * member write it, so what a client sends under it never reaches a member.
 */
const RESERVED_META_PREFIX = "io.github.federated-mcp/";

/** A client's `_meta` without the reserved keys. */
function clientMeta(meta: Meta): Meta {
  return Object.fromEntries(Object.entries(meta).filter(([key]) => !key.startsWith(RESERVED_META_PREFIX))) as Meta;
}

/** What every call of a session shares: the timeout, and the handlers of what a member sends during a call. */
interface CallContext {
  callTimeout: number | undefined;
  /** The handlers that send what the member asks or logs during request `requestId` to this session only. */
  relate: (requestId: string | number) => CatalogCallOptions;
  /** The user calls are made for. */
  identity: CallIdentity | undefined;
}

/** Call options of one client request: its cancellation, its progress token and `_meta`, the timeout, its relation. */
function callOptions(meta: Meta | undefined, ctx: ServerContext, context: CallContext): CatalogCallOptions {
  const { callTimeout } = context;
  const options: CatalogCallOptions = { ...context.relate(ctx.mcpReq.id), signal: ctx.mcpReq.signal };
  if (context.identity) options.onBehalfOf = context.identity;
  if (callTimeout !== undefined) options.timeout = callTimeout;
  if (meta) options.meta = clientMeta(meta);
  const token = meta?.progressToken;
  if (token !== undefined) {
    options.onprogress = (progress: Progress) => {
      const params: Record<string, unknown> = { progressToken: token, progress: progress.progress };
      if (progress.total !== undefined) params.total = progress.total;
      if (progress.message !== undefined) params.message = progress.message;
      ctx.mcpReq.notify({ method: "notifications/progress", params }).catch(() => {});
    };
  }
  return options;
}

/** Creates the MCP server of one client session. */
export function createClientSession(settings: ClientSessionSettings): ClientSession {
  const { hub, callTimeout } = settings;
  const catalog = hub.catalog;
  const server = new Server(settings.serverInfo, {
    capabilities: {
      tools: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      prompts: { listChanged: true },
      logging: {},
      completions: {},
    },
    ...(settings.instructions === undefined ? {} : { instructions: settings.instructions }),
  });
  const session = new ClientSession(server);
  const context: CallContext = {
    callTimeout,
    relate: (requestId) => hub.relate(session, requestId),
    identity: settings.identity,
  };

  /** Runs a handler: the session marked active, failures mapped to JSON-RPC errors. */
  async function run<T>(work: () => Promise<T>): Promise<T> {
    session.lastActive = performance.now();
    try {
      return await work();
    } catch (error) {
      throw toMcpError(error);
    }
  }

  /** Runs a call to a member, recorded as in progress on the session (an idle sweep leaves a busy session open). */
  async function routed<T>(ctx: ServerContext, work: () => Promise<T>): Promise<T> {
    const end = session.begin(ctx.mcpReq.id);
    try {
      return await work();
    } finally {
      end();
    }
  }

  server.setRequestHandler("tools/list", () => run(async () => ({ tools: await catalog.listTools() })));
  server.setRequestHandler(
    "resources/list",
    () => run(async () => ({ resources: await catalog.listResources() })),
  );
  server.setRequestHandler(
    "resources/templates/list",
    () => run(async () => ({ resourceTemplates: await catalog.listResourceTemplates() })),
  );
  server.setRequestHandler("prompts/list", () => run(async () => ({ prompts: await catalog.listPrompts() })));

  server.setRequestHandler("tools/call", (request, ctx) =>
    run(async () => {
      const { name, arguments: args = {}, _meta } = request.params;
      const origin = await catalog.resolveTool(name);
      const options = { ...callOptions(_meta as Meta | undefined, ctx, context), origin };
      return await routed(ctx, () => catalog.callTool(name, args, options));
    }));

  server.setRequestHandler("resources/read", (request, ctx) =>
    run(async () => {
      const origin = await catalog.resolveResource(request.params.uri);
      const options = { ...callOptions(request.params._meta as Meta | undefined, ctx, context), origin };
      return await routed(ctx, () => catalog.readResource(request.params.uri, options));
    }));

  server.setRequestHandler("prompts/get", (request, ctx) =>
    run(async () => {
      const origin = await catalog.resolvePrompt(request.params.name);
      const options = { ...callOptions(request.params._meta as Meta | undefined, ctx, context), origin };
      return await routed(
        ctx,
        () => catalog.getPrompt(request.params.name, request.params.arguments ?? {}, options),
      );
    }));

  server.setRequestHandler(
    "completion/complete",
    (request, ctx) =>
      run(() => catalog.complete(request.params, callOptions(request.params._meta as Meta | undefined, ctx, context))),
  );

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
