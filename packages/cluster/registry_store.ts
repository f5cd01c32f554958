/**
 * The registry store seam: what gateway replicas share. A {@link RegistryStore} holds the members registered at run
 * time (their configs, with secrets only as environment-variable references or sealed), the live replicas
 * (heartbeats that expire), revoked client sessions, and a publish/subscribe bus that carries change notices and
 * messages between replicas.
 *
 * Two implementations: {@link MemoryRegistryStore} (one process, the default) and {@link RedisRegistryStore}
 * (every replica of a deployment on one Redis).
 *
 * @example Write a member and read it back
 * ```ts
 * import { MemoryRegistryStore } from "@federated-mcp/federation/cluster";
 *
 * await using store = new MemoryRegistryStore();
 * await store.createMember({ serverId: "docs", endpoints: { data: "http://127.0.0.1:3001/mcp" } }, "replica-1");
 * const { members } = await store.listMembers();
 * console.log(members.map((m) => m.config.serverId)); // ["docs"]
 * ```
 * @module
 */

import type { FederationEndpoints } from "../core/types.ts";

/**
 * A member's registration as stored: a `FederationConfig` whose `auth.config` carries no secret in clear, only
 * `secretEnv` (the name of an environment variable every replica has) or `sealedSecret` (AES-GCM under the
 * deployment's shared key, see {@link SecretBox}).
 */
export interface StoredMemberConfig {
  /** The member's id. */
  serverId: string;
  /** Its endpoints. */
  endpoints: FederationEndpoints;
  /** How the proxy authenticates to it; `config` holds no clear secret. */
  auth?:
    | {
      type: "jwt";
      config: {
        secretEnv?: string | undefined;
        sealedSecret?: string | undefined;
        expiresIn?: string | number | undefined;
        algorithm?: "HS256" | "HS384" | "HS512" | undefined;
        subject?: string | undefined;
      };
    }
    | { type: "none" }
    | undefined;
}

/** A stored member with its bookkeeping. */
export interface StoredMember {
  /** The registration. */
  config: StoredMemberConfig;
  /** The store revision at which it was written (the store's revision grows on every member change). */
  revision: number;
  /** When it was written, in ms since the epoch. */
  createdAt: number;
  /** Who wrote it: the `sub` of the admin token of the membership API call (an id given by other writers). */
  createdBy: string;
}

/** The members in the store, and the revision they are at. */
export interface MemberSnapshot {
  /** Grows by one on every create or delete. */
  revision: number;
  /** Every member. */
  members: StoredMember[];
}

/** A live replica, as its last heartbeat described it. */
export interface ReplicaRecord {
  /** The replica's id (unique per process). */
  id: string;
  /** Where it serves MCP, when known. */
  url?: string | undefined;
  /** When it started, in ms since the epoch. */
  startedAt: number;
  /** When it last beat, in ms since the epoch. */
  seenAt: number;
  /** Members usable on it. */
  members: number;
  /** Client sessions open on it. */
  sessions: number;
}

/** Whether the store answers: `ok`, or `degraded` since a time with the last error. */
export type StoreHealth =
  | { state: "ok" }
  | { state: "degraded"; since: number; error: string };

/** Receives the messages published on a channel. */
export type ChannelHandler = (message: string) => void;

/** The event a store dispatches when its health changes (`type` `"health"`, `detail` the new health). */
export type StoreHealthEvent = CustomEvent<StoreHealth>;

/**
 * What replicas share. Every method that reaches a remote engine rejects with a `ConnectionError` when it is
 * unreachable; nothing is acknowledged (resolved) before the engine has it.
 */
export interface RegistryStore extends AsyncDisposable, EventTarget {
  /** `"memory"` or `"redis"`, for reports. */
  readonly backend: string;
  /** The health as last observed. */
  health(): StoreHealth;
  /**
   * Every member, with the revision.
   *
   * @returns The snapshot.
   */
  listMembers(): Promise<MemberSnapshot>;
  /**
   * The revision only (cheap), to learn whether {@link RegistryStore.listMembers} would say something new.
   *
   * @returns The revision.
   */
  revision(): Promise<number>;
  /**
   * One member (cheap), so that a replica applies a change notice without reading every member.
   *
   * @param serverId The member.
   * @returns It, or `undefined` when the store does not have it.
   */
  getMember(serverId: string): Promise<StoredMember | undefined>;
  /**
   * Adds a member unless one with its serverId exists, and notifies every replica.
   *
   * @param config The registration (no clear secret).
   * @param by Who writes it (the membership API passes the admin's `sub`).
   * @returns The stored member, or `undefined` when the serverId is taken.
   */
  createMember(config: StoredMemberConfig, by: string): Promise<StoredMember | undefined>;
  /**
   * Deletes a member and notifies every replica.
   *
   * @param serverId The member.
   * @returns Whether it existed.
   */
  deleteMember(serverId: string): Promise<boolean>;
  /**
   * Records a replica as live for `ttlMs`.
   *
   * @param record Its description.
   * @param ttlMs How long the record lives without another heartbeat.
   */
  heartbeat(record: ReplicaRecord, ttlMs: number): Promise<void>;
  /**
   * Removes a replica's record (a clean stop).
   *
   * @param id The replica.
   */
  leave(id: string): Promise<void>;
  /**
   * The replicas whose heartbeat has not expired.
   *
   * @returns Their records.
   */
  listReplicas(): Promise<ReplicaRecord[]>;
  /**
   * Marks a client session as ended, for `ttlMs` (its tokens' remaining lifetime).
   *
   * @param sessionId The session's id (not its token).
   * @param ttlMs How long to remember it.
   */
  revokeSession(sessionId: string, ttlMs: number): Promise<void>;
  /**
   * Whether a client session was ended.
   *
   * @param sessionId The session's id.
   * @returns Whether it is revoked.
   */
  isRevoked(sessionId: string): Promise<boolean>;
  /**
   * Publishes a message to whoever subscribes to `channel` now.
   *
   * @param channel The channel (the store adds its namespace).
   * @param message The message.
   * @returns How many subscribers (across every replica) received it.
   */
  publish(channel: string, message: string): Promise<number>;
  /**
   * Subscribes to a channel; survives reconnections of the engine.
   *
   * @param channel The channel (the store adds its namespace).
   * @param handler Receives each message.
   * @returns Ends the subscription.
   */
  subscribe(channel: string, handler: ChannelHandler): Promise<() => Promise<void>>;
  /** Stops now: no more messages, no more reconnections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Channel names replicas agree on (the store adds its namespace).
 *
 * @example
 * ```ts
 * import { CHANNELS } from "@federated-mcp/federation/cluster";
 *
 * console.log(CHANNELS.members, CHANNELS.replica("r1")); // members replica:r1
 * ```
 */
export const CHANNELS: {
  readonly members: string;
  readonly memberChanges: string;
  readonly sessions: string;
  replica(id: string): string;
  stream(sessionId: string): string;
} = Object.freeze({
  /** A member was created or deleted; the message is the new revision. */
  members: "members",
  /**
   * The same change, described: the new revision, `+` (created) or `-` (deleted) and the serverId, space-separated
   * (`"7 + docs"`), so that a replica that sees consecutive revisions applies them one by one, without reading every
   * member.
   */
  memberChanges: "member-changes",
  /** Session-wide notices: revocations and client cancellations. */
  sessions: "sessions",
  /** Messages for one replica (clients' answers to requests it sent). */
  replica: (id: string) => `replica:${id}`,
  /** Messages for whichever replica holds a session's GET stream. */
  stream: (sessionId: string) => `stream:${sessionId}`,
});
