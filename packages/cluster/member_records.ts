/**
 * Member records: how a registration sent to the membership API becomes what the registry store holds (no secret in
 * clear), and how a stored record becomes a `FederationConfig` a replica registers.
 *
 * A member's own secret is given either as `auth.config.secretEnv` (the name of an environment variable that every
 * replica has; stored as the name) or as `auth.config.secret` (sealed with the deployment's store key before it is
 * stored; refused when there is no key).
 *
 * @example Store a member whose secret is an environment variable
 * ```ts
 * import { resolveMember, toStoredMember } from "@federated-mcp/federation/cluster";
 *
 * const env = (name: string) => name === "DOCS_SECRET" ? "docs-secret-of-at-least-thirty-two-bytes" : undefined;
 * const stored = await toStoredMember({
 *   serverId: "docs",
 *   endpoints: { data: "http://127.0.0.1:3001/mcp" },
 *   auth: { type: "jwt", config: { secretEnv: "DOCS_SECRET" } },
 * }, { env });
 * console.log(JSON.stringify(stored.auth)); // {"type":"jwt","config":{"secretEnv":"DOCS_SECRET"}}
 * const config = await resolveMember(stored, { env });
 * console.log(config.auth?.type); // jwt
 * ```
 * @module
 */

import { isRecord } from "../core/_json.ts";
import { redactUrl } from "../core/_redact.ts";
import { validateConfig } from "../core/config.ts";
import { ConfigError } from "../core/errors.ts";
import type { FederationConfig, JwtAuthSettings } from "../core/types.ts";
import type { StoredMemberConfig } from "./registry_store.ts";
import type { SecretBox } from "./secret_box.ts";

/** Where secrets come from and go. */
export interface MemberSecretsOptions {
  /** Seals literal secrets before they are stored, and opens them. @default {none: literal secrets are refused} */
  box?: SecretBox | undefined;
  /** Reads an environment variable. @default {Deno.env.get} */
  env?: ((name: string) => string | undefined) | undefined;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const JWT_KEYS = ["secret", "secretEnv", "expiresIn", "algorithm", "subject"];

/**
 * Longest string fields of a registration, in characters: what a member needs, far below what would let one
 * registration weigh on every replica's memory and on the store.
 */
export const MEMBER_FIELD_LIMITS: {
  readonly url: number;
  readonly subject: number;
  readonly secretEnv: number;
  readonly secret: number;
  readonly expiresIn: number;
} = Object.freeze({ url: 2_048, subject: 256, secretEnv: 128, secret: 1_024, expiresIn: 32 });

/** Refuses a string field longer than its limit, naming the field and the limit (not the value). */
function checkLengths(input: Record<string, unknown>, serverId: string | undefined): void {
  const endpoints = input.endpoints;
  if (isRecord(endpoints)) {
    for (const [name, url] of Object.entries(endpoints)) {
      if (typeof url === "string" && url.length > MEMBER_FIELD_LIMITS.url) {
        fail(`endpoints.${name}`, `is longer than ${MEMBER_FIELD_LIMITS.url} characters`, serverId);
      }
    }
  }
  const auth = input.auth;
  if (!isRecord(auth) || !isRecord(auth.config)) return;
  for (const key of ["subject", "secretEnv", "secret", "expiresIn"] as const) {
    const value = auth.config[key];
    if (typeof value === "string" && value.length > MEMBER_FIELD_LIMITS[key]) {
      fail(`auth.config.${key}`, `is longer than ${MEMBER_FIELD_LIMITS[key]} characters`, serverId);
    }
  }
}

type JwtStoredSettings = Extract<NonNullable<StoredMemberConfig["auth"]>, { type: "jwt" }>["config"];

function fail(field: string, rule: string, serverId: string | undefined): never {
  const who = serverId === undefined ? "" : ` of server '${serverId}'`;
  throw new ConfigError(`Invalid ${field}${who}: ${rule}`, serverId === undefined ? { field } : { field, serverId });
}

/**
 * A stdio member is a command every replica would run, with the replica's environment at hand: only a replica's own
 * config file may declare one, never the membership API or the shared store.
 */
function refuseStdio(serverId: string | undefined): never {
  fail(
    "endpoints.stdio",
    "is not accepted from the membership API or the store: a process member is declared in each replica's config file",
    serverId,
  );
}

function readEnv(name: string, options: MemberSecretsOptions, serverId: string): string {
  const value = (options.env ?? ((n: string) => Deno.env.get(n)))(name);
  if (value === undefined || value === "") {
    // One message whether the variable is unset or not allowed: the caller learns nothing about the environment.
    fail("auth.config.secretEnv", `environment variable ${name} is not set on this replica or not allowed`, serverId);
  }
  return value;
}

/**
 * Validates a registration (as `validateConfig` does, plus the secret rules above) and turns it into what the
 * store may hold.
 *
 * @param input The registration, e.g. a parsed request body.
 * @param options `box`, `env`.
 * @returns The stored form: `secretEnv` kept, a literal secret sealed.
 * @throws {ConfigError} With the bad `field`: anything `validateConfig` refuses, an unknown `auth.config` field, a
 *   string longer than its limit (URLs 2,048 characters, `subject` 256, `secretEnv` 128, `secret` 1,024,
 *   `expiresIn` 32), `endpoints.stdio` (a process member belongs in a replica's config file), a `secretEnv` variable not set on this replica (or not allowed by `env`), or a literal secret
 *   without a `box`.
 * @example
 * ```ts
 * import { toStoredMember } from "@federated-mcp/federation/cluster";
 *
 * await toStoredMember({ serverId: "a", endpoints: { data: "ftp://x" } }).catch((e) => console.log(e.field));
 * // endpoints.data
 * ```
 */
export async function toStoredMember(input: unknown, options: MemberSecretsOptions = {}): Promise<StoredMemberConfig> {
  if (!isRecord(input)) fail("config", "must be an object", undefined);
  const serverId = typeof input.serverId === "string" && input.serverId.length <= 64 ? input.serverId : undefined;
  checkLengths(input, serverId);
  if (isRecord(input.endpoints) && input.endpoints.stdio !== undefined) refuseStdio(serverId);
  const auth = input.auth;
  if (!(isRecord(auth) && auth.type === "jwt" && isRecord(auth.config))) {
    const valid = validateConfig(input, { strictSecrets: false, warn: () => {} });
    const base = { serverId: valid.serverId, endpoints: { ...valid.endpoints } };
    return valid.auth?.type === "none" ? { ...base, auth: { type: "none" } } : base;
  }
  for (const key of Object.keys(auth.config)) {
    if (!JWT_KEYS.includes(key)) {
      fail(`auth.config.${key}`, `is not a known field (known: ${JWT_KEYS.join(", ")})`, serverId);
    }
  }
  const { secret, secretEnv, ...rest } = auth.config;
  let clear: string | undefined;
  if (secret !== undefined && secretEnv !== undefined) {
    fail("auth.config.secret", "give secret or secretEnv, not both", serverId);
  } else if (secretEnv !== undefined) {
    if (typeof secretEnv !== "string" || !ENV_NAME.test(secretEnv)) {
      fail(
        "auth.config.secretEnv",
        `${JSON.stringify(secretEnv)} must be the name of an environment variable`,
        serverId,
      );
    }
    clear = readEnv(secretEnv, options, serverId ?? "");
  } else if (secret !== undefined) {
    if (typeof secret !== "string") fail("auth.config.secret", "must be a string", serverId);
    if (!options.box) {
      fail(
        "auth.config.secret",
        "cannot be stored in clear: name an environment variable with secretEnv, or configure a store key",
        serverId,
      );
    }
    clear = secret;
  }
  const jwt = { ...rest, ...(clear === undefined ? {} : { secret: clear }) };
  const valid = validateConfig({ ...input, auth: { type: "jwt", config: jwt } }, {
    strictSecrets: false,
    warn: () => {},
  });
  const config: JwtStoredSettings = { ...rest as Omit<JwtAuthSettings, "secret"> };
  if (typeof secretEnv === "string") config.secretEnv = secretEnv;
  else if (clear !== undefined) config.sealedSecret = await options.box!.seal(clear, valid.serverId);
  return { serverId: valid.serverId, endpoints: { ...valid.endpoints }, auth: { type: "jwt", config } };
}

/**
 * Turns a stored member into the `FederationConfig` this replica registers: `secretEnv` read from this replica's
 * environment, `sealedSecret` opened with the box.
 *
 * @param stored The stored registration.
 * @param options `box`, `env`.
 * @returns The registration.
 * @throws {ConfigError} When the variable is not set here, the secret cannot be opened (no box, other key), or the
 *   record is a stdio member (`endpoints.stdio`: never run from the store).
 * @example
 * ```ts
 * import { resolveMember } from "@federated-mcp/federation/cluster";
 *
 * const config = await resolveMember({ serverId: "docs", endpoints: { data: "http://127.0.0.1:3001/mcp" } });
 * console.log(config.serverId); // docs
 * ```
 */
export async function resolveMember(
  stored: StoredMemberConfig,
  options: MemberSecretsOptions = {},
): Promise<FederationConfig> {
  if (stored.endpoints.stdio !== undefined) refuseStdio(stored.serverId);
  const base = { serverId: stored.serverId, endpoints: { ...stored.endpoints } };
  const auth = stored.auth;
  if (auth === undefined) return base;
  if (auth.type === "none") return { ...base, auth: { type: "none" } };
  const { secretEnv, sealedSecret, ...rest } = auth.config;
  const config: JwtAuthSettings = { ...rest };
  if (secretEnv !== undefined) config.secret = readEnv(secretEnv, options, stored.serverId);
  else if (sealedSecret !== undefined) {
    if (!options.box) fail("auth.config.sealedSecret", "this replica has no store key to open it", stored.serverId);
    config.secret = await options.box.open(sealedSecret, stored.serverId);
  }
  return { ...base, auth: { type: "jwt", config } };
}

/**
 * A stored member as the membership API shows it: a sealed secret becomes `"sealedSecret": "(sealed)"`, and
 * every query value and password in its endpoint URLs becomes `***`.
 *
 * @param stored The stored registration.
 * @returns A copy without the ciphertext.
 * @example
 * ```ts
 * import { redactMember } from "@federated-mcp/federation/cluster";
 *
 * const shown = redactMember({
 *   serverId: "a",
 *   endpoints: { data: "http://127.0.0.1:1/mcp" },
 *   auth: { type: "jwt", config: { sealedSecret: "v1.xyz" } },
 * });
 * console.log(JSON.stringify(shown.auth)); // {"type":"jwt","config":{"sealedSecret":"(sealed)"}}
 * ```
 */
export function redactMember(stored: StoredMemberConfig): StoredMemberConfig {
  // Copied field by field (a member's config is two levels deep): cheap enough for lists of thousands.
  const copy: StoredMemberConfig = { serverId: stored.serverId, endpoints: { ...stored.endpoints } };
  // Endpoint URLs may carry credentials in their query (pre-signed URLs, `?api-key=`): their values are hidden.
  for (const kind of ["control", "data"] as const) {
    const url = copy.endpoints[kind];
    if (url !== undefined) copy.endpoints[kind] = redactUrl(url);
  }
  const auth = stored.auth;
  if (auth?.type === "jwt") {
    const config = { ...auth.config };
    if (config.sealedSecret !== undefined) config.sealedSecret = "(sealed)";
    copy.auth = { type: "jwt", config };
  } else if (auth !== undefined) copy.auth = { ...auth };
  return copy;
}
