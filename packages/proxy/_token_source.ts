// Internal: mints the JWTs one member is addressed with, and knows when to renew them.
import { decodeJwt } from "jose";
import { AuthManager } from "../core/auth.ts";
import { parseDuration } from "../core/duration.ts";
import type { FederationConfig, HmacAlgorithm, SecretProvider } from "../core/types.ts";
import type { CallIdentity } from "./call_options.ts";

/** Lifetime of a token minted for one user, in seconds (shorter when the member's lifetime is). */
export const USER_TOKEN_LIFETIME = 300;
/** Users whose tokens are kept per member; the oldest is dropped beyond it. */
const USER_TOKENS_KEPT = 1_000;
/** The claim naming the user's own issuer in a token minted on a user's behalf. */
export const ORIGINAL_ISSUER_CLAIM = "orig_iss";

/** A token and its lifetime, in ms since the epoch. */
export interface IssuedToken {
  token: string;
  issuedAt: number;
  renewAt: number;
  expiresAt: number;
}

/** Shared AuthManagers, keyed by algorithm and secret, so keys are imported once per secret. */
export class AuthManagerCache {
  #managers = new Map<string, AuthManager>();
  #strict: boolean;
  #now: () => number;

  constructor(strictSecrets: boolean, now: () => number) {
    this.#strict = strictSecrets;
    this.#now = now;
  }

  get(secret: string, algorithm: HmacAlgorithm): AuthManager {
    const key = `${algorithm}\u0000${secret}`;
    let manager = this.#managers.get(key);
    if (!manager) {
      manager = new AuthManager(secret, { algorithm, strictSecrets: this.#strict, now: this.#now });
      this.#managers.set(key, manager);
    }
    return manager;
  }
}

export interface TokenSourceOptions {
  /** The proxy's signer: a shared secret (or its provider), or a signing AuthManager (e.g. EdDSA). */
  proxySecret: SecretProvider | AuthManager;
  issuer: string;
  subject: string;
  defaultLifetime: string | number;
  renewAt: number;
  managers: AuthManagerCache;
  now: () => number;
}

/** Tokens for one member: `aud` = serverId, `iss` = proxy id; `undefined` for `auth.type: "none"`. */
export class TokenSource {
  #config: FederationConfig;
  #options: TokenSourceOptions;
  #current: IssuedToken | undefined;
  #pending: Promise<IssuedToken> | undefined;
  /** Tokens minted for users, by issuer and subject (insertion order = age). */
  #users = new Map<string, Promise<IssuedToken>>();

  constructor(config: FederationConfig, options: TokenSourceOptions) {
    this.#config = config;
    this.#options = options;
  }

  /** Whether this member gets tokens at all. */
  get enabled(): boolean {
    return this.#config.auth?.type !== "none";
  }

  /** A token valid for a while yet: the cached one until its renewal time, then a fresh one. */
  async current(): Promise<IssuedToken | undefined> {
    if (!this.enabled) return undefined;
    const now = this.#options.now();
    if (this.#current && now < this.#current.renewAt) return this.#current;
    return await this.fresh();
  }

  /** A newly minted token (the secret provider is called again). Concurrent callers share one mint. */
  fresh(): Promise<IssuedToken> {
    this.#pending ??= this.#mint().finally(() => this.#pending = undefined);
    return this.#pending;
  }

  /**
   * The `Authorization` header value, or `undefined` without auth. `fresh` mints a new token (calling the secret
   * provider again): used on every connect and reconnect.
   */
  async authorization(fresh = false): Promise<string | undefined> {
    if (!this.enabled) return undefined;
    const issued = fresh ? await this.fresh() : await this.current();
    return issued && `Bearer ${issued.token}`;
  }

  /**
   * The `Authorization` header value of a request made for `user`: a token of that user's own (`sub` = the user,
   * `act.sub` = the proxy's subject, `orig_iss` = the user's issuer, `aud` = the member, at most
   * {@link USER_TOKEN_LIFETIME} seconds), cached per user until its renewal time. `undefined` without auth.
   */
  async authorizationFor(user: CallIdentity): Promise<string | undefined> {
    if (!this.enabled) return undefined;
    const key = `${user.iss ?? ""}\u0000${user.sub}`;
    const now = this.#options.now();
    let pending = this.#users.get(key);
    if (pending) {
      const issued = await pending.catch(() => undefined);
      if (issued && now < issued.renewAt) return `Bearer ${issued.token}`;
      if (this.#users.get(key) === pending) this.#users.delete(key);
      pending = this.#users.get(key);
    }
    if (!pending) {
      pending = this.#mint(user);
      this.#users.set(key, pending);
      pending.catch(() => this.#users.get(key) === pending && this.#users.delete(key));
      while (this.#users.size > USER_TOKENS_KEPT) this.#users.delete(this.#users.keys().next().value!);
    }
    return `Bearer ${(await pending).token}`;
  }

  async #mint(user?: CallIdentity): Promise<IssuedToken> {
    const auth = this.#config.auth;
    const settings = auth?.type === "jwt" ? auth.config : {};
    const provider = settings.secret ?? this.#options.proxySecret;
    const serviceLifetime = parseDuration(settings.expiresIn ?? this.#options.defaultLifetime);
    const lifetimeSeconds = user ? Math.min(serviceLifetime, USER_TOKEN_LIFETIME) : serviceLifetime;
    const manager = provider instanceof AuthManager ? provider : this.#options.managers.get(
      typeof provider === "function" ? await provider() : provider,
      settings.algorithm ?? "HS512",
    );
    const issuedAt = this.#options.now();
    const actor = settings.subject ?? this.#options.subject;
    const claims: Record<string, unknown> = user
      ? { act: { sub: actor }, ...(user.iss === undefined ? {} : { [ORIGINAL_ISSUER_CLAIM]: user.iss }) }
      : {};
    const token = await manager.createToken(claims, {
      audience: this.#config.serverId,
      issuer: this.#options.issuer,
      subject: user ? user.sub : actor,
      expiresIn: lifetimeSeconds,
    });
    // `iat`/`exp` are whole seconds, so the real remaining lifetime can be up to a second shorter than asked.
    const expiresAt = decodeJwt(token).exp! * 1000;
    const issued = {
      token,
      issuedAt,
      renewAt: issuedAt + (expiresAt - issuedAt) * this.#options.renewAt,
      expiresAt,
    };
    if (!user) this.#current = issued;
    return issued;
  }
}
