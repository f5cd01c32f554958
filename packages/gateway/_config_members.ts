// Internal: the `members` section of the config file, and the checks between secrets: every member that needs a
// token has a secret, and the client-token secret is shared with neither the proxy nor any member (one that held it
// could mint client and admin tokens).
import { isRecord } from "../core/_json.ts";
import { AuthManager } from "../core/auth.ts";
import { validateConfig } from "../core/config.ts";
import { ConfigError } from "../core/errors.ts";
import type { FederationConfig } from "../core/types.ts";
import { type Env, type Json, type Problems, refuseLiteralSecret } from "./_config_problems.ts";
import type { GatewayAuth } from "./options.ts";

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
  let member: FederationConfig;
  try {
    member = validateConfig(config, { strictSecrets: false, warn: () => {} });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const field = error.field ?? "config";
    const rule = error.message.replace(/^Invalid [^:]*: /, "");
    problems.fail(`members[${index}].${field}`, rule, serverId);
  }
  // A stdio member's references are checked now, so that a missing variable stops the start (exit 2) rather than
  // each spawn; its value is read again at every spawn.
  for (const [name, from] of Object.entries(member.endpoints.stdio?.envFrom ?? {})) {
    if (env(from) === undefined) {
      problems.fail(
        `members[${index}].endpoints.stdio.envFrom.${name}`,
        `environment variable '${from}' is not set`,
        serverId,
      );
    }
  }
  return member;
}

/** Validates the `members` section: each member, no duplicate `serverId`, a secret for each member that needs one. */
export function parseMembers(
  problems: Problems,
  input: Json,
  env: Env,
  proxySecret: string | undefined,
): FederationConfig[] {
  if (!Array.isArray(input.members)) problems.fail("members", "must be an array of member registrations");
  const members = input.members.map((raw, index) => parseMember(problems, raw, index, env));
  const seen = new Set<string>();
  members.forEach((member, index) => {
    if (seen.has(member.serverId)) problems.fail(`members[${index}].serverId`, "is a duplicate", member.serverId);
    seen.add(member.serverId);
    const ownSecret = member.auth?.type === "jwt" && member.auth.config.secret !== undefined;
    const stdio = member.endpoints.stdio !== undefined; // a process gets no token
    if (member.auth?.type !== "none" && !stdio && !ownSecret && proxySecret === undefined) {
      problems.fail(
        `members[${index}].auth`,
        'needs a secret: set MCP_SECRET_KEY (or "proxy": { "secretEnv": "NAME" }) or "auth.config.secretEnv"',
        member.serverId,
      );
    }
  });
  return members;
}

/** Refuses a client-token secret equal to the proxy's or to a member's. */
export function checkClientSecret(
  problems: Problems,
  auth: GatewayAuth,
  proxySecret: string | undefined,
  members: FederationConfig[],
): void {
  // Client tokens need their own secret: with one the proxy signs member tokens with, a member could mint them.
  if (auth !== false && !(auth instanceof AuthManager) && "secret" in auth) {
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
}

/**
 * Refuses a stdio member's `envFrom` that names one of the variables this file gives the federation's own secrets
 * (`proxy.secretEnv`, `gateway.auth.secretEnv`, `store.keyEnv`, `store.urlEnv`): a member never receives them.
 * (`validateConfig` already refuses the default names `MCP_SECRET_KEY`, `MCP_GATEWAY_SECRET`, `MCP_STORE_KEY`.)
 */
export function refuseOwnSecretsInEnvFrom(problems: Problems, input: Json, members: FederationConfig[]): void {
  const own = new Map<string, string>();
  const note = (section: unknown, key: string, field: string) => {
    if (isRecord(section) && typeof section[key] === "string") own.set(section[key], field);
  };
  note(input.proxy, "secretEnv", "proxy.secretEnv");
  note(isRecord(input.gateway) ? input.gateway.auth : undefined, "secretEnv", "gateway.auth.secretEnv");
  note(input.store, "keyEnv", "store.keyEnv");
  note(input.store, "urlEnv", "store.urlEnv");
  members.forEach((member, index) => {
    for (const [name, from] of Object.entries(member.endpoints.stdio?.envFrom ?? {})) {
      const field = own.get(from);
      if (field !== undefined) {
        problems.fail(
          `members[${index}].endpoints.stdio.envFrom.${name}`,
          `must not name ${from}, the variable of ${field}: a member never receives the federation's own secrets`,
          member.serverId,
        );
      }
    }
  });
}
