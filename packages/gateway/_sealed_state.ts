// Internal: the gateway-sealed `requestState` of a Multi Round-Trip Request (2026-07-28). When a member answers a
// call with `input_required`, the client gets the member's own opaque state wrapped in an envelope only the
// gateway's replicas can open: AES-256-GCM under a key derived (HKDF-SHA-256) from the gateway's client-token secret,
// which every replica of a deployment shares. The envelope carries the member id, so whichever replica receives the
// retry routes it without a store, and binds the state to the method, the federated name and the token subject, so a
// state cannot be replayed onto another call or by another caller.
//
// Token: `v1.<kid>.<iv>.<ciphertext>`, each part base64url without padding. `kid` is a short hash of the derived key,
// so a gateway that lists several secrets (rotation) picks the right key at once; the additional authenticated data
// is `v1.<kid>`, so neither can be swapped. The plaintext is JSON: the SealedState fields plus `iat` and `exp` (ms).

import { isRecord } from "../core/_json.ts";
import { ServerProtocolError } from "../core/_sdk.ts";

/** What a sealed `requestState` carries (besides its issue and expiry times). */
export interface SealedState {
  /** The member (serverId) that issued the state and must receive the retry. */
  member: string;
  /** The member's own `requestState`, returned to it untouched on the retry (`undefined` when it gave none). */
  memberState: string | undefined;
  /** The subject (`sub`) of the client token the state was issued to; `undefined` for anonymous clients. */
  sub: string | undefined;
  /** The request method (`tools/call`, `prompts/get`, `resources/read`). */
  method: string;
  /** The federated name the request addressed (tool or prompt name, resource URI). */
  name: string;
  /**
   * A bridged exchange (a 2025-11-25 member's requests during the call, see `_input_bridge.ts`): its id and the
   * replica holding it. Absent for a member's own `input_required`.
   */
  exchange?: { id: string; replica: string } | undefined;
}

/** Options of {@link RequestStateSealer.fromSecret}. */
export interface RequestStateSealerOptions {
  /**
   * How long a sealed state stays valid, in milliseconds.
   * @default {600000}
   */
  ttlMs?: number;
  /**
   * Earlier secrets whose states still open (never used to seal): list the old client-token secret here for the
   * length of a state's lifetime after a rotation.
   * @default {[]}
   */
  previousSecrets?: readonly (string | Uint8Array)[];
  /**
   * The clock, in milliseconds since the epoch.
   * @default {Date.now}
   */
  now?: () => number;
}

/** The frozen message of every refused `requestState` (the same for every cause, so a prober learns nothing). */
const INVALID_MESSAGE = "Invalid or expired requestState";

/** Why a state was refused: kept for tests and logs, never sent to the client. */
export type InvalidRequestStateReason = "malformed" | "unknown-key" | "tampered" | "expired" | "subject";

/**
 * A `requestState` that does not open: tampered, sealed under a key this gateway does not hold, expired, malformed,
 * issued to another subject, or (see `openRetry`) sealed for another call. A server-package `ProtocolError`, so a
 * throw from an SDK request handler is answered as JSON-RPC `-32602` with the frozen message.
 *
 * @example Refuse a forged state
 * ```ts
 * import { InvalidRequestStateError, RequestStateSealer } from "./_sealed_state.ts";
 *
 * const sealer = await RequestStateSealer.fromSecret("a-gateway-client-secret-of-32-bytes!!");
 * try {
 *   await sealer.open("v1.forged.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA", { sub: "alice" });
 * } catch (err) {
 *   if (err instanceof InvalidRequestStateError) console.log(err.code, err.reason); // -32602 unknown-key
 * }
 * ```
 */
export class InvalidRequestStateError extends ServerProtocolError {
  /** The JSON-RPC error code (Invalid params). */
  declare readonly code: -32602;
  /** Why the state was refused (kept for tests and logs; not in the message nor in the error data). */
  readonly reason: InvalidRequestStateReason | "call";

  /**
   * @param reason Why the state was refused.
   * @param options Standard error options (`cause`).
   */
  constructor(reason: InvalidRequestStateReason | "call", options?: ErrorOptions) {
    super(-32602, INVALID_MESSAGE, { reason: "invalid_request_state" });
    this.name = "InvalidRequestStateError";
    this.reason = reason;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** The version tag of the token format and of the key derivation. */
const VERSION = "v1";
/** HKDF salt: fixed, public; the secret's entropy does the work. */
const HKDF_SALT = new TextEncoder().encode("federated-mcp/request-state/salt");
/** HKDF info: names the purpose, so the client-token secret yields an unrelated key here. */
const HKDF_INFO = new TextEncoder().encode("federated-mcp request-state v1");
/** AES-GCM nonce length in bytes. */
const IV_BYTES = 12;
/** The longest token `open` decodes (characters); longer ones are refused before any work. */
export const MAX_SEALED_STATE_CHARS = 262_144;
/** Tolerated clock skew between replicas for `iat`, in milliseconds. */
const CLOCK_SKEW_MS = 60_000;

interface SealingKey {
  kid: string;
  key: CryptoKey;
}

function secretBytes(secret: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : new Uint8Array(secret);
  if (bytes.length === 0) throw new TypeError("Cannot derive a request-state key: the secret is empty");
  return bytes;
}

function b64(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Decodes canonical base64url (no padding, unused bits zero); `undefined` on anything else. */
function unb64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = Uint8Array.fromBase64(text, { alphabet: "base64url" });
  } catch {
    return undefined;
  }
  return b64(bytes) === text ? bytes : undefined;
}

async function deriveKey(secret: string | Uint8Array): Promise<SealingKey> {
  const ikm = await crypto.subtle.importKey("raw", secretBytes(secret), "HKDF", false, ["deriveBits"]);
  const raw = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: HKDF_INFO }, ikm, 256),
  );
  const kid = b64(new Uint8Array(await crypto.subtle.digest("SHA-256", raw)).subarray(0, 6));
  const key = await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  raw.fill(0);
  return { kid, key };
}

function optionalString(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || typeof value === "string";
}

/**
 * Seals and opens the gateway's `requestState` envelopes (AES-256-GCM, key derived from the client-token secret).
 *
 * @example Seal a member's state and open it on the retry (on any replica with the same secret)
 * ```ts
 * import { RequestStateSealer } from "./_sealed_state.ts";
 *
 * const sealer = await RequestStateSealer.fromSecret("a-gateway-client-secret-of-32-bytes!!");
 * const token = await sealer.seal({
 *   member: "weather",
 *   memberState: "m1",
 *   sub: "alice",
 *   method: "tools/call",
 *   name: "weather__ask",
 * });
 * const state = await sealer.open(token, { sub: "alice" });
 * console.log(state.member, state.memberState); // weather m1
 * ```
 */
export class RequestStateSealer {
  #current: SealingKey;
  #byKid: Map<string, SealingKey>;
  #ttlMs: number;
  #now: () => number;

  private constructor(current: SealingKey, all: SealingKey[], ttlMs: number, now: () => number) {
    this.#current = current;
    this.#byKid = new Map(all.map((k) => [k.kid, k]));
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /**
   * Derives the sealing key from `secret` (and opening keys from `options.previousSecrets`).
   *
   * @param secret The gateway's client-token secret (shared by every replica).
   * @param options Lifetime, earlier secrets and clock.
   * @returns A sealer.
   * @throws {TypeError} When a secret is empty or `ttlMs` is not a positive finite number.
   */
  static async fromSecret(
    secret: Uint8Array | string,
    options: RequestStateSealerOptions = {},
  ): Promise<RequestStateSealer> {
    const ttlMs = options.ttlMs ?? 600_000;
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new TypeError(`Cannot build a request-state sealer: ttlMs must be a positive number (got ${ttlMs})`);
    }
    const current = await deriveKey(secret);
    const previous = await Promise.all((options.previousSecrets ?? []).map(deriveKey));
    return new RequestStateSealer(current, [...previous, current], ttlMs, options.now ?? Date.now);
  }

  /** How long a sealed state stays valid, in milliseconds. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** The key id of the sealing key (a short hash of the derived key, not of the secret). */
  get kid(): string {
    return this.#current.kid;
  }

  /**
   * Seals `state` with the current key; it expires after the configured lifetime.
   *
   * @param state What the retry needs.
   * @returns The token to hand the client as `requestState`.
   */
  async seal(state: SealedState): Promise<string> {
    const iat = this.#now();
    const payload = {
      member: state.member,
      memberState: state.memberState ?? null,
      sub: state.sub ?? null,
      method: state.method,
      name: state.name,
      ...(state.exchange === undefined ? {} : { exchange: state.exchange }),
      iat,
      exp: iat + this.#ttlMs,
    };
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const header = `${VERSION}.${this.#current.kid}`;
    const ciphertext = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(header) },
      this.#current.key,
      new TextEncoder().encode(JSON.stringify(payload)),
    );
    return `${header}.${b64(iv)}.${b64(new Uint8Array(ciphertext))}`;
  }

  /**
   * Opens a token sealed by this deployment and checks it is live and was issued to `expect.sub`.
   *
   * @param token The client's `requestState`.
   * @param expect The subject of the retrying client's token (`undefined` for anonymous clients).
   * @returns The sealed state.
   * @throws {InvalidRequestStateError} For a malformed, foreign-key, tampered, expired or other-subject token.
   */
  async open(token: string, expect: { sub: string | undefined }): Promise<SealedState> {
    if (typeof token !== "string" || token.length > MAX_SEALED_STATE_CHARS) {
      throw new InvalidRequestStateError("malformed");
    }
    const parts = token.split(".");
    if (parts.length !== 4 || parts[0] !== VERSION) throw new InvalidRequestStateError("malformed");
    const [, kid = "", ivText = "", ctText = ""] = parts;
    const iv = unb64(ivText);
    const ciphertext = unb64(ctText);
    if (iv === undefined || iv.length !== IV_BYTES || ciphertext === undefined || ciphertext.length < 16) {
      throw new InvalidRequestStateError("malformed");
    }
    const key = this.#byKid.get(kid);
    if (key === undefined) throw new InvalidRequestStateError("unknown-key");
    let plaintext: ArrayBuffer;
    try {
      plaintext = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(`${VERSION}.${kid}`) },
        key.key,
        ciphertext,
      );
    } catch (cause) {
      throw new InvalidRequestStateError("tampered", { cause });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(new TextDecoder().decode(plaintext));
    } catch (cause) {
      throw new InvalidRequestStateError("malformed", { cause });
    }
    if (
      !isRecord(payload) || typeof payload.member !== "string" || typeof payload.method !== "string" ||
      typeof payload.name !== "string" || !optionalString(payload.memberState) || !optionalString(payload.sub) ||
      typeof payload.iat !== "number" || typeof payload.exp !== "number" ||
      (payload.exchange !== undefined &&
        (!isRecord(payload.exchange) || typeof payload.exchange.id !== "string" ||
          typeof payload.exchange.replica !== "string"))
    ) {
      throw new InvalidRequestStateError("malformed");
    }
    const now = this.#now();
    if (now >= payload.exp || payload.iat > now + CLOCK_SKEW_MS) throw new InvalidRequestStateError("expired");
    const sub = payload.sub ?? undefined;
    if (sub !== expect.sub) throw new InvalidRequestStateError("subject");
    return {
      member: payload.member,
      memberState: payload.memberState ?? undefined,
      sub,
      method: payload.method,
      name: payload.name,
      ...(isRecord(payload.exchange)
        ? { exchange: { id: payload.exchange.id as string, replica: payload.exchange.replica as string } }
        : {}),
    };
  }
}
