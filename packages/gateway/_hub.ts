// Internal: the client sessions of every gateway serving one proxy. The hub forwards catalog changes, resource
// updates and members' log messages to sessions, and answers members' server-to-client requests (sampling,
// elicitation, roots) by asking the right client: the one with a call in progress to that member, else the most
// recently active one that supports the request.
import type {
  CatalogListChangedEvent,
  CatalogMessageEvent,
  FederatedCatalog,
  ResourceUpdatedEvent,
  UriOrigin,
} from "../proxy/catalog.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import type { ServerRequest, ServerRequestHandler } from "../proxy/server_requests.ts";
import {
  type ClientCapabilities,
  CreateMessageResultSchema,
  CreateMessageResultWithToolsSchema,
  ElicitResultSchema,
  ErrorCode,
  ListRootsResultSchema,
  type LoggingLevel,
  McpError,
  type RequestId,
  type Server,
} from "../core/_sdk.ts";

const LEVELS: LoggingLevel[] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/** A request of this client in progress on a member. */
interface InflightCall {
  serverId: string;
  requestId: RequestId;
  started: number;
}

/** One client session (HTTP or stdio). */
export class ClientSession {
  readonly server: Server;
  lastActive = performance.now();
  loggingLevel: LoggingLevel | undefined;
  /** Federated URI → its origin, for the resources this client subscribed to. */
  readonly subscriptions = new Map<string, UriOrigin>();
  readonly inflight = new Map<RequestId, InflightCall>();

  constructor(server: Server) {
    this.server = server;
  }

  get capabilities(): ClientCapabilities | undefined {
    return this.server.getClientCapabilities();
  }

  /** Records a call of this client to a member; returns its end. */
  begin(requestId: RequestId, serverId: string): () => void {
    const call = { serverId, requestId, started: performance.now() };
    this.inflight.set(requestId, call);
    this.lastActive = call.started;
    return () => {
      if (this.inflight.get(requestId) === call) this.inflight.delete(requestId);
    };
  }
}

/** Which client capability a server-to-client request needs. */
function requiredCapability(request: ServerRequest): "sampling" | "elicitation" | "roots" | undefined {
  switch (request.method) {
    case "sampling/createMessage":
      return "sampling";
    case "elicitation/create":
      return "elicitation";
    case "roots/list":
      return "roots";
    default:
      return undefined;
  }
}

function supports(session: ClientSession, request: ServerRequest): boolean {
  const capabilities = session.capabilities;
  switch (requiredCapability(request)) {
    case "sampling":
      if (!capabilities?.sampling) return false;
      return request.params?.tools === undefined || capabilities.sampling.tools !== undefined;
    case "elicitation":
      if (!capabilities?.elicitation) return false;
      return request.params?.mode !== "url" || capabilities.elicitation.url !== undefined;
    case "roots":
      return capabilities?.roots !== undefined;
    default:
      return false;
  }
}

function schemaFor(request: ServerRequest) {
  if (request.method === "sampling/createMessage") {
    return request.params?.tools === undefined ? CreateMessageResultSchema : CreateMessageResultWithToolsSchema;
  }
  return request.method === "elicitation/create" ? ElicitResultSchema : ListRootsResultSchema;
}

/** Every gateway's client sessions over one proxy. */
export class SessionHub {
  readonly proxy: FederationProxy;
  readonly catalog: FederatedCatalog;
  readonly sessions = new Set<ClientSession>();
  /** How long a client may take to answer a forwarded request, in ms; the largest of the gateways' settings. */
  serverRequestTimeout = 300_000;
  #previousHandler: ServerRequestHandler | undefined;
  #handler: ServerRequestHandler = (request) => this.#forward(request);
  #onListChanged = (event: CatalogListChangedEvent) => this.#broadcastListChanged(event);
  #onResourceUpdated = (event: ResourceUpdatedEvent) => this.#sendResourceUpdated(event);
  #onMessage = (event: CatalogMessageEvent) => this.#sendLogMessage(event);
  #users = 0;
  #appliedLevel: LoggingLevel | undefined;

  constructor(proxy: FederationProxy) {
    this.proxy = proxy;
    this.catalog = proxy.catalog;
  }

  /** A gateway starts using the hub: it takes over the proxy's server-request handler. */
  acquire(serverRequestTimeout: number): void {
    if (this.#users++ === 0) {
      this.#previousHandler = this.proxy.onServerRequest;
      this.proxy.onServerRequest = this.#handler;
      for (const type of ["toolsChanged", "resourcesChanged", "promptsChanged"] as const) {
        this.catalog.addEventListener(type, this.#onListChanged);
      }
      this.catalog.addEventListener("resourceUpdated", this.#onResourceUpdated);
      this.catalog.addEventListener("message", this.#onMessage);
      this.serverRequestTimeout = serverRequestTimeout;
    } else {
      this.serverRequestTimeout = Math.max(this.serverRequestTimeout, serverRequestTimeout);
    }
  }

  /** A gateway stops: the last one gives the proxy its previous handler back. Returns whether it was the last. */
  release(): boolean {
    if (--this.#users > 0) return false;
    if (this.proxy.onServerRequest === this.#handler) this.proxy.onServerRequest = this.#previousHandler;
    for (const type of ["toolsChanged", "resourcesChanged", "promptsChanged"] as const) {
      this.catalog.removeEventListener(type, this.#onListChanged);
    }
    this.catalog.removeEventListener("resourceUpdated", this.#onResourceUpdated);
    this.catalog.removeEventListener("message", this.#onMessage);
    return true;
  }

  add(session: ClientSession): void {
    this.sessions.add(session);
  }

  /** Forgets a session and ends its subscriptions. */
  async remove(session: ClientSession): Promise<void> {
    if (!this.sessions.delete(session)) return;
    const uris = [...session.subscriptions.keys()];
    session.subscriptions.clear();
    await Promise.all(uris.map((uri) => this.catalog.unsubscribe(uri).catch(() => {})));
    if (session.loggingLevel !== undefined) await this.applyLoggingLevel();
  }

  /** Sets the members' level to the most verbose one any client asked for. */
  async applyLoggingLevel(): Promise<void> {
    let lowest: number | undefined;
    for (const session of this.sessions) {
      if (session.loggingLevel === undefined) continue;
      const index = LEVELS.indexOf(session.loggingLevel);
      if (lowest === undefined || index < lowest) lowest = index;
    }
    const level = lowest === undefined ? undefined : LEVELS[lowest]!;
    if (level === undefined || level === this.#appliedLevel) return;
    this.#appliedLevel = level;
    await this.catalog.setLoggingLevel(level);
  }

  #broadcastListChanged(event: CatalogListChangedEvent): void {
    for (const session of this.sessions) {
      if (!session.capabilities) continue;
      const server = session.server;
      const sent = event.type === "toolsChanged"
        ? server.sendToolListChanged()
        : event.type === "resourcesChanged"
        ? server.sendResourceListChanged()
        : server.sendPromptListChanged();
      sent.catch(() => {});
    }
  }

  #sendResourceUpdated(event: ResourceUpdatedEvent): void {
    for (const session of this.sessions) {
      for (const [uri, origin] of session.subscriptions) {
        if (origin.serverId === event.serverId && origin.uri === event.originalUri) {
          session.server.sendResourceUpdated({ uri }).catch(() => {});
        }
      }
    }
  }

  #sendLogMessage(event: CatalogMessageEvent): void {
    const params = event.params;
    const level = params.level as LoggingLevel;
    const logger = typeof params.logger === "string" ? `${event.serverId}/${params.logger}` : event.serverId;
    const notification = { method: "notifications/message", params: { ...params, logger } };
    const related = [...this.sessions].filter((s) =>
      [...s.inflight.values()].some((c) => c.serverId === event.serverId)
    );
    for (const session of related.length > 0 ? related : this.sessions) {
      if (!session.capabilities) continue;
      if (session.loggingLevel !== undefined && LEVELS.indexOf(level) < LEVELS.indexOf(session.loggingLevel)) continue;
      const call = [...session.inflight.values()].reverse().find((c) => c.serverId === event.serverId);
      session.server.notification(notification, call ? { relatedRequestId: call.requestId } : undefined).catch(
        () => {},
      );
    }
  }

  #choose(request: ServerRequest): { session: ClientSession; call: InflightCall | undefined } | undefined {
    let best: { session: ClientSession; call: InflightCall } | undefined;
    for (const session of this.sessions) {
      if (!supports(session, request)) continue;
      for (const call of session.inflight.values()) {
        if (call.serverId === request.serverId && (!best || call.started > best.call.started)) best = { session, call };
      }
    }
    if (best) return best;
    let recent: ClientSession | undefined;
    for (const session of this.sessions) {
      if (supports(session, request) && (!recent || session.lastActive > recent.lastActive)) recent = session;
    }
    return recent ? { session: recent, call: undefined } : undefined;
  }

  async #forward(request: ServerRequest): Promise<Record<string, unknown>> {
    const capability = requiredCapability(request);
    if (!capability) {
      throw new McpError(ErrorCode.MethodNotFound, `The federation gateway does not forward '${request.method}'`);
    }
    const target = this.#choose(request);
    if (!target) {
      throw new McpError(
        ErrorCode.MethodNotFound,
        `No client of the federation gateway supports '${request.method}' (client capability '${capability}')`,
      );
    }
    const options = {
      signal: request.signal,
      timeout: this.serverRequestTimeout,
      ...(target.call ? { relatedRequestId: target.call.requestId } : {}),
    };
    const params = request.params ?? {};
    return await target.session.server.request(
      { method: request.method, params },
      schemaFor(request),
      options,
    ) as Record<
      string,
      unknown
    >;
  }
}

const hubs = new WeakMap<FederationProxy, SessionHub>();

/** The hub of a proxy, shared by every gateway serving it. */
export function hubFor(proxy: FederationProxy): SessionHub {
  let hub = hubs.get(proxy);
  if (!hub) hubs.set(proxy, hub = new SessionHub(proxy));
  return hub;
}
