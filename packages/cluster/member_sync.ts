/**
 * {@link MemberSync}: keeps a proxy's members equal to the registry store's. It applies the store's member set on
 * every change notice (within milliseconds) and on a periodic reconcile (so a lost notice, or a store that was
 * unreachable for a while, costs at most one interval). A member that cannot be reached is retried with exponential
 * backoff and full jitter; one the store no longer lists is removed (its in-flight calls may finish).
 *
 * While the store is unreachable nothing is removed: the replica keeps serving the members it knows, and converges
 * when the store answers again. Members registered on the proxy by other code (a config file) are left alone; a
 * stored member with the same serverId is reported as a `conflict`.
 *
 * @example Follow a store
 * ```ts ignore
 * import { MemberSync, MemoryRegistryStore } from "@federated-mcp/federation/cluster";
 *
 * const store = new MemoryRegistryStore();
 * await using sync = new MemberSync(proxy, store, { replicaId: "replica-1" });
 * await sync.start();
 * await store.createMember({ serverId: "docs", endpoints: { data: "http://127.0.0.1:3001/mcp" } }, "replica-1");
 * ```
 * @module
 */

import { consoleLogger, type Logger } from "../core/logger.ts";
import { errorMessage } from "../core/_error_message.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import {
  type Entry,
  type RegistrationSettings,
  startEntry,
  stopEntry,
  SYNC_BACKOFF,
  type SyncedMember,
  type SyncedMemberState,
} from "./_member_registration.ts";
import type { MemberSecretsOptions } from "./member_records.ts";
import { CHANNELS, type RegistryStore, type StoredMember } from "./registry_store.ts";

export type { SyncedMember, SyncedMemberState } from "./_member_registration.ts";

/** Options of a {@link MemberSync}. */
export interface MemberSyncOptions {
  /** This replica's id. */
  replicaId: string;
  /** How stored secrets are resolved (`box`, `env`). @default {{}} */
  secrets?: MemberSecretsOptions | undefined;
  /** Interval of the full reconcile, in ms. @default {5000} */
  reconcileInterval?: number | undefined;
  /** First retry delay cap for an unreachable member, in ms (doubles per attempt, full jitter). @default {250} */
  retryDelay?: number | undefined;
  /** Largest retry delay cap, in ms. @default {30000} */
  maxRetryDelay?: number | undefined;
  /** Where changes and failures are logged. @default {consoleLogger("warn")} */
  logger?: Logger | undefined;
}

/** Change notices kept for one-by-one application; beyond, the next reconcile reads the whole store. */
const MAX_QUEUED_CHANGES = 1_000;

/**
 * Applies a registry store's members to a proxy.
 *
 * @example
 * ```ts ignore
 * const sync = new MemberSync(proxy, store, { replicaId: "r1", reconcileInterval: 2_000 });
 * await sync.start();
 * console.log(sync.members()); // [{ serverId: "docs", state: "registered", … }]
 * await sync.close();
 * ```
 */
export class MemberSync implements AsyncDisposable {
  #proxy: FederationProxy;
  #store: RegistryStore;
  #options: MemberSyncOptions;
  #logger: Logger;
  #settings: RegistrationSettings;
  #entries = new Map<string, Entry>();
  #applied: number | undefined;
  #running: Promise<boolean> | undefined;
  #again = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;
  #subscribing: Promise<void> | undefined;
  #closed = false;
  #noticed = 0;
  /** Members being removed after a delete notice (a re-creation waits for it). */
  #stopping = new Map<string, Promise<void>>();
  /** Change notices not applied yet, by revision. */
  #changes = new Map<number, { created: boolean; serverId: string }>();
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;
  #onHealth = (event: Event) => {
    if ((event as CustomEvent).detail?.state === "ok") void this.reconcile();
  };

  /**
   * Creates the sync; {@link MemberSync.start} starts it.
   *
   * @param proxy The proxy whose members follow the store.
   * @param store The registry store.
   * @param options `replicaId`, secrets, intervals, logger.
   * @throws {RangeError} When an interval is not positive.
   */
  constructor(proxy: FederationProxy, store: RegistryStore, options: MemberSyncOptions) {
    for (const key of ["reconcileInterval", "retryDelay", "maxRetryDelay"] as const) {
      const value = options[key];
      if (value !== undefined && !(value > 0)) throw new RangeError(`Invalid ${key} ${value}: must be > 0`);
    }
    this.#proxy = proxy;
    this.#store = store;
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger("warn");
    this.#settings = {
      proxy,
      logger: this.#logger,
      secrets: options.secrets ?? {},
      backoff: {
        ...SYNC_BACKOFF,
        initialDelay: options.retryDelay ?? SYNC_BACKOFF.initialDelay,
        maxDelay: options.maxRetryDelay ?? SYNC_BACKOFF.maxDelay,
      },
    };
  }

  /** The store revision last applied, or `undefined` before the store first answered. */
  get revision(): number | undefined {
    return this.#applied;
  }

  /**
   * Subscribes to change notices, runs a first reconcile and starts the periodic one. Never fails because the
   * store is unreachable: the loop keeps trying.
   *
   * @returns When the first reconcile has ended (applied, or failed because the store did not answer).
   */
  async start(): Promise<void> {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => void this.reconcile(), this.#options.reconcileInterval ?? 5_000);
    this.#store.addEventListener("health", this.#onHealth);
    await this.#subscribe();
    await this.reconcile();
  }

  #subscribe(): Promise<void> {
    if (this.#unsubscribe || this.#closed) return Promise.resolve();
    this.#subscribing ??= this.#store.subscribe(CHANNELS.memberChanges, (message) => {
      const change = /^(\d+) ([+-]) ([A-Za-z0-9_-]{1,64})$/.exec(message);
      const revision = Number(change?.[1] ?? message) || 0;
      if (change && revision > (this.#applied ?? -1) && this.#changes.size < MAX_QUEUED_CHANGES) {
        this.#changes.set(revision, { created: change[2] === "+", serverId: change[3]! });
      }
      // Looked at in a later task, so that a change this replica made and applied itself (applyCreated) is not
      // read back from the store.
      this.#noticed = Math.max(this.#noticed, revision);
      this.#noticeTimer ??= setTimeout(() => {
        this.#noticeTimer = undefined;
        if (!(this.#noticed <= (this.#applied ?? -1))) void this.reconcile();
      }, 0);
    }).then(
      (unsubscribe) => {
        if (this.#closed) void unsubscribe();
        else this.#unsubscribe = unsubscribe;
      },
      (error) => this.#logger.debug("Cannot subscribe to member changes yet", { error: errorMessage(error) }),
    ).finally(() => this.#subscribing = undefined);
    return this.#subscribing;
  }

  /**
   * Reads the store and applies it now (runs are serialized; a call during a run schedules one more).
   *
   * @returns Whether the store answered.
   */
  reconcile(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      let answered = false;
      do {
        this.#again = false;
        answered = await this.#reconcileOnce();
      } while (this.#again && !this.#closed);
      return answered;
    })().finally(() => this.#running = undefined);
    return this.#running;
  }

  async #reconcileOnce(): Promise<boolean> {
    if (!this.#unsubscribe) await this.#subscribe();
    try {
      await this.#applyChanges();
      if (this.#applied !== undefined && await this.#store.revision() === this.#applied) return true;
      const snapshot = await this.#store.listMembers();
      if (this.#closed) return false;
      // A member applied meanwhile (applyCreated) is newer than this snapshot: keep it, read again next time.
      if (this.#applied !== undefined && snapshot.revision < this.#applied) return true;
      this.#apply(snapshot.members);
      this.#applied = snapshot.revision;
      return true;
    } catch (error) {
      this.#logger.debug("Registry store did not answer; keeping the members known here", {
        error: errorMessage(error),
      });
      return false;
    }
  }

  #apply(members: StoredMember[]): void {
    const wanted = new Map(members.map((m) => [m.config.serverId, m]));
    const stopping = new Map<string, Promise<void>>();
    for (const [serverId, entry] of this.#entries) {
      const next = wanted.get(serverId);
      if (next?.revision === entry.stored.revision) continue;
      this.#entries.delete(serverId);
      stopping.set(serverId, this.#stop(entry, next ? "replaced" : "deleted"));
    }
    for (const [serverId, stored] of wanted) {
      if (this.#entries.has(serverId)) continue;
      this.#add(serverId, stored, stopping.get(serverId));
    }
  }

  /**
   * Applies change notices one by one while they follow the revision applied here (one member read per creation);
   * stops at a gap, which the full read after it closes.
   */
  async #applyChanges(): Promise<void> {
    while (this.#applied !== undefined && !this.#closed) {
      for (const revision of this.#changes.keys()) if (revision <= this.#applied) this.#changes.delete(revision);
      const next = this.#changes.get(this.#applied + 1);
      if (!next) return;
      this.#changes.delete(this.#applied + 1);
      const current = this.#entries.get(next.serverId);
      if (!next.created) {
        if (current) {
          this.#entries.delete(next.serverId);
          const stop = this.#stop(current, "deleted");
          this.#stopping.set(next.serverId, stop);
          void stop.finally(() => {
            if (this.#stopping.get(next.serverId) === stop) this.#stopping.delete(next.serverId);
          });
        }
        this.#applied++;
        continue;
      }
      const stored = await this.#store.getMember(next.serverId);
      if (this.#closed || stored?.revision !== this.#applied + 1) return; // changed again since: read everything
      let predecessor = this.#stopping.get(next.serverId);
      if (current) {
        this.#entries.delete(next.serverId);
        predecessor = this.#stop(current, "replaced");
      }
      this.#add(next.serverId, stored, predecessor);
      this.#applied++;
    }
  }

  #add(serverId: string, stored: StoredMember, predecessor: Promise<void> | undefined): void {
    this.#entries.set(serverId, startEntry(serverId, stored, predecessor, this.#settings));
  }

  #stop(entry: Entry, why: string): Promise<void> {
    return stopEntry(entry, why, this.#settings);
  }

  /**
   * Applies a member this replica just created in the store, without reading the whole store again, when it is the
   * next revision after the one applied here; otherwise (another change came between) reconciles in full.
   *
   * @param member The stored member `createMember` returned.
   * @returns When applied (its registration goes on in the background).
   */
  async applyCreated(member: StoredMember): Promise<void> {
    if (this.#closed) return;
    await this.#running;
    const serverId = member.config.serverId;
    if (this.#applied !== member.revision - 1 || this.#entries.has(serverId)) {
      await this.reconcile();
      return;
    }
    this.#add(serverId, member, undefined);
    this.#applied = member.revision;
  }

  /**
   * The state of one stored member here.
   *
   * @param serverId The member.
   * @returns A copy of its entry, or `undefined` when the store does not list it (as applied here).
   */
  member(serverId: string): SyncedMember | undefined {
    const entry = this.#entries.get(serverId);
    return entry ? { ...entry.synced } : undefined;
  }

  /**
   * Stored members here, counted by state (one pass, no copies).
   *
   * @returns The count of each state.
   */
  countByState(): Record<SyncedMemberState, number> {
    const counts: Record<SyncedMemberState, number> = {
      registering: 0,
      registered: 0,
      retrying: 0,
      refused: 0,
      conflict: 0,
    };
    for (const entry of this.#entries.values()) counts[entry.synced.state]++;
    return counts;
  }

  /**
   * Whether this sync registered (or is registering) a member.
   *
   * @param serverId The member.
   * @returns Whether the member comes from the store.
   */
  owns(serverId: string): boolean {
    return this.#entries.has(serverId);
  }

  /**
   * The stored members as applied here.
   *
   * @returns One entry per stored member known here.
   */
  members(): SyncedMember[] {
    return [...this.#entries.values()].map((e) => ({ ...e.synced }));
  }

  /**
   * Stops following the store. Members stay registered on the proxy (whoever owns the proxy closes it).
   *
   * @returns When the loops have stopped.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#noticeTimer);
    this.#store.removeEventListener("health", this.#onHealth);
    await this.#subscribing;
    await this.#unsubscribe?.().catch(() => {});
    const entries = [...this.#entries.values()];
    for (const entry of entries) entry.abort.abort();
    await Promise.all(entries.map((e) => e.task));
    await this.#running;
  }

  /** Same as {@link MemberSync.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
