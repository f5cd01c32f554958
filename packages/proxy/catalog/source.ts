/**
 * {@link CatalogSource}: the narrow view of a federation that a {@link FederatedCatalog} is built over. A
 * `FederationProxy` is one (structurally): the catalog depends on this interface, never on the proxy's module, so
 * the two do not import each other.
 *
 * @example A catalog over a proxy
 * ```ts
 * import { FederatedCatalog, FederationProxy } from "@federated-mcp/federation/proxy";
 * import type { CatalogSource } from "@federated-mcp/federation/proxy";
 *
 * await using proxy = new FederationProxy("a-secret-of-at-least-thirty-two-bytes!!");
 * const source: CatalogSource = proxy;
 * const catalog = new FederatedCatalog(source, { prefix: "on-collision" });
 * console.log((await catalog.listTools()).length); // 0
 * ```
 * @module
 */

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
import type { CallOptions } from "../call_options.ts";
import type { FederationEventMap, FederationEventType } from "../events.ts";
import type { ServerStatus } from "../status.ts";
import type { CacheHint, CatalogCallOptions, CatalogList } from "./types.ts";

/** What the catalog needs from a federation: members, their events, and one typed call per MCP request. */
export interface CatalogSource {
  /**
   * Ids of the members usable now.
   *
   * @returns The ids.
   */
  getConnectedServers(): string[];
  /**
   * Whether a member is registered.
   *
   * @param serverId The member.
   * @returns Whether it is.
   */
  hasServer(serverId: string): boolean;
  /**
   * One member's status (its capabilities in particular).
   *
   * @param serverId The member.
   * @returns Its status, or `undefined`.
   */
  getServerStatus(serverId: string): ServerStatus | undefined;
  /**
   * Every member's status.
   *
   * @returns One entry per member.
   */
  getStatus(): ServerStatus[];
  /**
   * Listens for members' state changes and notifications.
   *
   * @param type The event type.
   * @param listener The listener.
   */
  addEventListener<K extends FederationEventType>(type: K, listener: (event: FederationEventMap[K]) => void): void;
  /**
   * A member's tools (every page).
   *
   * @param serverId The member.
   * @param options Call options.
   * @returns The tools.
   */
  listTools(serverId: string, options?: CallOptions): Promise<Tool[]>;
  /**
   * A member's resources (every page).
   *
   * @param serverId The member.
   * @param options Call options.
   * @returns The resources.
   */
  listResources(serverId: string, options?: CallOptions): Promise<Resource[]>;
  /**
   * A member's resource templates (every page).
   *
   * @param serverId The member.
   * @param options Call options.
   * @returns The templates.
   */
  listResourceTemplates(serverId: string, options?: CallOptions): Promise<ResourceTemplate[]>;
  /**
   * A member's prompts (every page).
   *
   * @param serverId The member.
   * @param options Call options.
   * @returns The prompts.
   */
  listPrompts(serverId: string, options?: CallOptions): Promise<Prompt[]>;
  /**
   * Calls a tool by its name on the member (whether a retry is safe is the source's to know).
   *
   * @param serverId The member.
   * @param name The tool's name there.
   * @param args Its arguments.
   * @param options Call options and `_meta`.
   * @returns The result.
   */
  callTool(
    serverId: string,
    name: string,
    args?: Record<string, unknown>,
    options?: CatalogCallOptions,
  ): Promise<CallToolResult>;
  /**
   * Reads a resource by its URI on the member.
   *
   * @param serverId The member.
   * @param uri The URI there.
   * @param options Call options.
   * @returns The contents.
   */
  readResource(serverId: string, uri: string, options?: CatalogCallOptions): Promise<ReadResourceResult>;
  /**
   * Gets a prompt by its name on the member.
   *
   * @param serverId The member.
   * @param name The prompt's name there.
   * @param args Its arguments.
   * @param options Call options.
   * @returns The messages.
   */
  getPrompt(
    serverId: string,
    name: string,
    args?: Record<string, string>,
    options?: CatalogCallOptions,
  ): Promise<GetPromptResult>;
  /**
   * Asks the member for completions (the `ref` in the member's terms).
   *
   * @param serverId The member.
   * @param params The request.
   * @param options Call options.
   * @returns The completion.
   */
  complete(serverId: string, params: CompleteRequestParams, options?: CallOptions): Promise<CompleteResult>;
  /**
   * Sends `resources/subscribe`.
   *
   * @param serverId The member.
   * @param uri The URI there.
   * @param options Call options.
   * @returns When the member answered.
   */
  subscribeResource(serverId: string, uri: string, options?: CallOptions): Promise<void>;
  /**
   * Sends `resources/unsubscribe`.
   *
   * @param serverId The member.
   * @param uri The URI there.
   * @param options Call options.
   * @returns When the member answered.
   */
  unsubscribeResource(serverId: string, uri: string, options?: CallOptions): Promise<void>;
  /**
   * Sends `logging/setLevel`.
   *
   * @param serverId The member.
   * @param level The level.
   * @param options Call options.
   * @returns When the member answered.
   */
  setLoggingLevel(serverId: string, level: LoggingLevel, options?: CallOptions): Promise<void>;
  /**
   * The cache hint of a member's last list result of one kind (MCP 2026-07-28); a source without hints leaves it
   * out, and every member counts as giving none.
   *
   * @param serverId The member.
   * @param list Which list.
   * @returns The hint, or `undefined`.
   */
  getCacheHint?(serverId: string, list: CatalogList): CacheHint | undefined;
}
