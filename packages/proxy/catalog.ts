/**
 * {@link FederatedCatalog}: every member's tools, resources, resource templates and prompts as one catalog, with
 * federated names, cached per member and kept fresh from members' `list_changed` notifications and reconnections.
 * Calls on a federated name or URI are routed to the member that owns it.
 *
 * @example List and call across the federation
 * ```ts ignore
 * import { FederationProxy } from "@federated-mcp/federation/proxy";
 *
 * await using proxy = new FederationProxy(Deno.env.get("MCP_SECRET_KEY")!);
 * await proxy.registerServer({ serverId: "a", endpoints: { control: "ws://localhost:3000" } });
 * await proxy.registerServer({ serverId: "b", endpoints: { data: "http://localhost:3101" } });
 * const tools = await proxy.catalog.listTools(); // a__echo, b__echo, …
 * const result = await proxy.catalog.callTool("a__echo", { text: "hi" });
 * console.log(tools.length, result.content);
 * ```
 * @module
 */

import { type FederationError, ProtocolError, ServerNotFoundError } from "../core/errors.ts";
import { CallToolResultSchema, type ContentBlock, ErrorCode, UriTemplate } from "../core/_sdk.ts";
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
import { toFederationError } from "./_errors.ts";
import { assignNames, fnv1a, type PrefixMode } from "./_naming.ts";
import { assignUris, parseRewrittenUri, rewriteUri } from "./_uris.ts";
import type { CallOptions } from "./call_options.ts";
import { CatalogEvent, type CatalogEventInit, type CatalogEventType } from "./catalog_events.ts";
import type { FederationEvent, FederationEventType } from "./events.ts";
import type { FederationProxy } from "./federation_proxy.ts";

export type { PrefixMode } from "./_naming.ts";

/** `_meta` key under which every federated entry names its member and its name (or URI) there. */
export const ORIGIN_META_KEY = "io.github.federated-mcp/origin";

/** Options of a {@link FederatedCatalog}. */
export interface CatalogOptions {
  /**
   * `"always"`: every tool and prompt is `serverId__name`. `"on-collision"`: a name offered by one member only is
   * used as is, and prefixed only when two members offer it.
   * @default {"always"}
   */
  prefix?: PrefixMode | undefined;
  /** Time one member may take to answer one list request (each page), in ms. @default {5000} */
  listTimeout?: number | undefined;
  /** After a member failed to list, how long its last good list (or nothing) is served before asking again, in ms. @default {5000} */
  retryAfter?: number | undefined;
  /** Clock in ms, for `retryAfter`. @default {performance.now} */
  now?: (() => number) | undefined;
}

/** The kinds of lists the catalog federates. */
export type CatalogList = "tools" | "resources" | "resourceTemplates" | "prompts";

/** A member's list that could not be fetched; the catalog serves the member's last good list meanwhile. */
export interface CatalogFailure {
  /** The member. */
  serverId: string;
  /** Which list. */
  list: CatalogList;
  /** Why. */
  error: FederationError;
  /** When, from the catalog's clock (ms). */
  at: number;
}

/** Where a federated tool or prompt lives. */
export interface NameOrigin {
  /** The member. */
  serverId: string;
  /** The name on the member. */
  name: string;
}

/** Where a federated resource lives. */
export interface UriOrigin {
  /** The member. */
  serverId: string;
  /** The URI on the member. */
  uri: string;
}

/** Options of calls through the catalog. */
export interface CatalogCallOptions extends CallOptions {
  /** `_meta` to send along (e.g. a `traceparent`); the progress token is managed for you and dropped from it. */
  meta?: Record<string, unknown> | undefined;
}

type Item = Tool | Resource | ResourceTemplate | Prompt;
type Capability = "tools" | "resources" | "prompts";

const CAPABILITY: Record<CatalogList, Capability> = {
  tools: "tools",
  resources: "resources",
  resourceTemplates: "resources",
  prompts: "prompts",
};
const CHANGE_EVENT: Record<CatalogList, CatalogEventType> = {
  tools: "toolsChanged",
  resources: "resourcesChanged",
  resourceTemplates: "resourcesChanged",
  prompts: "promptsChanged",
};
const LIST_CHANGED: Record<string, CatalogList[]> = {
  "notifications/tools/list_changed": ["tools"],
  "notifications/resources/list_changed": ["resources", "resourceTemplates"],
  "notifications/prompts/list_changed": ["prompts"],
};
const LISTS: CatalogList[] = ["tools", "resources", "resourceTemplates", "prompts"];
const STATE_EVENTS: FederationEventType[] = ["connected", "degraded", "reconnecting", "disconnected", "closed"];

/** One member's copy of one list. */
class Slot {
  items: Item[] | undefined;
  fingerprint = "";
  stale = true;
  generation = 0;
  pending: Promise<void> | undefined;
  error: FederationError | undefined;
  failedAt = -Infinity;
}

/** What the catalog keeps per member. */
class MemberEntry {
  readonly slots: Record<CatalogList, Slot> = {
    tools: new Slot(),
    resources: new Slot(),
    resourceTemplates: new Slot(),
    prompts: new Slot(),
  };
  capabilities: ServerCapabilities | undefined;
  usable = false;
  /** Subscribed URIs on the member, with the number of subscribers. */
  readonly subscriptions = new Map<string, number>();
}

/** The federated form of one list, rebuilt when a member's part of it changes. */
interface View {
  /** Fingerprint of the member lists it was built from. */
  fingerprint: string;
  /** Fingerprint last announced with a change event (or built). */
  announced: string;
  items: Item[];
  /** Federated name or URI → origin. */
  owners: Map<string, { serverId: string; key: string; safe: boolean }>;
  /** `serverId \0 original` → federated name or URI. */
  reverse: Map<string, string>;
  /** For templates: matchers of the templates kept unchanged. */
  matchers: { template: UriTemplate; serverId: string }[];
}

/** A listener of {@link CatalogEvent}s: a function or an object with `handleEvent`. */
export type CatalogEventListener =
  | ((event: CatalogEvent) => void)
  | { handleEvent(event: CatalogEvent): void }
  | null;

function keyOf(list: CatalogList, item: Item): string {
  if (list === "resources") return (item as Resource).uri;
  if (list === "resourceTemplates") return (item as ResourceTemplate).uriTemplate;
  return (item as Tool | Prompt).name;
}

function withKey(list: CatalogList, item: Item, key: string, origin: NameOrigin | UriOrigin): Item {
  const meta = { ...item._meta, [ORIGIN_META_KEY]: origin };
  if (list === "resources") return { ...item, uri: key, _meta: meta } as Resource;
  if (list === "resourceTemplates") return { ...item, uriTemplate: key, _meta: meta } as ResourceTemplate;
  return { ...item, name: key, _meta: meta } as Tool | Prompt;
}

function isSafeTool(item: Item): boolean {
  const annotations = (item as Tool).annotations;
  return annotations?.readOnlyHint === true || annotations?.idempotentHint === true;
}

function pairKey(serverId: string, key: string): string {
  return `${serverId}\u0000${key}`;
}

/**
 * The federation's tools, resources, resource templates and prompts as one catalog. Get it as
 * `proxy.catalog`; its options come from the proxy's `catalog` option.
 *
 * - Lists are fetched from every usable member in parallel (each page within `listTimeout`), cached per member,
 *   and refreshed when a member sends `notifications/{tools,resources,prompts}/list_changed` or (re)connects;
 *   then `toolsChanged`, `resourcesChanged` or `promptsChanged` is dispatched if the federated list differs.
 * - A failing member never empties a list: the others' entries are returned, the member's last good list is kept,
 *   and the failure is in {@link FederatedCatalog.failures}.
 * - Names are `serverId__name`, always valid (`^[A-Za-z0-9_-]{1,64}$`); names that are too long, contain other
 *   characters or clash are shortened with a hash, deterministically, and mapped back. Resource URIs are kept
 *   when unique and otherwise rewritten as `federated://<serverId>/<original>`.
 *
 * @example Use the federation as one server
 * ```ts ignore
 * const catalog = proxy.catalog;
 * catalog.addEventListener("toolsChanged", () => console.log("tools changed"));
 * for (const tool of await catalog.listTools()) console.log(tool.name);
 * const page = await catalog.readResource("federated://docs/file:///README.md");
 * console.log(page.contents[0]);
 * ```
 */
export class FederatedCatalog extends EventTarget {
  #proxy: FederationProxy;
  #prefix: PrefixMode;
  #listTimeout: number;
  #retryAfter: number;
  #now: () => number;
  #members = new Map<string, MemberEntry>();
  #views = new Map<CatalogList, View>();
  /** Lists that someone has listed: they are refreshed eagerly and announced. */
  #hot = new Set<CatalogList>();
  #pendingEvents = new Set<CatalogEventType>();
  #loggingLevel: LoggingLevel | undefined;

  /**
   * Creates a catalog over a proxy. Prefer `proxy.catalog`, which creates one with the proxy's `catalog` options.
   *
   * @param proxy The proxy whose members are federated.
   * @param options Naming, timeouts, clock.
   * @throws {RangeError} For a negative or non-finite timeout.
   */
  constructor(proxy: FederationProxy, options: CatalogOptions = {}) {
    super();
    this.#proxy = proxy;
    this.#prefix = options.prefix ?? "always";
    if (this.#prefix !== "always" && this.#prefix !== "on-collision") {
      throw new RangeError(`Invalid prefix ${JSON.stringify(this.#prefix)}: use "always" or "on-collision"`);
    }
    this.#listTimeout = options.listTimeout ?? 5_000;
    this.#retryAfter = options.retryAfter ?? 5_000;
    for (const [name, value] of [["listTimeout", this.#listTimeout], ["retryAfter", this.#retryAfter]] as const) {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`Invalid ${name} ${value}: must be ms >= 0`);
    }
    this.#now = options.now ?? (() => performance.now());
    for (const status of proxy.getStatus()) {
      const entry = this.#entry(status.serverId);
      entry.usable = status.state === "connected" || status.state === "degraded";
    }
    const onState = (event: FederationEvent) => this.#onState(event);
    for (const type of STATE_EVENTS) proxy.addEventListener(type, onState);
    proxy.addEventListener("notification", (event) => this.#onNotification(event));
  }

  // ── Lists ──────────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Every usable member's tools, with federated names. Cached: a warm call returns the same array (do not mutate
   * it) without any request.
   *
   * @returns The tools; each has `_meta["io.github.federated-mcp/origin"]` = `{ serverId, name }`.
   */
  async listTools(): Promise<Tool[]> {
    return await this.#list("tools") as Tool[];
  }

  /**
   * Every usable member's resources, with federated URIs.
   *
   * @returns The resources; each has `_meta["io.github.federated-mcp/origin"]` = `{ serverId, uri }`.
   */
  async listResources(): Promise<Resource[]> {
    return await this.#list("resources") as Resource[];
  }

  /**
   * Every usable member's resource templates, with federated URI templates.
   *
   * @returns The templates; each has `_meta["io.github.federated-mcp/origin"]` = `{ serverId, uri }`.
   */
  async listResourceTemplates(): Promise<ResourceTemplate[]> {
    return await this.#list("resourceTemplates") as ResourceTemplate[];
  }

  /**
   * Every usable member's prompts, with federated names.
   *
   * @returns The prompts; each has `_meta["io.github.federated-mcp/origin"]` = `{ serverId, name }`.
   */
  async listPrompts(): Promise<Prompt[]> {
    return await this.#list("prompts") as Prompt[];
  }

  /**
   * The members' lists that could not be fetched lately (a later success clears the entry).
   *
   * @returns One entry per failing member and list.
   */
  failures(): CatalogFailure[] {
    const failures: CatalogFailure[] = [];
    for (const [serverId, entry] of this.#members) {
      for (const list of LISTS) {
        const slot = entry.slots[list];
        if (slot.error) failures.push({ serverId, list, error: slot.error, at: slot.failedAt });
      }
    }
    return failures;
  }

  // ── Routing ────────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Which member owns a federated tool name, and its name there.
   *
   * @param name The federated name.
   * @returns The origin.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` when no usable member offers it.
   */
  async resolveTool(name: string): Promise<NameOrigin> {
    const owner = await this.#owner("tools", name);
    if (!owner) {
      throw new ServerNotFoundError(`No tool named '${name}' in the federated catalog`, { code: "ERR_NOT_FOUND" });
    }
    return { serverId: owner.serverId, name: owner.key };
  }

  /**
   * Which member owns a federated prompt name, and its name there.
   *
   * @param name The federated name.
   * @returns The origin.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` when no usable member offers it.
   */
  async resolvePrompt(name: string): Promise<NameOrigin> {
    const owner = await this.#owner("prompts", name);
    if (!owner) {
      throw new ServerNotFoundError(`No prompt named '${name}' in the federated catalog`, { code: "ERR_NOT_FOUND" });
    }
    return { serverId: owner.serverId, name: owner.key };
  }

  /**
   * Which member serves a federated resource URI, and the URI there: a listed resource, a rewritten
   * `federated://<serverId>/…` URI, a URI matching a member's resource template, or any URI when only one usable
   * member offers resources.
   *
   * @param uri The federated URI.
   * @returns The origin.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` when no member can be chosen.
   */
  async resolveResource(uri: string): Promise<UriOrigin> {
    const listed = await this.#owner("resources", uri);
    if (listed) return { serverId: listed.serverId, uri: listed.key };
    const rewritten = parseRewrittenUri(uri);
    if (rewritten && this.#proxy.hasServer(rewritten.serverId)) return rewritten;
    const templates = await this.#owner("resourceTemplates", uri);
    if (templates) return { serverId: templates.serverId, uri: templates.key };
    const view = this.#views.get("resourceTemplates");
    const match = view?.matchers.find((m) => m.template.match(uri) !== null);
    if (match) return { serverId: match.serverId, uri };
    const offering = this.#proxy.getConnectedServers().filter((id) => this.#offers(this.#entry(id), "resources"));
    if (offering.length === 1) return { serverId: offering[0]!, uri };
    throw new ServerNotFoundError(`No member serves resource '${uri}' in the federated catalog`, {
      code: "ERR_NOT_FOUND",
    });
  }

  // ── Calls ──────────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Calls a federated tool on the member that owns it. Retried on the member's other channel after a drop only
   * when the tool is annotated read-only or idempotent (or `idempotent: true`).
   *
   * @param name The federated name.
   * @param args The tool's arguments.
   * @param options `signal`, `timeout`, `onprogress`, `channel`, `idempotent`, `meta`.
   * @returns The tool's result; embedded resource URIs are given in their federated form.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` for an unknown name.
   * @throws {FederationError} As `FederationProxy.request`.
   */
  async callTool(
    name: string,
    args: Record<string, unknown> = {},
    options: CatalogCallOptions = {},
  ): Promise<CallToolResult> {
    const owner = await this.#owner("tools", name);
    if (!owner) {
      throw new ServerNotFoundError(`No tool named '${name}' in the federated catalog`, { code: "ERR_NOT_FOUND" });
    }
    const { meta, ...callOptions } = options;
    const params: Record<string, unknown> = { name: owner.key, arguments: args };
    if (meta) {
      const { progressToken: _dropped, ...rest } = meta;
      if (Object.keys(rest).length > 0) params._meta = rest;
    }
    const result = await this.#observe(
      owner.serverId,
      "tools/call",
      this.#proxy.request(
        owner.serverId,
        `tools/call '${owner.key}'`,
        (client, o) =>
          client.request({ method: "tools/call", params }, CallToolResultSchema, o) as Promise<CallToolResult>,
        { ...callOptions, idempotent: options.idempotent ?? owner.safe },
      ),
    );
    const content = this.#federateContent(owner.serverId, result.content);
    return content === result.content ? result : { ...result, content };
  }

  /**
   * Reads a federated resource from the member that serves it.
   *
   * @param uri The federated URI.
   * @param options Call options.
   * @returns The contents, with federated URIs.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` when no member serves it.
   * @throws {FederationError} As `FederationProxy.request`.
   */
  async readResource(uri: string, options: CallOptions = {}): Promise<ReadResourceResult> {
    const origin = await this.resolveResource(uri);
    const result = await this.#observe(
      origin.serverId,
      "resources/read",
      this.#proxy.readResource(origin.serverId, origin.uri, options),
    );
    let changed = false;
    const contents = result.contents.map((content) => {
      const federated = content.uri === origin.uri ? uri : this.#federateUri(origin.serverId, content.uri);
      if (federated === content.uri) return content;
      changed = true;
      return { ...content, uri: federated };
    });
    return changed ? { ...result, contents } : result;
  }

  /**
   * Gets a federated prompt from the member that owns it.
   *
   * @param name The federated name.
   * @param args The prompt's arguments.
   * @param options Call options.
   * @returns The prompt's messages; embedded resource URIs in their federated form.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` for an unknown name.
   * @throws {FederationError} As `FederationProxy.request`.
   */
  async getPrompt(
    name: string,
    args: Record<string, string> = {},
    options: CallOptions = {},
  ): Promise<GetPromptResult> {
    const origin = await this.resolvePrompt(name);
    const result = await this.#observe(
      origin.serverId,
      "prompts/get",
      this.#proxy.getPrompt(origin.serverId, origin.name, args, options),
    );
    let changed = false;
    const messages = result.messages.map((message) => {
      const [content] = this.#federateContent(origin.serverId, [message.content]) as [typeof message.content];
      if (content === message.content) return message;
      changed = true;
      return { ...message, content };
    });
    return changed ? { ...result, messages } : result;
  }

  /**
   * Asks the member behind a prompt or resource template for argument completions (`completion/complete`).
   * A member without the `completions` capability gives no values.
   *
   * @param params `ref` (a federated prompt name or URI template), `argument`, `context`.
   * @param options Call options.
   * @returns The member's completion.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` when the reference is unknown.
   * @throws {FederationError} As `FederationProxy.request`.
   */
  async complete(params: CompleteRequestParams, options: CallOptions = {}): Promise<CompleteResult> {
    let serverId: string;
    let ref: CompleteRequestParams["ref"];
    if (params.ref.type === "ref/prompt") {
      const origin = await this.resolvePrompt(params.ref.name);
      serverId = origin.serverId;
      ref = { ...params.ref, name: origin.name };
    } else {
      const template = await this.#owner("resourceTemplates", params.ref.uri);
      const origin = template
        ? { serverId: template.serverId, uri: template.key }
        : await this.resolveResource(params.ref.uri);
      serverId = origin.serverId;
      ref = { ...params.ref, uri: origin.uri };
    }
    if (!this.#entry(serverId).capabilities?.completions && this.#entry(serverId).capabilities !== undefined) {
      return { completion: { values: [], hasMore: false } };
    }
    return await this.#observe(
      serverId,
      "completion/complete",
      this.#proxy.request(serverId, "completion/complete", (client, o) => client.complete({ ...params, ref }, o), {
        ...options,
        idempotent: true,
      }),
    );
  }

  /**
   * Subscribes to updates of a federated resource: the member gets `resources/subscribe` for the first subscriber
   * (and again after it reconnects), and each `notifications/resources/updated` becomes a `resourceUpdated` event.
   *
   * @param uri The federated URI.
   * @param options Call options.
   * @returns The resource's origin.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` when no member serves it.
   * @throws {ProtocolError} When the member does not support subscriptions.
   * @throws {FederationError} As `FederationProxy.request`.
   */
  async subscribe(uri: string, options: CallOptions = {}): Promise<UriOrigin> {
    const origin = await this.resolveResource(uri);
    const entry = this.#entry(origin.serverId);
    if (entry.capabilities !== undefined && !entry.capabilities.resources?.subscribe) {
      throw new ProtocolError(`Server '${origin.serverId}' does not support resources/subscribe`, {
        serverId: origin.serverId,
        rpcCode: ErrorCode.MethodNotFound,
      });
    }
    const count = entry.subscriptions.get(origin.uri) ?? 0;
    entry.subscriptions.set(origin.uri, count + 1);
    if (count > 0) return origin;
    try {
      await this.#sendSubscription(origin.serverId, origin.uri, "subscribe", options);
    } catch (error) {
      const now = entry.subscriptions.get(origin.uri) ?? 1;
      if (now <= 1) entry.subscriptions.delete(origin.uri);
      else entry.subscriptions.set(origin.uri, now - 1);
      throw error;
    }
    return origin;
  }

  /**
   * Ends one subscription made with {@link FederatedCatalog.subscribe}; the member gets `resources/unsubscribe`
   * when the last subscriber leaves.
   *
   * @param uri The federated URI.
   * @param options Call options.
   * @returns The resource's origin.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` when no member serves it.
   */
  async unsubscribe(uri: string, options: CallOptions = {}): Promise<UriOrigin> {
    const origin = await this.resolveResource(uri);
    const entry = this.#entry(origin.serverId);
    const count = entry.subscriptions.get(origin.uri) ?? 0;
    if (count > 1) entry.subscriptions.set(origin.uri, count - 1);
    else if (count === 1) {
      entry.subscriptions.delete(origin.uri);
      if (this.#proxy.getConnectedServers().includes(origin.serverId)) {
        await this.#sendSubscription(origin.serverId, origin.uri, "unsubscribe", options).catch(() => {});
      }
    }
    return origin;
  }

  /**
   * Sets the logging level of every usable member that supports logging, and of members that connect later.
   *
   * @param level The lowest level members should send.
   * @returns When every member answered (failures are ignored: a member that cannot keeps its level).
   */
  async setLoggingLevel(level: LoggingLevel): Promise<void> {
    this.#loggingLevel = level;
    await Promise.all(this.#proxy.getConnectedServers().map((serverId) => this.#applyLoggingLevel(serverId)));
  }

  /**
   * Listens for catalog events: `toolsChanged`, `resourcesChanged`, `promptsChanged`, `resourceUpdated`,
   * `message` and `request`.
   *
   * @param type The event type.
   * @param listener Receives a {@link CatalogEvent}.
   * @param options Standard listener options.
   */
  override addEventListener(
    type: CatalogEventType,
    listener: CatalogEventListener,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /**
   * Removes a listener added with {@link FederatedCatalog.addEventListener}.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options Standard listener options.
   */
  override removeEventListener(
    type: CatalogEventType,
    listener: CatalogEventListener,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  // ── Internals ──────────────────────────────────────────────────────────────────────────────────────────────────

  #entry(serverId: string): MemberEntry {
    let entry = this.#members.get(serverId);
    if (!entry) {
      entry = new MemberEntry();
      entry.capabilities = this.#proxy.getServerStatus(serverId)?.capabilities;
      this.#members.set(serverId, entry);
    }
    return entry;
  }

  #offers(entry: MemberEntry, list: CatalogList): boolean {
    return entry.capabilities === undefined || entry.capabilities[CAPABILITY[list]] !== undefined;
  }

  #needsFetch(serverId: string, list: CatalogList): boolean {
    const entry = this.#entry(serverId);
    if (!this.#offers(entry, list)) return false;
    const slot = entry.slots[list];
    if (!slot.stale && slot.items !== undefined) return false;
    return this.#now() - slot.failedAt >= this.#retryAfter;
  }

  async #list(list: CatalogList): Promise<Item[]> {
    this.#hot.add(list);
    const usable = this.#proxy.getConnectedServers();
    let pending: Promise<void>[] | undefined;
    for (const serverId of usable) {
      if (this.#needsFetch(serverId, list)) (pending ??= []).push(this.#ensureFresh(serverId, list));
    }
    if (pending) {
      await Promise.all(pending);
      this.#reconcile(list);
    }
    return this.#view(list).items;
  }

  /** Fetches a member's list until it is current (a list_changed may arrive during a fetch), at most 3 times. */
  async #ensureFresh(serverId: string, list: CatalogList): Promise<void> {
    for (let i = 0; i < 3 && this.#needsFetch(serverId, list); i++) await this.#refresh(serverId, list);
  }

  #refresh(serverId: string, list: CatalogList): Promise<void> {
    const entry = this.#entry(serverId);
    const slot = entry.slots[list];
    if (slot.pending) return slot.pending;
    const generation = slot.generation;
    slot.pending = this.#fetch(serverId, list).then((items) => {
      const seen = new Set<string>();
      slot.items = items.filter((item) => {
        const key = keyOf(list, item);
        if (typeof key !== "string" || seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      slot.fingerprint = fnv1a(JSON.stringify(slot.items)).toString(36);
      slot.error = undefined;
      slot.failedAt = -Infinity;
      slot.stale = slot.generation !== generation;
    }, (error) => {
      slot.error = error as FederationError;
      slot.failedAt = this.#now();
    }).finally(() => slot.pending = undefined);
    return slot.pending;
  }

  #fetch(serverId: string, list: CatalogList): Promise<Item[]> {
    const options = { timeout: this.#listTimeout };
    const proxy = this.#proxy;
    switch (list) {
      case "tools":
        return this.#observe(serverId, "tools/list", proxy.listTools(serverId, options));
      case "resources":
        return this.#observe(serverId, "resources/list", proxy.listResources(serverId, options));
      case "resourceTemplates":
        return this.#observe(serverId, "resources/templates/list", proxy.listResourceTemplates(serverId, options));
      case "prompts":
        return this.#observe(serverId, "prompts/list", proxy.listPrompts(serverId, options));
    }
  }

  /** Fingerprint of what a list's view would be built from now. */
  #fingerprint(list: CatalogList, usable: readonly string[]): string {
    let fingerprint = "";
    for (const serverId of usable) {
      const entry = this.#entry(serverId);
      if (!this.#offers(entry, list)) continue;
      const slot = entry.slots[list];
      if (slot.items !== undefined) fingerprint += `${serverId}:${slot.fingerprint};`;
    }
    return fingerprint;
  }

  #view(list: CatalogList): View {
    const usable = this.#proxy.getConnectedServers();
    const fingerprint = this.#fingerprint(list, usable);
    const current = this.#views.get(list);
    if (current && current.fingerprint === fingerprint) return current;
    const view = this.#build(list, usable, fingerprint);
    this.#views.set(list, view);
    return view;
  }

  #build(list: CatalogList, usable: readonly string[], fingerprint: string): View {
    const sources: { serverId: string; item: Item; key: string }[] = [];
    for (const serverId of [...usable].sort()) {
      const entry = this.#entry(serverId);
      if (!this.#offers(entry, list)) continue;
      for (const item of entry.slots[list].items ?? []) sources.push({ serverId, item, key: keyOf(list, item) });
    }
    const isUri = list === "resources" || list === "resourceTemplates";
    const keys = isUri
      ? assignUris(sources.map((s) => ({ serverId: s.serverId, uri: s.key })))
      : assignNames(sources.map((s) => ({ serverId: s.serverId, name: s.key })), this.#prefix);
    const view: View = {
      fingerprint,
      announced: fingerprint,
      items: [],
      owners: new Map(),
      reverse: new Map(),
      matchers: [],
    };
    sources.forEach((source, i) => {
      const key = keys[i]!;
      const origin = isUri
        ? { serverId: source.serverId, uri: source.key }
        : { serverId: source.serverId, name: source.key };
      view.items.push(withKey(list, source.item, key, origin));
      view.owners.set(key, { serverId: source.serverId, key: source.key, safe: isSafeTool(source.item) });
      view.reverse.set(pairKey(source.serverId, source.key), key);
      if (list === "resourceTemplates" && key === source.key) {
        try {
          view.matchers.push({ template: new UriTemplate(key), serverId: source.serverId });
        } catch {
          // a template the SDK cannot parse is listed, but only matched by its exact text
        }
      }
    });
    Object.freeze(view.items);
    return view;
  }

  /** The owner of a federated name or URI: from the current view, else after (re)listing. */
  async #owner(list: CatalogList, key: string): Promise<{ serverId: string; key: string; safe: boolean } | undefined> {
    const cached = this.#views.get(list)?.owners.get(key);
    if (cached && this.#proxy.hasServer(cached.serverId)) return cached;
    await this.#list(list);
    return this.#views.get(list)?.owners.get(key);
  }

  /** A member's URI in federated form: as listed, or rewritten when another member lists the same URI. */
  #federateUri(serverId: string, uri: string): string {
    const view = this.#views.get("resources");
    const listed = view?.reverse.get(pairKey(serverId, uri));
    if (listed !== undefined) return listed;
    const other = view?.owners.get(uri);
    if ((other && other.serverId !== serverId) || parseRewrittenUri(uri)) return rewriteUri(serverId, uri);
    return uri;
  }

  #federateContent(serverId: string, content: ContentBlock[]): ContentBlock[] {
    let changed = false;
    const mapped = content.map((block) => {
      if (block.type === "resource_link") {
        const uri = this.#federateUri(serverId, block.uri);
        if (uri === block.uri) return block;
        changed = true;
        return { ...block, uri };
      }
      if (block.type === "resource") {
        const uri = this.#federateUri(serverId, block.resource.uri);
        if (uri === block.resource.uri) return block;
        changed = true;
        return { ...block, resource: { ...block.resource, uri } };
      }
      return block;
    });
    return changed ? mapped : content;
  }

  async #observe<T>(serverId: string, method: string, promise: Promise<T>): Promise<T> {
    const started = performance.now();
    const init: CatalogEventInit = { serverId, method };
    try {
      const result = await promise;
      init.outcome = "ok";
      return result;
    } catch (error) {
      init.outcome = "error";
      init.error = toFederationError(error, { serverId, channel: "data", what: method });
      throw error;
    } finally {
      init.durationMs = performance.now() - started;
      this.dispatchEvent(new CatalogEvent("request", init));
    }
  }

  async #sendSubscription(
    serverId: string,
    uri: string,
    action: "subscribe" | "unsubscribe",
    options: CallOptions,
  ): Promise<void> {
    await this.#observe(
      serverId,
      `resources/${action}`,
      this.#proxy.request(
        serverId,
        `resources/${action} '${uri}'`,
        (client, o) =>
          action === "subscribe" ? client.subscribeResource({ uri }, o) : client.unsubscribeResource({ uri }, o),
        { ...options, idempotent: true },
      ),
    );
  }

  async #applyLoggingLevel(serverId: string): Promise<void> {
    const level = this.#loggingLevel;
    const entry = this.#entry(serverId);
    if (level === undefined || (entry.capabilities !== undefined && !entry.capabilities.logging)) return;
    await this.#observe(
      serverId,
      "logging/setLevel",
      this.#proxy.request(serverId, "logging/setLevel", (client, o) => client.setLoggingLevel(level, o), {
        idempotent: true,
      }),
    ).catch(() => {});
  }

  /** After a member's list may have changed: refresh hot lists, then announce the ones whose view differs. */
  #invalidate(serverId: string, lists: readonly CatalogList[]): void {
    const entry = this.#entry(serverId);
    for (const list of lists) {
      const slot = entry.slots[list];
      slot.stale = true;
      slot.generation++;
      slot.failedAt = -Infinity;
      if (!this.#hot.has(list)) continue;
      if (entry.usable) void this.#ensureFresh(serverId, list).then(() => this.#reconcile(list));
      else this.#reconcile(list);
    }
  }

  #reconcile(list: CatalogList): void {
    const view = this.#views.get(list);
    if (!view) return;
    const fingerprint = this.#fingerprint(list, this.#proxy.getConnectedServers());
    if (fingerprint === view.announced) return;
    view.announced = fingerprint;
    this.#announce(CHANGE_EVENT[list]);
  }

  #announce(type: CatalogEventType): void {
    if (this.#pendingEvents.size === 0) {
      queueMicrotask(() => {
        const types = [...this.#pendingEvents];
        this.#pendingEvents.clear();
        for (const t of types) this.dispatchEvent(new CatalogEvent(t));
      });
    }
    this.#pendingEvents.add(type);
  }

  #onState(event: FederationEvent): void {
    const { serverId, type } = event;
    if (type === "closed") {
      if (!this.#members.delete(serverId)) return;
      for (const list of this.#hot) this.#reconcile(list);
      return;
    }
    const entry = this.#entry(serverId);
    const usable = type === "connected" || type === "degraded";
    const wasUsable = entry.usable;
    entry.usable = usable;
    if (usable && (!wasUsable || type === "connected")) {
      // New, back, or a channel re-initialized: the member may have restarted with other lists and sessions.
      entry.capabilities = this.#proxy.getServerStatus(serverId)?.capabilities ?? entry.capabilities;
      this.#invalidate(serverId, LISTS);
      void this.#applyLoggingLevel(serverId);
      for (const uri of entry.subscriptions.keys()) {
        void this.#sendSubscription(serverId, uri, "subscribe", {}).catch(() => {});
      }
    } else if (!usable && wasUsable) {
      for (const list of this.#hot) this.#reconcile(list);
    }
  }

  #onNotification(event: FederationEvent): void {
    const { serverId, method, params } = event;
    if (method === undefined) return;
    const lists = LIST_CHANGED[method];
    if (lists) {
      this.#invalidate(serverId, lists);
      return;
    }
    if (method === "notifications/resources/updated" && typeof params?.uri === "string") {
      this.dispatchEvent(
        new CatalogEvent("resourceUpdated", {
          serverId,
          uri: this.#federateUri(serverId, params.uri),
          originalUri: params.uri,
        }),
      );
    } else if (method === "notifications/message" && params) {
      this.dispatchEvent(new CatalogEvent("message", { serverId, params }));
    }
  }
}
