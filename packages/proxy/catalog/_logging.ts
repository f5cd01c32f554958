// Internal: the logging level the federation's clients asked for, applied to every usable member that supports
// logging and to each member that (re)connects later.
import type { LoggingLevel } from "../../core/mcp_types.ts";
import { observe } from "./_observe.ts";
import type { CatalogSource } from "./source.ts";
import type { ListCache } from "./_lists.ts";

/** The members' logging level. */
export class LoggingLevels {
  #source: CatalogSource;
  #lists: ListCache;
  #events: EventTarget;
  #level: LoggingLevel | undefined;

  constructor(source: CatalogSource, lists: ListCache, events: EventTarget) {
    this.#source = source;
    this.#lists = lists;
    this.#events = events;
  }

  /** Sets the level on every usable member; resolves when all answered (failures ignored). */
  async set(level: LoggingLevel): Promise<void> {
    this.#level = level;
    await Promise.all(this.#source.getConnectedServers().map((serverId) => this.apply(serverId)));
  }

  /** Applies the level, if one was set, to a member that supports logging (failures ignored). */
  async apply(serverId: string): Promise<void> {
    const level = this.#level;
    const capabilities = this.#lists.entry(serverId).capabilities;
    if (level === undefined || (capabilities !== undefined && !capabilities.logging)) return;
    await observe(this.#events, serverId, "logging/setLevel", this.#source.setLoggingLevel(serverId, level, {}))
      .catch(() => {});
  }
}
