/**
 * {@link SessionTokens}: self-contained, tamper-proof MCP session ids. A token is the AES-256-GCM encryption (under
 * a key derived from the deployment's shared key) of what a replica needs to rebuild a client's session on first
 * sight: a random session id, the subject it belongs to, when it was issued, and the client's `initialize`
 * parameters (protocol version, capabilities, client info). Altering one bit makes it unreadable; its content is
 * not visible to the client.
 *
 * The token is what the client sends as `Mcp-Session-Id` (visible ASCII: `s1.` and base64url).
 *
 * @example Issue and open a session id
 * ```ts
 * import { SessionTokens } from "@federated-mcp/federation/cluster";
 *
 * const tokens = await SessionTokens.create("a-shared-key-of-at-least-thirty-two-bytes");
 * const token = await tokens.issue({
 *   subject: "alice",
 *   init: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "app", version: "1.0.0" } },
 * });
 * const session = await tokens.open(token);
 * console.log(session?.subject, session?.init.clientInfo.name); // alice app
 * console.log(await tokens.open(token.slice(0, -2) + "AA")); // undefined
 * ```
 * @module
 */

import { deriveAesKey, seal, type SharedKey, unseal } from "./_keys.ts";
import { compactSessionInit, type SessionInit } from "./_session_init.ts";

export type { SessionInit };

const PURPOSE = "session-id/v1";
const PREFIX = "s1.";
const CONTEXT = "mcp-session";
/** Longest token accepted, in characters: anything longer is refused before any decryption. */
const MAX_TOKEN_LENGTH = 8_192;
/** Clock difference between replicas tolerated, in ms. */
const CLOCK_SKEW = 60_000;

/** What a session token carries. */
export interface SessionClaims {
  /** Random id of the session (what revocations name). */
  id: string;
  /** The `sub` of the token that opened it, when the gateway authenticates. */
  subject?: string | undefined;
  /** When it was issued, in ms since the epoch. */
  issuedAt: number;
  /** The client's `initialize` parameters. */
  init: SessionInit;
}

/** Options of {@link SessionTokens.create}. */
export interface SessionTokensOptions {
  /** Keys used before the current one: tokens issued with them are still accepted. @default {[]} */
  previousKeys?: readonly SharedKey[] | undefined;
  /** Age after which a token is refused (the client then initializes anew), in ms. @default {86400000} */
  maxAge?: number | undefined;
  /** Clock in ms since the epoch. @default {Date.now} */
  now?: (() => number) | undefined;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function isInit(value: unknown): value is SessionInit {
  const v = value as SessionInit | null;
  return typeof v === "object" && v !== null && typeof v.protocolVersion === "string" &&
    typeof v.capabilities === "object" && v.capabilities !== null && typeof v.clientInfo === "object" &&
    v.clientInfo !== null && typeof v.clientInfo.name === "string" && typeof v.clientInfo.version === "string";
}

/**
 * Issues and opens session tokens.
 *
 * @example
 * ```ts
 * import { SessionTokens } from "@federated-mcp/federation/cluster";
 *
 * const tokens = await SessionTokens.create("a-shared-key-of-at-least-thirty-two-bytes", { maxAge: 3_600_000 });
 * console.log(tokens.maxAge); // 3600000
 * ```
 */
export class SessionTokens {
  #keys: CryptoKey[];
  #now: () => number;
  /** Age after which tokens are refused, in ms. */
  readonly maxAge: number;

  private constructor(keys: CryptoKey[], maxAge: number, now: () => number) {
    this.#keys = keys;
    this.maxAge = maxAge;
    this.#now = now;
  }

  /**
   * Derives the keys.
   *
   * @param key The shared key every replica has (at least 32 bytes).
   * @param options `previousKeys`, `maxAge`, `now`.
   * @returns The issuer.
   * @throws {ConfigError} When a key is shorter than 32 bytes.
   * @throws {RangeError} When `maxAge` is not positive.
   */
  static async create(key: SharedKey, options: SessionTokensOptions = {}): Promise<SessionTokens> {
    const maxAge = options.maxAge ?? 86_400_000;
    if (!(maxAge > 0)) throw new RangeError(`Invalid maxAge ${maxAge}: must be > 0`);
    const keys = await Promise.all(
      [key, ...options.previousKeys ?? []].map((k) => deriveAesKey(k, PURPOSE, "key")),
    );
    return new SessionTokens(keys, maxAge, options.now ?? Date.now);
  }

  /**
   * Issues a token for a new session.
   *
   * Only the capabilities a gateway acts on (roots, sampling, elicitation, tasks) and the client's name, version
   * and title are kept, each within a size limit, so that a token never exceeds a fixed length (under 5 KiB)
   * whatever the client sent.
   *
   * @param session The subject and the client's `initialize` parameters.
   * @returns The token (`s1.` and base64url, canonical: no padding, no whitespace).
   * @throws {RangeError} When a kept part exceeds its limit (the message names it).
   */
  async issue(session: { subject?: string | undefined; init: SessionInit }): Promise<string> {
    const compact = compactSessionInit(session.init, session.subject);
    if ("problem" in compact) throw new RangeError(compact.problem);
    const claims: SessionClaims = {
      id: crypto.getRandomValues(new Uint8Array(16)).toBase64({ alphabet: "base64url", omitPadding: true }),
      issuedAt: this.#now(),
      init: compact.init,
      ...(session.subject === undefined ? {} : { subject: session.subject }),
    };
    const sealed = await seal(this.#keys[0]!, new TextEncoder().encode(JSON.stringify(claims)), CONTEXT);
    return PREFIX + sealed.toBase64({ alphabet: "base64url", omitPadding: true });
  }

  /**
   * Opens a token.
   *
   * @param token What a client sent as `Mcp-Session-Id`.
   * @returns Its claims, or `undefined` when it is forged, altered, issued with an unknown key, older than
   *   `maxAge`, or not in the canonical encoding {@link SessionTokens.issue} gives (padding, whitespace or other
   *   spellings of the same bytes are refused, so that one session has exactly one id).
   */
  async open(token: string): Promise<SessionClaims | undefined> {
    if (!token.startsWith(PREFIX) || token.length > MAX_TOKEN_LENGTH) return undefined;
    const body = token.slice(PREFIX.length);
    if (!BASE64URL.test(body)) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.fromBase64(body, { alphabet: "base64url" });
    } catch {
      return undefined;
    }
    // Unused bits of the last character must be zero: one byte string, one spelling.
    if (bytes.toBase64({ alphabet: "base64url", omitPadding: true }) !== body) return undefined;
    const plain = await unseal(this.#keys, bytes, CONTEXT);
    if (!plain) return undefined;
    let claims: SessionClaims;
    try {
      claims = JSON.parse(new TextDecoder().decode(plain));
    } catch {
      return undefined;
    }
    if (typeof claims?.id !== "string" || typeof claims.issuedAt !== "number" || !isInit(claims.init)) return undefined;
    const age = this.#now() - claims.issuedAt;
    // Replicas' clocks differ a little: a token from a replica slightly ahead is not refused.
    return age >= -CLOCK_SKEW && age <= this.maxAge ? claims : undefined;
  }
}
