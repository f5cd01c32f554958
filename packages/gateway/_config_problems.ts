// Internal: the error collector of the config file validators. Every problem becomes a `ConfigError` that names the
// file, the member (when there is one) and the field, with the rule the value broke.
import { MIN_SECRET_BYTES } from "../core/config.ts";
import { ConfigError } from "../core/errors.ts";

/** A JSON object of the file. */
export type Json = Record<string, unknown>;
/** Reads an environment variable. */
export type Env = (name: string) => string | undefined;

/** What a `secretEnv` (or `keyEnv`) field must look like: the name of an environment variable. */
export const ENV_NAME: RegExp = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Builds errors that name the file, the member and the field. */
export class Problems {
  readonly file: string;
  /** What is worth a warning but not a refusal (a weak secret, naming its variable). */
  readonly warnings: string[] = [];
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
    this.checkStrength(secret, value, field, serverId);
    return secret;
  }

  /** Notes a secret shorter than {@link MIN_SECRET_BYTES}, naming the variable it came from (never the value). */
  checkStrength(secret: string, variable: string, field: string, serverId?: string): void {
    const bytes = new TextEncoder().encode(secret).byteLength;
    if (bytes >= MIN_SECRET_BYTES) return;
    const who = serverId === undefined ? "" : ` of member '${serverId}'`;
    this.warnings.push(
      `Weak secret in ${variable} (${field}${who}): ${bytes} bytes, at least ${MIN_SECRET_BYTES} are recommended for HMAC`,
    );
  }
}

/** Refuses a `secret` written in the file (secrets are named by `secretEnv`). */
export function refuseLiteralSecret(problems: Problems, value: Json, field: string, serverId?: string): void {
  if ("secret" in value) {
    problems.fail(
      `${field}.secret`,
      'secrets must not be written in the file; name an environment variable with "secretEnv": "NAME"',
      serverId,
    );
  }
}
