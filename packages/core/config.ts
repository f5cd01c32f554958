/**
 * Validation of {@link FederationConfig} values from code, files or the network.
 *
 * @example
 * ```ts
 * import { validateConfig } from "@federated-mcp/federation/core";
 *
 * const config = validateConfig({
 *   serverId: "server-1",
 *   endpoints: { control: "ws://localhost:3000", data: "http://localhost:3001" },
 *   auth: { type: "jwt", config: { secret: "a-secret-of-at-least-thirty-two-bytes!!" } },
 * });
 * console.log(config.serverId);
 * ```
 * @module
 */

import { ConfigError } from "./errors.ts";
import { isRecord } from "./_json.ts";
import { isSecretName, SECRET_NAME } from "./_secret_like.ts";
import { parseDuration } from "./duration.ts";
import type { FederationConfig, JwtAuthSettings, StdioEndpoint } from "./types.ts";

/** Pattern every serverId must match (and it must not contain `__`). */
export const SERVER_ID_PATTERN: RegExp = /^[A-Za-z0-9_-]{1,32}$/;
/** Shortest shared secret accepted without a warning, in bytes. */
export const MIN_SECRET_BYTES = 32;

const HMAC_ALGORITHMS = new Set(["HS256", "HS384", "HS512"]);
const SECRET_QUERY_NAMES =
  /^(token|access_token|id_token|jwt|auth|authorization|key|api_key|apikey|secret|password|bearer)$/i;

/**
 * Names of environment variables that look like credentials: a stdio member's `env` may not hold them inline (they
 * belong in the proxy's environment, referenced with `envFrom`). The one secret-name rule of the library: the config
 * file importer uses the same expression (after turning camelCase, `-`, `.` into `_`).
 *
 * @example
 * ```ts
 * import { SECRET_ENV_NAME } from "@federated-mcp/federation/core";
 *
 * console.log(SECRET_ENV_NAME.test("GITHUB_TOKEN"), SECRET_ENV_NAME.test("LOG_LEVEL")); // true false
 * ```
 */
export const SECRET_ENV_NAME: RegExp = SECRET_NAME;

// The federation's own secret variables: a stdio member's `envFrom` may not name them (a member must never receive
// the proxy's, the gateway's or the store's key). The gateway's config file adds the names it uses itself
// (`proxy.secretEnv`, `gateway.auth.secretEnv`, `store.keyEnv`).
const FEDERATION_SECRET_ENV: readonly string[] = Object.freeze([
  "MCP_SECRET_KEY",
  "MCP_GATEWAY_SECRET",
  "MCP_STORE_KEY",
]);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STDIO_FIELDS = ["command", "args", "env", "envFrom", "cwd"];
const JWT_FIELDS = ["secret", "expiresIn", "algorithm", "subject"];

/** Options of {@link validateConfig}. */
export interface ValidateConfigOptions {
  /** Reject secrets shorter than {@link MIN_SECRET_BYTES} instead of warning. @default {false} */
  strictSecrets?: boolean;
  /**
   * Receives the one-time weak-secret warning, and one warning per config whose `auth.config.secret` key is present
   * but `undefined`. @default {console.warn}
   */
  warn?: (message: string) => void;
}

let weakSecretWarned = false;

/**
 * Checks a short shared secret: throws in strict mode, otherwise warns once per process.
 *
 * @param secret The secret.
 * @param field Where it came from, for the message.
 * @param options `strictSecrets`, `warn`.
 * @throws {ConfigError} When empty, or short in strict mode.
 * @example
 * ```ts
 * import { checkSecretStrength } from "@federated-mcp/federation/core";
 *
 * checkSecretStrength("a-secret-of-at-least-thirty-two-bytes!!", "secret");
 * ```
 */
export function checkSecretStrength(
  secret: string | Uint8Array,
  field: string,
  options: ValidateConfigOptions = {},
): void {
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret).byteLength : secret.byteLength;
  if (bytes === 0) throw new ConfigError(`Invalid ${field}: must not be empty`, { field });
  if (bytes >= MIN_SECRET_BYTES) return;
  const message = `Weak ${field}: ${bytes} bytes, at least ${MIN_SECRET_BYTES} are recommended for HMAC`;
  if (options.strictSecrets) {
    throw new ConfigError(`Invalid ${field}: at least ${MIN_SECRET_BYTES} bytes required`, { field });
  }
  if (weakSecretWarned) return;
  weakSecretWarned = true;
  (options.warn ?? console.warn)(message);
}

function fail(field: string, rule: string, serverId?: string): never {
  const who = serverId === undefined ? "" : ` of server '${serverId}'`;
  throw new ConfigError(`Invalid ${field}${who}: ${rule}`, serverId === undefined ? { field } : { field, serverId });
}

/**
 * Checks a serverId.
 *
 * @param serverId The candidate.
 * @returns The serverId.
 * @throws {ConfigError} When it is not a string matching {@link SERVER_ID_PATTERN} or contains `__`.
 * @example
 * ```ts
 * import { validateServerId } from "@federated-mcp/federation/core";
 *
 * validateServerId("server-1");
 * ```
 */
export function validateServerId(serverId: unknown): string {
  if (typeof serverId !== "string") fail("serverId", "must be a string");
  if (!SERVER_ID_PATTERN.test(serverId) || serverId.includes("__")) {
    fail("serverId", `${JSON.stringify(serverId)} must match ^[A-Za-z0-9_-]{1,32}$ and not contain '__'`);
  }
  return serverId;
}

function validateUrl(value: unknown, field: string, schemes: string[], serverId: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0) fail(field, "must be a non-empty URL string", serverId);
  if (!URL.canParse(value)) fail(field, "is not a valid URL", serverId);
  const url = new URL(value);
  if (!schemes.includes(url.protocol)) {
    fail(field, `scheme '${url.protocol}' not allowed, use ${schemes.map((s) => s + "//").join(" or ")}`, serverId);
  }
  if (url.username || url.password) fail(field, "must not contain credentials; use auth.config", serverId);
  for (const name of url.searchParams.keys()) {
    if (SECRET_QUERY_NAMES.test(name)) {
      fail(
        field,
        `must not carry a credential in its query ('${name}'); tokens go in the Authorization header`,
        serverId,
      );
    }
  }
  if (url.hash) fail(field, "must not have a fragment", serverId);
  return value;
}

function validateJwtSettings(input: unknown, serverId: string, options: ValidateConfigOptions): JwtAuthSettings {
  if (!isRecord(input)) fail("auth.config", "must be an object (it may be empty)", serverId);
  for (const key of Object.keys(input)) {
    if (!JWT_FIELDS.includes(key)) {
      const hint = JWT_FIELDS.find((known) => known.toLowerCase() === key.replaceAll(/[_-]/g, "").toLowerCase());
      fail(
        `auth.config.${key}`,
        `is not a known field${hint === undefined ? "" : ` (did you mean '${hint}'?)`} (known: ${
          JWT_FIELDS.join(", ")
        })`,
        serverId,
      );
    }
  }
  const { secret, expiresIn, algorithm, subject } = input;
  if ("secret" in input && secret === undefined) {
    // `secret: Deno.env.get("NAME")` with NAME unset: said out loud, since the proxy's secret signs instead (the
    // usage guide's production config is written this way, so it is a warning, not a refusal).
    (options.warn ?? console.warn)(
      `auth.config.secret of server '${serverId}' is undefined (an unset environment variable?): its tokens are signed with the proxy's secret; set the variable, or remove the key`,
    );
  }
  if (secret !== undefined && typeof secret !== "function") {
    if (typeof secret !== "string") fail("auth.config.secret", "must be a string or a function", serverId);
    if (secret.length === 0) fail("auth.config.secret", "must not be empty", serverId);
    try {
      checkSecretStrength(secret, "auth.config.secret", options);
    } catch {
      fail("auth.config.secret", `at least ${MIN_SECRET_BYTES} bytes required`, serverId);
    }
  }
  if (expiresIn !== undefined) {
    if (typeof expiresIn !== "string" && typeof expiresIn !== "number") {
      fail("auth.config.expiresIn", 'must be seconds or a duration like "1h"', serverId);
    }
    try {
      parseDuration(expiresIn);
    } catch {
      fail(
        "auth.config.expiresIn",
        `${JSON.stringify(expiresIn)} is not a duration (e.g. 3600, "90s", "1h", "24h")`,
        serverId,
      );
    }
  }
  if (algorithm !== undefined && !HMAC_ALGORITHMS.has(algorithm as string)) {
    fail("auth.config.algorithm", `${JSON.stringify(algorithm)} is not one of HS256, HS384, HS512`, serverId);
  }
  if (subject !== undefined && (typeof subject !== "string" || subject.length === 0)) {
    fail("auth.config.subject", "must be a non-empty string", serverId);
  }
  return input as JwtAuthSettings;
}

function validateEnvMap(value: unknown, field: string, serverId: string, inline: boolean): void {
  if (value === undefined) return;
  if (!isRecord(value)) fail(field, "must be an object of name → string", serverId);
  for (const [name, entry] of Object.entries(value)) {
    if (!ENV_NAME.test(name)) fail(`${field}.${name}`, "is not a valid environment variable name", serverId);
    if (typeof entry !== "string") fail(`${field}.${name}`, "must be a string", serverId);
    if (!inline && !ENV_NAME.test(entry)) {
      fail(`${field}.${name}`, "must name an environment variable of the proxy", serverId);
    }
    if (!inline && FEDERATION_SECRET_ENV.includes(entry)) {
      fail(
        `${field}.${name}`,
        `must not name ${entry}: a member never receives the federation's own secrets`,
        serverId,
      );
    }
    if (inline && isSecretName(name)) {
      // The value is never quoted: it may be the secret itself.
      fail(
        `${field}.${name}`,
        `looks like a secret: set it in the proxy's environment and reference it with "envFrom": { "${name}": "VARIABLE" }`,
        serverId,
      );
    }
  }
}

function validateStdio(input: unknown, serverId: string): StdioEndpoint {
  if (!isRecord(input)) fail("endpoints.stdio", "must be an object with a command", serverId);
  for (const key of Object.keys(input)) {
    if (!STDIO_FIELDS.includes(key)) fail(`endpoints.stdio.${key}`, "is not a known field", serverId);
  }
  const { command, args, cwd } = input;
  if (typeof command !== "string" || command.trim().length === 0) {
    fail("endpoints.stdio.command", "is required: a non-empty string", serverId);
  }
  if (args !== undefined) {
    if (!Array.isArray(args)) fail("endpoints.stdio.args", "must be an array of strings", serverId);
    args.forEach((arg, i) => {
      if (typeof arg !== "string") fail(`endpoints.stdio.args[${i}]`, "must be a string", serverId);
    });
  }
  validateEnvMap(input.env, "endpoints.stdio.env", serverId, true);
  validateEnvMap(input.envFrom, "endpoints.stdio.envFrom", serverId, false);
  if (cwd !== undefined && (typeof cwd !== "string" || cwd.length === 0)) {
    fail("endpoints.stdio.cwd", "must be a non-empty string", serverId);
  }
  return input as unknown as StdioEndpoint;
}

/**
 * Validates a member registration. Unknown top-level keys are rejected so that typos do not pass silently.
 *
 * @param input Anything: a literal, parsed JSON, a request body.
 * @param options `strictSecrets`, `warn`.
 * @returns The same value, typed.
 * @throws {ConfigError} Naming the field and the rule, for every bad input.
 * @example
 * ```ts
 * import { ConfigError, validateConfig } from "@federated-mcp/federation/core";
 *
 * try {
 *   validateConfig({ serverId: "a", endpoints: { control: "http://127.0.0.1:3000" } });
 * } catch (err) {
 *   if (err instanceof ConfigError) console.log(err.field); // "endpoints.control"
 * }
 * ```
 */
export function validateConfig(input: unknown, options: ValidateConfigOptions = {}): FederationConfig {
  if (!isRecord(input)) fail("config", "must be an object");
  const serverId = validateServerId(input.serverId);
  for (const key of Object.keys(input)) {
    if (!["serverId", "endpoints", "auth", "era"].includes(key)) fail(key, "is not a known field", serverId);
  }
  if (input.era !== undefined && input.era !== "modern" && input.era !== "legacy") {
    fail("era", `${JSON.stringify(input.era)} is not "modern" or "legacy"`, serverId);
  }
  const endpoints = input.endpoints;
  if (!isRecord(endpoints)) fail("endpoints", "must be an object with control and/or data, or stdio", serverId);
  for (const key of Object.keys(endpoints)) {
    if (key !== "control" && key !== "data" && key !== "stdio") {
      fail(`endpoints.${key}`, "is not a known endpoint", serverId);
    }
  }
  if (endpoints.stdio !== undefined) {
    if (endpoints.control !== undefined || endpoints.data !== undefined) {
      fail("endpoints.stdio", "cannot be combined with control or data: a member is a process or a remote", serverId);
    }
    validateStdio(endpoints.stdio, serverId);
    const auth = input.auth;
    if (auth !== undefined && !(isRecord(auth) && auth.type === "none")) {
      fail("auth", 'must be absent or { "type": "none" } for a stdio member: no token is sent to a process', serverId);
    }
    if (
      isRecord(auth) && auth.config !== undefined && !(isRecord(auth.config) && Object.keys(auth.config).length === 0)
    ) {
      fail("auth.config", 'must be absent or empty with type "none"', serverId);
    }
    return input as unknown as FederationConfig;
  }
  const control = validateUrl(endpoints.control, "endpoints.control", ["ws:", "wss:"], serverId);
  const data = validateUrl(endpoints.data, "endpoints.data", ["http:", "https:"], serverId);
  if (control === undefined && data === undefined) fail("endpoints", "needs control and/or data", serverId);
  const auth = input.auth;
  if (auth !== undefined) {
    if (!isRecord(auth)) fail("auth", "must be an object", serverId);
    if (auth.type === "jwt") validateJwtSettings(auth.config, serverId, options);
    else if (auth.type !== "none") fail("auth.type", `${JSON.stringify(auth.type)} is not "jwt" or "none"`, serverId);
    else if (auth.config !== undefined && !(isRecord(auth.config) && Object.keys(auth.config).length === 0)) {
      fail("auth.config", 'must be absent or empty with type "none"', serverId);
    }
  }
  return input as unknown as FederationConfig;
}
