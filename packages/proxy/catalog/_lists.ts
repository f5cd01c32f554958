// Internal: the catalog's list cache. Each member's four lists are fetched on demand (each page within
// `listTimeout`, at most `listConcurrency` members at a time), cached with a fingerprint, marked stale by
// `list_changed` or a reconnection, and kept when a fetch fails. A fetch that lost its connection is tried once more
// (the member's own failover has already tried its other channel; the second attempt takes whichever channel is up
// then, or wakes one). A member that still fails is reported (`listFailed`) and left out of the federated list (or
// kept with its last good copy). A transient failure (a lost connection, a timeout) makes the list's merged cache
// hint `0`, and the member is asked again after `retryAfter` by itself when its list is listed; an error answer is
// asked again only by the next listing after `retryAfter` (a member that always refuses a list is not asked forever
// by a timer). The federated view of a list is rebuilt only when the fingerprint of its parts changes, and a change
// of a listed ("hot") list is reported through `onChange`.
import { ConnectionError, type FederationError, TimeoutError } from "../../core/errors.ts";
import type { ServerCapabilities } from "../../core/mcp_types.ts";
import type { MemberState } from "../events.ts";
import { fnv1a, type PrefixMode } from "../_naming.ts";
import { observe } from "./_observe.ts";
import type { CatalogSource } from "./source.ts";
import type { CatalogFailure, CatalogList } from "./types.ts";
import { CatalogListFailedEvent } from "./events.ts";
import { Limiter } from "./_limit.ts";
import { buildView, type Item, keyOf, type Owner, type View } from "./_views.ts";

/** Every list, in a fixed order. */
export const LISTS: readonly CatalogList[] = ["tools", "resources", "resourceTemplates", "prompts"];

const CAPABILITY: Record<CatalogList, "tools" | "resources" | "prompts"> = {
  tools: "tools",
  resources: "resources",
  resourceTemplates: "resources",
  prompts: "prompts",
};

/** One member's copy of one list. */
class Slot {
  items: Item[] | undefined;
  fingerprint = "";
  stale = true;
  generation = 0;
  pending: Promise<void> | undefined;
  error: FederationError | undefined;
  failedAt = -Infinity;
  /** When the items go stale by their cache hint (a modern member followed without a listen stream). */
  expiresAt = Infinity;
  /** The timer that asks a failing member again by itself. */
  retryTimer: ReturnType<typeof setTimeout> | undefined;
}

/** Least delay before a failing member is asked again by itself, in ms (whatever `retryAfter` says). */
const MIN_RETRY_MS = 100;

/**
 * Whether a list's failure may pass by itself: a lost or refused connection (not the proxy or the member being
 * closed) or a timeout. An error answer of the member is its answer: it would be the same a moment later.
 */
function transient(error: FederationError | undefined): boolean {
  return error instanceof TimeoutError || (error instanceof ConnectionError && error.code !== "ERR_CLOSED");
}

/** What the cache keeps per member. */
export class MemberEntry {
  readonly slots: Record<CatalogList, Slot> = {
    tools: new Slot(),
    resources: new Slot(),
    resourceTemplates: new Slot(),
    prompts: new Slot(),
  };
  capabilities: ServerCapabilities | undefined;
  usable = false;
  /** The member's state as its latest event told (`connecting` until one did). */
  state: MemberState = "connecting";
}

/** When a listed view may be served again without looking at the members. */
interface Snapshot {
  /** The cache's revision the view was current at. */
  revision: number;
  /** Until when (the catalog's clock): the first cache-hint expiry or failed member's `retryAfter`. */
  until: number;
}

/** Settings of a {@link ListCache}. */
export interface ListCacheSettings {
  prefix: PrefixMode;
  resourcePrefix: PrefixMode;
  listTimeout: number;
  retryAfter: number;
  /** Members' list requests in flight at once, at most. */
  listConcurrency: number;
  now: () => number;
  /** Where `request` and `listFailed` events of list fetches go. */
  events: EventTarget;
  /** A listed list's federated view changed. */
  onChange: (list: CatalogList) => void;
}

/** The members' lists and their federated views. */
export class ListCache {
  #source: CatalogSource;
  #settings: ListCacheSettings;
  #members = new Map<string, MemberEntry>();
  #views = new Map<CatalogList, View>();
  /** Lists that someone has listed: they are refreshed eagerly and announced. */
  #hot = new Set<CatalogList>();
  #limit: Limiter;
  /**
   * Bumped by everything that can change a view or make a member's list due for a fetch (a fetch ending, a member's
   * event, a `list_changed`): a warm listing whose snapshot has the current revision is served as it is, without
   * going over the members (O(1) however many there are).
   */
  #revision = 0;
  #snapshots = new Map<CatalogList, Snapshot>();

  constructor(source: CatalogSource, settings: ListCacheSettings) {
    this.#source = source;
    this.#settings = settings;
    this.#limit = new Limiter(settings.listConcurrency);
  }

  /** A member's entry, created (with its current capabilities) on first use. */
  entry(serverId: string): MemberEntry {
    let entry = this.#members.get(serverId);
    if (!entry) {
      entry = new MemberEntry();
      entry.capabilities = this.#source.getServerStatus(serverId)?.capabilities;
      this.#members.set(serverId, entry);
      this.#revision++;
    }
    return entry;
  }

  /** Forgets a removed member; the listed views are re-checked. Returns whether it was known. */
  forget(serverId: string): boolean {
    const entry = this.#members.get(serverId);
    if (!entry) return false;
    for (const list of LISTS) clearTimeout(entry.slots[list].retryTimer);
    this.#members.delete(serverId);
    this.#revision++;
    this.reconcileHot();
    return true;
  }

  /** Whether a member offers a list (unknown capabilities: assumed yes). */
  offers(entry: MemberEntry, list: CatalogList): boolean {
    return entry.capabilities === undefined || entry.capabilities[CAPABILITY[list]] !== undefined;
  }

  /** The members' lists that could not be fetched lately. */
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

  /**
   * Whether the federated list lacks a member's current list, so that it will change by itself: the member's last
   * fetch failed transiently (it is missing, or served from its last good copy), or the member is (re)connecting.
   * A list the member refused with an error answer does not count: it will not change by itself.
   */
  incomplete(list: CatalogList): boolean {
    for (const entry of this.#members.values()) {
      if (!this.offers(entry, list)) continue;
      if (entry.state === "connecting" || entry.state === "reconnecting") return true;
      if (transient(entry.slots[list].error)) return true;
    }
    return false;
  }

  /** A member's state changed (its event): its usability is noted, and every snapshot is outdated. */
  setState(serverId: string, state: MemberState): MemberEntry {
    const entry = this.entry(serverId);
    entry.state = state;
    entry.usable = state === "connected" || state === "degraded";
    this.#revision++;
    return entry;
  }

  /** The federated list: fetched from the usable members that need it, then (re)built if its parts changed. */
  async list(list: CatalogList): Promise<Item[]> {
    this.#hot.add(list);
    const snapshot = this.#snapshots.get(list);
    if (snapshot && snapshot.revision === this.#revision && this.#settings.now() < snapshot.until) {
      return this.#views.get(list)!.items;
    }
    let pending: Promise<void>[] | undefined;
    for (const serverId of this.#source.getConnectedServers()) {
      if (this.#needsFetch(serverId, list)) (pending ??= []).push(this.#ensureFresh(serverId, list));
    }
    if (pending) {
      await Promise.all(pending);
      this.#reconcile(list);
    }
    const revision = this.#revision;
    const view = this.#view(list);
    this.#snapshot(list, revision);
    return view.items;
  }

  /**
   * Notes that the view of a list is current at `revision`, unless a member's list is due for a fetch already (a
   * change arrived while the others were fetched): then the next listing looks at the members again.
   */
  #snapshot(list: CatalogList, revision: number): void {
    this.#snapshots.delete(list);
    let until = Infinity;
    for (const serverId of this.#source.getConnectedServers()) {
      if (this.#needsFetch(serverId, list)) return;
      const slot = this.entry(serverId).slots[list];
      until = Math.min(until, slot.expiresAt, slot.error ? slot.failedAt + this.#settings.retryAfter : Infinity);
    }
    if (revision === this.#revision) this.#snapshots.set(list, { revision, until });
  }

  /** The current view of a list, if it was ever built. */
  cached(list: CatalogList): View | undefined {
    return this.#views.get(list);
  }

  /** The owner of a federated name or URI: from the current view, else after (re)listing. */
  async owner(list: CatalogList, key: string): Promise<Owner | undefined> {
    const cached = this.#views.get(list)?.owners.get(key);
    if (cached && this.#source.hasServer(cached.serverId)) return cached;
    await this.list(list);
    const owner = this.#views.get(list)?.owners.get(key);
    if (owner || !this.#expireHinted(list)) return owner;
    await this.list(list);
    return this.#views.get(list)?.owners.get(key);
  }

  /** After a member's lists may have changed: mark them stale, refresh the listed ones, report changes. */
  invalidate(serverId: string, lists: readonly CatalogList[]): void {
    const entry = this.entry(serverId);
    for (const list of lists) {
      const slot = entry.slots[list];
      slot.stale = true;
      slot.generation++;
      slot.failedAt = -Infinity;
      clearTimeout(slot.retryTimer);
      slot.retryTimer = undefined;
      this.#revision++;
      if (!this.#hot.has(list)) continue;
      if (entry.usable) void this.#ensureFresh(serverId, list).then(() => this.#reconcile(list));
      else this.#reconcile(list);
    }
  }

  /** Re-checks every listed list (after a member became unusable or left). */
  reconcileHot(): void {
    this.#revision++;
    for (const list of this.#hot) this.#reconcile(list);
  }

  /** Whether a member's list must be fetched; `refetch` (a fetch just ran): only when a change made it stale. */
  #needsFetch(serverId: string, list: CatalogList, refetch = false): boolean {
    const entry = this.entry(serverId);
    if (!this.offers(entry, list)) return false;
    const slot = entry.slots[list];
    const now = this.#settings.now();
    if (!slot.stale && slot.items !== undefined && (refetch || now < slot.expiresAt)) return false;
    return now - slot.failedAt >= this.#settings.retryAfter;
  }

  /** Fetches a member's list until it is current (a list_changed may arrive during a fetch), at most 3 times. */
  async #ensureFresh(serverId: string, list: CatalogList): Promise<void> {
    for (let i = 0; i < 3 && this.#needsFetch(serverId, list, i > 0); i++) await this.#refresh(serverId, list);
  }

  #refresh(serverId: string, list: CatalogList): Promise<void> {
    const slot = this.entry(serverId).slots[list];
    if (slot.pending) return slot.pending;
    const generation = slot.generation;
    slot.pending = this.#fetchRetrying(serverId, list).then((items) => {
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
      slot.expiresAt = this.#expiry(serverId, list);
      clearTimeout(slot.retryTimer);
      slot.retryTimer = undefined;
    }, (error) => {
      const repeated = slot.error !== undefined;
      slot.error = error as FederationError;
      slot.failedAt = this.#settings.now();
      this.#failed(serverId, list, slot, repeated);
    }).finally(() => {
      slot.pending = undefined;
      this.#revision++;
    });
    return slot.pending;
  }

  /**
   * One member's list, with one more attempt after a lost or refused connection: the member's failover has tried
   * its other channel already; this attempt takes the channel that is up now, or wakes one (a data-only member's
   * channel reconnects). A timeout or an error answer is not retried: the cold listing stays within `listTimeout`.
   */
  async #fetchRetrying(serverId: string, list: CatalogList): Promise<Item[]> {
    try {
      return await this.#limit.run(() => this.#fetch(serverId, list));
    } catch (error) {
      if (!(error instanceof ConnectionError) || error.code === "ERR_CLOSED" || !this.#members.has(serverId)) {
        throw error;
      }
      return await this.#limit.run(() => this.#fetch(serverId, list));
    }
  }

  /**
   * A member's list failed for good this time: reported, and, when the failure is transient, asked again by itself
   * later if the list is listed. `repeated`: its previous fetch had failed too.
   */
  #failed(serverId: string, list: CatalogList, slot: Slot, repeated: boolean): void {
    let retryIn: number | undefined;
    if (
      transient(slot.error) && this.#hot.has(list) && this.#members.has(serverId) && slot.retryTimer === undefined
    ) {
      retryIn = Math.max(this.#settings.retryAfter, MIN_RETRY_MS);
      slot.retryTimer = setTimeout(() => {
        slot.retryTimer = undefined;
        // Still listed, still a member, still usable: fetch, and announce a change if the member is back.
        const entry = this.#members.get(serverId);
        if (!entry?.usable || !this.#hot.has(list)) return;
        slot.failedAt = -Infinity;
        this.#revision++;
        void this.#ensureFresh(serverId, list).then(() => this.#reconcile(list));
      }, retryIn);
    }
    this.#settings.events.dispatchEvent(
      new CatalogListFailedEvent({
        serverId,
        list,
        error: slot.error!,
        // Its last good copy is in the federated list while the member is usable.
        stale: slot.items !== undefined && this.#members.get(serverId)?.usable === true,
        retryIn,
        repeated,
      }),
    );
  }

  /**
   * When a list just fetched goes stale by itself: a modern member without a control channel sends no list changes
   * (it has no standing stream), so its list is followed by its cache hint (`ttlMs`; none: at once). Every other
   * member tells when its lists change.
   */
  #expiry(serverId: string, list: CatalogList): number {
    const status = this.#source.getServerStatus(serverId);
    if (status?.era !== "modern" || status.channels.control !== undefined) return Infinity;
    return this.#settings.now() + (this.#source.getCacheHint?.(serverId, list)?.ttlMs ?? 0);
  }

  /** Marks stale the lists followed by their hints (a name was not found: it may be new). */
  #expireHinted(list: CatalogList): boolean {
    let any = false;
    for (const entry of this.#members.values()) {
      const slot = entry.slots[list];
      if (slot.expiresAt === Infinity) continue;
      slot.expiresAt = -Infinity;
      any = true;
    }
    if (any) this.#revision++;
    return any;
  }

  #fetch(serverId: string, list: CatalogList): Promise<Item[]> {
    const options = { timeout: this.#settings.listTimeout };
    const source = this.#source;
    const events = this.#settings.events;
    switch (list) {
      case "tools":
        return observe(events, serverId, "tools/list", source.listTools(serverId, options));
      case "resources":
        return observe(events, serverId, "resources/list", source.listResources(serverId, options));
      case "resourceTemplates":
        return observe(events, serverId, "resources/templates/list", source.listResourceTemplates(serverId, options));
      case "prompts":
        return observe(events, serverId, "prompts/list", source.listPrompts(serverId, options));
    }
  }

  /** Fingerprint of what a list's view would be built from now. */
  #fingerprint(list: CatalogList, usable: readonly string[]): string {
    let fingerprint = "";
    for (const serverId of usable) {
      const entry = this.entry(serverId);
      if (!this.offers(entry, list)) continue;
      const slot = entry.slots[list];
      if (slot.items !== undefined) fingerprint += `${serverId}:${slot.fingerprint};`;
    }
    return fingerprint;
  }

  #view(list: CatalogList): View {
    const usable = this.#source.getConnectedServers();
    const fingerprint = this.#fingerprint(list, usable);
    const current = this.#views.get(list);
    if (current && current.fingerprint === fingerprint) return current;
    const parts = usable.flatMap((serverId) => {
      const entry = this.entry(serverId);
      return this.offers(entry, list) ? [{ serverId, items: entry.slots[list].items ?? [] }] : [];
    });
    const view = buildView(list, parts, this.#settings, fingerprint);
    this.#views.set(list, view);
    return view;
  }

  #reconcile(list: CatalogList): void {
    const view = this.#views.get(list);
    if (!view) return;
    const fingerprint = this.#fingerprint(list, this.#source.getConnectedServers());
    if (fingerprint === view.announced) return;
    view.announced = fingerprint;
    this.#settings.onChange(list);
  }
}
