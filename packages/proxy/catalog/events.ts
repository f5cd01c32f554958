/**
 * Events of a {@link FederatedCatalog}: the federated lists changed, a subscribed resource was updated, a member
 * logged a message, or a request to a member ended (for metrics). One class per kind, keyed on `type`
 * ({@link CatalogEventMap}), so a listener gets the fields of its kind without `!`.
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

import type { FederationError } from "../../core/errors.ts";
import type { TypedEventListener } from "../../core/typed_event_target.ts";
import type { CatalogList } from "./types.ts";

/**
 * Types of catalog events:
 * - `toolsChanged`, `resourcesChanged`, `promptsChanged`: the federated list differs from the one last listed;
 * - `resourceUpdated`: a member sent `notifications/resources/updated` (`uri` is the federated URI);
 * - `message`: a member sent a log message (`notifications/message`, in `params`);
 * - `request`: a request to a member ended (`method`, `outcome`, `durationMs`, `error`);
 * - `listFailed`: a member's list could not be fetched (after its retry): the federated list goes without it (or
 *   with its last good list) until it answers again.
 */
export type CatalogEventType =
  | "toolsChanged"
  | "resourcesChanged"
  | "promptsChanged"
  | "resourceUpdated"
  | "message"
  | "request"
  | "listFailed";

/** The catalog event types that announce a changed federated list. */
export type CatalogListChangeType = "toolsChanged" | "resourcesChanged" | "promptsChanged";

/** How a request to a member ended. */
export type RequestOutcome = "ok" | "error";

/** Fields every {@link CatalogEvent} has. */
export interface CatalogEventInit {
  /** The member concerned; absent on list changes, which concern the federation as a whole. */
  serverId?: string | undefined;
}

/**
 * What every catalog event has. The concrete kinds are {@link CatalogListChangedEvent},
 * {@link ResourceUpdatedEvent}, {@link CatalogMessageEvent} and {@link CatalogRequestEvent}.
 *
 * @example Narrow on `type`
 * ```ts
 * import { type CatalogEventMap, ResourceUpdatedEvent } from "@federated-mcp/federation/proxy";
 *
 * function describe(event: CatalogEventMap[keyof CatalogEventMap]): string {
 *   if (event.type === "resourceUpdated") return `${event.serverId} updated ${event.uri}`;
 *   if (event.type === "message") return `${event.serverId} logged ${event.params.data}`;
 *   return event.type;
 * }
 * console.log(describe(new ResourceUpdatedEvent({ serverId: "a", uri: "x://1", originalUri: "x://1" })));
 * ```
 */
export class CatalogEvent extends Event {
  /** The member concerned, if one. */
  readonly serverId: string | undefined;

  /**
   * Creates the common part of an event (use a concrete kind).
   *
   * @param type The event type.
   * @param init Its fields.
   */
  protected constructor(type: CatalogEventType, init: CatalogEventInit = {}) {
    super(type);
    this.serverId = init.serverId;
  }

  /** The event type, narrowed. */
  override get type(): CatalogEventType {
    return super.type as CatalogEventType;
  }
}

/**
 * A federated list differs from the one last listed: list it again.
 *
 * @example
 * ```ts
 * import { CatalogListChangedEvent } from "@federated-mcp/federation/proxy";
 *
 * console.log(new CatalogListChangedEvent("toolsChanged").type);
 * ```
 */
export class CatalogListChangedEvent extends CatalogEvent {
  /** Always `undefined`: a list change concerns the federation as a whole. */
  declare readonly serverId: undefined;

  /**
   * Creates the event.
   *
   * @param type Which list changed.
   */
  constructor(type: CatalogListChangeType) {
    super(type);
  }

  /** Which list changed. */
  override get type(): CatalogListChangeType {
    return super.type as CatalogListChangeType;
  }
}

/** Fields of a {@link ResourceUpdatedEvent}. */
export interface ResourceUpdatedEventInit {
  /** The member that sent the update. */
  serverId: string;
  /** The federated URI. */
  uri: string;
  /** The URI on the member. */
  originalUri: string;
}

/**
 * A member sent `notifications/resources/updated`.
 *
 * @example
 * ```ts
 * import { ResourceUpdatedEvent } from "@federated-mcp/federation/proxy";
 *
 * const event = new ResourceUpdatedEvent({ serverId: "a", uri: "federated://a/x://1", originalUri: "x://1" });
 * console.log(event.type, event.serverId, event.uri);
 * ```
 */
export class ResourceUpdatedEvent extends CatalogEvent {
  /** The member concerned. */
  declare readonly serverId: string;
  /** The federated URI. */
  readonly uri: string;
  /** The URI on the member. */
  readonly originalUri: string;

  /**
   * Creates the event.
   *
   * @param init Member and URIs.
   */
  constructor(init: ResourceUpdatedEventInit) {
    super("resourceUpdated", init);
    this.uri = init.uri;
    this.originalUri = init.originalUri;
  }

  /** Always `resourceUpdated`. */
  override get type(): "resourceUpdated" {
    return "resourceUpdated";
  }
}

/** Fields of a {@link CatalogMessageEvent}. */
export interface CatalogMessageEventInit {
  /** The member that logged. */
  serverId: string;
  /** The notification's params (`level`, `logger`, `data`). */
  params: Record<string, unknown>;
}

/**
 * A member sent a log message (`notifications/message`).
 *
 * @example
 * ```ts
 * import { CatalogMessageEvent } from "@federated-mcp/federation/proxy";
 *
 * const event = new CatalogMessageEvent({ serverId: "a", params: { level: "info", data: "hello" } });
 * console.log(event.type, event.params.data);
 * ```
 */
export class CatalogMessageEvent extends CatalogEvent {
  /** The member concerned. */
  declare readonly serverId: string;
  /** The notification's params (`level`, `logger`, `data`). */
  readonly params: Record<string, unknown>;

  /**
   * Creates the event.
   *
   * @param init Member and params.
   */
  constructor(init: CatalogMessageEventInit) {
    super("message", init);
    this.params = init.params;
  }

  /** Always `message`. */
  override get type(): "message" {
    return "message";
  }
}

/** Fields of a {@link CatalogRequestEvent}. */
export interface CatalogRequestEventInit {
  /** The member asked. */
  serverId: string;
  /** The MCP method. */
  method: string;
  /** How it ended. */
  outcome: RequestOutcome;
  /** How long it took, in ms. */
  durationMs: number;
  /** The error, when it failed. */
  error?: FederationError | undefined;
}

/**
 * A request the catalog made to a member ended (for metrics).
 *
 * @example
 * ```ts
 * import { CatalogRequestEvent } from "@federated-mcp/federation/proxy";
 *
 * const event = new CatalogRequestEvent({ serverId: "a", method: "tools/call", outcome: "ok", durationMs: 1.5 });
 * console.log(event.method, event.outcome, event.durationMs);
 * ```
 */
export class CatalogRequestEvent extends CatalogEvent {
  /** The member concerned. */
  declare readonly serverId: string;
  /** The MCP method. */
  readonly method: string;
  /** How it ended. */
  readonly outcome: RequestOutcome;
  /** How long it took, in ms. */
  readonly durationMs: number;
  /** The error, when it failed. */
  readonly error: FederationError | undefined;

  /**
   * Creates the event.
   *
   * @param init Member, method, outcome, duration, error.
   */
  constructor(init: CatalogRequestEventInit) {
    super("request", init);
    this.method = init.method;
    this.outcome = init.outcome;
    this.durationMs = init.durationMs;
    this.error = init.error;
  }

  /** Always `request`. */
  override get type(): "request" {
    return "request";
  }
}

/** Fields of a {@link CatalogListFailedEvent}. */
export interface CatalogListFailedEventInit {
  /** The member whose list failed. */
  serverId: string;
  /** Which list. */
  list: CatalogList;
  /** Why (after the member's failover to its other channel and the catalog's own retry). */
  error: FederationError;
  /** Whether the federated list keeps the member's last good copy of it (else the member is missing from it). */
  stale: boolean;
  /**
   * In how many ms the catalog asks the member again by itself (when the list is listed and the failure is
   * transient: a lost connection or a timeout), if it will.
   */
  retryIn: number | undefined;
  /**
   * Whether the previous fetch of this list from this member had failed too: the failure goes on (the proxy logs
   * the first failure of a streak as a warning, the repeats at debug level).
   */
  repeated: boolean;
}

/**
 * A member's list could not be fetched, even after its failover to its other channel and one retry: the federated
 * list is served without it (or with its last good copy, `stale`). A transient failure (a lost connection, a
 * timeout) makes the list's merged cache hint say `ttlMs: 0`, and the member is asked again by itself after
 * `retryAfter` (`retryIn`); when it answers, the list's change event follows. An error answer of the member is not
 * retried by a timer: the next listing after `retryAfter` asks again. `repeated` tells a failure that goes on from a
 * new one. The federated list itself does not fail.
 *
 * @example
 * ```ts
 * import { CatalogListFailedEvent, ConnectionError } from "@federated-mcp/federation";
 *
 * const error = new ConnectionError("Connection to server 'a' (data) was lost during tools/list", { serverId: "a" });
 * const event = new CatalogListFailedEvent({
 *   serverId: "a",
 *   list: "tools",
 *   error,
 *   stale: false,
 *   retryIn: 5_000,
 *   repeated: false,
 * });
 * console.log(event.type, event.serverId, event.list, event.error.code, event.repeated);
 * ```
 */
export class CatalogListFailedEvent extends CatalogEvent {
  /** The member concerned. */
  declare readonly serverId: string;
  /** Which list. */
  readonly list: CatalogList;
  /** Why. */
  readonly error: FederationError;
  /** Whether its last good copy is served meanwhile. */
  readonly stale: boolean;
  /** In how many ms it is asked again by itself, if it will be. */
  readonly retryIn: number | undefined;
  /** Whether the previous fetch of this list from this member had failed too. */
  readonly repeated: boolean;

  /**
   * Creates the event.
   *
   * @param init Member, list, error, and what happens next.
   */
  constructor(init: CatalogListFailedEventInit) {
    super("listFailed", init);
    this.list = init.list;
    this.error = init.error;
    this.stale = init.stale;
    this.retryIn = init.retryIn;
    this.repeated = init.repeated;
  }

  /** Always `listFailed`. */
  override get type(): "listFailed" {
    return "listFailed";
  }
}

/** Each catalog event type with its event class: what a listener of that type receives. */
export interface CatalogEventMap {
  /** The federated tool list changed. */
  toolsChanged: CatalogListChangedEvent;
  /** The federated resource (or template) list changed. */
  resourcesChanged: CatalogListChangedEvent;
  /** The federated prompt list changed. */
  promptsChanged: CatalogListChangedEvent;
  /** A subscribed resource was updated. */
  resourceUpdated: ResourceUpdatedEvent;
  /** A member logged a message. */
  message: CatalogMessageEvent;
  /** A request to a member ended. */
  request: CatalogRequestEvent;
  /** A member's list could not be fetched. */
  listFailed: CatalogListFailedEvent;
}

/** A listener of one catalog event type: a function or an object with `handleEvent`. */
export type CatalogEventListener<K extends CatalogEventType = CatalogEventType> = TypedEventListener<
  CatalogEventMap[K]
>;
