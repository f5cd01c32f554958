// Internal: bearer-token checks shared by the control and data endpoints.

import { VerifiedTokens } from "../core/_verified_tokens.ts";
import { keyRevision } from "../core/_key_ring.ts";
import { jsonResponse } from "../core/_http.ts";
import { AuthenticationError } from "../core/errors.ts";
import type { AuthManager, TokenPayload } from "../core/auth.ts";
import type { Channel } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { isRecord } from "../core/_json.ts";
import type { MessageExtraInfo } from "../core/_sdk.ts";
import { USER_IDENTITY_KEY, type UserIdentity } from "./user_identity.ts";

/** Who a token speaks for: connections and sessions are bound to it. */
export interface Identity {
  /** `sub` claim. */
  sub: string | undefined;
  /** `iss` claim. */
  iss: string | undefined;
}

/** A verified token: its identity and its expiry in milliseconds. */
export interface Grant extends Identity {
  /** `exp` in seconds since the epoch. */
  exp: number;
  /**
   * The user a delegated token speaks for (a token with an `act` claim); the grant's own `sub` is then the actor's
   * (`act.sub`, the proxy), so that sessions stay bound to the proxy while each request names its user.
   */
  user?: UserIdentity | undefined;
}

/** The SDK's `AuthInfo` (what request handlers get as `ctx.http.authInfo`). */
export type AuthInfo = NonNullable<MessageExtraInfo["authInfo"]>;

/** Calls that act for someone: with `requireUserIdentity`, refused without a user identity. */
export const USER_METHODS: ReadonlySet<string> = new Set([
  "tools/call",
  "resources/read",
  "prompts/get",
  "completion/complete",
]);

/** The SDK `authInfo` of a grant with a user: handed to the member's request handlers. */
export function authInfoOf(grant: Grant): AuthInfo | undefined {
  const user = grant.user;
  if (!user) return undefined;
  // The token itself is not handed to tool code (the Authorization header is removed for the same reason).
  return { token: "", clientId: user.sub, scopes: [], expiresAt: grant.exp, extra: { [USER_IDENTITY_KEY]: user } };
}

/** Result of {@link AuthGuard.authenticate}: a grant, or the 401 response to send. */
export type AuthResult = { ok: true; grant: Grant } | { ok: false; response: Response };

const BEARER = /^Bearer +([^\s,]+) *$/i;

/**
 * The 401 every refused request gets: the same for every cause, so that it tells an attacker nothing. The
 * `WWW-Authenticate` header (RFC 6750) is what clients act on; the body keeps the member's documented and tested
 * `{"error":"invalid_token"}`, the RFC 6750 error name as a string, rather than the `{ "error": { "code", … } }`
 * body of other routes.
 */
export function unauthorized(): Response {
  return jsonResponse(401, { error: "invalid_token" }, { "www-authenticate": 'Bearer error="invalid_token"' });
}

/** Whether two identities are the same principal. */
export function sameIdentity(a: Identity, b: Identity): boolean {
  return a.sub === b.sub && a.iss === b.iss;
}

/**
 * Verifies bearer tokens for one member: pinned algorithm and key (the AuthManager's), required `exp` strictly in
 * the future on the member's clock, `aud` = serverId, `iss` when configured. A token verified in the last
 * 30 s (`VERIFIED_MAX_AGE_MS`) is not verified again (its expiry is). Logs refusals at debug with the error code
 * only, never the token.
 */
export class AuthGuard {
  #manager: AuthManager;
  #audience: string;
  #issuer: string | undefined;
  #now: () => number;
  #logger: Logger;
  /** Tokens verified lately (the exact string), with their grant. */
  #verified: VerifiedTokens<Grant>;

  constructor(
    manager: AuthManager,
    options: { audience: string; issuer: string | undefined; now: () => number; logger: Logger },
  ) {
    this.#manager = manager;
    this.#audience = options.audience;
    this.#issuer = options.issuer;
    this.#now = options.now;
    this.#logger = options.logger;
    this.#verified = new VerifiedTokens(options.now, () => keyRevision(manager));
  }

  /**
   * Verifies one token.
   *
   * @throws {AuthenticationError} With the precise code.
   */
  async verify(token: unknown): Promise<Grant> {
    if (typeof token !== "string") {
      throw new AuthenticationError("ERR_AUTH_MALFORMED", "Token is missing or not a string");
    }
    // The proxy sends the same token with every request of a connection: a token verified in the last
    // VERIFIED_MAX_AGE_MS is taken as verified (its signature was; its expiry is checked again).
    const known = this.#verified.get(token);
    if (known !== undefined) {
      if (known.exp * 1000 > this.#now()) return known;
      this.#verified.delete(token);
    }
    const revision = this.#verified.revision();
    const grant = await this.#verifyNow(token);
    this.#verified.set(token, grant, revision);
    return grant;
  }

  async #verifyNow(token: string): Promise<Grant> {
    let claims: TokenPayload;
    try {
      claims = await this.#manager.verifyToken(
        token,
        this.#issuer === undefined ? { audience: this.#audience } : { audience: this.#audience, issuer: this.#issuer },
      );
    } catch (error) {
      if (error instanceof AuthenticationError) throw error;
      throw new AuthenticationError("ERR_AUTH_MALFORMED", "Token could not be verified", { cause: error });
    }
    // The AuthManager tolerates a few seconds of clock skew; a connection must not start on a token that is
    // already past its `exp` on this member's clock, since it would be closed at once.
    if (typeof claims.exp !== "number" || claims.exp * 1000 <= this.#now()) {
      throw new AuthenticationError("ERR_AUTH_EXPIRED", "Token has expired", { claim: "exp" });
    }
    const iss = typeof claims.iss === "string" ? claims.iss : undefined;
    if (claims.act !== undefined) {
      const act = claims.act;
      if (!isRecord(act) || typeof act.sub !== "string" || typeof claims.sub !== "string") {
        throw new AuthenticationError("ERR_AUTH_CLAIM_INVALID", "Token claim 'act' is invalid", { claim: "act" });
      }
      const user: UserIdentity = {
        sub: claims.sub,
        iss: typeof claims.orig_iss === "string" ? claims.orig_iss : undefined,
        actor: act.sub,
      };
      return { exp: claims.exp, sub: act.sub, iss, user };
    }
    return { exp: claims.exp, sub: typeof claims.sub === "string" ? claims.sub : undefined, iss };
  }

  /**
   * Checks the `Authorization: Bearer` header of a request (a token anywhere else, such as the query string, is
   * ignored).
   */
  async authenticate(req: Request, channel: Channel): Promise<AuthResult> {
    const match = BEARER.exec(req.headers.get("authorization") ?? "");
    try {
      if (!match) throw new AuthenticationError("ERR_AUTH_MALFORMED", "No bearer token in the Authorization header");
      return { ok: true, grant: await this.verify(match[1]) };
    } catch (error) {
      const code = error instanceof AuthenticationError ? error.code : "ERR_AUTH_MALFORMED";
      this.#logger.debug("Refused a request with an invalid token", {
        serverId: this.#audience,
        channel,
        code,
        method: req.method,
        path: new URL(req.url).pathname,
      });
      return { ok: false, response: unauthorized() };
    }
  }
}
