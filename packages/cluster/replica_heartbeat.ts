/**
 * {@link ReplicaHeartbeat}: announces a replica in the registry store at a fixed interval, with a record that
 * expires after a few missed beats, and keeps the count of live replicas for reports. A replica that dies simply
 * stops beating; one that stops cleanly leaves at once.
 *
 * @example
 * ```ts
 * import { MemoryRegistryStore, ReplicaHeartbeat } from "@federated-mcp/federation/cluster";
 *
 * await using store = new MemoryRegistryStore();
 * await using heartbeat = new ReplicaHeartbeat(store, {
 *   id: "replica-1",
 *   describe: () => ({ members: 2, sessions: 5 }),
 * });
 * await heartbeat.beat();
 * console.log(heartbeat.replicas); // 1
 * ```
 * @module
 */

import { consoleLogger, type Logger } from "../core/logger.ts";
import type { RegistryStore, ReplicaRecord } from "./registry_store.ts";
import { errorMessage } from "../core/_error_message.ts";

/** Options of a {@link ReplicaHeartbeat}. */
export interface ReplicaHeartbeatOptions {
  /** This replica's id. */
  id: string;
  /** Where it serves MCP, for reports. */
  url?: string | undefined;
  /** Current counts for the record. */
  describe: () => { members: number; sessions: number };
  /** Interval between beats, in ms; a record lives three intervals. @default {2000} */
  interval?: number | undefined;
  /** Where failures are logged. @default {consoleLogger("warn")} */
  logger?: Logger | undefined;
  /** Clock in ms since the epoch. @default {Date.now} */
  now?: (() => number) | undefined;
}

/**
 * Beats for one replica until closed.
 *
 * @example
 * ```ts ignore
 * const heartbeat = new ReplicaHeartbeat(store, { id, describe: () => ({ members: 0, sessions: 0 }) });
 * heartbeat.start();
 * ```
 */
export class ReplicaHeartbeat implements AsyncDisposable {
  #store: RegistryStore;
  #options: ReplicaHeartbeatOptions;
  #interval: number;
  #startedAt: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #beating: Promise<void> | undefined;
  #replicas = 0;
  #closed = false;

  /**
   * Creates the heartbeat; {@link ReplicaHeartbeat.start} starts it.
   *
   * @param store The registry store.
   * @param options `id`, `describe`, `interval`.
   * @throws {RangeError} When `interval` is not positive.
   */
  constructor(store: RegistryStore, options: ReplicaHeartbeatOptions) {
    this.#interval = options.interval ?? 2_000;
    if (!(this.#interval > 0)) throw new RangeError(`Invalid interval ${this.#interval}: must be > 0`);
    this.#store = store;
    this.#options = options;
    this.#startedAt = (options.now ?? Date.now)();
  }

  /** Live replicas (this one included) at the last successful beat. */
  get replicas(): number {
    return this.#replicas;
  }

  /** Beats now and then at every interval. */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => void this.beat(), this.#interval);
    void this.beat();
  }

  /**
   * Writes the record once and refreshes the count of live replicas.
   *
   * @returns Whether the store answered.
   */
  beat(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    const run = (async () => {
      const { members, sessions } = this.#options.describe();
      const record: ReplicaRecord = {
        id: this.#options.id,
        startedAt: this.#startedAt,
        seenAt: (this.#options.now ?? Date.now)(),
        members,
        sessions,
        ...(this.#options.url === undefined ? {} : { url: this.#options.url }),
      };
      await this.#store.heartbeat(record, this.#interval * 3);
      this.#replicas = (await this.#store.listReplicas()).length;
    })();
    this.#beating = run.catch(() => {});
    return run.then(() => true, (error) => {
      (this.#options.logger ?? consoleLogger("warn")).debug("Heartbeat not recorded", {
        error: errorMessage(error),
      });
      return false;
    });
  }

  /**
   * Stops beating and removes the record (best effort: when the store is down it expires by itself).
   *
   * @returns When done.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#beating;
    await this.#store.leave(this.#options.id).catch(() => {});
  }

  /** Same as {@link ReplicaHeartbeat.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
