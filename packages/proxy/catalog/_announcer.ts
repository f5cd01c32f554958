// Internal: change announcements. A changed federated list becomes one `toolsChanged`, `resourcesChanged` or
// `promptsChanged` event; changes within one tick are coalesced, so a member that changes three lists at once
// (or reconnects) makes each event fire once.
import { CatalogListChangedEvent, type CatalogListChangeType } from "./events.ts";
import type { CatalogList } from "./types.ts";

const CHANGE_EVENT: Record<CatalogList, CatalogListChangeType> = {
  tools: "toolsChanged",
  resources: "resourcesChanged",
  resourceTemplates: "resourcesChanged",
  prompts: "promptsChanged",
};

/** Announces changed lists on an event target, once per tick and type. */
export class Announcer {
  #target: EventTarget;
  #pending = new Set<CatalogListChangeType>();

  constructor(target: EventTarget) {
    this.#target = target;
  }

  /** Queues the announcement of a changed list. */
  announce(list: CatalogList): void {
    if (this.#pending.size === 0) {
      queueMicrotask(() => {
        const types = [...this.#pending];
        this.#pending.clear();
        for (const type of types) this.#target.dispatchEvent(new CatalogListChangedEvent(type));
      });
    }
    this.#pending.add(CHANGE_EVENT[list]);
  }
}
