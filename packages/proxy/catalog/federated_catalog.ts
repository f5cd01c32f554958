/**
 * {@link FederatedCatalog}: every member's tools, resources, resource templates and prompts as one catalog, with
 * federated names, cached per member and kept fresh from members' `list_changed` notifications and reconnections.
 * Calls on a federated name or URI are resolved once and sent to the member that owns it through the source's
 * typed calls (`FederationProxy.callTool`, …).
 *
 * The parts, one concern a file: `_lists.ts` (list cache), `_views.ts` (federated names and URIs, name
 * resolution tables), `_rewrite.ts` (URIs inside results), `_subscriptions.ts`, `_logging.ts`, `_announcer.ts`
 * (change events), `_member_events.ts` (following the members), `_observe.ts` (the metrics tap) and
 * `_options.ts`.
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

import { ProtocolError, ServerNotFoundError } from "../../core/errors.ts";
import { isInputRequiredResult, ProtocolErrorCode } from "../../core/_sdk.ts";
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
  Tool,
} from "../../core/mcp_types.ts";
import { parseRewrittenUri } from "../_uris.ts";
import type { CallOptions } from "../call_options.ts";
import { Announcer } from "./_announcer.ts";
import { ListCache } from "./_lists.ts";
import { LoggingLevels } from "./_logging.ts";
import { followMembers } from "./_member_events.ts";
import { observe } from "./_observe.ts";
import { resolveCatalogOptions } from "./_options.ts";
import { federatePromptResult, federateReadResult, federateToolResult } from "./_rewrite.ts";
import { Subscriptions } from "./_subscriptions.ts";
import type { CatalogEventMap } from "./events.ts";
import { TypedEventTarget } from "../../core/typed_event_target.ts";
import type { CatalogSource } from "./source.ts";
import { mergeHints } from "../_cache_hint.ts";
import type {
  CacheHint,
  CatalogFailure,
  CatalogList,
  CatalogOptions,
  NameCallOptions,
  NameOrigin,
  UriCallOptions,
  UriOrigin,
} from "./types.ts";

function notFound(what: string): ServerNotFoundError {
  return new ServerNotFoundError(`No ${what} in the federated catalog`, { code: "ERR_NOT_FOUND" });
}

/**
 * The federation's tools, resources, resource templates and prompts as one catalog. Get it as
 * `proxy.catalog`; its options come from the proxy's `catalog` option.
 *
 * - Lists are fetched from every usable member in parallel (each page within `listTimeout`), cached per member,
 *   and refreshed when a member sends `notifications/{tools,resources,prompts}/list_changed` or (re)connects;
 *   then `toolsChanged`, `resourcesChanged` or `promptsChanged` is dispatched if the federated list differs.
 * - A failing member never empties a list: the others' entries are returned, the member's last good list is kept,
 *   and the failure is in {@link FederatedCatalog.failures} and a `listFailed` event. A request that lost its
 *   connection is retried (on the member's other channel, then once more); after a transient failure (a lost
 *   connection, a timeout) the list's cache hint says `ttlMs: 0` while it is incomplete, and the member is asked
 *   again by itself after `retryAfter` (a change event follows when it is back); an error answer is asked again by
 *   the next listing after `retryAfter`. At most `listConcurrency` members are asked at once.
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
export class FederatedCatalog extends TypedEventTarget<CatalogEventMap> {
  #source: CatalogSource;
  #lists: ListCache;
  #subscriptions: Subscriptions;
  #logging: LoggingLevels;

  /**
   * Creates a catalog over a federation. Prefer `proxy.catalog`, which creates one with the proxy's `catalog`
   * options.
   *
   * @param source The federation whose members are federated: a `FederationProxy`.
   * @param options Naming, timeouts, clock.
   * @throws {RangeError} For an unknown prefix mode, or a negative or non-finite timeout.
   */
  constructor(source: CatalogSource, options: CatalogOptions = {}) {
    super();
    this.#source = source;
    const announcer = new Announcer(this);
    this.#lists = new ListCache(source, {
      ...resolveCatalogOptions(options),
      events: this,
      onChange: (list) => announcer.announce(list),
    });
    this.#subscriptions = new Subscriptions(source, this);
    this.#logging = new LoggingLevels(source, this.#lists, this);
    followMembers({
      source,
      lists: this.#lists,
      subscriptions: this.#subscriptions,
      logging: this.#logging,
      events: this,
    });
  }

  // ── Lists ──────────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Every usable member's tools, with federated names. Cached: a warm call returns the same array (do not mutate
   * it) without any request.
   *
   * @returns The tools; each has `_meta["io.github.federated-mcp/origin"]` = `{ serverId, name }`.
   */
  async listTools(): Promise<Tool[]> {
    return await this.#lists.list("tools") as Tool[];
  }

  /**
   * Every usable member's resources, with federated URIs.
   *
   * @returns The resources; each has `_meta["io.github.federated-mcp/origin"]` = `{ serverId, uri }`.
   */
  async listResources(): Promise<Resource[]> {
    return await this.#lists.list("resources") as Resource[];
  }

  /**
   * Every usable member's resource templates, with federated URI templates.
   *
   * @returns The templates; each has `_meta["io.github.federated-mcp/origin"]` = `{ serverId, uri }`.
   */
  async listResourceTemplates(): Promise<ResourceTemplate[]> {
    return await this.#lists.list("resourceTemplates") as ResourceTemplate[];
  }

  /**
   * Every usable member's prompts, with federated names.
   *
   * @returns The prompts; each has `_meta["io.github.federated-mcp/origin"]` = `{ serverId, name }`.
   */
  async listPrompts(): Promise<Prompt[]> {
    return await this.#lists.list("prompts") as Prompt[];
  }

  /**
   * How long the federated list of one kind stays fresh and who may share it: the merge of the usable members'
   * hints on their last list results (MCP 2026-07-28 `ttlMs`/`cacheScope`): the smallest `ttlMs`, and `private` if
   * any member said so or gave no hint (a legacy member never does, and counts as `0`/`private`). With no member,
   * `0`/`private`. While the list lacks a member's current list (its last fetch failed transiently: see the
   * `listFailed` event; or the member is reconnecting), `ttlMs` is `0`: an incomplete list is not to be reused. A gateway puts it on its own list
   * results.
   *
   * @param list Which list.
   * @returns The merged hint.
   * @example
   * ```ts
   * import { FederationProxy } from "@federated-mcp/federation/proxy";
   *
   * await using proxy = new FederationProxy("a-secret-of-at-least-thirty-two-bytes!!");
   * console.log(proxy.catalog.cacheHint("tools")); // { ttlMs: 0, cacheScope: "private" }
   * ```
   */
  cacheHint(list: CatalogList): CacheHint {
    const source = this.#source;
    const members = source.getConnectedServers().filter((id) => this.#lists.offers(this.#lists.entry(id), list));
    const merged = mergeHints(members.map((id) => source.getCacheHint?.(id, list)));
    return this.#lists.incomplete(list) ? { ttlMs: 0, cacheScope: merged.cacheScope } : merged;
  }

  /**
   * The members' lists that could not be fetched lately (a later success clears the entry).
   *
   * @returns One entry per failing member and list.
   */
  failures(): CatalogFailure[] {
    return this.#lists.failures();
  }

  // ── Resolution ─────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Which member owns a federated tool name, and its name there.
   *
   * @param name The federated name.
   * @returns The origin.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` when no usable member offers it.
   */
  async resolveTool(name: string): Promise<NameOrigin> {
    const owner = await this.#lists.owner("tools", name);
    if (!owner) throw notFound(`tool named '${name}'`);
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
    const owner = await this.#lists.owner("prompts", name);
    if (!owner) throw notFound(`prompt named '${name}'`);
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
    const lists = this.#lists;
    const listed = await lists.owner("resources", uri);
    if (listed) return { serverId: listed.serverId, uri: listed.key };
    const rewritten = parseRewrittenUri(uri);
    if (rewritten && this.#source.hasServer(rewritten.serverId)) return rewritten;
    const templates = await lists.owner("resourceTemplates", uri);
    if (templates) return { serverId: templates.serverId, uri: templates.key };
    const match = lists.cached("resourceTemplates")?.matchers.find((m) => m.template.match(uri) !== null);
    if (match) return { serverId: match.serverId, uri };
    const offering = this.#source.getConnectedServers().filter((id) => lists.offers(lists.entry(id), "resources"));
    if (offering.length === 1) return { serverId: offering[0]!, uri };
    throw notFound(`member serves resource '${uri}'`);
  }

  // ── Calls: resolve once, then one typed call on the source ────────────────────────────────────────────────────

  /**
   * Calls a federated tool on the member that owns it. Retried on the member's other channel after a drop only
   * when the tool is annotated read-only or idempotent (or `idempotent: true`).
   *
   * @param name The federated name.
   * @param args The tool's arguments.
   * @param options `signal`, `timeout`, `onprogress`, `channel`, `idempotent`, `meta`, and `origin` when the
   *   caller resolved the name already.
   * @returns The tool's result; embedded resource URIs are given in their federated form.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` for an unknown name.
   * @throws {FederationError} As `FederationProxy.request`.
   */
  async callTool(
    name: string,
    args: Record<string, unknown> = {},
    options: NameCallOptions = {},
  ): Promise<CallToolResult> {
    const { origin: resolved, ...callOptions } = options;
    const origin = resolved ?? await this.resolveTool(name);
    const result = await observe(
      this,
      origin.serverId,
      "tools/call",
      this.#source.callTool(origin.serverId, origin.name, args, callOptions),
    );
    // A modern member's input_required round (with `allowInputRequired`) goes back as it came.
    if (isInputRequiredResult(result)) return result;
    return federateToolResult(this.#lists.cached("resources"), origin.serverId, result);
  }

  /**
   * Reads a federated resource from the member that serves it.
   *
   * @param uri The federated URI.
   * @param options Call options, and `origin` when the caller resolved the URI already.
   * @returns The contents, with federated URIs.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` when no member serves it.
   * @throws {FederationError} As `FederationProxy.request`.
   */
  async readResource(uri: string, options: UriCallOptions = {}): Promise<ReadResourceResult> {
    const { origin: resolved, ...callOptions } = options;
    const origin = resolved ?? await this.resolveResource(uri);
    const result = await observe(
      this,
      origin.serverId,
      "resources/read",
      this.#source.readResource(origin.serverId, origin.uri, callOptions),
    );
    // A modern member's input_required round (with `allowInputRequired`) goes back as it came.
    if (isInputRequiredResult(result)) return result;
    return federateReadResult(this.#lists.cached("resources"), origin, uri, result);
  }

  /**
   * Gets a federated prompt from the member that owns it.
   *
   * @param name The federated name.
   * @param args The prompt's arguments.
   * @param options Call options, and `origin` when the caller resolved the name already.
   * @returns The prompt's messages; embedded resource URIs in their federated form.
   * @throws {ServerNotFoundError} `ERR_NOT_FOUND` for an unknown name.
   * @throws {FederationError} As `FederationProxy.request`.
   */
  async getPrompt(
    name: string,
    args: Record<string, string> = {},
    options: NameCallOptions = {},
  ): Promise<GetPromptResult> {
    const { origin: resolved, ...callOptions } = options;
    const origin = resolved ?? await this.resolvePrompt(name);
    const result = await observe(
      this,
      origin.serverId,
      "prompts/get",
      this.#source.getPrompt(origin.serverId, origin.name, args, callOptions),
    );
    // A modern member's input_required round (with `allowInputRequired`) goes back as it came.
    if (isInputRequiredResult(result)) return result;
    return federatePromptResult(this.#lists.cached("resources"), origin.serverId, result);
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
      const template = await this.#lists.owner("resourceTemplates", params.ref.uri);
      const origin = template
        ? { serverId: template.serverId, uri: template.key }
        : await this.resolveResource(params.ref.uri);
      serverId = origin.serverId;
      ref = { ...params.ref, uri: origin.uri };
    }
    const capabilities = this.#lists.entry(serverId).capabilities;
    if (capabilities !== undefined && !capabilities.completions) return { completion: { values: [], hasMore: false } };
    return await observe(
      this,
      serverId,
      "completion/complete",
      this.#source.complete(serverId, { ...params, ref }, options),
    );
  }

  // ── Subscriptions and logging ──────────────────────────────────────────────────────────────────────────────────

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
    const capabilities = this.#lists.entry(origin.serverId).capabilities;
    if (capabilities !== undefined && !capabilities.resources?.subscribe) {
      throw new ProtocolError(`Server '${origin.serverId}' does not support resources/subscribe`, {
        serverId: origin.serverId,
        rpcCode: ProtocolErrorCode.MethodNotFound,
      });
    }
    await this.#subscriptions.add(origin, options);
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
    await this.#subscriptions.remove(origin, options);
    return origin;
  }

  /**
   * Sets the logging level of every usable member that supports logging, and of members that connect later.
   *
   * @param level The lowest level members should send.
   * @returns When every member answered (failures are ignored: a member that cannot keeps its level).
   */
  async setLoggingLevel(level: LoggingLevel): Promise<void> {
    await this.#logging.set(level);
  }

  // ── Events ─────────────────────────────────────────────────────────────────────────────────────────────────────
}
