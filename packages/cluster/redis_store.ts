/**
 * {@link RedisRegistryStore}: the registry store every replica of a deployment shares, on Redis (`@redis/client`,
 * the official client). Member writes are Lua scripts that check, write, bump the revision and publish the change
 * in one step; a write resolves only after Redis has answered, so what a caller acknowledges is in Redis (how
 * durable Redis keeps it is Redis's persistence setting: `appendonly yes` with `appendfsync always` loses nothing).
 *
 * When Redis is unreachable every call rejects at once with a `ConnectionError` (no offline queue, and a deadline
 * on every command), the store reports itself `degraded`, and the client reconnects with exponential backoff and
 * full jitter; subscriptions are restored after a reconnection.
 *
 * Keys, under the namespace (default `fmcp:`): `members` (hash serverId → record), `revision` (counter),
 * `replicas` (sorted set id → expiry) and `replica:<id>` (record with a TTL), `revoked:<session>` (TTL).
 *
 * @example Connect (a Redis must listen there)
 * ```ts ignore
 * import { RedisRegistryStore } from "@federated-mcp/federation/cluster";
 *
 * await using store = new RedisRegistryStore("redis://127.0.0.1:6379");
 * await store.ready(2_000);
 * console.log(store.health().state); // ok
 * ```
 * @module
 */

import { createClient } from "@redis/client";
import { backoffDelay, type BackoffPolicy, DEFAULT_BACKOFF } from "../core/backoff.ts";
import { ConfigError, ConnectionError } from "../core/errors.ts";
import { redactUrl } from "../core/_redact.ts";
import { consoleLogger, type Logger } from "../core/logger.ts";
import { HealthTracker } from "./_health.ts";
import { RedisChannels } from "./_redis_channels.ts";
import { deadline } from "./_redis_deadline.ts";
import { errorMessage } from "../core/_error_message.ts";
import { CREATE_MEMBER, DELETE_MEMBER } from "./_redis_scripts.ts";
import {
  type ChannelHandler,
  CHANNELS,
  type MemberSnapshot,
  type RegistryStore,
  type ReplicaRecord,
  type StoredMember,
  type StoredMemberConfig,
  type StoreHealth,
} from "./registry_store.ts";

/** Options of a {@link RedisRegistryStore}. */
export interface RedisRegistryStoreOptions {
  /** Prefix of every key and channel, so that several federations can share a Redis. @default {"fmcp:"} */
  namespace?: string | undefined;
  /** Deadline of every command, in ms; past it the call rejects and the store is degraded. @default {2000} */
  commandTimeout?: number | undefined;
  /** Deadline of one connection attempt, in ms. @default {2000} */
  connectTimeout?: number | undefined;
  /** First reconnection delay cap, in ms (doubles per attempt, full jitter). @default {100} */
  reconnectDelay?: number | undefined;
  /** Largest reconnection delay cap, in ms. @default {5000} */
  maxReconnectDelay?: number | undefined;
  /** Where connection problems are logged (never the URL's password). @default {consoleLogger("warn")} */
  logger?: Logger | undefined;
  /** Clock in ms since the epoch. @default {Date.now} */
  now?: (() => number) | undefined;
}

type Client = ReturnType<typeof createClient>;

/**
 * Reconnection to Redis: 100 ms doubling to 5 s, full jitter, never below 10 ms, never giving up while the store is
 * open. `reconnectDelay` and `maxReconnectDelay` set the first and largest caps.
 */
const REDIS_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  ...DEFAULT_BACKOFF,
  initialDelay: 100,
  maxDelay: 5_000,
  minDelay: 10,
});

/**
 * A {@link RegistryStore} on Redis. Construction connects in the background; {@link RedisRegistryStore.ready}
 * waits for the first connection.
 *
 * @example
 * ```ts ignore
 * const store = new RedisRegistryStore("redis://127.0.0.1:6379", { namespace: "prod:" });
 * await store.ready(2_000).catch(() => console.log("Redis not reachable yet; retrying in the background"));
 * ```
 */
export class RedisRegistryStore extends EventTarget implements RegistryStore {
  /** Always `"redis"`. */
  readonly backend: string = "redis";
  #client: Client;
  #subscriber: Client;
  #namespace: string;
  #timeout: number;
  #logger: Logger;
  #now: () => number;
  #health: HealthTracker;
  #channels: RedisChannels;
  #connecting: Promise<void>;
  #closed = false;

  /**
   * Creates the store and starts connecting.
   *
   * @param url `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS).
   * @param options Namespace, timeouts, backoff, logger.
   * @throws {ConfigError} When the URL is not a `redis:` or `rediss:` URL.
   */
  constructor(url: string, options: RedisRegistryStoreOptions = {}) {
    super();
    if (!URL.canParse(url) || !["redis:", "rediss:"].includes(new URL(url).protocol)) {
      throw new ConfigError(`Invalid store URL '${redactUrl(url)}': must be redis://host:port or rediss://host:port`, {
        field: "store",
      });
    }
    this.#namespace = options.namespace ?? "fmcp:";
    this.#timeout = options.commandTimeout ?? 2_000;
    this.#logger = options.logger ?? consoleLogger("warn");
    this.#now = options.now ?? Date.now;
    this.#health = new HealthTracker(this, this.#now);
    const backoff: BackoffPolicy = {
      ...REDIS_BACKOFF,
      initialDelay: options.reconnectDelay ?? REDIS_BACKOFF.initialDelay,
      maxDelay: options.maxReconnectDelay ?? REDIS_BACKOFF.maxDelay,
    };
    const settings = {
      url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeout ?? 2_000,
        // Never giving up while the store is open.
        reconnectStrategy: (retries: number) => this.#closed ? false : backoffDelay(backoff, retries),
      },
    };
    this.#client = createClient(settings);
    this.#subscriber = createClient(settings);
    this.#channels = new RedisChannels(this.#subscriber, {
      timeout: this.#timeout,
      logger: this.#logger,
      closed: () => this.#closed,
      onFail: (error) => this.#health.fail(errorMessage(error)),
    });
    const where = redactUrl(url);
    for (const [name, client] of [["commands", this.#client], ["subscriptions", this.#subscriber]] as const) {
      client.on("error", (error: unknown) => {
        if (this.#closed) return;
        if (this.#health.fail(errorMessage(error))) {
          this.#logger.warn("Registry store unreachable; retrying", { store: where, connection: name });
        }
      });
      client.on("ready", () => {
        if (this.#client.isReady && this.#subscriber.isReady && this.#health.recover()) {
          this.#logger.info("Registry store reachable", { store: where });
        }
      });
    }
    this.#health.fail("connecting");
    this.#connecting = Promise.all([this.#client.connect(), this.#subscriber.connect()]).then(() => {});
    this.#connecting.catch(() => {});
  }

  /**
   * The health as last observed.
   *
   * @returns `ok`, or `degraded` with the time and the last error.
   */
  health(): StoreHealth {
    return this.#health.current;
  }

  /**
   * Waits for the first connection.
   *
   * @param timeoutMs How long to wait.
   * @returns When both connections are ready.
   * @throws {ConnectionError} When not connected in time (the store keeps trying).
   */
  async ready(timeoutMs: number): Promise<void> {
    await deadline(this.#connecting, timeoutMs, "connecting");
  }

  #key(name: string): string {
    return this.#namespace + name;
  }

  /** Runs one command (or transaction) under the deadline, tracking health. */
  async #run<T>(what: string, work: (client: Client) => Promise<T>): Promise<T> {
    if (this.#closed) throw new ConnectionError("The registry store is closed", { code: "ERR_CLOSED" });
    try {
      let started: Promise<T>;
      try {
        started = work(this.#client);
      } catch (error) {
        started = Promise.reject(error);
      }
      const result = await deadline(started, this.#timeout, what);
      if (this.#client.isReady && this.#subscriber.isReady) this.#health.recover();
      return result;
    } catch (error) {
      this.#health.fail(errorMessage(error));
      throw error;
    }
  }

  /**
   * Every member, with the revision, read atomically.
   *
   * @returns The snapshot.
   */
  async listMembers(): Promise<MemberSnapshot> {
    const [revision, hash] = await this.#run(
      "listing members",
      (c) => c.multi().get(this.#key("revision")).hGetAll(this.#key("members")).exec(),
    );
    const members = Object.values((hash ?? {}) as Record<string, string>).map((text) => JSON.parse(text));
    return { revision: Number(revision ?? 0), members: members as StoredMember[] };
  }

  /**
   * One member.
   *
   * @param serverId The member.
   * @returns It, or `undefined`.
   */
  async getMember(serverId: string): Promise<StoredMember | undefined> {
    const text = await this.#run("reading a member", (c) => c.hGet(this.#key("members"), serverId));
    return typeof text === "string" ? JSON.parse(text) as StoredMember : undefined;
  }

  /**
   * The revision.
   *
   * @returns It.
   */
  async revision(): Promise<number> {
    return Number(await this.#run("reading the revision", (c) => c.get(this.#key("revision"))) ?? 0);
  }

  /**
   * Adds a member unless its serverId is taken; publishes the change.
   *
   * @param config The registration (no clear secret).
   * @param by Who writes it (the admin's `sub` for the membership API).
   * @returns The stored member, or `undefined` when taken.
   */
  async createMember(config: StoredMemberConfig, by: string): Promise<StoredMember | undefined> {
    const createdAt = this.#now();
    const body = JSON.stringify({ createdAt, createdBy: by, config }).slice(1);
    const revision = Number(
      await this.#run("creating a member", (c) =>
        c.eval(CREATE_MEMBER, {
          keys: [this.#key("members"), this.#key("revision")],
          arguments: [config.serverId, body, this.#key(CHANNELS.members), this.#key(CHANNELS.memberChanges)],
        })),
    );
    return revision === 0 ? undefined : { revision, createdAt, createdBy: by, config: structuredClone(config) };
  }

  /**
   * Deletes a member; publishes the change.
   *
   * @param serverId The member.
   * @returns Whether it existed.
   */
  async deleteMember(serverId: string): Promise<boolean> {
    const revision = await this.#run("deleting a member", (c) =>
      c.eval(DELETE_MEMBER, {
        keys: [this.#key("members"), this.#key("revision")],
        arguments: [serverId, this.#key(CHANNELS.members), this.#key(CHANNELS.memberChanges)],
      }));
    return Number(revision) !== 0;
  }

  /**
   * Records a replica as live for `ttlMs`, and drops expired ones from the index.
   *
   * @param record Its description.
   * @param ttlMs Lifetime of the record.
   */
  async heartbeat(record: ReplicaRecord, ttlMs: number): Promise<void> {
    const now = this.#now();
    await this.#run("recording a heartbeat", (c) =>
      c.multi()
        .set(this.#key(`replica:${record.id}`), JSON.stringify(record), { expiration: { type: "PX", value: ttlMs } })
        .zAdd(this.#key("replicas"), { score: now + ttlMs, value: record.id })
        .zRemRangeByScore(this.#key("replicas"), "-inf", now)
        .exec());
  }

  /**
   * Removes a replica's record.
   *
   * @param id The replica.
   */
  async leave(id: string): Promise<void> {
    await this.#run("leaving", (c) => c.multi().del(this.#key(`replica:${id}`)).zRem(this.#key("replicas"), id).exec());
  }

  /**
   * The replicas whose heartbeat has not expired.
   *
   * @returns Their records.
   */
  async listReplicas(): Promise<ReplicaRecord[]> {
    const ids = await this.#run(
      "listing replicas",
      (c) => c.zRangeByScore(this.#key("replicas"), this.#now(), "+inf"),
    );
    if (ids.length === 0) return [];
    const records = await this.#run("listing replicas", (c) => c.mGet(ids.map((id) => this.#key(`replica:${id}`))));
    return records.filter((text): text is string => typeof text === "string").map((text) => JSON.parse(text));
  }

  /**
   * Marks a session as ended for `ttlMs`.
   *
   * @param sessionId The session.
   * @param ttlMs How long to remember it.
   */
  async revokeSession(sessionId: string, ttlMs: number): Promise<void> {
    await this.#run("revoking a session", (c) =>
      c.set(this.#key(`revoked:${sessionId}`), "1", {
        expiration: { type: "PX", value: Math.max(1, Math.ceil(ttlMs)) },
      }));
  }

  /**
   * Whether a session was ended.
   *
   * @param sessionId The session.
   * @returns Whether it is revoked.
   */
  async isRevoked(sessionId: string): Promise<boolean> {
    return await this.#run("checking a session", (c) => c.exists(this.#key(`revoked:${sessionId}`))) > 0;
  }

  /**
   * Publishes a message.
   *
   * @param channel The channel (namespaced here).
   * @param message The message.
   * @returns How many subscribers received it, across every replica.
   */
  async publish(channel: string, message: string): Promise<number> {
    return Number(await this.#run("publishing", (c) => c.publish(this.#key(channel), message)));
  }

  /**
   * Subscribes to a channel (one Redis subscription per channel, however many handlers).
   *
   * @param channel The channel (namespaced here).
   * @param handler Receives each message.
   * @returns Ends the subscription.
   */
  async subscribe(channel: string, handler: ChannelHandler): Promise<() => Promise<void>> {
    if (this.#closed) throw new ConnectionError("The registry store is closed", { code: "ERR_CLOSED" });
    return await this.#channels.subscribe(this.#key(channel), channel, handler);
  }

  /** Disconnects both connections now. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#channels.clear();
    for (const client of [this.#client, this.#subscriber]) {
      try {
        client.destroy();
      } catch {
        // never connected
      }
    }
    return Promise.resolve();
  }

  /** Same as {@link RedisRegistryStore.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
