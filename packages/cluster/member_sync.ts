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

import { backoffDelay, type BackoffPolicy, DEFAULT_BACKOFF } from "../core/backoff.ts";
import { sleep } from "../core/_sleep.ts";
import { ConfigError } from "../core/errors.ts";
import { consoleLogger, type Logger } from "../core/logger.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { type MemberSecretsOptions, resolveMember } from "./member_records.ts";
import { CHANNELS, type RegistryStore, type StoredMember } from "./registry_store.ts";

/** What became of a stored member on this replica. */
export type SyncedMemberState = "registering" | "registered" | "retrying" | "refused" | "conflict";

/** A stored member as this replica applied it. */
export interface SyncedMember {
  /** The member. */
  serverId: string;
  /** The store revision of its record. */
  revision: number;
  /** Where its registration stands here. */
  state: SyncedMemberState;
  /** The last failure, when `retrying`, `refused` or `conflict`. */
  error?: string | undefined;
  /** Failed attempts so far. */
  attempts: number;
}

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

interface Entry {
  stored: StoredMember;
  synced: SyncedMember;
  abort: AbortController;
  /** Whether this sync registered the member on the proxy (and so must remove it). */
  registered: boolean;
  task: Promise<void>;
}

/** Change notices kept for one-by-one application; beyond, the next reconcile reads the whole store. */
const MAX_QUEUED_CHANGES = 1_000;

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Retries of an unreachable stored member: 250 ms doubling to 30 s, full jitter, never below 10 ms, never giving up
 * while the member is stored. `retryDelay` and `maxRetryDelay` set the first and largest caps.
 */
const SYNC_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  ...DEFAULT_BACKOFF,
  initialDelay: 250,
  maxDelay: 30_000,
  minDelay: 10,
});

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
      (error) => this.#logger.debug("Cannot subscribe to member changes yet", { error: reason(error) }),
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
      this.#logger.debug("Registry store did not answer; keeping the members known here", { error: reason(error) });
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
    const synced: SyncedMember = { serverId, revision: stored.revision, state: "registering", attempts: 0 };
    const entry: Entry = { stored, synced, abort: new AbortController(), registered: false, task: Promise.resolve() };
    this.#entries.set(serverId, entry);
    entry.task = this.#register(entry, predecessor);
  }

  async #stop(entry: Entry, why: string): Promise<void> {
    entry.abort.abort();
    await entry.task;
    if (entry.registered) {
      entry.registered = false;
      await this.#proxy.removeServer(entry.synced.serverId);
      this.#logger.info("Member removed (registry store)", { serverId: entry.synced.serverId, why });
    }
  }

  async #register(entry: Entry, predecessor: Promise<void> | undefined): Promise<void> {
    const { serverId } = entry.synced;
    const signal = entry.abort.signal;
    // A replacement starts once its predecessor is removed.
    await predecessor?.catch(() => {});
    const backoff: BackoffPolicy = {
      ...SYNC_BACKOFF,
      initialDelay: this.#options.retryDelay ?? SYNC_BACKOFF.initialDelay,
      maxDelay: this.#options.maxRetryDelay ?? SYNC_BACKOFF.maxDelay,
    };
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        if (this.#proxy.hasServer(serverId)) {
          entry.synced.state = "conflict";
          entry.synced.error = "a member with this serverId is registered by other means (a config file)";
          this.#logger.warn("Stored member not applied: its serverId is taken here", { serverId });
          return;
        }
        const config = await resolveMember(entry.stored.config, this.#options.secrets ?? {});
        await this.#proxy.registerServer(config, { signal });
        if (signal.aborted) {
          await this.#proxy.removeServer(serverId);
          return;
        }
        entry.registered = true;
        entry.synced.state = "registered";
        entry.synced.error = undefined;
        this.#logger.info("Member registered (registry store)", { serverId, attempts: attempt + 1 });
        return;
      } catch (error) {
        if (signal.aborted) return;
        entry.synced.attempts = attempt + 1;
        entry.synced.error = reason(error);
        if (error instanceof ConfigError && error.code !== "ERR_SERVER_EXISTS") {
          entry.synced.state = "refused";
          this.#logger.warn("Stored member refused on this replica", { serverId, error: reason(error) });
          return;
        }
        if (error instanceof ConfigError) {
          entry.synced.state = "conflict";
          return;
        }
        entry.synced.state = "retrying";
        this.#logger.debug("Stored member unavailable; retrying", { serverId, error: reason(error) });
        await sleep(backoffDelay(backoff, attempt), signal);
      }
    }
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
