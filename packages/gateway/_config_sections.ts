// Internal: the `proxy`, `catalog` and `store` sections of the config file.
import { isRecord } from "../core/_json.ts";
import { ConfigError } from "../core/errors.ts";
import type { CatalogOptions } from "../proxy/catalog.ts";
import type { EraPreference, RoutingPolicy } from "../proxy/options.ts";
import type { GatewayConfig, GatewayStoreConfig } from "./_config_types.ts";
import { type Env, ENV_NAME, type Json, type Problems, refuseLiteralSecret } from "./_config_problems.ts";

const STORE_KEYS = ["url", "urlEnv", "keyEnv", "namespace", "reconcileInterval"];
const PROXY_KEYS = [
  "secretEnv",
  "proxyId",
  "routing",
  "eraPreference",
  "connectTimeout",
  "requestTimeout",
  "heartbeatInterval",
  "heartbeatTimeout",
  "drainTimeout",
  "tokenLifetime",
  "maxStdioMembers",
];
const CATALOG_KEYS = ["prefix", "resourcePrefix", "listTimeout", "retryAfter", "listConcurrency"];

/**
 * What the gateway's catalog uses unless the config file says otherwise: resource URIs always prefixed
 * (`federated://<serverId>/<uri>`), so they stay the same when a member with the same URI joins or leaves.
 */
export const GATEWAY_CATALOG_DEFAULTS: Readonly<CatalogOptions> = Object.freeze({ resourcePrefix: "always" });

/** Validates the `proxy` section; `proxySecret` from `proxy.secretEnv`, else `MCP_SECRET_KEY`. */
export function parseProxySection(
  problems: Problems,
  input: Json,
  env: Env,
): { proxy: GatewayConfig["proxy"]; proxySecret: string | undefined } {
  const proxyRaw = input.proxy ?? {};
  if (!isRecord(proxyRaw)) problems.fail("proxy", "must be an object");
  refuseLiteralSecret(problems, proxyRaw, "proxy");
  problems.keys(proxyRaw, PROXY_KEYS, "proxy.");
  const proxySecret = proxyRaw.secretEnv === undefined
    ? env("MCP_SECRET_KEY") || undefined
    : problems.secret(proxyRaw.secretEnv, "proxy.secretEnv", env);
  if (proxyRaw.secretEnv === undefined && proxySecret !== undefined) {
    problems.checkStrength(proxySecret, "MCP_SECRET_KEY", "proxy secret");
  }
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
  if (proxyRaw.eraPreference !== undefined) {
    if (proxyRaw.eraPreference !== "modern" && proxyRaw.eraPreference !== "legacy") {
      problems.fail("proxy.eraPreference", `${JSON.stringify(proxyRaw.eraPreference)} is not "modern" or "legacy"`);
    }
    proxy.eraPreference = proxyRaw.eraPreference as EraPreference;
  }
  for (
    const key of ["connectTimeout", "requestTimeout", "heartbeatInterval", "heartbeatTimeout", "drainTimeout"] as const
  ) {
    if (proxyRaw[key] !== undefined) proxy[key] = problems.number(proxyRaw[key], `proxy.${key}`, { min: 1 });
  }
  if (proxyRaw.maxStdioMembers !== undefined) {
    proxy.maxStdioMembers = problems.number(proxyRaw.maxStdioMembers, "proxy.maxStdioMembers", {
      min: 0,
      integer: true,
    });
  }
  if (proxyRaw.tokenLifetime !== undefined) {
    if (typeof proxyRaw.tokenLifetime !== "string" && typeof proxyRaw.tokenLifetime !== "number") {
      problems.fail("proxy.tokenLifetime", 'must be seconds or a duration like "1h"');
    }
    proxy.tokenLifetime = proxyRaw.tokenLifetime;
  }

  return { proxy, proxySecret };
}

/** Validates the `catalog` section. */
export function parseCatalogSection(problems: Problems, input: Json): CatalogOptions {
  const catalogRaw = input.catalog ?? {};
  if (!isRecord(catalogRaw)) problems.fail("catalog", "must be an object");
  problems.keys(catalogRaw, CATALOG_KEYS, "catalog.");
  const catalog: CatalogOptions = {};
  for (const key of ["prefix", "resourcePrefix"] as const) {
    const mode = catalogRaw[key];
    if (mode === undefined) continue;
    if (mode !== "always" && mode !== "on-collision") {
      problems.fail(`catalog.${key}`, `${JSON.stringify(mode)} is not "always" or "on-collision"`);
    }
    catalog[key] = mode as "always" | "on-collision";
  }
  for (const key of ["listTimeout", "retryAfter"] as const) {
    if (catalogRaw[key] !== undefined) catalog[key] = problems.number(catalogRaw[key], `catalog.${key}`);
  }
  if (catalogRaw.listConcurrency !== undefined) {
    catalog.listConcurrency = problems.number(catalogRaw.listConcurrency, "catalog.listConcurrency", {
      integer: true,
      min: 1,
    });
  }

  return catalog;
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

/** Validates the `store` section. */
export function parseStore(problems: Problems, raw: unknown, env: Env): GatewayStoreConfig {
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
