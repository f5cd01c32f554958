/**
 * {@link MemoryRegistryStore}: the registry store of a single gateway process, and the default. Nothing is shared
 * with other processes; everything else behaves as with Redis, so one code path serves both.
 *
 * @example
 * ```ts
 * import { MemoryRegistryStore } from "@federated-mcp/federation/cluster";
 *
 * await using store = new MemoryRegistryStore();
 * const unsubscribe = await store.subscribe("members", (revision) => console.log("revision", revision));
 * await store.createMember({ serverId: "docs", endpoints: { data: "http://127.0.0.1:3001/mcp" } }, "replica-1");
 * await unsubscribe();
 * ```
 * @module
 */

import { ConnectionError } from "../core/errors.ts";
import type {
  ChannelHandler,
  MemberSnapshot,
  RegistryStore,
  ReplicaRecord,
  StoredMember,
  StoredMemberConfig,
  StoreHealth,
} from "./registry_store.ts";
import { CHANNELS } from "./registry_store.ts";

/** Options of a {@link MemoryRegistryStore}. */
export interface MemoryRegistryStoreOptions {
  /** Clock in ms since the epoch, for expiries. @default {Date.now} */
  now?: (() => number) | undefined;
}

/**
 * A {@link RegistryStore} in this process's memory. Messages are delivered in a later microtask, as a remote bus
 * would, never inside `publish`.
 *
 * @example
 * ```ts
 * import { MemoryRegistryStore } from "@federated-mcp/federation/cluster";
 *
 * await using store = new MemoryRegistryStore();
 * console.log(store.backend, store.health().state); // memory ok
 * ```
 */
export class MemoryRegistryStore extends EventTarget implements RegistryStore {
  /** Always `"memory"`. */
  readonly backend: string = "memory";
  /** Each member as JSON text: a read returns fresh objects (one parse for the whole list, no per-member clone). */
  #members = new Map<string, string>();
  #revision = 0;
  #replicas = new Map<string, { record: ReplicaRecord; expires: number }>();
  #revoked = new Map<string, number>();
  #channels = new Map<string, Set<ChannelHandler>>();
  #now: () => number;
  #closed = false;

  /**
   * Creates an empty store.
   *
   * @param options `now`.
   */
  constructor(options: MemoryRegistryStoreOptions = {}) {
    super();
    this.#now = options.now ?? Date.now;
  }

  /**
   * Always `ok` while open.
   *
   * @returns The health.
   */
  health(): StoreHealth {
    return this.#closed ? { state: "degraded", since: 0, error: "closed" } : { state: "ok" };
  }

  #open(): void {
    if (this.#closed) throw new ConnectionError("The registry store is closed", { code: "ERR_CLOSED" });
  }

  /**
   * Every member.
   *
   * @returns The snapshot.
   */
  listMembers(): Promise<MemberSnapshot> {
    this.#open();
    return Promise.resolve({
      revision: this.#revision,
      members: JSON.parse(`[${[...this.#members.values()].join(",")}]`) as StoredMember[],
    });
  }

  /**
   * One member.
   *
   * @param serverId The member.
   * @returns It, or `undefined`.
   */
  getMember(serverId: string): Promise<StoredMember | undefined> {
    this.#open();
    const text = this.#members.get(serverId);
    return Promise.resolve(text === undefined ? undefined : JSON.parse(text) as StoredMember);
  }

  /**
   * The revision.
   *
   * @returns It.
   */
  revision(): Promise<number> {
    this.#open();
    return Promise.resolve(this.#revision);
  }

  /**
   * Adds a member unless its serverId is taken.
   *
   * @param config The registration.
   * @param by Who writes it (the admin's `sub` for the membership API).
   * @returns The stored member, or `undefined` when taken.
   */
  async createMember(config: StoredMemberConfig, by: string): Promise<StoredMember | undefined> {
    this.#open();
    if (this.#members.has(config.serverId)) return undefined;
    const member: StoredMember = {
      config: structuredClone(config),
      revision: ++this.#revision,
      createdAt: this.#now(),
      createdBy: by,
    };
    this.#members.set(config.serverId, JSON.stringify(member));
    await this.publish(CHANNELS.members, String(this.#revision));
    await this.publish(CHANNELS.memberChanges, `${this.#revision} + ${config.serverId}`);
    return structuredClone(member);
  }

  /**
   * Deletes a member.
   *
   * @param serverId The member.
   * @returns Whether it existed.
   */
  async deleteMember(serverId: string): Promise<boolean> {
    this.#open();
    if (!this.#members.delete(serverId)) return false;
    await this.publish(CHANNELS.members, String(++this.#revision));
    await this.publish(CHANNELS.memberChanges, `${this.#revision} - ${serverId}`);
    return true;
  }

  /**
   * Records a replica as live.
   *
   * @param record Its description.
   * @param ttlMs Lifetime of the record.
   */
  heartbeat(record: ReplicaRecord, ttlMs: number): Promise<void> {
    this.#open();
    this.#replicas.set(record.id, { record: { ...record }, expires: this.#now() + ttlMs });
    return Promise.resolve();
  }

  /**
   * Forgets a replica.
   *
   * @param id The replica.
   */
  leave(id: string): Promise<void> {
    this.#replicas.delete(id);
    return Promise.resolve();
  }

  /**
   * Live replicas.
   *
   * @returns Their records.
   */
  listReplicas(): Promise<ReplicaRecord[]> {
    this.#open();
    const now = this.#now();
    for (const [id, { expires }] of this.#replicas) if (expires <= now) this.#replicas.delete(id);
    return Promise.resolve([...this.#replicas.values()].map(({ record }) => ({ ...record })));
  }

  /**
   * Marks a session as ended.
   *
   * @param sessionId The session.
   * @param ttlMs How long to remember it.
   */
  revokeSession(sessionId: string, ttlMs: number): Promise<void> {
    this.#open();
    this.#revoked.set(sessionId, this.#now() + ttlMs);
    return Promise.resolve();
  }

  /**
   * Whether a session was ended.
   *
   * @param sessionId The session.
   * @returns Whether it is revoked.
   */
  isRevoked(sessionId: string): Promise<boolean> {
    this.#open();
    const until = this.#revoked.get(sessionId);
    if (until !== undefined && until <= this.#now()) this.#revoked.delete(sessionId);
    return Promise.resolve(until !== undefined && until > this.#now());
  }

  /**
   * Delivers a message to this process's subscribers, in a later microtask.
   *
   * @param channel The channel.
   * @param message The message.
   * @returns How many subscribers receive it.
   */
  publish(channel: string, message: string): Promise<number> {
    this.#open();
    const handlers = [...this.#channels.get(channel) ?? []];
    if (handlers.length > 0) queueMicrotask(() => handlers.forEach((handler) => handler(message)));
    return Promise.resolve(handlers.length);
  }

  /**
   * Subscribes to a channel.
   *
   * @param channel The channel.
   * @param handler Receives each message.
   * @returns Ends the subscription.
   */
  subscribe(channel: string, handler: ChannelHandler): Promise<() => Promise<void>> {
    this.#open();
    let handlers = this.#channels.get(channel);
    if (!handlers) this.#channels.set(channel, handlers = new Set());
    const own = (message: string) => handler(message);
    handlers.add(own);
    return Promise.resolve(() => {
      handlers.delete(own);
      if (handlers.size === 0 && this.#channels.get(channel) === handlers) this.#channels.delete(channel);
      return Promise.resolve();
    });
  }

  /** Stops: later calls reject with `ERR_CLOSED`. */
  close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
    return Promise.resolve();
  }

  /** Same as {@link MemoryRegistryStore.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
