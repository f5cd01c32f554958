// Internal: the keys of one AuthManager. A key ring is built whole (from a shared secret, a generated key pair, or
// empty for a verify-only manager) and handed to the manager's constructor, so no state passes between a factory
// and the constructor outside their arguments.
import type { HmacAlgorithm } from "./types.ts";
import type { JWK } from "./mcp_types.ts";

/** One key: its id, its pinned algorithm and the imported key. */
export interface KeyEntry {
  kid: string;
  alg: string;
  key: CryptoKey;
}

const HMAC_HASH: Record<HmacAlgorithm, string> = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" };

function secretBytes(secret: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return typeof secret === "string" ? new TextEncoder().encode(secret) : new Uint8Array(secret);
}

async function importHmac(secret: string | Uint8Array, alg: HmacAlgorithm): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", secretBytes(secret), { name: "HMAC", hash: HMAC_HASH[alg] }, false, [
    "sign",
    "verify",
  ]);
}

async function hmacKid(secret: string | Uint8Array, alg: HmacAlgorithm): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", secretBytes(secret)));
  return `${alg.toLowerCase()}-${digest.subarray(0, 9).toBase64({ alphabet: "base64url", omitPadding: true })}`;
}

/** The signing key (if any), the verification keys by kid, and the public JWKS of an asymmetric signer. */
export class KeyRing {
  #signing: Promise<KeyEntry | undefined> = Promise.resolve(undefined);
  #verifying = new Map<string, Promise<KeyEntry>>();
  #publicJwks: readonly JWK[] = [];
  #revision = 0;

  /** Bumped by every change of the verification keys: what was verified under another revision is verified again. */
  get revision(): number {
    return this.#revision;
  }

  /** A ring that signs and verifies with a shared secret (imported in the background). */
  static fromSecret(secret: string | Uint8Array, alg: HmacAlgorithm, kid: string | undefined): KeyRing {
    const ring = new KeyRing();
    ring.#signing = ring.addHmac(secret, alg, kid);
    ring.#signing.catch(() => {});
    return ring;
  }

  /** A ring that signs with a private key and verifies with its public key, published as `publicJwk`. */
  static fromKeyPair(signing: KeyEntry, verifying: KeyEntry, publicJwk: JWK): KeyRing {
    const ring = new KeyRing();
    ring.#signing = Promise.resolve(signing);
    ring.#publicJwks = [publicJwk];
    ring.add(verifying);
    return ring;
  }

  /**
   * Makes a new key pair the signing key; the previous public keys stay published and verifying until removed,
   * so tokens signed before the rotation stay valid.
   */
  rotateTo(signing: KeyEntry, verifying: KeyEntry, publicJwk: JWK): void {
    this.#signing = Promise.resolve(signing);
    this.#publicJwks = [publicJwk, ...this.#publicJwks.filter((k) => k.kid !== publicJwk.kid)];
    this.add(verifying);
  }

  /** The signing key, once imported (`undefined` for a verify-only ring). */
  signing(): Promise<KeyEntry | undefined> {
    return this.#signing;
  }

  /** Copies of the public JWKS. */
  publicJwks(): JWK[] {
    return this.#publicJwks.map((k) => ({ ...k }));
  }

  /** Adds a shared secret for verification; its entry is usable once imported. */
  addHmac(secret: string | Uint8Array, alg: HmacAlgorithm, kid: string | undefined): Promise<KeyEntry> {
    const entry = (async () => ({ kid: kid ?? await hmacKid(secret, alg), alg, key: await importHmac(secret, alg) }))();
    const placeholder = `pending-${this.#verifying.size}-${crypto.randomUUID()}`;
    this.#verifying.set(placeholder, entry);
    entry.then((e) => {
      this.#verifying.delete(placeholder);
      this.#verifying.set(e.kid, entry);
      this.#revision++;
    }, () => this.#verifying.delete(placeholder));
    return entry;
  }

  /** Adds an imported verification key. */
  add(entry: KeyEntry): void {
    this.#verifying.set(entry.kid, Promise.resolve(entry));
    this.#revision++;
  }

  /** Removes a verification key; whether it was held. */
  remove(kid: string): boolean {
    this.#publicJwks = this.#publicJwks.filter((k) => k.kid !== kid);
    this.#revision++;
    return this.#verifying.delete(kid);
  }

  /** The verification keys imported so far (one that failed to import is left out). */
  async entries(): Promise<KeyEntry[]> {
    const entries = await Promise.all([...this.#verifying.values()].map((p) => p.catch(() => undefined)));
    return entries.filter((e): e is KeyEntry => e !== undefined);
  }
}

const rings = new WeakMap<object, KeyRing>();

/** Records the key ring of an AuthManager (its constructor does), for {@link keyRevision}. */
export function registerKeyRing(manager: object, ring: KeyRing): void {
  rings.set(manager, ring);
}

/**
 * The revision of an AuthManager's verification keys (0 for one without a ring): a cache of verified tokens keyed
 * by it forgets them as soon as a key is added, rotated in or removed.
 */
export function keyRevision(manager: object): number {
  return rings.get(manager)?.revision ?? 0;
}
