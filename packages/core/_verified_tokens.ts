// Internal: bearer tokens verified lately, so that a token sent with every request of a connection has its
// signature checked once, not per request (HMAC or signature verification through WebCrypto is the largest single
// CPU cost of a small request). Keyed by the exact token string; only verified tokens are kept (a refused token is
// checked every time). Every entry is forgotten as soon as the verifier's keys change (`revision`: a key removed
// stops admitting its tokens at once), and after `maxAge` ms in any case (a remote JWKS refreshes on its own
// schedule); the caller still checks each token's expiry on every use.

/** How long a verified token is taken as verified, by default, in ms. */
export const VERIFIED_MAX_AGE_MS = 30_000;

/** Most verified tokens kept, by default (the oldest is forgotten beyond it). */
export const VERIFIED_KEPT = 1_000;

/** Tokens verified lately, each with what its verification returned. */
export class VerifiedTokens<T> {
  #entries = new Map<string, { value: T; at: number }>();
  #maxAge: number;
  #kept: number;
  #now: () => number;
  #revision: () => number;
  #seen: number;

  /**
   * @param now The clock, in ms.
   * @param revision The revision of the verifier's keys (`keyRevision(manager)`): a change forgets every entry.
   */
  constructor(
    now: () => number,
    revision: () => number,
    maxAge: number = VERIFIED_MAX_AGE_MS,
    kept: number = VERIFIED_KEPT,
  ) {
    this.#now = now;
    this.#revision = revision;
    this.#seen = revision();
    this.#maxAge = maxAge;
    this.#kept = kept;
  }

  /** What `token`'s verification returned, if it was verified in the last `maxAge` ms under the current keys. */
  get(token: string): T | undefined {
    this.#sync();
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (this.#now() - entry.at < this.#maxAge) return entry.value;
    this.#entries.delete(token);
    return undefined;
  }

  /** The revision of the keys now: read it before verifying, and pass it to {@link set}. */
  revision(): number {
    return this.#revision();
  }

  /**
   * Records a token just verified under the keys of `revision` (read before verifying): if they changed meanwhile,
   * nothing is recorded.
   */
  set(token: string, value: T, revision: number): void {
    this.#sync();
    if (revision !== this.#seen) return;
    this.#entries.delete(token);
    this.#entries.set(token, { value, at: this.#now() });
    if (this.#entries.size > this.#kept) this.#entries.delete(this.#entries.keys().next().value!);
  }

  // Forgets everything verified under other keys.
  #sync(): void {
    const revision = this.#revision();
    if (revision === this.#seen) return;
    this.#seen = revision;
    this.#entries.clear();
  }

  /** Forgets a token (it turned out expired). */
  delete(token: string): void {
    this.#entries.delete(token);
  }
}
