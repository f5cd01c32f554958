/**
 * {@link GatewayClusterOptions}: how a gateway shares its federation with other replicas of itself
 * (`serveGateway(proxy, { cluster })`). Without it a gateway is one replica with an in-process store: the same code
 * path, nothing shared.
 *
 * @example Three replicas on one Redis (each process runs this)
 * ```ts ignore
 * import { RedisRegistryStore } from "@federated-mcp/federation/cluster";
 * import { serveGateway } from "@federated-mcp/federation/gateway";
 *
 * const store = new RedisRegistryStore("redis://127.0.0.1:6379");
 * await using gateway = await serveGateway(proxy, {
 *   auth: { secret: Deno.env.get("MCP_GATEWAY_SECRET")! },
 *   cluster: { store, key: Deno.env.get("MCP_STORE_KEY")! },
 * });
 * ```
 * @module
 */

import type { RegistryStore } from "../cluster/registry_store.ts";
import type { SharedKey } from "../cluster/_keys.ts";
import type { OutboundGuardOptions } from "../core/outbound_guard.ts";

/**
 * The scope claim an admin token must carry for the membership API (`/admin/members`), by default.
 *
 * @example Mint an admin token
 * ```ts
 * import { AuthManager } from "@federated-mcp/federation/core";
 * import { DEFAULT_ADMIN_SCOPE } from "@federated-mcp/federation/gateway";
 *
 * const auth = new AuthManager("a-secret-of-at-least-thirty-two-bytes!!");
 * const token = await auth.createToken({ scope: DEFAULT_ADMIN_SCOPE }, { subject: "operator", expiresIn: "5m" });
 * console.log(token.split(".").length); // 3
 * ```
 */
export const DEFAULT_ADMIN_SCOPE: string = "federation:admin";

/** Options of a gateway replica ({@link GatewayOptions.cluster}). */
export interface GatewayClusterOptions {
  /**
   * What replicas share: members registered at run time, live replicas, revoked sessions, and the message bus.
   * The gateway does not close it.
   * @default {a new MemoryRegistryStore: one process, nothing shared}
   */
  store?: RegistryStore | undefined;
  /**
   * The key every replica has (at least 32 bytes): it encrypts session ids, seals members' secrets and seals the
   * `requestState` of 2026-07-28 Multi Round-Trip Requests (so any replica routes a retry; without it the client-token
   * secret is used, else a random key). Required with a shared store; useful without one, for replicas serving
   * 2026-07-28 clients round-robin.
   * @default {a random key: sessions are then valid in this process only}
   */
  key?: SharedKey | undefined;
  /** Keys used before `key`: session ids, sealed secrets and states made with them are still accepted. @default {[]} */
  previousKeys?: readonly SharedKey[] | undefined;
  /** This replica's id (unique per process). @default {random} */
  replicaId?: string | undefined;
  /** Age after which a session id is refused (the client initializes anew), in ms. @default {86400000} */
  sessionMaxAge?: number | undefined;
  /** Interval of the full member reconcile, in ms. @default {5000} */
  reconcileInterval?: number | undefined;
  /** Interval between replica heartbeats, in ms; a replica is gone after three missed beats. @default {2000} */
  heartbeatInterval?: number | undefined;
  /** Scope claim (`scope`, space-separated, or `scp`, a list) the membership API requires. @default {"federation:admin"} */
  adminScope?: string | undefined;
  /**
   * The outbound guard members added through the membership API are checked against before they are stored;
   * pass the proxy's `outboundGuard`, which checks them again when registering.
   * @default {{}}: link-local and cloud-metadata addresses refused
   */
  outboundGuard?: OutboundGuardOptions | false | undefined;
  /** Reads environment variables named by members' `secretEnv`. @default {Deno.env.get} */
  env?: ((name: string) => string | undefined) | undefined;
}
