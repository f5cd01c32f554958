// Internal: the environment of a stdio member's process. Nothing of the proxy's environment is passed on but the
// inherited list (the proxy's secret stays with the proxy), then the endpoint's `env`, then its `envFrom` references.
import { ConfigError } from "../core/errors.ts";
import type { StdioEndpoint } from "../core/types.ts";

/** Variables of the proxy's environment a child inherits (nothing else: the proxy's secret stays with the proxy). */
export const INHERITED_ENV: readonly string[] = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "TERM",
  "LANG",
  "LC_ALL",
  "TZ",
  "TMPDIR",
  "TEMP",
  "TMP",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "NPM_CONFIG_CACHE",
  "npm_config_cache",
  "NODE_PATH",
  "NODE_EXTRA_CA_CERTS",
  "SYSTEMROOT",
  "APPDATA",
  "LOCALAPPDATA",
  "USERPROFILE",
];

/** The child's environment: the inherited list, then `env`, then `envFrom` (an unset reference throws). */
export function childEnv(
  serverId: string,
  endpoint: StdioEndpoint,
  read: (name: string) => string | undefined = (name) => Deno.env.get(name),
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = read(name);
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, endpoint.env);
  for (const [name, from] of Object.entries(endpoint.envFrom ?? {})) {
    const value = read(from);
    if (value === undefined) {
      throw new ConfigError(
        `Cannot start server '${serverId}': environment variable '${from}' (envFrom.${name}) is not set`,
        { field: `endpoints.stdio.envFrom.${name}`, serverId: serverId },
      );
    }
    env[name] = value;
  }
  return env;
}
