/**
 * Events of a {@link FederatedCatalog}: the federated lists changed, a subscribed resource was updated, a member
 * logged a message, or a request to a member ended (for metrics).
 *
 * @example Follow the federated tool list
 * ```ts ignore
 * proxy.catalog.addEventListener("toolsChanged", async () => {
 *   console.log((await proxy.catalog.listTools()).map((tool) => tool.name));
 * });
 * proxy.catalog.addEventListener("resourceUpdated", (event) => console.log(event.uri));
 * ```
 * @module
 */

import type { FederationError } from "../core/errors.ts";

/**
 * Types of catalog events:
 * - `toolsChanged`, `resourcesChanged`, `promptsChanged`: the federated list differs from the one last listed;
 * - `resourceUpdated`: a member sent `notifications/resources/updated` (`uri` is the federated URI);
 * - `message`: a member sent a log message (`notifications/message`, in `params`);
 * - `request`: a request to a member ended (`method`, `outcome`, `durationMs`, `error`).
 */
export type CatalogEventType =
  | "toolsChanged"
  | "resourcesChanged"
  | "promptsChanged"
  | "resourceUpdated"
  | "message"
  | "request";

/** How a request to a member ended. */
export type RequestOutcome = "ok" | "error";

/** Fields of a {@link CatalogEvent}. */
export interface CatalogEventInit {
  /** The member concerned; absent on list changes, which concern the federation as a whole. */
  serverId?: string | undefined;
  /** For `resourceUpdated`: the federated URI. */
  uri?: string | undefined;
  /** For `resourceUpdated`: the URI on the member. */
  originalUri?: string | undefined;
  /** For `message`: the notification's params (`level`, `logger`, `data`). */
  params?: Record<string, unknown> | undefined;
  /** For `request`: the MCP method. */
  method?: string | undefined;
  /** For `request`: how it ended. */
  outcome?: RequestOutcome | undefined;
  /** For `request`: how long it took, in ms. */
  durationMs?: number | undefined;
  /** For `request`: the error, when it failed. */
  error?: FederationError | undefined;
}

/**
 * One catalog event.
 *
 * @example
 * ```ts
 * import { CatalogEvent } from "@federated-mcp/federation/proxy";
 *
 * const event = new CatalogEvent("resourceUpdated", { serverId: "a", uri: "file:///notes.txt" });
 * console.log(event.type, event.serverId, event.uri);
 * ```
 */
export class CatalogEvent extends Event {
  /** The member concerned, if one. */
  readonly serverId: string | undefined;
  /** For `resourceUpdated`: the federated URI. */
  readonly uri: string | undefined;
  /** For `resourceUpdated`: the URI on the member. */
  readonly originalUri: string | undefined;
  /** For `message`: the notification's params. */
  readonly params: Record<string, unknown> | undefined;
  /** For `request`: the MCP method. */
  readonly method: string | undefined;
  /** For `request`: how it ended. */
  readonly outcome: RequestOutcome | undefined;
  /** For `request`: its duration in ms. */
  readonly durationMs: number | undefined;
  /** For `request`: the error, when it failed. */
  readonly error: FederationError | undefined;

  /**
   * Creates the event.
   *
   * @param type The event type.
   * @param init Its fields.
   */
  constructor(type: CatalogEventType, init: CatalogEventInit = {}) {
    super(type);
    this.serverId = init.serverId;
    this.uri = init.uri;
    this.originalUri = init.originalUri;
    this.params = init.params;
    this.method = init.method;
    this.outcome = init.outcome;
    this.durationMs = init.durationMs;
    this.error = init.error;
  }

  /** The event type, narrowed. */
  override get type(): CatalogEventType {
    return super.type as CatalogEventType;
  }
}
