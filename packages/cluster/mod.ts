/**
 * Scale-out: what several gateway replicas share so that they behave as one gateway. A {@link RegistryStore}
 * (in-process: {@link MemoryRegistryStore}, the default; or Redis: {@link RedisRegistryStore}) holds the members
 * registered at run time, the live replicas and revoked sessions, and carries messages between replicas;
 * {@link MemberSync} keeps each replica's proxy equal to the stored member set; {@link SessionTokens} makes MCP
 * session ids any replica can serve; {@link SecretBox} seals member secrets so the store never holds them in clear.
 *
 * The gateway wires these together (`serveGateway(proxy, { cluster: { store, key } })`, or `--store redis://…` on
 * the command line); see `docs/deployment.md`.
 *
 * @example Share a member set through a store
 * ```ts
 * import { MemoryRegistryStore, toStoredMember } from "@federated-mcp/federation/cluster";
 *
 * await using store = new MemoryRegistryStore();
 * const config = await toStoredMember({ serverId: "docs", endpoints: { data: "http://127.0.0.1:3001/mcp" } });
 * await store.createMember(config, "replica-1");
 * console.log((await store.listMembers()).members.length); // 1
 * ```
 * @module
 */

export { CHANNELS } from "./registry_store.ts";
export { MemoryRegistryStore } from "./memory_store.ts";
export { RedisRegistryStore } from "./redis_store.ts";
export { SecretBox } from "./secret_box.ts";
export { SessionTokens } from "./session_tokens.ts";
export { redactMember, resolveMember, toStoredMember } from "./member_records.ts";
export { MemberSync } from "./member_sync.ts";
export { ReplicaHeartbeat } from "./replica_heartbeat.ts";
export type {
  ChannelHandler,
  MemberSnapshot,
  RegistryStore,
  ReplicaRecord,
  StoredMember,
  StoredMemberConfig,
  StoreHealth,
  StoreHealthEvent,
} from "./registry_store.ts";
export type { MemoryRegistryStoreOptions } from "./memory_store.ts";
export type { RedisRegistryStoreOptions } from "./redis_store.ts";
export type { SecretBoxOptions } from "./secret_box.ts";
export type { SessionClaims, SessionInit, SessionTokensOptions } from "./session_tokens.ts";
export type { MemberSecretsOptions } from "./member_records.ts";
export type { MemberSyncOptions, SyncedMember, SyncedMemberState } from "./member_sync.ts";
export type { ReplicaHeartbeatOptions } from "./replica_heartbeat.ts";
export type { SharedKey } from "./_keys.ts";
