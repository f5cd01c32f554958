/**
 * {@link FederationProxy}: registers MCP servers (members), keeps a control and a data channel open to each,
 * watches their health, recovers from faults, and calls their tools, resources and prompts.
 *
 * @example Register a member and call a tool
 * ```ts ignore
 * import { FederationProxy } from "@federated-mcp/federation/proxy";
 *
 * await using proxy = new FederationProxy(Deno.env.get("MCP_SECRET_KEY")!);
 * await proxy.registerServer({
 *   serverId: "server-1",
 *   endpoints: { control: "ws://localhost:3000", data: "http://localhost:3001" },
 *   auth: { type: "jwt", config: { expiresIn: "1h" } },
 * });
 * const result = await proxy.callTool("server-1", "echo", { text: "hello" });
 * console.log(result.content);
 * ```
 *
 * Over 400 lines for a reason: this is the facade, one typed method per MCP request (each a line or two of code
 * and its documentation); how each request is sent is in `_requests.ts`, routing and failover in `_member.ts`,
 * events and their log lines in `_emit.ts`.
 * @module
 */

import { AuthManager, type JsonWebKeySet } from "../core/auth.ts";
import { checkSecretStrength, validateConfig } from "../core/config.ts";
import { ConfigError, ConnectionError, ServerNotFoundError } from "../core/errors.ts";
import { consoleLogger, type Logger } from "../core/logger.ts";
import { type TypedEventListener, TypedEventTarget } from "../core/typed_event_target.ts";
import type { FederationConfig, SecretProvider } from "../core/types.ts";
import type {
  CallToolResult,
  CompleteRequestParams,
  CompleteResult,
  GetPromptResult,
  LoggingLevel,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  ServerCapabilities,
  Tool,
} from "../core/mcp_types.ts";
import type { Member, MemberEventInit } from "./_member.ts";
import { checkStdioLimit, createMember } from "./_register.ts";
import { memberEvent, statusEvents } from "./_emit.ts";
import type { RequestRunner } from "./request_runner.ts";
import { AuthManagerCache } from "./_token_source.ts";
import { guardEndpoints } from "../core/outbound_guard.ts";
import { postModernTask } from "./_tasks.ts";
import { outsideAnyTrace } from "../core/_telemetry.ts";
import type { CallOptions } from "./call_options.ts";
import { FederatedCatalog } from "./catalog/federated_catalog.ts";
import type { CacheHint, CatalogCallOptions, CatalogList } from "./catalog/types.ts";
import type { CatalogSource } from "./catalog/source.ts";
import { type FederationEventMap, type FederationEventType, MemberErrorEvent, type StatusEvent } from "./events.ts";
import { DEFAULT_MAX_STDIO_MEMBERS, type FederationProxyOptions } from "./options.ts";
import type { ServerStatus } from "./status.ts";
import type { ServerRequestHandler } from "./server_requests.ts";
import { answeringHandler } from "./_refusing_handler.ts";
import {
  type ModernCall,
  type Page,
  type PageRunner,
  paginate,
  promptGet,
  promptsPage,
  resourceRead,
  resourcesPage,
  resourceTemplatesPage,
  toolCall,
  toolsPage,
  traced,
} from "./_requests.ts";

/** Options of {@link FederationProxy.registerServer}. */
export interface RegisterOptions {
  /** Abandons the registration (nothing is left registered). */
  signal?: AbortSignal;
}

/**
 * A listener of one type of {@link FederationEvent}: a function or an object with `handleEvent`, receiving that
 * type's event class ({@link FederationEventMap}).
 */
export type FederationEventListener<K extends FederationEventType = FederationEventType> = TypedEventListener<
  FederationEventMap[K]
>;

/**
 * Federates many MCP servers. Members are tracked in a map keyed by serverId.
 *
 * Lifecycle: `close()` stops now, `drain()` lets in-flight calls finish first, `closed()` resolves when done,
 * and `await using` drains it at the end of the scope.
 *
 * @example Health at a glance
 * ```ts
 * import { FederationProxy } from "@federated-mcp/federation/proxy";
 *
 * await using proxy = new FederationProxy("a-secret-of-at-least-thirty-two-bytes!!");
 * console.log(proxy.getConnectedServers()); // []
 * ```
 */
export class FederationProxy extends TypedEventTarget<FederationEventMap> implements AsyncDisposable, CatalogSource {
  /**
   * Answers members' server-to-client requests (`sampling/createMessage`, `elicitation/create`, `roots/list`) that
   * belong to no call, or to a call made without `CallOptions.onrequest` (a call's own handler gets its requests);
   * without one they get a JSON-RPC error. The gateway sets it to refuse them (and a modern member is then told, on
   * the proxy's own calls without `onrequest`, that nobody can answer its input).
   */
  onServerRequest: ServerRequestHandler | undefined;
  #members = new Map<string, Member>();
  #secret: SecretProvider | AuthManager;
  #options: FederationProxyOptions;
  #logger: Logger;
  #managers: AuthManagerCache;
  #now: () => number;
  #closing: Promise<void> | undefined;
  #closedResolve!: () => void;
  #closedPromise: Promise<void> = new Promise((resolve) => this.#closedResolve = resolve);
  #onAbort = () => void this.close();
  #catalog: FederatedCatalog | undefined;

  /**
   * Creates a proxy.
   *
   * @param secret What signs member tokens (a member's `auth.config.secret` overrides it): a shared secret, a
   *   function returning it (called on every connect and reconnect), or a signing {@link AuthManager} such as
   *   `await AuthManager.generate("EdDSA")`, whose `publicJwks()` members verify with, unable to mint tokens.
   * @param options Timeouts, heartbeat, backoff, routing, logger, signal.
   * @throws {ConfigError} When the secret is empty (or short, with `strictSecrets`).
   */
  constructor(secret: SecretProvider | AuthManager, options: FederationProxyOptions = {}) {
    super();
    if (typeof secret === "string") {
      checkSecretStrength(secret, "secret", {
        strictSecrets: options.strictSecrets ?? false,
        warn: (message) => (options.logger ?? consoleLogger("warn")).warn(message),
      });
    } else if (typeof secret !== "function" && !(secret instanceof AuthManager)) {
      throw new ConfigError("Invalid secret: must be a string, a function returning one, or a signing AuthManager", {
        field: "secret",
      });
    }
    this.#secret = secret;
    this.#options = options;
    this.onServerRequest = options.onServerRequest;
    this.#logger = options.logger ?? consoleLogger("warn");
    this.#now = options.now ?? Date.now;
    this.#managers = new AuthManagerCache(options.strictSecrets ?? false, this.#now);
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
    if (options.signal?.aborted) void this.close();
  }

  /**
   * The federated catalog: every member's tools, resources and prompts under federated names, cached, kept fresh,
   * and routed back to their member. Created on first use with the `catalog` option.
   *
   * @example
   * ```ts ignore
   * const tools = await proxy.catalog.listTools(); // server-1__echo, server-2__echo, …
   * await proxy.catalog.callTool("server-1__echo", { text: "hi" });
   * ```
   */
  get catalog(): FederatedCatalog {
    if (this.#catalog) return this.#catalog;
    const catalog = new FederatedCatalog(this, this.#options.catalog);
    // A member left out of a federated list is worth a line in the log (the list itself does not fail): a warning for
    // the first failure of a streak, the repeats at debug level.
    catalog.addEventListener("listFailed", (event) => {
      const data = {
        serverId: event.serverId,
        list: event.list,
        error: event.error.message,
        retryInMs: event.retryIn,
      };
      if (event.repeated) this.#logger.debug("A member's list is left out of the federated list", data);
      else this.#logger.warn("A member's list is left out of the federated list", data);
    });
    return this.#catalog = catalog;
  }

  /**
   * Registers a member: validates the config, mints its token, opens both channels and runs `initialize`.
   * Resolves when the member is usable (at least one channel up).
   *
   * @param config The member's registration.
   * @param options `signal`.
   * @returns The member's status.
   * @throws {ConfigError} Invalid config, an endpoint refused by `outboundGuard`, a stdio member past
   *   `maxStdioMembers` or an unset `envFrom` variable (`ERR_CONFIG_INVALID`), or a duplicate serverId
   *   (`ERR_SERVER_EXISTS`).
   * @throws {ConnectionError} Unreachable or refused (`ERR_CONNECTION_FAILED`); proxy closed (`ERR_CLOSED`).
   * @throws {AuthenticationError} The member rejected the token (`ERR_AUTH_REJECTED`).
   * @throws {TimeoutError} Connecting took longer than `connectTimeout`.
   */
  async registerServer(config: FederationConfig, options: RegisterOptions = {}): Promise<ServerStatus> {
    if (this.#closing) throw new ConnectionError("The federation proxy is closed", { code: "ERR_CLOSED" });
    validateConfig(config, {
      strictSecrets: this.#options.strictSecrets ?? false,
      warn: (message) => this.#logger.warn(message),
    });
    await guardEndpoints(config, this.#options.outboundGuard, options.signal);
    if (this.#closing) throw new ConnectionError("The federation proxy is closed", { code: "ERR_CLOSED" });
    const { serverId } = config;
    if (this.#members.has(serverId)) {
      throw new ConfigError(`Cannot register server '${serverId}': a server with this id is already registered`, {
        code: "ERR_SERVER_EXISTS",
        field: "serverId",
        serverId,
      });
    }
    checkStdioLimit(config, this.#members.values(), this.#options.maxStdioMembers ?? DEFAULT_MAX_STDIO_MEMBERS);
    const member = createMember(config, {
      options: this.#options,
      secret: this.#secret,
      managers: this.#managers,
      now: this.#now,
      logger: this.#logger,
      serverRequestHandler: () => this.onServerRequest,
      emit: (type, init) => this.#emit(type, init),
    });
    this.#members.set(serverId, member);
    try {
      await member.start(options.signal);
    } catch (error) {
      if (this.#members.get(serverId) === member) this.#members.delete(serverId);
      // Dispatched without a log line: the caller gets the same error thrown.
      this.dispatchEvent(new MemberErrorEvent({ serverId, cause: error as Error }));
      await member.close(0);
      throw error;
    }
    this.#logger.info("Server registered", { serverId, state: member.state });
    return member.status();
  }

  /**
   * Removes a member: new calls are refused, in-flight ones may finish (up to `drainTimeout`), both channels close,
   * and a `closed` event follows.
   *
   * @param serverId The member.
   * @returns `false` when no such member was registered.
   */
  async removeServer(serverId: string): Promise<boolean> {
    const member = this.#members.get(serverId);
    if (!member) return false;
    this.#members.delete(serverId);
    await member.close(this.#options.drainTimeout ?? 5_000);
    return true;
  }

  /**
   * Ids of the members usable now (connected, or degraded with one channel up).
   *
   * @returns The ids, in registration order.
   */
  getConnectedServers(): string[] {
    return [...this.#members.values()].filter((m) => m.usable).map((m) => m.serverId);
  }

  /**
   * Whether a member is registered (usable or not).
   *
   * @param serverId The member.
   * @returns Whether it is registered.
   */
  hasServer(serverId: string): boolean {
    return this.#members.has(serverId);
  }

  /**
   * One member's state, per-channel state and latency, last error, reconnect attempts and serverInfo.
   *
   * @param serverId The member.
   * @returns Its status, or `undefined` when not registered.
   */
  getServerStatus(serverId: string): ServerStatus | undefined {
    return this.#members.get(serverId)?.status();
  }

  /**
   * Every member's status.
   *
   * @returns One entry per registered member.
   */
  getStatus(): ServerStatus[] {
    return [...this.#members.values()].map((m) => m.status());
  }

  #member(serverId: string): Member {
    if (this.#closing) throw new ConnectionError("The federation proxy is closed", { serverId, code: "ERR_CLOSED" });
    const member = this.#members.get(serverId);
    if (!member) {
      throw new ServerNotFoundError(`No server registered as '${serverId}'`, { serverId });
    }
    return member;
  }

  /**
   * What a member announced as its instructions (`initialize` or `server/discover`), as its latest connection found
   * it. A gateway merges them into its own.
   *
   * @param serverId The member.
   * @returns The instructions, or `undefined` (none, or no such member).
   */
  getServerInstructions(serverId: string): string | undefined {
    return this.#members.get(serverId)?.instructions;
  }

  /**
   * What a member announced it can do (`initialize` or `server/discover`), as its latest connection found it.
   *
   * @param serverId The member.
   * @returns Its capabilities, or `undefined` (not connected yet, or no such member).
   */
  getServerCapabilities(serverId: string): ServerCapabilities | undefined {
    return this.#members.get(serverId)?.capabilities;
  }

  /**
   * The cache hint of a member's last list result of one kind (a modern member's `ttlMs` and `cacheScope`).
   *
   * @param serverId The member.
   * @param list Which list.
   * @returns The hint, or `undefined` when the member gave none (a legacy member never does).
   */
  getCacheHint(serverId: string, list: CatalogList): CacheHint | undefined {
    return this.#members.get(serverId)?.cacheHints[list];
  }

  /** What a call does with a modern member's input rounds (`_input_required.ts`). */
  #modern(serverId: string, what: string, options: CallOptions, definition?: Tool): ModernCall {
    return {
      logLevel: this.#members.get(serverId)?.logLevel,
      rounds: {
        serverId,
        what,
        allow: options.allowInputRequired ?? false,
        inputResponses: options.inputResponses,
        requestState: options.requestState,
        handler: answeringHandler(options.onrequest ?? this.onServerRequest),
        signal: options.signal,
      },
      definition,
    };
  }

  /**
   * Runs any MCP request on a member with routing, failover, timeout and cancellation. The building block of the
   * typed calls below and of the gateway's pass-through.
   *
   * @param serverId The member.
   * @param what A short description for errors, e.g. the method.
   * @param run Gets the channel's SDK client and request options.
   * @param options Call options; `idempotent` allows a retry on the other channel.
   * @returns What `run` returns.
   * @throws {ServerNotFoundError} Unknown member.
   * @throws {FederationError} `ConnectionError`, `TimeoutError`, `CancelledError`, `ProtocolError`.
   */
  request<T>(serverId: string, what: string, run: RequestRunner<T>, options: CallOptions = {}): Promise<T> {
    try {
      const member = this.#member(serverId);
      return member.request(what, traced(member, what, run), { ...options, safe: options.idempotent ?? false });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends one request of the 2026-07-28 tasks extension (`tools/call` answered with `resultType: "task"`,
   * `tasks/get`, `tasks/update`, `tasks/cancel`) to a modern member, as a plain POST to its data endpoint (the SDK
   * client does not take task results on a modern connection). The outbound guard and the member's token apply.
   *
   * @example Poll a modern member's task
   * ```ts ignore
   * const task = await proxy.requestModernTask("research", "tasks/get", { taskId: "7f3c" });
   * ```
   *
   * @param serverId The member (a modern one, with a data endpoint).
   * @param method The method.
   * @param params Its params.
   * @param options `signal`, `timeout`, `onBehalfOf`.
   * @returns The JSON-RPC result.
   * @throws {FederationError} `ServerNotFoundError`, `ConnectionError` (no data endpoint too), `ProtocolError`.
   */
  async requestModernTask(
    serverId: string,
    method: string,
    params: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<Record<string, unknown>> {
    const endpoint = this.#member(serverId).modernEndpoint();
    if (!endpoint) {
      throw new ConnectionError(`Server '${serverId}' has no data endpoint for ${method}`, { serverId });
    }
    return await postModernTask(endpoint, method, params, {
      signal: options.signal,
      timeout: options.timeout,
      onBehalfOf: options.onBehalfOf,
    });
  }

  /**
   * Calls a tool on a member: the one `tools/call` path (the catalog calls it too). A tool error (`isError: true`)
   * is a result, not an exception. Retried on the other channel after a drop only when safe: `idempotent`, else
   * the tool's `readOnlyHint`/`idempotentHint` as last listed (`_tool_safety.ts`).
   *
   * @param serverId The member.
   * @param name The tool's name on the member.
   * @param args The tool's arguments.
   * @param options `signal`, `timeout`, `onprogress`, `onrequest`, `channel`, `idempotent`, `meta` (sent as `_meta`:
   *   a modern member sees the caller's client info and capabilities in it), and for a modern member's input rounds
   *   `allowInputRequired`, `inputResponses` and `requestState`.
   * @returns The tool's result (with `allowInputRequired`, possibly a modern member's `input_required` round).
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  callTool(
    serverId: string,
    name: string,
    args: Record<string, unknown> = {},
    options: CatalogCallOptions = {},
  ): Promise<CallToolResult> {
    try {
      const member = this.#member(serverId);
      const { meta, ...callOptions } = options;
      const what = `tools/call '${name}'`;
      const modern = this.#modern(serverId, what, options, member.tools.definition(name));
      return member.request(what, traced(member, what, toolCall(name, args, meta, modern)), {
        ...callOptions,
        safe: options.idempotent ?? member.tools.isSafe(name),
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #paginate<T>(
    serverId: string,
    list: CatalogList,
    what: string,
    page: PageRunner<T>,
    options: CallOptions,
  ): Promise<T[]> {
    return paginate(
      (run: RequestRunner<Page<T>>) => this.request(serverId, what, run, { ...options, idempotent: true }),
      page,
      (hint) => {
        const member = this.#members.get(serverId);
        if (!member) return;
        if (hint) member.cacheHints[list] = hint;
        else delete member.cacheHints[list];
      },
    );
  }

  /**
   * Lists a member's tools, following pagination cursors.
   *
   * @param serverId The member.
   * @param options Call options.
   * @returns Every tool.
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  async listTools(serverId: string, options: CallOptions = {}): Promise<Tool[]> {
    const tools = await this.#paginate(serverId, "tools", "tools/list", toolsPage, options);
    this.#member(serverId).tools.learn(tools);
    return tools;
  }

  /**
   * Lists a member's resources, following pagination cursors.
   *
   * @param serverId The member.
   * @param options Call options.
   * @returns Every resource.
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  listResources(serverId: string, options: CallOptions = {}): Promise<Resource[]> {
    return this.#paginate(serverId, "resources", "resources/list", resourcesPage, options);
  }

  /**
   * Lists a member's resource templates, following pagination cursors.
   *
   * @param serverId The member.
   * @param options Call options.
   * @returns Every resource template.
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  listResourceTemplates(serverId: string, options: CallOptions = {}): Promise<ResourceTemplate[]> {
    return this.#paginate(serverId, "resourceTemplates", "resources/templates/list", resourceTemplatesPage, options);
  }

  /**
   * Reads a resource from a member.
   *
   * @param serverId The member.
   * @param uri The resource URI.
   * @param options Call options, and `meta` (sent as `_meta`).
   * @returns The contents (a modern member's `ttlMs`/`cacheScope` on them as it sent them).
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  readResource(serverId: string, uri: string, options: CatalogCallOptions = {}): Promise<ReadResourceResult> {
    const { meta, ...callOptions } = options;
    const what = `resources/read '${uri}'`;
    return this.request(serverId, what, resourceRead(uri, meta, this.#modern(serverId, what, options)), {
      ...callOptions,
      idempotent: true,
    });
  }

  /**
   * Lists a member's prompts, following pagination cursors.
   *
   * @param serverId The member.
   * @param options Call options.
   * @returns Every prompt.
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  listPrompts(serverId: string, options: CallOptions = {}): Promise<Prompt[]> {
    return this.#paginate(serverId, "prompts", "prompts/list", promptsPage, options);
  }

  /**
   * Gets a prompt from a member.
   *
   * @param serverId The member.
   * @param name The prompt's name on the member.
   * @param args The prompt's arguments.
   * @param options Call options, and `meta` (sent as `_meta`).
   * @returns The prompt's messages.
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  getPrompt(
    serverId: string,
    name: string,
    args: Record<string, string> = {},
    options: CatalogCallOptions = {},
  ): Promise<GetPromptResult> {
    const { meta, ...callOptions } = options;
    const what = `prompts/get '${name}'`;
    return this.request(serverId, what, promptGet(name, args, meta, this.#modern(serverId, what, options)), {
      ...callOptions,
      idempotent: true,
    });
  }

  /**
   * Asks a member for argument completions (`completion/complete`), `ref` in the member's names.
   *
   * @param serverId The member.
   * @param params `ref`, `argument`, `context`.
   * @param options Call options.
   * @returns The completion.
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  complete(serverId: string, params: CompleteRequestParams, options: CallOptions = {}): Promise<CompleteResult> {
    return this.request(serverId, "completion/complete", (client, o) => client.complete(params, o), {
      ...options,
      idempotent: true,
    });
  }

  /**
   * Subscribes to updates of a member's resource (`resources/subscribe`); they arrive as `notification` events.
   *
   * @param serverId The member.
   * @param uri The resource URI.
   * @param options Call options.
   * @returns When the member answered.
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  async subscribeResource(serverId: string, uri: string, options: CallOptions = {}): Promise<void> {
    const member = this.#member(serverId);
    // A modern member has no `resources/subscribe`: the URI joins its listen stream's filter.
    if (member.era === "modern") return await member.listen.subscribe(uri);
    await this.request(serverId, `resources/subscribe '${uri}'`, (client, o) => client.subscribeResource({ uri }, o), {
      ...options,
      idempotent: true,
    });
  }

  /**
   * Ends a subscription made with {@link FederationProxy.subscribeResource} (`resources/unsubscribe`).
   *
   * @param serverId The member.
   * @param uri The resource URI.
   * @param options Call options.
   * @returns When the member answered.
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  async unsubscribeResource(serverId: string, uri: string, options: CallOptions = {}): Promise<void> {
    const member = this.#member(serverId);
    if (member.era === "modern") return await member.listen.unsubscribe(uri);
    await this.request(
      serverId,
      `resources/unsubscribe '${uri}'`,
      (client, o) => client.unsubscribeResource({ uri }, o),
      { ...options, idempotent: true },
    );
  }

  /**
   * Sets the level of the log messages a member sends (`logging/setLevel`).
   *
   * @param serverId The member.
   * @param level The lowest level to send.
   * @param options Call options.
   * @returns When the member answered.
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  async setLoggingLevel(serverId: string, level: LoggingLevel, options: CallOptions = {}): Promise<void> {
    const member = this.#member(serverId);
    member.logLevel = level;
    // A modern member has no `logging/setLevel`: the level goes in each request's `_meta`.
    if (member.era === "modern") return;
    await this.request(serverId, "logging/setLevel", (client, o) => client.setLoggingLevel(level, o), {
      ...options,
      idempotent: true,
    });
  }

  /**
   * Pings a member over the routed channel.
   *
   * @param serverId The member.
   * @param options Call options (`channel` to pick one).
   * @returns The round-trip time in ms.
   * @throws {FederationError} As {@link FederationProxy.request}.
   */
  async ping(serverId: string, options: CallOptions = {}): Promise<number> {
    const started = performance.now();
    // A modern member has no `ping`: `server/discover` is its cheapest round trip.
    await this.request(
      serverId,
      "ping",
      async (client, o) => {
        if (client.getProtocolEra() === "modern") await client.discover(o);
        else await client.ping(o);
      },
      { ...options, idempotent: true },
    );
    return performance.now() - started;
  }

  #emit(type: FederationEventType, init: MemberEventInit): void {
    // A member's events belong to no caller's request: what their listeners start (a catalog refresh) is traced on
    // its own.
    outsideAnyTrace(() => this.dispatchEvent(memberEvent(this.#logger, type, init)));
  }

  /**
   * Every status event from now on, in order, as an async iterator; it ends when the proxy closes or the loop
   * breaks.
   *
   * @param options `signal` ends the iteration.
   * @returns The events.
   */
  status(options: { signal?: AbortSignal } = {}): AsyncGenerator<StatusEvent, void, undefined> {
    return statusEvents(this, this.#closedPromise, options.signal);
  }

  /**
   * The public keys members verify this proxy's tokens with: the JWKS of an asymmetric signing {@link AuthManager}
   * (current and not yet removed keys), empty for a shared secret. A gateway serves it at `/.well-known/jwks.json`.
   *
   * @returns The key set.
   * @example
   * ```ts
   * import { AuthManager } from "@federated-mcp/federation/core";
   * import { FederationProxy } from "@federated-mcp/federation/proxy";
   *
   * await using proxy = new FederationProxy(await AuthManager.generate("EdDSA"));
   * console.log((await proxy.publicJwks()).keys.length); // 1
   * ```
   */
  async publicJwks(): Promise<JsonWebKeySet> {
    return this.#secret instanceof AuthManager ? await this.#secret.publicJwks() : { keys: [] };
  }

  /**
   * Whether `secret` is one this proxy signs member tokens with: its own secret (what its provider returns now) or
   * a registered member's `auth.config.secret`. A gateway refuses such a secret for its client tokens: any member
   * could then mint them.
   *
   * @param secret The candidate secret.
   * @returns `true` when the proxy signs with it.
   * @example
   * ```ts
   * import { FederationProxy } from "@federated-mcp/federation/proxy";
   *
   * await using proxy = new FederationProxy("proxy-secret-of-at-least-thirty-two-bytes");
   * console.log(await proxy.signsWithSecret("proxy-secret-of-at-least-thirty-two-bytes")); // true
   * ```
   */
  async signsWithSecret(secret: string | Uint8Array): Promise<boolean> {
    const wanted = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
    const same = (candidate: string) => {
      const bytes = new TextEncoder().encode(candidate);
      if (bytes.byteLength !== wanted.byteLength) return false;
      let diff = 0;
      for (let i = 0; i < bytes.byteLength; i++) diff |= bytes[i]! ^ wanted[i]!;
      return diff === 0;
    };
    const providers: (SecretProvider | undefined)[] = [];
    if (!(this.#secret instanceof AuthManager)) providers.push(this.#secret);
    for (const member of this.#members.values()) {
      const auth = member.config.auth;
      if (auth?.type === "jwt") providers.push(auth.config.secret);
    }
    for (const provider of providers) {
      if (provider === undefined) continue;
      // A provider that throws (or rejects) has no secret to compare.
      const value = typeof provider === "string"
        ? provider
        : await Promise.resolve().then(provider).catch(() => undefined);
      if (typeof value === "string" && same(value)) return true;
    }
    return false;
  }

  /**
   * Closes every member now; pending calls end with `ConnectionError`. Idempotent.
   *
   * @returns When everything is closed.
   */
  close(): Promise<void> {
    return this.#shutdown(0);
  }

  /**
   * Refuses new registrations, lets in-flight calls finish (up to `drainTimeout` each), then closes.
   *
   * @returns When everything is closed.
   */
  drain(): Promise<void> {
    return this.#shutdown(this.#options.drainTimeout ?? 5_000);
  }

  #shutdown(drainTimeout: number): Promise<void> {
    this.#closing ??= (async () => {
      this.#options.signal?.removeEventListener("abort", this.#onAbort);
      const members = [...this.#members.values()];
      this.#members.clear();
      await Promise.all(members.map((member) => member.close(drainTimeout)));
      this.#closedResolve();
    })();
    return this.#closing;
  }

  /**
   * Resolves when the proxy has closed; never rejects.
   *
   * @returns When closed.
   */
  closed(): Promise<void> {
    return this.#closedPromise;
  }

  /**
   * Same as {@link FederationProxy.drain}, for `await using`: in-flight calls finish (up to `drainTimeout`), then
   * everything closes. Idempotent.
   *
   * @returns When everything is closed.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.drain();
  }
}
