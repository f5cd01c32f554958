// Internal: one gateway replica's share of a deployment: its id, the registry store, the member sync, the
// heartbeat, the session-id issuer and the secret box, with their readiness and metrics.
import { deriveHmacKey } from "../cluster/_keys.ts";
import { MemoryRegistryStore } from "../cluster/memory_store.ts";
import { MemberSync } from "../cluster/member_sync.ts";
import type { RegistryStore } from "../cluster/registry_store.ts";
import { ReplicaHeartbeat } from "../cluster/replica_heartbeat.ts";
import { SecretBox } from "../cluster/secret_box.ts";
import { SessionTokens } from "../cluster/session_tokens.ts";
import { MIN_SECRET_BYTES } from "../core/config.ts";
import { PrometheusWriter } from "../core/_prometheus.ts";
import { ConfigError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { OutboundGuardOptions } from "../core/outbound_guard.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { DEFAULT_ADMIN_SCOPE, type GatewayClusterOptions } from "./cluster_options.ts";
import type { MemberSecretEnvPolicy } from "./options.ts";

/** What the runtime needs besides the options. */
export interface ClusterRuntimeSettings {
  logger: Logger;
  /** Open client sessions on this replica, for the heartbeat. */
  sessions: () => number;
  /** Variables members' `secretEnv` may name. @default {{ prefixes: ["MCP_MEMBER_"] }} */
  memberSecretEnv?: MemberSecretEnvPolicy | undefined;
}

/** The default prefix of variables members added at run time may name as their secret. */
export const DEFAULT_MEMBER_SECRET_PREFIX = "MCP_MEMBER_";

/**
 * `env` restricted to the allowed names: any other name reads as unset, so that a caller of the membership API can
 * neither read the gateway's own secrets nor learn which variables exist.
 */
export function allowedEnv(
  env: (name: string) => string | undefined,
  policy: MemberSecretEnvPolicy = {},
): (name: string) => string | undefined {
  const prefixes = policy.prefixes ?? [DEFAULT_MEMBER_SECRET_PREFIX];
  const names = new Set(policy.names ?? []);
  for (const prefix of prefixes) {
    if (prefix === "") {
      throw new ConfigError("Invalid memberSecretEnv.prefixes: an empty prefix would allow every variable", {
        field: "memberSecretEnv.prefixes",
      });
    }
  }
  return (name) => names.has(name) || prefixes.some((p) => name.startsWith(p)) ? env(name) : undefined;
}

function randomId(): string {
  return crypto.getRandomValues(new Uint8Array(6)).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** A replica's cluster machinery. */
export class ClusterRuntime {
  readonly replicaId: string;
  readonly store: RegistryStore;
  readonly tokens: SessionTokens;
  readonly box: SecretBox;
  readonly sync: MemberSync;
  readonly heartbeat: ReplicaHeartbeat;
  readonly adminScope: string;
  readonly outboundGuard: OutboundGuardOptions | false;
  readonly env: (name: string) => string | undefined;
  /** Keys that tag server-to-client request ids (current first), so any replica can check an answer's tag. */
  readonly routeKeys: readonly CryptoKey[];
  #ownsStore: boolean;

  private constructor(fields: {
    replicaId: string;
    store: RegistryStore;
    ownsStore: boolean;
    tokens: SessionTokens;
    box: SecretBox;
    sync: MemberSync;
    heartbeat: ReplicaHeartbeat;
    options: GatewayClusterOptions;
    env: (name: string) => string | undefined;
    routeKeys: CryptoKey[];
  }) {
    this.replicaId = fields.replicaId;
    this.store = fields.store;
    this.#ownsStore = fields.ownsStore;
    this.tokens = fields.tokens;
    this.box = fields.box;
    this.sync = fields.sync;
    this.heartbeat = fields.heartbeat;
    this.adminScope = fields.options.adminScope ?? DEFAULT_ADMIN_SCOPE;
    this.outboundGuard = fields.options.outboundGuard ?? {};
    this.env = fields.env;
    this.routeKeys = fields.routeKeys;
  }

  /** Builds the runtime (derives keys); {@link ClusterRuntime.start} starts its loops. */
  static async create(
    proxy: FederationProxy,
    options: GatewayClusterOptions,
    settings: ClusterRuntimeSettings,
  ): Promise<ClusterRuntime> {
    const store = options.store ?? new MemoryRegistryStore();
    if (options.key === undefined && store.backend !== "memory") {
      throw new ConfigError(
        `Invalid cluster.key: required with a shared store (${store.backend}); every replica needs the same key`,
        { field: "cluster.key" },
      );
    }
    const replicaId = options.replicaId ?? randomId();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(replicaId)) {
      throw new ConfigError(`Invalid cluster.replicaId '${replicaId}': must match ^[A-Za-z0-9_-]{1,64}$`, {
        field: "cluster.replicaId",
      });
    }
    for (
      const [field, given] of [
        ["cluster.key", options.key],
        ...(options.previousKeys ?? []).map((k) => ["cluster.previousKeys", k] as const),
      ] as const
    ) {
      if (given === undefined) continue;
      const bytes = typeof given === "string" ? new TextEncoder().encode(given).byteLength : given.byteLength;
      if (bytes < MIN_SECRET_BYTES) {
        throw new ConfigError(`Invalid ${field}: at least ${MIN_SECRET_BYTES} bytes required`, { field });
      }
    }
    const key = options.key ?? crypto.getRandomValues(new Uint8Array(32));
    const previousKeys = options.previousKeys ?? [];
    const env = allowedEnv(options.env ?? ((name: string) => Deno.env.get(name)), settings.memberSecretEnv);
    const routeKeys = await Promise.all(
      [key, ...previousKeys].map((k) => deriveHmacKey(k, "answer-route/v1", "cluster.key")),
    );
    const [tokens, box] = await Promise.all([
      SessionTokens.create(key, {
        previousKeys,
        ...(options.sessionMaxAge === undefined ? {} : { maxAge: options.sessionMaxAge }),
      }),
      SecretBox.create(key, { previousKeys }),
    ]);
    const sync = new MemberSync(proxy, store, {
      replicaId,
      secrets: { box, env },
      logger: settings.logger,
      ...(options.reconcileInterval === undefined ? {} : { reconcileInterval: options.reconcileInterval }),
    });
    const heartbeat = new ReplicaHeartbeat(store, {
      id: replicaId,
      describe: () => ({ members: proxy.getConnectedServers().length, sessions: settings.sessions() }),
      logger: settings.logger,
      ...(options.heartbeatInterval === undefined ? {} : { interval: options.heartbeatInterval }),
    });
    return new ClusterRuntime({
      replicaId,
      store,
      ownsStore: options.store === undefined,
      tokens,
      box,
      sync,
      heartbeat,
      options,
      env,
      routeKeys,
    });
  }

  /** Starts the heartbeat and the member sync (does not wait for the store). */
  start(): void {
    this.heartbeat.start();
    void this.sync.start();
  }

  /** What `/readyz` says about the store. */
  readiness(): Record<string, unknown> {
    const health = this.store.health();
    return {
      backend: this.store.backend,
      state: health.state,
      ...(health.state === "degraded" ? { since: new Date(health.since).toISOString(), error: health.error } : {}),
      replica: this.replicaId,
      replicas: this.heartbeat.replicas,
      revision: this.sync.revision ?? null,
    };
  }

  /** Prometheus lines about the store, the replicas and the stored members (through the one writer). */
  metricLines(): string[] {
    const backend = this.store.backend;
    const counts = this.sync.countByState();
    const states = ["registering", "registered", "retrying", "refused", "conflict"] as const;
    return new PrometheusWriter()
      .gauge(
        "federation_store_up",
        "Whether the registry store answers (1) or the replica runs degraded (0).",
        [[{ backend }, this.store.health().state === "ok" ? 1 : 0]],
      )
      .gauge("federation_cluster_replicas", "Live replicas seen in the registry store at the last heartbeat.", [
        [undefined, this.heartbeat.replicas],
      ])
      .gauge("federation_store_revision", "Registry store revision applied on this replica.", [
        [undefined, this.sync.revision ?? 0],
      ])
      .gauge(
        "federation_store_members",
        "Stored members by their state on this replica.",
        states.map((state) => [{ state }, counts[state]]),
      )
      .lines();
  }

  /** Stops the loops; closes the store only when the runtime created it. */
  async close(): Promise<void> {
    await Promise.all([this.sync.close(), this.heartbeat.close()]);
    if (this.#ownsStore) await this.store.close();
  }
}
