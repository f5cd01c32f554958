// Internal: bearer tokens verified lately, so that a token sent with every request of a connection has its
// signature checked once, not per request (HMAC or signature verification through WebCrypto is the largest single
// CPU cost of a small request). Keyed by the exact token string; only verified tokens are kept (a refused token is
// checked every time). An entry is forgotten after `maxAge` ms, so that a key taken out of a verifier stops
// admitting its tokens within that window; the caller still checks each token's expiry on every use.

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

  constructor(now: () => number, maxAge: number = VERIFIED_MAX_AGE_MS, kept: number = VERIFIED_KEPT) {
    this.#now = now;
    this.#maxAge = maxAge;
    this.#kept = kept;
  }

  /** What `token`'s verification returned, if it was verified in the last `maxAge` ms. */
  get(token: string): T | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (this.#now() - entry.at < this.#maxAge) return entry.value;
    this.#entries.delete(token);
    return undefined;
  }

  /** Records a token just verified. */
  set(token: string, value: T): void {
    this.#entries.delete(token);
    this.#entries.set(token, { value, at: this.#now() });
    if (this.#entries.size > this.#kept) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Forgets a token (it turned out expired). */
  delete(token: string): void {
    this.#entries.delete(token);
  }
}
