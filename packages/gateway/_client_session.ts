// Internal: one client session's MCP server. A low-level SDK `Server` whose handlers call the federated catalog,
// passing progress, cancellation and `_meta` through (without the project's reserved `_meta` keys), with each
// call's own handlers for what its member asks or logs during it (`SessionHub.relate`). One path per request: the
// name or URI is resolved once here, the call is recorded as in progress (the idle sweep skips a busy session),
// and the catalog is called with the resolved origin (it does not resolve again).
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  type Implementation,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  RootsListChangedNotificationSchema,
  Server,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "../core/_sdk.ts";
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

interface Extra {
  signal: AbortSignal;
  requestId: string | number;
  sendNotification: (notification: { method: "notifications/progress"; params: Record<string, unknown> }) => Promise<
    void
  >;
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
function callOptions(meta: Meta | undefined, extra: Extra, context: CallContext): CatalogCallOptions {
  const { callTimeout } = context;
  const options: CatalogCallOptions = { ...context.relate(extra.requestId), signal: extra.signal };
  if (context.identity) options.onBehalfOf = context.identity;
  if (callTimeout !== undefined) options.timeout = callTimeout;
  if (meta) options.meta = clientMeta(meta);
  const token = meta?.progressToken;
  if (token !== undefined) {
    options.onprogress = (progress: Progress) => {
      const params: Record<string, unknown> = { progressToken: token, progress: progress.progress };
      if (progress.total !== undefined) params.total = progress.total;
      if (progress.message !== undefined) params.message = progress.message;
      extra.sendNotification({ method: "notifications/progress", params }).catch(() => {});
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
  async function routed<T>(extra: Extra, work: () => Promise<T>): Promise<T> {
    const end = session.begin(extra.requestId);
    try {
      return await work();
    } finally {
      end();
    }
  }

  server.setRequestHandler(ListToolsRequestSchema, () => run(async () => ({ tools: await catalog.listTools() })));
  server.setRequestHandler(
    ListResourcesRequestSchema,
    () => run(async () => ({ resources: await catalog.listResources() })),
  );
  server.setRequestHandler(
    ListResourceTemplatesRequestSchema,
    () => run(async () => ({ resourceTemplates: await catalog.listResourceTemplates() })),
  );
  server.setRequestHandler(ListPromptsRequestSchema, () => run(async () => ({ prompts: await catalog.listPrompts() })));

  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    run(async () => {
      const { name, arguments: args = {}, _meta } = request.params;
      const origin = await catalog.resolveTool(name);
      const options = { ...callOptions(_meta as Meta | undefined, extra, context), origin };
      return await routed(extra, () => catalog.callTool(name, args, options));
    }));

  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) =>
    run(async () => {
      const origin = await catalog.resolveResource(request.params.uri);
      const options = { ...callOptions(request.params._meta as Meta | undefined, extra, context), origin };
      return await routed(extra, () => catalog.readResource(request.params.uri, options));
    }));

  server.setRequestHandler(GetPromptRequestSchema, (request, extra) =>
    run(async () => {
      const origin = await catalog.resolvePrompt(request.params.name);
      const options = { ...callOptions(request.params._meta as Meta | undefined, extra, context), origin };
      return await routed(
        extra,
        () => catalog.getPrompt(request.params.name, request.params.arguments ?? {}, options),
      );
    }));

  server.setRequestHandler(
    CompleteRequestSchema,
    (request, extra) =>
      run(() =>
        catalog.complete(request.params, callOptions(request.params._meta as Meta | undefined, extra, context))
      ),
  );

  // A client subscribes to a URI once, however often it asks; concurrent requests share the first one's work.
  const subscribing = new Map<string, Promise<unknown>>();
  server.setRequestHandler(SubscribeRequestSchema, (request) =>
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

  server.setRequestHandler(UnsubscribeRequestSchema, (request) =>
    run(async () => {
      const { uri } = request.params;
      await subscribing.get(uri)?.catch(() => {});
      if (session.subscriptions.delete(uri)) await catalog.unsubscribe(uri);
      return {};
    }));

  server.setRequestHandler(SetLevelRequestSchema, (request) =>
    run(async () => {
      session.loggingLevel = request.params.level;
      await hub.applyLoggingLevel();
      return {};
    }));

  server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    await Promise.all(
      hub.proxy.getConnectedServers().map((serverId) =>
        hub.proxy.request(serverId, "notifications/roots/list_changed", (client) => client.sendRootsListChanged())
          .catch(() => {})
      ),
    );
  });

  return session;
}
