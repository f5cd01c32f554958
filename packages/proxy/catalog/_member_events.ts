// Internal: how the catalog follows its members. A member that becomes usable (new, back, or a channel
// re-initialized) may have other lists and has forgotten its subscriptions and logging level: its lists are
// marked stale and refreshed, its subscriptions and level applied again. A member that leaves or becomes unusable
// drops out of the views. `list_changed` marks lists stale; `resources/updated` and log messages become catalog
// events.
import type { FederationEventType, MemberNotificationEvent, MemberStateEvent } from "../events.ts";
import { CatalogMessageEvent, ResourceUpdatedEvent } from "./events.ts";
import type { ListCache } from "./_lists.ts";
import { LISTS } from "./_lists.ts";
import type { LoggingLevels } from "./_logging.ts";
import { federateUri } from "./_rewrite.ts";
import type { CatalogSource } from "./source.ts";
import type { Subscriptions } from "./_subscriptions.ts";
import type { CatalogList } from "./types.ts";

const LIST_CHANGED: Record<string, CatalogList[]> = {
  "notifications/tools/list_changed": ["tools"],
  "notifications/resources/list_changed": ["resources", "resourceTemplates"],
  "notifications/prompts/list_changed": ["prompts"],
};
const STATE_EVENTS = [
  "connected",
  "degraded",
  "reconnecting",
  "disconnected",
  "closed",
] as const satisfies readonly FederationEventType[];

/** The parts of a catalog that follow the members. */
export interface Followers {
  source: CatalogSource;
  lists: ListCache;
  subscriptions: Subscriptions;
  logging: LoggingLevels;
  /** Where `resourceUpdated` and `message` events go. */
  events: EventTarget;
}

/** Starts following the source's members: their current usability, then every state change and notification. */
export function followMembers(parts: Followers): void {
  const { source, lists } = parts;
  for (const status of source.getStatus()) lists.setState(status.serverId, status.state);
  for (const type of STATE_EVENTS) source.addEventListener(type, (event) => onState(parts, event));
  source.addEventListener("notification", (event) => onNotification(parts, event));
}

function onState(parts: Followers, event: MemberStateEvent): void {
  const { source, lists } = parts;
  const { serverId, type } = event;
  if (type === "closed") {
    parts.subscriptions.forget(serverId);
    lists.forget(serverId);
    return;
  }
  const wasUsable = lists.entry(serverId).usable;
  const entry = lists.setState(serverId, type);
  const usable = entry.usable;
  if (usable && (!wasUsable || type === "connected")) {
    // New, back, or a channel re-initialized: the member may have restarted with other lists and sessions.
    entry.capabilities = source.getServerStatus(serverId)?.capabilities ?? entry.capabilities;
    lists.invalidate(serverId, LISTS);
    void parts.logging.apply(serverId);
    parts.subscriptions.renew(serverId);
  } else if (!usable && wasUsable) {
    lists.reconcileHot();
  }
}

function onNotification(parts: Followers, event: MemberNotificationEvent): void {
  const { serverId, method, params } = event;
  const changed = LIST_CHANGED[method];
  if (changed) {
    parts.lists.invalidate(serverId, changed);
    return;
  }
  if (method === "notifications/resources/updated" && typeof params?.uri === "string") {
    const uri = federateUri(parts.lists.cached("resources"), serverId, params.uri);
    parts.events.dispatchEvent(new ResourceUpdatedEvent({ serverId, uri, originalUri: params.uri }));
  } else if (method === "notifications/message" && params) {
    parts.events.dispatchEvent(new CatalogMessageEvent({ serverId, params }));
  }
}
