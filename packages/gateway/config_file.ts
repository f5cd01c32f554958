/**
 * The gateway's config file (`federation.json`): the members to federate (`FederationConfig` objects), the proxy,
 * the catalog and the gateway's listen and auth options. Secrets are never written in the file: each is named by
 * an environment variable (`"secretEnv": "NAME"`) and read at load time.
 *
 * ```json
 * {
 *   "gateway": { "hostname": "127.0.0.1", "port": 8080, "auth": { "secretEnv": "MCP_GATEWAY_SECRET" } },
 *   "proxy": { "secretEnv": "MCP_SECRET_KEY" },
 *   "catalog": { "prefix": "always" },
 *   "store": { "url": "redis://127.0.0.1:6379", "keyEnv": "MCP_STORE_KEY" },
 *   "members": [
 *     { "serverId": "server-1", "endpoints": { "control": "ws://localhost:3000", "data": "http://localhost:3001" } },
 *     { "serverId": "docs", "endpoints": { "data": "https://docs.example.com/mcp" }, "auth": { "type": "none" } }
 *   ]
 * }
 * ```
 *
 * `gateway.maxBodyBytes` (default 1 MiB) and `gateway.maxConcurrentRequests` (default 4096) bound request bodies and
 * requests in progress. `gateway.auth.secretEnv` must name a secret different from the proxy's and every member's:
 * a member holding the client-token secret could mint client and admin tokens.
 *
 * `store` is optional: without it the gateway keeps members added at run time in its own memory (one replica);
 * with a Redis URL, every replica of the gateway shares them and serves every client session (see
 * `docs/deployment.md`). `keyEnv` names the variable holding the key every replica shares (default
 * `MCP_STORE_KEY`); `urlEnv` may name a variable holding the URL instead of `url` (when it has a password).
 *
 * (About 500 lines: one validator per section of the file, kept together so that every field's rule and message is
 * found in one place.)
 *
 * @example Load and validate a config file
 * ```ts ignore
 * import { loadGatewayConfig } from "@federated-mcp/federation/gateway";
 *
 * const config = await loadGatewayConfig("federation.json");
 * console.log(config.members.map((m) => m.serverId));
 * ```
 * @module
 */

import { AuthManager } from "../core/auth.ts";
import { ConfigError } from "../core/errors.ts";
import { validateConfig } from "../core/config.ts";
import type { FederationConfig } from "../core/types.ts";
import type { CatalogOptions } from "../proxy/catalog.ts";
import type { FederationProxyOptions, RoutingPolicy } from "../proxy/options.ts";
import { isLoopback } from "./_http_guard.ts";
import { federationFileOf } from "./_foreign_configs.ts";
import type { GatewayAuth } from "./options.ts";

/** A loaded, validated config file, with secrets resolved from the environment. */
export interface GatewayConfig {
  /** The file it came from. */
  file: string;
  /** The members, validated. */
  members: FederationConfig[];
  /** The secret member tokens are signed with (`proxy.secretEnv`), when set. */
  proxySecret: string | undefined;
  /** Proxy options from the file. */
  proxy: Pick<
    FederationProxyOptions,
    | "proxyId"
    | "routing"
    | "connectTimeout"
    | "requestTimeout"
    | "heartbeatInterval"
    | "heartbeatTimeout"
    | "drainTimeout"
    | "tokenLifetime"
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

// Sessions and membership API: the `gateway` fields that bound client sessions and `/admin/members`.

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

function sessionAndAdminKeys(): string[] {
  return ["maxSessions", "maxSessionsPerSubject", "sessionIdleTimeout", "memberSecretEnv"];
}

function parseSessionAndAdmin(problems: Problems, raw: Json): GatewaySessionAndAdminConfig {
  const out: GatewaySessionAndAdminConfig = {};
  for (const key of ["maxSessions", "maxSessionsPerSubject"] as const) {
    if (raw[key] !== undefined) out[key] = problems.number(raw[key], `gateway.${key}`, { integer: true, min: 1 });
  }
  if (raw.sessionIdleTimeout !== undefined) {
    out.sessionIdleTimeout = problems.number(raw.sessionIdleTimeout, "gateway.sessionIdleTimeout", { min: 1 });
  }
  const env = raw.memberSecretEnv;
  if (env !== undefined) {
    if (!isRecord(env)) {
      problems.fail("gateway.memberSecretEnv", 'must be an object like { "prefixes": ["MCP_MEMBER_"] }');
    }
    problems.keys(env, ["prefixes", "names"], "gateway.memberSecretEnv.");
    const allowed: { prefixes?: string[]; names?: string[] } = {};
    if (env.prefixes !== undefined) {
      allowed.prefixes = problems.strings(env.prefixes, "gateway.memberSecretEnv.prefixes");
      if (allowed.prefixes.some((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) {
        problems.fail("gateway.memberSecretEnv.prefixes", "each must start a variable name (letters, digits, _)");
      }
    }
    if (env.names !== undefined) {
      allowed.names = problems.strings(env.names, "gateway.memberSecretEnv.names");
      if (allowed.names.some((n) => !ENV_NAME.test(n))) {
        problems.fail("gateway.memberSecretEnv.names", "each must be the name of an environment variable");
      }
    }
    out.memberSecretEnv = allowed;
  }
  return out;
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

type Env = (name: string) => string | undefined;
type Json = Record<string, unknown>;

const TOP_LEVEL = ["$schema", "gateway", "proxy", "catalog", "store", "members"];
const STORE_KEYS = ["url", "urlEnv", "keyEnv", "namespace", "reconcileInterval"];
const GATEWAY_KEYS = [
  "hostname",
  "port",
  "path",
  "auth",
  "allowedOrigins",
  "allowedHosts",
  "instructions",
  ...sessionAndAdminKeys(),
];
/** Request limits of the HTTP server (body size, concurrency). */
const GATEWAY_LIMIT_KEYS = ["maxBodyBytes", "maxConcurrentRequests"] as const;
const PROXY_KEYS = [
  "secretEnv",
  "proxyId",
  "routing",
  "connectTimeout",
  "requestTimeout",
  "heartbeatInterval",
  "heartbeatTimeout",
  "drainTimeout",
  "tokenLifetime",
];
const CATALOG_KEYS = ["prefix", "listTimeout", "retryAfter"];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Builds errors that name the file, the member and the field. */
class Problems {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }

  fail(field: string, rule: string, serverId?: string): never {
    const who = serverId === undefined ? "" : ` member '${serverId}':`;
    throw new ConfigError(`Invalid config file '${this.file}':${who} ${field}: ${rule}`, {
      field,
      ...(serverId === undefined ? {} : { serverId }),
    });
  }

  keys(value: Json, allowed: string[], prefix: string, serverId?: string): void {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) {
        this.fail(`${prefix}${key}`, `is not a known field (known: ${allowed.join(", ")})`, serverId);
      }
    }
  }

  number(value: unknown, field: string, options: { integer?: boolean; min?: number; max?: number } = {}): number {
    const { min = 0, max = Number.MAX_SAFE_INTEGER } = options;
    if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
      this.fail(field, `${JSON.stringify(value)} must be a number from ${min} to ${max}`);
    }
    if (options.integer && !Number.isInteger(value)) this.fail(field, `${value} must be an integer`);
    return value;
  }

  strings(value: unknown, field: string): string[] {
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      this.fail(field, "must be an array of strings");
    }
    return value as string[];
  }

  /** Reads a secret from the environment variable a `secretEnv` field names. */
  secret(value: unknown, field: string, env: Env, serverId?: string): string {
    if (typeof value !== "string" || !ENV_NAME.test(value)) {
      this.fail(field, `${JSON.stringify(value)} must be the name of an environment variable`, serverId);
    }
    const secret = env(value);
    if (secret === undefined || secret === "") {
      this.fail(field, `environment variable ${value} is not set (it holds the secret)`, serverId);
    }
    return secret;
  }
}

function refuseLiteralSecret(problems: Problems, value: Json, field: string, serverId?: string): void {
  if ("secret" in value) {
    problems.fail(
      `${field}.secret`,
      'secrets must not be written in the file; name an environment variable with "secretEnv": "NAME"',
      serverId,
    );
  }
}

function parseMember(problems: Problems, raw: unknown, index: number, env: Env): FederationConfig {
  if (!isRecord(raw)) problems.fail(`members[${index}]`, "must be an object");
  const serverId = typeof raw.serverId === "string" ? raw.serverId : undefined;
  const config: Json = { ...raw };
  const auth = raw.auth;
  if (isRecord(auth) && isRecord(auth.config)) {
    refuseLiteralSecret(problems, auth.config, "auth.config", serverId);
    const { secretEnv, ...rest } = auth.config;
    const resolved: Json = { ...rest };
    if (secretEnv !== undefined) resolved.secret = problems.secret(secretEnv, "auth.config.secretEnv", env, serverId);
    config.auth = { ...auth, config: resolved };
  } else if (isRecord(auth) && auth.type === "jwt" && auth.config === undefined) {
    config.auth = { ...auth, config: {} };
  }
  try {
    return validateConfig(config, { strictSecrets: false, warn: () => {} });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const field = error.field ?? "config";
    const rule = error.message.replace(/^Invalid [^:]*: /, "");
    problems.fail(`members[${index}].${field}`, rule, serverId);
  }
}

/**
 * Builds the store config from a URL and the environment (the `store` section, or the CLI's `--store`).
 *
 * @param url `redis://…` / `rediss://…`.
 * @param env Reads environment variables.
 * @param keyEnv The variable holding the shared key.
 * @param field Where the URL came from, for messages.
 * @returns The store config (without namespace and interval).
 * @throws {ConfigError} For another scheme, or when the key variable is not set.
 * @example
 * ```ts
 * import { storeConfig } from "@federated-mcp/federation/gateway";
 *
 * const env = (name: string) => name === "MCP_STORE_KEY" ? "k".repeat(32) : undefined;
 * console.log(storeConfig("redis://127.0.0.1:6379", env).url); // redis://127.0.0.1:6379
 * ```
 */
export function storeConfig(
  url: string,
  env: (name: string) => string | undefined,
  keyEnv = "MCP_STORE_KEY",
  field = "store.url",
): GatewayStoreConfig {
  if (!URL.canParse(url) || !["redis:", "rediss:"].includes(new URL(url).protocol)) {
    throw new ConfigError(`Invalid ${field}: must be redis://host:port or rediss://host:port`, { field });
  }
  const key = env(keyEnv);
  if (key === undefined || key === "") {
    throw new ConfigError(
      `Invalid store.keyEnv: environment variable ${keyEnv} is not set (every replica needs the same key)`,
      { field: "store.keyEnv" },
    );
  }
  return { url, key };
}

function parseStore(problems: Problems, raw: unknown, env: Env): GatewayStoreConfig {
  if (!isRecord(raw)) problems.fail("store", 'must be an object like { "url": "redis://127.0.0.1:6379" }');
  problems.keys(raw, STORE_KEYS, "store.");
  if ((raw.url === undefined) === (raw.urlEnv === undefined)) {
    problems.fail("store", "needs url or urlEnv (one of them)");
  }
  let url = raw.url;
  if (raw.urlEnv !== undefined) url = problems.secret(raw.urlEnv, "store.urlEnv", env);
  if (typeof url !== "string") problems.fail("store.url", "must be a string");
  const keyEnv = raw.keyEnv ?? "MCP_STORE_KEY";
  if (typeof keyEnv !== "string" || !ENV_NAME.test(keyEnv)) {
    problems.fail("store.keyEnv", `${JSON.stringify(keyEnv)} must be the name of an environment variable`);
  }
  let store: GatewayStoreConfig;
  try {
    store = storeConfig(url, env, keyEnv, raw.urlEnv === undefined ? "store.url" : "store.urlEnv");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.fail(error.field ?? "store", error.message.replace(/^Invalid [^:]*: /, ""));
  }
  if (raw.namespace !== undefined) {
    if (typeof raw.namespace !== "string" || raw.namespace === "") {
      problems.fail("store.namespace", "must be a non-empty string");
    }
    store.namespace = raw.namespace;
  }
  if (raw.reconcileInterval !== undefined) {
    store.reconcileInterval = problems.number(raw.reconcileInterval, "store.reconcileInterval", { min: 1 });
  }
  return store;
}

/**
 * Validates a parsed config file and resolves its secrets from the environment.
 *
 * @param input The parsed JSON.
 * @param file The file name, for messages.
 * @param options `env`.
 * @returns The config.
 * @throws {ConfigError} Naming the file, the member and the field, for every problem (including a secret written
 *   in the file, or a `secretEnv` variable that is not set).
 * @example
 * ```ts
 * import { parseGatewayConfig } from "@federated-mcp/federation/gateway";
 *
 * const config = parseGatewayConfig({
 *   gateway: { port: 8080, auth: false },
 *   members: [{ serverId: "docs", endpoints: { data: "http://127.0.0.1:3001/mcp" }, auth: { type: "none" } }],
 * }, "federation.json");
 * console.log(config.gateway.port, config.members[0]?.serverId); // 8080 docs
 * ```
 */
export function parseGatewayConfig(
  input: unknown,
  file: string,
  options: LoadGatewayConfigOptions = {},
): GatewayConfig {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const problems: Problems = new Problems(file);
  input = federationFileOf(input, file, env); // Claude Desktop / Claude Code / Cursor / VS Code server lists
  if (!isRecord(input)) problems.fail("(root)", "must be a JSON object");
  problems.keys(input, TOP_LEVEL, "");

  const gatewayRaw = input.gateway ?? {};
  if (!isRecord(gatewayRaw)) problems.fail("gateway", "must be an object");
  problems.keys(gatewayRaw, [...GATEWAY_KEYS, ...GATEWAY_LIMIT_KEYS], "gateway.");
  const hostname = gatewayRaw.hostname ?? "127.0.0.1";
  if (typeof hostname !== "string" || hostname === "") problems.fail("gateway.hostname", "must be a non-empty string");
  const port = problems.number(gatewayRaw.port ?? 8080, "gateway.port", { integer: true, max: 65535 });
  const path = gatewayRaw.path ?? "/mcp";
  if (typeof path !== "string" || !path.startsWith("/")) {
    problems.fail("gateway.path", "must be a string starting with '/'");
  }
  let auth: GatewayAuth;
  const authRaw = gatewayRaw.auth;
  if (options.stdio) {
    if (authRaw !== undefined && authRaw !== false && !isRecord(authRaw)) {
      problems.fail("gateway.auth", 'must be { "secretEnv": "NAME" } or false');
    }
    if (isRecord(authRaw)) refuseLiteralSecret(problems, authRaw, "gateway.auth");
    auth = false;
  } else if (authRaw === false) {
    if (!isLoopback(hostname)) {
      problems.fail("gateway.auth", `false is only allowed on a loopback hostname, not '${hostname}'`);
    }
    auth = false;
  } else if (authRaw === undefined) {
    problems.fail("gateway.auth", 'is required: { "secretEnv": "NAME" } (or false on a loopback hostname)');
  } else if (isRecord(authRaw)) {
    refuseLiteralSecret(problems, authRaw, "gateway.auth");
    problems.keys(authRaw, ["secretEnv", "audience", "issuer", "algorithm"], "gateway.auth.");
    const secret = problems.secret(authRaw.secretEnv, "gateway.auth.secretEnv", env);
    for (const key of ["audience", "issuer"] as const) {
      if (authRaw[key] !== undefined && typeof authRaw[key] !== "string") {
        problems.fail(`gateway.auth.${key}`, "must be a string");
      }
    }
    const algorithm = authRaw.algorithm;
    if (algorithm !== undefined && !["HS256", "HS384", "HS512"].includes(algorithm as string)) {
      problems.fail("gateway.auth.algorithm", `${JSON.stringify(algorithm)} is not one of HS256, HS384, HS512`);
    }
    auth = {
      secret,
      ...(typeof authRaw.audience === "string" ? { audience: authRaw.audience } : {}),
      ...(typeof authRaw.issuer === "string" ? { issuer: authRaw.issuer } : {}),
      ...(algorithm ? { algorithm: algorithm as "HS256" | "HS384" | "HS512" } : {}),
    };
  } else {
    problems.fail("gateway.auth", 'must be { "secretEnv": "NAME" } or false');
  }
  const gateway: GatewayConfig["gateway"] = {
    hostname,
    port,
    path,
    auth,
    allowedOrigins: gatewayRaw.allowedOrigins === undefined
      ? []
      : problems.strings(gatewayRaw.allowedOrigins, "gateway.allowedOrigins"),
    allowedHosts: gatewayRaw.allowedHosts === undefined
      ? []
      : problems.strings(gatewayRaw.allowedHosts, "gateway.allowedHosts"),
    ...parseSessionAndAdmin(problems, gatewayRaw),
  };
  if (gatewayRaw.instructions !== undefined) {
    if (typeof gatewayRaw.instructions !== "string") problems.fail("gateway.instructions", "must be a string");
    gateway.instructions = gatewayRaw.instructions;
  }
  // Request limits (body size, concurrency).
  for (const key of GATEWAY_LIMIT_KEYS) {
    if (gatewayRaw[key] !== undefined) {
      gateway[key] = problems.number(gatewayRaw[key], `gateway.${key}`, { integer: true, min: 1 });
    }
  }

  const proxyRaw = input.proxy ?? {};
  if (!isRecord(proxyRaw)) problems.fail("proxy", "must be an object");
  refuseLiteralSecret(problems, proxyRaw, "proxy");
  problems.keys(proxyRaw, PROXY_KEYS, "proxy.");
  const proxySecret = proxyRaw.secretEnv === undefined
    ? env("MCP_SECRET_KEY") || undefined
    : problems.secret(proxyRaw.secretEnv, "proxy.secretEnv", env);
  const proxy: GatewayConfig["proxy"] = {};
  if (proxyRaw.proxyId !== undefined) {
    if (typeof proxyRaw.proxyId !== "string" || proxyRaw.proxyId === "") {
      problems.fail("proxy.proxyId", "must be a non-empty string");
    }
    proxy.proxyId = proxyRaw.proxyId;
  }
  if (proxyRaw.routing !== undefined) {
    if (!["auto", "data", "control"].includes(proxyRaw.routing as string)) {
      problems.fail("proxy.routing", `${JSON.stringify(proxyRaw.routing)} is not "auto", "data" or "control"`);
    }
    proxy.routing = proxyRaw.routing as RoutingPolicy;
  }
  for (
    const key of ["connectTimeout", "requestTimeout", "heartbeatInterval", "heartbeatTimeout", "drainTimeout"] as const
  ) {
    if (proxyRaw[key] !== undefined) proxy[key] = problems.number(proxyRaw[key], `proxy.${key}`, { min: 1 });
  }
  if (proxyRaw.tokenLifetime !== undefined) {
    if (typeof proxyRaw.tokenLifetime !== "string" && typeof proxyRaw.tokenLifetime !== "number") {
      problems.fail("proxy.tokenLifetime", 'must be seconds or a duration like "1h"');
    }
    proxy.tokenLifetime = proxyRaw.tokenLifetime;
  }

  const catalogRaw = input.catalog ?? {};
  if (!isRecord(catalogRaw)) problems.fail("catalog", "must be an object");
  problems.keys(catalogRaw, CATALOG_KEYS, "catalog.");
  const catalog: CatalogOptions = {};
  if (catalogRaw.prefix !== undefined) {
    if (catalogRaw.prefix !== "always" && catalogRaw.prefix !== "on-collision") {
      problems.fail("catalog.prefix", `${JSON.stringify(catalogRaw.prefix)} is not "always" or "on-collision"`);
    }
    catalog.prefix = catalogRaw.prefix;
  }
  for (const key of ["listTimeout", "retryAfter"] as const) {
    if (catalogRaw[key] !== undefined) catalog[key] = problems.number(catalogRaw[key], `catalog.${key}`);
  }

  const store = input.store === undefined ? undefined : parseStore(problems, input.store, env);

  if (!Array.isArray(input.members)) problems.fail("members", "must be an array of member registrations");
  const members = input.members.map((raw, index) => parseMember(problems, raw, index, env));
  const seen = new Set<string>();
  members.forEach((member, index) => {
    if (seen.has(member.serverId)) problems.fail(`members[${index}].serverId`, "is a duplicate", member.serverId);
    seen.add(member.serverId);
    const ownSecret = member.auth?.type === "jwt" && member.auth.config.secret !== undefined;
    if (member.auth?.type !== "none" && !ownSecret && proxySecret === undefined) {
      problems.fail(
        `members[${index}].auth`,
        'needs a secret: set MCP_SECRET_KEY (or "proxy": { "secretEnv": "NAME" }) or "auth.config.secretEnv"',
        member.serverId,
      );
    }
  });
  // Client tokens need their own secret: with one the proxy signs member tokens with, a member could mint them.
  if (auth !== false && !(auth instanceof AuthManager)) {
    const clientSecret = typeof auth.secret === "string" ? auth.secret : new TextDecoder().decode(auth.secret);
    if (proxySecret !== undefined && clientSecret === proxySecret) {
      problems.fail(
        "gateway.auth.secretEnv",
        "holds the same secret as the proxy (proxy.secretEnv / MCP_SECRET_KEY): client tokens need their own secret, or a member could mint them",
      );
    }
    members.forEach((member, index) => {
      if (member.auth?.type === "jwt" && member.auth.config.secret === clientSecret) {
        problems.fail(
          `members[${index}].auth.config.secretEnv`,
          "holds the same secret as gateway.auth.secretEnv: client tokens need their own secret, or this member could mint them",
          member.serverId,
        );
      }
    });
  }
  return { file, members, proxySecret, proxy, catalog, store, gateway };
}

/**
 * Reads, parses and validates a config file ({@link parseGatewayConfig}).
 *
 * @param file Path of the JSON file.
 * @param options `env`.
 * @returns The config.
 * @throws {ConfigError} When the file cannot be read, is not JSON, or is invalid; the message names the file.
 * @example
 * ```ts ignore
 * const config = await loadGatewayConfig("examples/federation.json");
 * console.log(config.gateway.port);
 * ```
 */
export async function loadGatewayConfig(file: string, options: LoadGatewayConfigOptions = {}): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new ConfigError(`Cannot read config file '${file}': ${error instanceof Error ? error.message : error}`, {
      field: "file",
      cause: error,
    });
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `Invalid config file '${file}': not JSON: ${error instanceof Error ? error.message : error}`,
      {
        field: "file",
        cause: error,
      },
    );
  }
  return parseGatewayConfig(input, file, options);
}
