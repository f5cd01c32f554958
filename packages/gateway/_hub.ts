// Internal: the client sessions of every gateway serving one proxy. The hub forwards catalog changes and resource
// updates to sessions. What a member sends during a client's call (its requests for sampling, elicitation, roots,
// and its log messages) reaches that client only, through the call's own handlers (`relate`), with the client's
// request as `relatedRequestId`. What belongs to no call is refused: a request gets a JSON-RPC error, a log line
// reaches no client (it stays a proxy event for in-process listeners).
import type { CatalogListChangedEvent, FederatedCatalog, ResourceUpdatedEvent, UriOrigin } from "../proxy/catalog.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { ToolIndex } from "./_tool_index.ts";
import { legacyClientEnvelope } from "./_legacy_envelope.ts";
import type { CatalogHandlers } from "./_catalog_handlers.ts";
import type { CallOptions } from "../proxy/call_options.ts";
import type { ServerLogMessage, ServerRequest, ServerRequestHandler } from "../proxy/server_requests.ts";
import { refusingHandler } from "../proxy/_refusing_handler.ts";
import {
  type ClientCapabilities,
  CreateMessageResultSchema,
  CreateMessageResultWithToolsSchema,
  ElicitResultSchema,
  ListRootsResultSchema,
  type LoggingLevel,
  ProtocolError,
  ProtocolErrorCode,
  type RequestId,
  type Server,
} from "../core/_sdk.ts";

const LEVELS: LoggingLevel[] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/** One client session (HTTP or stdio). */
export class ClientSession {
  readonly server: Server;
  lastActive = performance.now();
  loggingLevel: LoggingLevel | undefined;
  /** Federated URI → its origin, for the resources this client subscribed to. */
  readonly subscriptions = new Map<string, UriOrigin>();
  /** Requests of this client in progress on members (each an identity token of its record). */
  readonly inflight = new Map<RequestId, object>();
  /** The session's catalog handlers (set once its server has them). */
  handlers: CatalogHandlers | undefined;

  constructor(server: Server) {
    this.server = server;
  }

  get capabilities(): ClientCapabilities | undefined {
    return this.server.getClientCapabilities();
  }

  /**
   * The envelope keys this client's calls carry to a 2026-07-28 member (`_legacy_envelope.ts`), once its initialize
   * stated its capabilities (none before).
   */
  get envelope(): Record<string, unknown> | undefined {
    const capabilities = this.capabilities;
    if (capabilities === undefined) return undefined;
    // Kept while the capabilities are those it was made of (a stdio client may initialize again).
    if (this.#envelope?.of !== capabilities) {
      this.#envelope = { of: capabilities, keys: legacyClientEnvelope(capabilities, this.server.getClientVersion()) };
    }
    return this.#envelope.keys;
  }
  #envelope: { of: ClientCapabilities; keys: Record<string, unknown> } | undefined;

  /** Records a call of this client to a member; returns its end. */
  begin(requestId: RequestId): () => void {
    const call = {};
    this.inflight.set(requestId, call);
    this.lastActive = performance.now();
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
  /** The federated tools by name as last listed (the checks before a 2026-07-28 call). */
  readonly tools: ToolIndex;
  /** How long a client may take to answer a forwarded request, in ms; the largest of the gateways' settings. */
  serverRequestTimeout = 300_000;
  #previousHandler: ServerRequestHandler | undefined;
  #handler: ServerRequestHandler = refusingHandler(refuseUnrelated);
  #onListChanged = (event: CatalogListChangedEvent) => this.#broadcastListChanged(event);
  #onResourceUpdated = (event: ResourceUpdatedEvent) => this.#sendResourceUpdated(event);
  #users = 0;
  #appliedLevel: LoggingLevel | undefined;

  constructor(proxy: FederationProxy) {
    this.proxy = proxy;
    this.catalog = proxy.catalog;
    this.tools = new ToolIndex(proxy.catalog);
  }

  /**
   * A gateway starts using the hub: it takes over the proxy's server-request handler, which then refuses what
   * belongs to no client's call (a member's request outside any call, or during a call made without a client).
   */
  acquire(serverRequestTimeout: number): void {
    if (this.#users++ === 0) {
      // The catalog's changes reached no listener while no gateway used the hub: what was indexed may be stale.
      this.tools.forget();
      this.#previousHandler = this.proxy.onServerRequest;
      this.proxy.onServerRequest = this.#handler;
      for (const type of ["toolsChanged", "resourcesChanged", "promptsChanged"] as const) {
        this.catalog.addEventListener(type, this.#onListChanged);
      }
      this.catalog.addEventListener("resourceUpdated", this.#onResourceUpdated);
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
    if (event.type === "toolsChanged") this.tools.forget();
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

  /**
   * The handlers of one client request routed to a member: what the member asks or logs during that call goes to
   * this session only, related to `requestId`.
   */
  relate(session: ClientSession, requestId: RequestId): Pick<CallOptions, "onrequest" | "onlog"> {
    return {
      onrequest: (request) => this.#ask(session, requestId, request),
      onlog: (message) => this.#log(session, requestId, message),
    };
  }

  #log(session: ClientSession, requestId: RequestId, message: ServerLogMessage): void {
    if (!session.capabilities || !this.sessions.has(session)) return;
    const level = message.level as LoggingLevel;
    if (session.loggingLevel !== undefined && LEVELS.indexOf(level) < LEVELS.indexOf(session.loggingLevel)) return;
    const logger = message.logger === undefined ? message.serverId : `${message.serverId}/${message.logger}`;
    session.server.notification(
      { method: "notifications/message", params: { level, logger, data: message.data } },
      { relatedRequestId: requestId },
    ).catch(() => {});
  }

  async #ask(session: ClientSession, requestId: RequestId, request: ServerRequest): Promise<Record<string, unknown>> {
    const capability = requiredCapability(request);
    if (!capability) {
      throw new ProtocolError(
        ProtocolErrorCode.MethodNotFound,
        `The federation gateway does not forward '${request.method}'`,
      );
    }
    if (!supports(session, request)) {
      throw new ProtocolError(
        ProtocolErrorCode.MethodNotFound,
        `No client of the federation gateway supports '${request.method}' for this call: the calling client did not declare capability '${capability}'`,
      );
    }
    const options = { signal: request.signal, timeout: this.serverRequestTimeout, relatedRequestId: requestId };
    const params = request.params ?? {};
    return await session.server.request({ method: request.method, params }, schemaFor(request), options) as Record<
      string,
      unknown
    >;
  }
}

/** The refusal of a member's request that belongs to no client's call. */
function refuseUnrelated(request: ServerRequest): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.InvalidRequest,
    `The federation gateway refuses '${request.method}' from server '${request.serverId}': it belongs to no client's call`,
  );
}

const hubs = new WeakMap<FederationProxy, SessionHub>();

/** The hub of a proxy, shared by every gateway serving it. */
export function hubFor(proxy: FederationProxy): SessionHub {
  let hub = hubs.get(proxy);
  if (!hub) hubs.set(proxy, hub = new SessionHub(proxy));
  return hub;
}
