// Internal: the types of a loaded config file (re-exported by `config_file.ts`), kept apart from the validators so
// that the section parsers (`_config_*.ts`) and `config_file.ts` import them without an import circle.
import type { FederationConfig } from "../core/types.ts";
import type { CatalogOptions } from "../proxy/catalog.ts";
import type { FederationProxyOptions } from "../proxy/options.ts";
import type { GatewayAuth } from "./options.ts";

/** A loaded, validated config file, with secrets resolved from the environment. */
export interface GatewayConfig {
  /** The file it came from. */
  file: string;
  /** The members, validated. */
  members: FederationConfig[];
  /**
   * Warnings about the file that do not stop it (a secret under 32 bytes, naming its variable); the CLI logs them.
   */
  warnings: string[];
  /** The secret member tokens are signed with (`proxy.secretEnv`), when set. */
  proxySecret: string | undefined;
  /** Proxy options from the file. */
  proxy: Pick<
    FederationProxyOptions,
    | "proxyId"
    | "routing"
    | "eraPreference"
    | "connectTimeout"
    | "requestTimeout"
    | "heartbeatInterval"
    | "heartbeatTimeout"
    | "drainTimeout"
    | "tokenLifetime"
    | "maxStdioMembers"
  >;
  /** Catalog options from the file. */
  catalog: CatalogOptions;
  /** Where replicas share state (`store`); `undefined`: in-process, nothing shared. */
  store: GatewayStoreConfig | undefined;
  /** Gateway options from the file. */
  gateway: {
    hostname: string;
    port: number;
    path: string;
    auth: GatewayAuth;
    allowedOrigins: string[];
    allowedHosts: string[];
    instructions?: string;
    /** Largest request body, in bytes (`gateway.maxBodyBytes`). @default {1048576} */
    maxBodyBytes?: number;
    /** Requests handled at once (`gateway.maxConcurrentRequests`). @default {4096} */
    maxConcurrentRequests?: number;
  } & GatewaySessionAndAdminConfig;
}

/** The `gateway` fields that bound sessions and the membership API (all optional; defaults in `GatewayOptions`). */
export interface GatewaySessionAndAdminConfig {
  /** Most concurrent client sessions on one replica. */
  maxSessions?: number;
  /** Most sessions one subject may hold on one replica. */
  maxSessionsPerSubject?: number;
  /** A session without any request for this long is closed, in ms. */
  sessionIdleTimeout?: number;
  /** Which environment variables members added through `/admin/members` may name as `secretEnv`. */
  memberSecretEnv?: { prefixes?: string[]; names?: string[] };
}

/** The `store` section of a config file, with its key resolved from the environment. */
export interface GatewayStoreConfig {
  /** `redis://…` or `rediss://…`. */
  url: string;
  /** The key every replica shares (from `keyEnv`). */
  key: string;
  /** Prefix of Redis keys and channels. @default {"fmcp:"} */
  namespace?: string;
  /** Interval of the full member reconcile, in ms. @default {5000} */
  reconcileInterval?: number;
}

/** Options of {@link loadGatewayConfig}. */
export interface LoadGatewayConfigOptions {
  /** Reads an environment variable. @default {Deno.env.get} */
  env?: ((name: string) => string | undefined) | undefined;
  /**
   * The config is for a stdio gateway, which needs no client tokens: `gateway.auth` is then optional and its
   * secret is not read (it becomes `false`).
   * @default {false}
   */
  stdio?: boolean | undefined;
}
