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
 * The validators live beside this file, one per section: `_config_gateway.ts`, `_config_sections.ts` (proxy, catalog,
 * store), `_config_members.ts` (members and the checks between secrets), `_config_problems.ts` (the error collector).
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

import { isRecord } from "../core/_json.ts";
import { parseGatewaySection } from "./_config_gateway.ts";
import { readJsonConfigFile } from "../core/_json_syntax.ts";
import { checkClientSecret, parseMembers, refuseOwnSecretsInEnvFrom } from "./_config_members.ts";
import { Problems } from "./_config_problems.ts";
import { parseCatalogSection, parseProxySection, parseStore } from "./_config_sections.ts";
import type { GatewayConfig, LoadGatewayConfigOptions } from "./_config_types.ts";
import { federationFileOf } from "./_foreign_configs.ts";

export { storeConfig } from "./_config_sections.ts";
export type {
  GatewayConfig,
  GatewaySessionAndAdminConfig,
  GatewayStoreConfig,
  LoadGatewayConfigOptions,
} from "./_config_types.ts";

const TOP_LEVEL = ["$schema", "gateway", "proxy", "catalog", "store", "members"];

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
  const gateway = parseGatewaySection(problems, input, env, options.stdio === true);
  const { proxy, proxySecret } = parseProxySection(problems, input, env);
  const catalog = parseCatalogSection(problems, input);
  const store = input.store === undefined ? undefined : parseStore(problems, input.store, env);
  const members = parseMembers(problems, input, env, proxySecret);
  checkClientSecret(problems, gateway.auth, proxySecret, members);
  refuseOwnSecretsInEnvFrom(problems, input, members);
  return { file, warnings: problems.warnings, members, proxySecret, proxy, catalog, store, gateway };
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
  const input = await readJsonConfigFile(file);
  return parseGatewayConfig(input, file, options);
}
