/**
 * A JSON Web Key Set fetched from a URL (an identity provider's `jwks_uri`, or a federation proxy's
 * `/.well-known/jwks.json`), cached, and refetched when a token names a key it does not hold.
 *
 * Rules:
 * - The URL must be `https:`, or `http:` on a loopback host (`127.0.0.0/8`, `[::1]`, `localhost`); anything else is
 *   refused when the source is built. An optional `checkUrl` (the outbound guard) runs before every fetch.
 * - Each fetch has a `timeout`; the body is bounded ({@link MAX_JWKS_BYTES}).
 * - The set is kept for the response's `Cache-Control: max-age` (or `Expires`), bounded by `minMaxAge` and
 *   `maxMaxAge` (`no-store`/`no-cache` count as `minMaxAge`); without either header, `defaultMaxAge`.
 * - A token whose `kid` is not in the set triggers a refetch at once, at most once per `minRefetchInterval` per
 *   source: a flood of unknown `kid`s costs the provider one request per interval.
 * - When a fetch fails (provider down, timeout, bad body), the last good set is kept; the failure is retried no
 *   sooner than `minRefetchInterval` later.
 * - Keys are pinned to one algorithm each: the JWK's `alg`, else the one its type implies (RSA: RS256, EC P-256:
 *   ES256, P-384: ES384, P-521: ES512, OKP Ed25519: EdDSA), and only if it is in `algorithms`. HMAC keys
 *   (`kty: "oct"`), private keys, keys with `use` other than `sig`, and `alg: "none"` are skipped.
 *
 * @example A provider's key set, used by a verify-only AuthManager
 * ```ts ignore
 * import { AuthManager } from "@federated-mcp/federation/core";
 *
 * const auth = AuthManager.fromJwksUrl("https://id.example.com/.well-known/jwks.json", {
 *   issuer: "https://id.example.com",
 *   audience: "https://mcp.example.com/mcp",
 * });
 * await auth.verifyToken("eyJ…");
 * ```
 * @module
 */

import * as jose from "jose";
import { ConfigError } from "./errors.ts";
import type { JWK } from "./mcp_types.ts";
import { timeoutSignal } from "./_timeout_signal.ts";
import { readLimitedBody } from "./_limited_body.ts";

/** Asymmetric JWS algorithms a remote key set may pin its keys to. */
export type RemoteJwksAlgorithm =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA";

/** Every algorithm a remote key set may use, the default allow-list. HMAC and `none` are never among them. */
export const REMOTE_JWKS_ALGORITHMS: readonly RemoteJwksAlgorithm[] = Object.freeze([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
]);

/** One usable key of a remote set: its id, the algorithm it is pinned to, and the imported public key. */
export interface RemoteJwksKey {
  /** The JWK's `kid` (its RFC 7638 thumbprint when it has none). */
  kid: string;
  /** The one algorithm tokens signed with this key may name. */
  alg: RemoteJwksAlgorithm;
  /** The imported public key. */
  key: CryptoKey;
}

/** Largest JWKS body accepted, in bytes. */
export const MAX_JWKS_BYTES = 256 * 1024;

/** Options of a {@link RemoteJwks}. */
export interface RemoteJwksOptions {
  /** Algorithms keys may be pinned to. @default {REMOTE_JWKS_ALGORITHMS} */
  algorithms?: readonly RemoteJwksAlgorithm[] | undefined;
  /** The fetch function. @default {globalThis.fetch} */
  fetch?: ((input: string, init: RequestInit) => Promise<Response>) | undefined;
  /** Clock in ms since the epoch. @default {Date.now} */
  now?: (() => number) | undefined;
  /** Timeout of one fetch, in ms. @default {5000} */
  timeout?: number | undefined;
  /** Least time between two fetches caused by an unknown `kid` or a failure, in ms. @default {30000} */
  minRefetchInterval?: number | undefined;
  /** How long a set is kept when the response has no caching header, in ms. @default {600000} */
  defaultMaxAge?: number | undefined;
  /** Shortest time a set is kept, whatever the headers say, in ms. @default {minRefetchInterval} */
  minMaxAge?: number | undefined;
  /** Longest time a set is kept, whatever the headers say, in ms. @default {86400000} */
  maxMaxAge?: number | undefined;
  /** Runs before every fetch (e.g. the outbound guard's `checkOutboundUrl`); a rejection fails the fetch. */
  checkUrl?: ((url: string, signal: AbortSignal) => Promise<void>) | undefined;
  /** Receives a line when a fetch fails and the last good set is kept. @default {none} */
  warn?: ((message: string, fields: Record<string, unknown>) => void) | undefined;
}

const LOOPBACK = /^(localhost|.+\.localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/**
 * Checks a JWKS URL: `https:`, or `http:` on a loopback host.
 *
 * @param url The URL.
 * @param field The field named by the error.
 * @returns The parsed URL.
 * @throws {ConfigError} For an invalid URL, another scheme, or `http:` off loopback.
 * @example
 * ```ts
 * import { checkJwksUrl } from "@federated-mcp/federation/core";
 *
 * console.log(checkJwksUrl("http://127.0.0.1:9000/jwks").port); // 9000
 * ```
 */
export function checkJwksUrl(url: string, field = "jwksUrl"): URL {
  if (typeof url !== "string" || !URL.canParse(url)) throw new ConfigError(`Invalid ${field}: not a URL`, { field });
  const parsed = new URL(url);
  if (parsed.username || parsed.password) {
    throw new ConfigError(`Invalid ${field}: must not carry credentials`, { field });
  }
  if (parsed.protocol === "https:") return parsed;
  if (parsed.protocol === "http:" && LOOPBACK.test(parsed.hostname)) return parsed;
  throw new ConfigError(
    `Invalid ${field} '${parsed.protocol}//${parsed.host}': must be https (http only on a loopback host)`,
    { field },
  );
}

/** The algorithm a JWK is pinned to, or `undefined` when it may not be used. */
function pinnedAlgorithm(jwk: JWK, allowed: readonly RemoteJwksAlgorithm[]): RemoteJwksAlgorithm | undefined {
  if (jwk.kty === "oct" || jwk.d !== undefined || (jwk.use !== undefined && jwk.use !== "sig")) return undefined;
  let alg: string | undefined = typeof jwk.alg === "string" ? jwk.alg : undefined;
  if (alg === "Ed25519") alg = "EdDSA";
  if (alg === undefined) {
    if (jwk.kty === "RSA") alg = "RS256";
    else if (jwk.kty === "EC") alg = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" }[jwk.crv ?? ""];
    else if (jwk.kty === "OKP" && jwk.crv === "Ed25519") alg = "EdDSA";
  }
  return allowed.find((a) => a === alg);
}

/** How long a response says it may be kept, in ms, or `undefined` when it says nothing. */
function maxAgeOf(response: Response, now: number): number | undefined {
  const control = response.headers.get("cache-control");
  if (control !== null) {
    const directives = control.toLowerCase().split(",").map((d) => d.trim());
    if (directives.includes("no-store") || directives.includes("no-cache")) return 0;
    const maxAge = directives.find((d) => d.startsWith("max-age="));
    if (maxAge !== undefined) {
      const seconds = Number(maxAge.slice("max-age=".length).replace(/"/g, ""));
      if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    }
  }
  const expires = response.headers.get("expires");
  if (expires !== null) {
    const at = Date.parse(expires);
    const date = Date.parse(response.headers.get("date") ?? "");
    if (Number.isNaN(at)) return 0;
    return Math.max(0, at - (Number.isNaN(date) ? now : date));
  }
  return undefined;
}

/**
 * A remote key set: cached, refetched on an unknown `kid` (rate-limited), the last good set kept on failure.
 * {@link AuthManager.fromJwksUrl} builds one; use it directly to share one source between managers.
 *
 * @example Keys of a provider, counted
 * ```ts ignore
 * import { RemoteJwks } from "@federated-mcp/federation/core";
 *
 * const jwks = new RemoteJwks("https://id.example.com/.well-known/jwks.json", { minRefetchInterval: 30_000 });
 * console.log((await jwks.keys()).length, jwks.fetches);
 * ```
 */
export class RemoteJwks {
  /** The key set's URL. */
  readonly url: string;
  #options: RemoteJwksOptions;
  #algorithms: readonly RemoteJwksAlgorithm[];
  #keys: RemoteJwksKey[] | undefined;
  #expiresAt = 0;
  #lastAttempt = -Infinity;
  #pending: Promise<void> | undefined;
  #fetches = 0;

  /**
   * Creates the source; nothing is fetched until a key is needed.
   *
   * @param url The JWKS URL: `https:`, or `http:` on loopback.
   * @param options Timeouts, cache bounds, the allowed algorithms, the URL check.
   * @throws {ConfigError} For a bad URL or an algorithm that is not asymmetric.
   */
  constructor(url: string, options: RemoteJwksOptions = {}) {
    this.url = checkJwksUrl(url).href;
    const algorithms = options.algorithms ?? REMOTE_JWKS_ALGORITHMS;
    if (algorithms.length === 0 || algorithms.some((a) => !REMOTE_JWKS_ALGORITHMS.includes(a))) {
      throw new ConfigError(
        `Invalid algorithms ${JSON.stringify(algorithms)}: each must be one of ${REMOTE_JWKS_ALGORITHMS.join(", ")}`,
        { field: "algorithms" },
      );
    }
    this.#algorithms = [...algorithms];
    this.#options = options;
  }

  /** The algorithms keys may be pinned to. */
  get algorithms(): readonly RemoteJwksAlgorithm[] {
    return this.#algorithms;
  }

  /** Fetches made so far (successful or not). */
  get fetches(): number {
    return this.#fetches;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  get #interval(): number {
    return this.#options.minRefetchInterval ?? 30_000;
  }

  /**
   * The keys: the cached set while it is fresh, else a refetch (the last good set if it fails).
   *
   * @returns The verification keys.
   * @throws {ConfigError} When no set was ever fetched and this fetch fails too (`cause`: the failure).
   */
  async keys(): Promise<RemoteJwksKey[]> {
    const now = this.#now();
    const due = now - this.#lastAttempt >= this.#interval;
    if (this.#keys === undefined) {
      // Never fetched: a provider that is down is asked again once per interval, not once per token.
      if (!due && !this.#pending) {
        throw new ConfigError(`Cannot fetch the JWKS at ${this.#safeUrl()}: the last attempt failed`, {
          field: "jwksUrl",
        });
      }
      await this.#refresh(true);
    } else if (now >= this.#expiresAt && due) {
      await this.#refresh(false);
    }
    return this.#keys ?? [];
  }

  /**
   * Refetches because a token named an unknown key, unless a fetch ran within `minRefetchInterval`.
   *
   * @returns Whether a fetch ran (and succeeded).
   */
  async refetchForUnknownKey(): Promise<boolean> {
    if (this.#pending) {
      await this.#pending.catch(() => {});
      return true;
    }
    if (this.#now() - this.#lastAttempt < this.#interval) return false;
    try {
      await this.#refresh(false);
      return true;
    } catch {
      return false;
    }
  }

  /** One fetch at a time; concurrent callers share it. `strict`: a failure rejects instead of keeping the old set. */
  async #refresh(strict: boolean): Promise<void> {
    this.#pending ??= this.#fetch().finally(() => this.#pending = undefined);
    try {
      await this.#pending;
    } catch (error) {
      if (strict || this.#keys === undefined) {
        throw new ConfigError(
          `Cannot fetch the JWKS at ${this.#safeUrl()}: ${error instanceof Error ? error.message : String(error)}`,
          { field: "jwksUrl", cause: error },
        );
      }
      this.#options.warn?.("Cannot refresh the JWKS: keeping the last good key set", {
        url: this.#safeUrl(),
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #safeUrl(): string {
    const url = new URL(this.url);
    return `${url.origin}${url.pathname}`;
  }

  async #fetch(): Promise<void> {
    this.#lastAttempt = this.#now();
    this.#fetches++;
    const deadline = timeoutSignal(this.#options.timeout ?? 5_000);
    try {
      await this.#options.checkUrl?.(this.url, deadline.signal);
      const fetcher = this.#options.fetch ?? fetch;
      const response = await fetcher(this.url, {
        headers: { accept: "application/jwk-set+json, application/json" },
        redirect: "error",
        signal: deadline.signal,
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        throw new Error(`HTTP ${response.status}`);
      }
      const body = await readLimitedBody(response, MAX_JWKS_BYTES);
      if (body.tooLarge) throw new Error(`Body is larger than ${MAX_JWKS_BYTES} bytes`);
      const parsed: unknown = JSON.parse(new TextDecoder().decode(body.bytes));
      const jwks = parsed as { keys?: unknown };
      if (typeof parsed !== "object" || parsed === null || !Array.isArray(jwks.keys)) {
        throw new Error("Body is not a JWKS");
      }
      const keys: RemoteJwksKey[] = [];
      for (const jwk of jwks.keys as JWK[]) {
        if (typeof jwk !== "object" || jwk === null) continue;
        const alg = pinnedAlgorithm(jwk, this.#algorithms);
        if (alg === undefined) continue;
        try {
          const key = await jose.importJWK(jwk, alg) as CryptoKey;
          const kid = typeof jwk.kid === "string" ? jwk.kid : await jose.calculateJwkThumbprint(jwk);
          keys.push({ kid, alg, key });
        } catch {
          // A key this runtime cannot import is skipped; the others stay usable.
        }
      }
      if (keys.length === 0) throw new Error("Key set has no usable signing key");
      const now = this.#now();
      const minMaxAge = this.#options.minMaxAge ?? this.#interval;
      const maxMaxAge = this.#options.maxMaxAge ?? 86_400_000;
      const maxAge = maxAgeOf(response, now) ?? this.#options.defaultMaxAge ?? 600_000;
      this.#keys = keys;
      this.#expiresAt = now + Math.min(maxMaxAge, Math.max(minMaxAge, maxAge));
    } finally {
      deadline.clear();
    }
  }
}
