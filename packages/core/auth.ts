/**
 * JWT minting and verification for the federation, on `jose`, strict by default.
 *
 * - A string secret signs with HS512 (or the HMAC algorithm you name); asymmetric managers sign with EdDSA or
 *   ES256 and publish a JWKS, so members can verify with {@link AuthManager.fromJwks} without being able to mint.
 * - The algorithm is pinned by the key, never chosen by a token's header; `exp` is required; every token carries
 *   `iat`, `exp`, `jti` and `kid`.
 *
 * @example Round trip (the usage guide's API)
 * ```ts
 * import { AuthManager } from "@federated-mcp/federation/core";
 *
 * const auth = new AuthManager("a-secret-of-at-least-thirty-two-bytes!!");
 * const token = await auth.createToken({ test: true });
 * const payload = await auth.verifyToken(token);
 * console.log(payload.test); // true
 * ```
 * Over 400 lines for a reason: one class, `AuthManager`, whose factories and documented methods are its API; keys
 * are in `_key_ring.ts`, remote key sets in `remote_jwks.ts`.
 * @module
 */

import * as jose from "jose";
import { AuthenticationError, FederationError } from "./errors.ts";
import type { AuthenticationErrorCode } from "./errors.ts";
import { checkSecretStrength } from "./config.ts";
import { parseDuration } from "./duration.ts";
import type { HmacAlgorithm } from "./types.ts";
import type { JWK, JWTPayload } from "./mcp_types.ts";
import { KeyRing, registerKeyRing } from "./_key_ring.ts";
import type { KeyEntry } from "./_key_ring.ts";
import { RemoteJwks, type RemoteJwksOptions } from "./remote_jwks.ts";

/** Asymmetric algorithms a generated manager may use. */
export type AsymmetricAlgorithm = "EdDSA" | "ES256";
/** Every algorithm a manager may sign or verify with. */
export type SigningAlgorithm = HmacAlgorithm | AsymmetricAlgorithm;

/** A JSON Web Key Set, as published by {@link AuthManager.publicJwks}. */
export interface JsonWebKeySet {
  /** The public keys. */
  keys: JWK[];
}

/** The verified claims of a token. */
export interface TokenPayload extends JWTPayload {
  /** Expiry, seconds since the epoch (always present after verification). */
  exp: number;
}

/** Options of an {@link AuthManager}. */
export interface AuthManagerOptions {
  /** HMAC algorithm for a shared secret. @default {"HS512"} */
  algorithm?: HmacAlgorithm;
  /** Key id of the signing key. @default {derived from the key} */
  kid?: string;
  /** `iss` set on created tokens and required on verified ones, unless a call says otherwise. */
  issuer?: string;
  /** `aud` set on created tokens and required on verified ones, unless a call says otherwise. */
  audience?: string;
  /** Default token lifetime. @default {"1h"} */
  expiresIn?: string | number;
  /** Clock skew tolerated on `exp`, `nbf`, `iat`, in seconds. @default {5} */
  clockTolerance?: number;
  /** Clock in milliseconds since the epoch. @default {Date.now} */
  now?: () => number;
  /** Reject shared secrets shorter than 32 bytes instead of warning once. @default {false} */
  strictSecrets?: boolean;
  /** Receives the one-time weak-secret warning (pass your logger's `warn`). @default {console.warn} */
  warn?: (message: string) => void;
}

/**
 * Options of {@link AuthManager.fromJwksUrl}: the key source's options, and the claims every token must carry.
 * Tokens of someone else (an identity provider) must be bound to an issuer and to you as their audience.
 */
export interface JwksUrlOptions extends RemoteJwksOptions {
  /** Required `iss`: the identity provider (or proxy) that signs the tokens. */
  issuer?: string | undefined;
  /** Required `aud`: who the tokens are for (the gateway's resource URL, a member's serverId). */
  audience: string;
  /** Clock skew tolerated on `exp`, `nbf`, `iat`, in seconds. @default {5} */
  clockTolerance?: number | undefined;
}

/** Options of {@link AuthManager.createToken}. */
export interface CreateTokenOptions {
  /** `aud`: the member's serverId. */
  audience?: string;
  /** `sub`. */
  subject?: string;
  /** `iss`: the proxy's id. */
  issuer?: string;
  /** Lifetime: seconds or a duration like `"1h"`. */
  expiresIn?: string | number;
  /** Not valid before this many seconds from now. */
  notBefore?: number;
}

/** Options of {@link AuthManager.verifyToken}. */
export interface VerifyTokenOptions {
  /** Required `aud`. */
  audience?: string;
  /** Required `iss`. */
  issuer?: string;
}

/** Longest token accepted, in characters; longer ones are refused before parsing. */
export const MAX_TOKEN_LENGTH = 8192;

function mapJoseError(error: unknown): FederationError {
  if (error instanceof FederationError) return error;
  const code = (error as { code?: string }).code;
  const claim = (error as { claim?: string }).claim;
  const reject = (c: AuthenticationErrorCode, message: string, claimName?: string) =>
    new AuthenticationError(
      c,
      message,
      claimName === undefined ? { cause: error } : { cause: error, claim: claimName },
    );
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return reject("ERR_AUTH_EXPIRED", "Token has expired", "exp");
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (claim === "nbf") return reject("ERR_AUTH_NOT_YET_VALID", "Token is not yet valid", "nbf");
      if (claim === "aud") return reject("ERR_AUTH_WRONG_AUDIENCE", "Token audience is not accepted here", "aud");
      if (claim === "iss") return reject("ERR_AUTH_WRONG_ISSUER", "Token issuer is not accepted here", "iss");
      return reject("ERR_AUTH_CLAIM_INVALID", `Token claim '${claim ?? "?"}' is missing or invalid`, claim);
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return reject("ERR_AUTH_BAD_SIGNATURE", "Token signature is invalid");
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return reject("ERR_AUTH_ALG_NOT_ALLOWED", "Token algorithm is not allowed");
    default:
      return reject("ERR_AUTH_MALFORMED", "Token is malformed");
  }
}

/**
 * Mints and verifies the federation's JWTs.
 *
 * @example Audience-bound tokens
 * ```ts
 * import { AuthManager } from "@federated-mcp/federation/core";
 *
 * const auth = new AuthManager("a-secret-of-at-least-thirty-two-bytes!!", { issuer: "proxy-1" });
 * const token = await auth.createToken({}, { audience: "server-1", expiresIn: "1h" });
 * const claims = await auth.verifyToken(token, { audience: "server-1" });
 * console.log(claims.aud, claims.iss); // server-1 proxy-1
 * ```
 */
export class AuthManager {
  #keys: KeyRing;
  #options: AuthManagerOptions;
  #remote: RemoteJwks | undefined;

  /**
   * Creates a manager that signs and verifies with a shared secret.
   *
   * @param secret The shared secret (string or bytes); at least 32 bytes recommended.
   * @param options Algorithm, default claims, clock.
   * @throws {ConfigError} When the secret is empty (or short, with `strictSecrets`).
   */
  constructor(secret: string | Uint8Array, options?: AuthManagerOptions);
  // The implementation also takes a KeyRing: the private path of the static factories. KeyRing is not exported,
  // so only this module can take it.
  constructor(secret: string | Uint8Array | KeyRing, options: AuthManagerOptions = {}) {
    this.#options = options;
    if (secret instanceof KeyRing) {
      this.#keys = secret;
      registerKeyRing(this, secret);
      return;
    }
    if (typeof secret !== "string" && !(secret instanceof Uint8Array)) {
      throw new TypeError("AuthManager secret must be a string or a Uint8Array");
    }
    checkSecretStrength(secret, "secret", this.#secretChecks());
    this.#keys = KeyRing.fromSecret(secret, options.algorithm ?? "HS512", options.kid);
    registerKeyRing(this, this.#keys);
  }

  /** A manager over a ready key ring (the factories' constructor path). */
  static #withKeys(keys: KeyRing, options: AuthManagerOptions): AuthManager {
    const construct = AuthManager as unknown as new (keys: KeyRing, options: AuthManagerOptions) => AuthManager;
    return new construct(keys, options);
  }

  /**
   * Creates a manager with a fresh asymmetric key pair. It signs, and {@link AuthManager.publicJwks} gives the
   * JWKS that verify-only managers (members) load.
   *
   * @param algorithm `"EdDSA"` (Ed25519) or `"ES256"`.
   * @param options Default claims and clock.
   * @returns The manager.
   * @example
   * ```ts
   * import { AuthManager } from "@federated-mcp/federation/core";
   *
   * const signer = await AuthManager.generate("EdDSA");
   * const verifier = await AuthManager.fromJwks(await signer.publicJwks());
   * const token = await signer.createToken({}, { audience: "server-1" });
   * console.log((await verifier.verifyToken(token, { audience: "server-1" })).aud); // server-1
   * ```
   */
  static async generate(algorithm: AsymmetricAlgorithm, options: AuthManagerOptions = {}): Promise<AuthManager> {
    const { privateKey, publicKey } = await jose.generateKeyPair(algorithm, { extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    const kid = options.kid ?? await jose.calculateJwkThumbprint(jwk);
    const keys = KeyRing.fromKeyPair(
      { kid, alg: algorithm, key: privateKey as CryptoKey },
      { kid, alg: algorithm, key: publicKey as CryptoKey },
      { ...jwk, kid, alg: algorithm, use: "sig" },
    );
    return AuthManager.#withKeys(keys, options);
  }

  /**
   * Creates a verify-only manager from a JWKS: it accepts tokens of the key set's owner and cannot mint any.
   *
   * @param jwks The public keys, each with `alg` (`EdDSA` or `ES256`).
   * @param options Expected claims and clock.
   * @returns The manager.
   * @throws {TypeError} When a key is private, symmetric, or lacks a supported `alg`.
   * @example
   * ```ts
   * import { AuthManager } from "@federated-mcp/federation/core";
   *
   * const signer = await AuthManager.generate("ES256");
   * const verifier = await AuthManager.fromJwks(await signer.publicJwks());
   * console.log(await verifier.canSign()); // false
   * ```
   */
  static async fromJwks(jwks: JsonWebKeySet, options: AuthManagerOptions = {}): Promise<AuthManager> {
    if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new TypeError("JWKS has no keys");
    const manager = AuthManager.#withKeys(new KeyRing(), options);
    for (const jwk of jwks.keys) await manager.addVerificationKey(jwk);
    return manager;
  }

  /**
   * Creates a verify-only manager whose keys come from a JWKS URL (an identity provider's `jwks_uri`, or a proxy's
   * `/.well-known/jwks.json`): cached per the response's caching headers, refetched at once (at most once per
   * `minRefetchInterval`) when a token names an unknown `kid`, the last good set kept when the URL is unreachable.
   * Each key is pinned to one asymmetric algorithm; HMAC and `none` are never accepted. See {@link RemoteJwks}.
   *
   * @param url `https:`, or `http:` on a loopback host.
   * @param options Required `audience`, `issuer` (required unless the keys are your own proxy's), the source's options.
   * @returns The manager (nothing is fetched before the first verification).
   * @throws {ConfigError} For a bad URL or algorithm list.
   * @throws {TypeError} Without an `audience`.
   * @example
   * ```ts ignore
   * import { AuthManager } from "@federated-mcp/federation/core";
   *
   * const auth = AuthManager.fromJwksUrl("https://id.example.com/jwks", {
   *   issuer: "https://id.example.com",
   *   audience: "https://mcp.example.com/mcp",
   * });
   * const claims = await auth.verifyToken("eyJ…");
   * console.log(claims.sub);
   * ```
   */
  static fromJwksUrl(url: string, options: JwksUrlOptions): AuthManager {
    if (typeof options?.audience !== "string" || options.audience === "") {
      throw new TypeError(
        "AuthManager.fromJwksUrl() needs an audience: tokens of someone else must be addressed to you",
      );
    }
    if (options.issuer !== undefined && (typeof options.issuer !== "string" || options.issuer === "")) {
      throw new TypeError("AuthManager.fromJwksUrl() issuer must be a non-empty string");
    }
    const { issuer, audience, clockTolerance, ...source } = options;
    const manager = AuthManager.#withKeys(new KeyRing(), {
      audience,
      ...(issuer === undefined ? {} : { issuer }),
      ...(clockTolerance === undefined ? {} : { clockTolerance }),
      ...(options.now ? { now: options.now } : {}),
    });
    manager.#remote = new RemoteJwks(url, source);
    return manager;
  }

  /** The remote key set of a manager built by {@link AuthManager.fromJwksUrl}, else `undefined`. */
  get remoteJwks(): RemoteJwks | undefined {
    return this.#remote;
  }

  /**
   * Replaces the signing key of an asymmetric manager with a fresh key pair. The old public key stays published
   * and verifying (tokens signed before stay valid) until {@link AuthManager.removeVerificationKey} drops it.
   *
   * @returns The new key id.
   * @throws {TypeError} On a shared-secret or verify-only manager.
   * @example
   * ```ts
   * import { AuthManager } from "@federated-mcp/federation/core";
   *
   * const signer = await AuthManager.generate("EdDSA");
   * const before = await signer.signingKid();
   * const after = await signer.rotateSigningKey();
   * console.log(before !== after, (await signer.publicJwks()).keys.length); // true 2
   * ```
   */
  async rotateSigningKey(): Promise<string> {
    const current = await this.#keys.signing();
    if (!current || (current.alg !== "EdDSA" && current.alg !== "ES256")) {
      throw new TypeError("Only an asymmetric signing AuthManager can rotate its key");
    }
    const algorithm = current.alg as AsymmetricAlgorithm;
    const { privateKey, publicKey } = await jose.generateKeyPair(algorithm, { extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    const kid = await jose.calculateJwkThumbprint(jwk);
    this.#keys.rotateTo(
      { kid, alg: algorithm, key: privateKey as CryptoKey },
      { kid, alg: algorithm, key: publicKey as CryptoKey },
      { ...jwk, kid, alg: algorithm, use: "sig" },
    );
    return kid;
  }

  /** Whether this manager can mint tokens (false for one built from a JWKS). */
  async canSign(): Promise<boolean> {
    return (await this.#keys.signing()) !== undefined;
  }

  /**
   * The key id tokens from this manager carry, or `undefined` for a verify-only manager.
   *
   * @returns The kid.
   */
  async signingKid(): Promise<string | undefined> {
    return (await this.#keys.signing())?.kid;
  }

  /**
   * The public JWKS of an asymmetric manager (empty for a shared-secret manager: secrets are never published).
   *
   * @returns The key set.
   */
  publicJwks(): Promise<JsonWebKeySet> {
    return Promise.resolve({ keys: this.#keys.publicJwks() });
  }

  /**
   * Adds a verification key, for rotation: tokens signed with the old or the new key verify while both are held.
   *
   * @param key A shared secret (string or bytes) or a public JWK with `alg`.
   * @param options `kid` and `algorithm` for a shared secret.
   * @returns The key id.
   * @throws {TypeError} For a private, symmetric or unsupported JWK.
   * @example
   * ```ts
   * import { AuthManager } from "@federated-mcp/federation/core";
   *
   * const oldKey = new AuthManager("old-secret-of-at-least-thirty-two-bytes");
   * const verifier = new AuthManager("new-secret-of-at-least-thirty-two-bytes");
   * await verifier.addVerificationKey("old-secret-of-at-least-thirty-two-bytes");
   * await verifier.verifyToken(await oldKey.createToken());
   * ```
   */
  async addVerificationKey(
    key: string | Uint8Array | JWK,
    options: { kid?: string; algorithm?: HmacAlgorithm } = {},
  ): Promise<string> {
    if (typeof key === "string" || key instanceof Uint8Array) {
      checkSecretStrength(key, "secret", this.#secretChecks());
      return (await this.#keys.addHmac(key, options.algorithm ?? this.#options.algorithm ?? "HS512", options.kid)).kid;
    }
    if (key.d !== undefined || key.kty === "oct") throw new TypeError("Only public asymmetric JWKs can verify");
    if (key.alg !== "EdDSA" && key.alg !== "ES256" && key.alg !== "Ed25519") {
      throw new TypeError(`JWK alg ${JSON.stringify(key.alg)} is not EdDSA or ES256`);
    }
    const alg: AsymmetricAlgorithm = key.alg === "ES256" ? "ES256" : "EdDSA";
    const imported = await jose.importJWK(key, key.alg) as CryptoKey;
    const kid = options.kid ?? key.kid ?? await jose.calculateJwkThumbprint(key);
    this.#keys.add({ kid, alg, key: imported });
    return kid;
  }

  /**
   * Stops accepting tokens signed with a key.
   *
   * @param kid The key id.
   * @returns Whether the key was held.
   */
  removeVerificationKey(kid: string): boolean {
    return this.#keys.remove(kid);
  }

  #secretChecks(): { strictSecrets: boolean; warn?: (message: string) => void } {
    const { strictSecrets = false, warn } = this.#options;
    return warn ? { strictSecrets, warn } : { strictSecrets };
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /**
   * Mints a token. Always sets `iat`, `exp` (default 1 hour), a random `jti` and the `kid` header.
   *
   * @param payload Extra claims.
   * @param options `audience`, `subject`, `issuer`, `expiresIn`, `notBefore`.
   * @returns The compact JWT.
   * @throws {AuthenticationError} `ERR_AUTH_NO_KEY` on a verify-only manager.
   * @throws {RangeError} For an invalid `expiresIn`.
   */
  async createToken(payload: Record<string, unknown> = {}, options: CreateTokenOptions = {}): Promise<string> {
    const signing = await this.#keys.signing();
    if (!signing) {
      throw new AuthenticationError("ERR_AUTH_NO_KEY", "This AuthManager is verify-only: it has no signing key");
    }
    const nowSeconds = Math.floor(this.#now() / 1000);
    const lifetime = parseDuration(options.expiresIn ?? this.#options.expiresIn ?? "1h");
    const jwt = new jose.SignJWT(payload)
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: "JWT" })
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + Math.max(1, Math.round(lifetime)))
      .setJti(crypto.randomUUID());
    const audience = options.audience ?? this.#options.audience;
    const issuer = options.issuer ?? this.#options.issuer;
    if (audience !== undefined) jwt.setAudience(audience);
    if (issuer !== undefined) jwt.setIssuer(issuer);
    if (options.subject !== undefined) jwt.setSubject(options.subject);
    if (options.notBefore !== undefined) jwt.setNotBefore(nowSeconds + options.notBefore);
    return await jwt.sign(signing.key);
  }

  /**
   * Verifies a token: signature with the pinned algorithm of the key named by `kid`, required `exp`, and `nbf`,
   * `aud`, `iss` with a small clock tolerance.
   *
   * @param token The compact JWT.
   * @param options Required `audience` and `issuer` (default: the manager's).
   * @returns The claims.
   * @throws {AuthenticationError} With a precise code; `cause` is the jose error.
   */
  async verifyToken(token: string, options: VerifyTokenOptions = {}): Promise<TokenPayload> {
    if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new AuthenticationError("ERR_AUTH_MALFORMED", "Token is missing, empty or too long");
    }
    const audience = options.audience ?? this.#options.audience;
    const issuer = options.issuer ?? this.#options.issuer;
    const remote = this.#remote;
    let keys: KeyEntry[];
    try {
      keys = remote ? await remote.keys() : await this.#keys.entries();
    } catch (error) {
      throw new AuthenticationError("ERR_AUTH_NO_KEY", "No verification key: the JWKS could not be fetched", {
        cause: error,
      });
    }
    const find = (kid: string | undefined) =>
      kid === undefined ? (keys.length === 1 ? keys[0] : undefined) : keys.find((k) => k.kid === kid);
    try {
      const { payload } = await jose.jwtVerify(token, async (header) => {
        let entry = find(header.kid);
        // A key the provider has rotated in since the last fetch: refetch now (rate-limited), then look again.
        if (!entry && remote && await remote.refetchForUnknownKey()) {
          keys = await remote.keys();
          entry = find(header.kid);
        }
        if (!entry) throw new AuthenticationError("ERR_AUTH_BAD_SIGNATURE", "Token key id is not known here");
        if (header.alg !== entry.alg) {
          throw new AuthenticationError(
            "ERR_AUTH_ALG_NOT_ALLOWED",
            `Token algorithm is not allowed, expected ${entry.alg}`,
          );
        }
        return entry.key;
      }, {
        algorithms: remote ? [...remote.algorithms] : [...new Set(keys.map((k) => k.alg))],
        requiredClaims: ["exp"],
        clockTolerance: this.#options.clockTolerance ?? 5,
        currentDate: new Date(this.#now()),
        ...(audience === undefined ? {} : { audience }),
        ...(issuer === undefined ? {} : { issuer }),
      });
      // jose does not check `iat`: a token issued in the future (beyond the tolerance) is refused too.
      const tolerance = this.#options.clockTolerance ?? 5;
      if (typeof payload.iat === "number" && payload.iat > this.#now() / 1000 + tolerance) {
        throw new AuthenticationError("ERR_AUTH_CLAIM_INVALID", "Token claim 'iat' is in the future", { claim: "iat" });
      }
      return payload as TokenPayload;
    } catch (error) {
      throw mapJoseError(error);
    }
  }
}
