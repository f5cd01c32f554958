// Internal: where the gateway checks every inbound HTTP request before it is routed, and the one place it checks
// the inbound token.
//
// 1. `Host` must be a bare authority (`name`, `IPv4`, `[IPv6]`, each with an optional `:port`): anything else,
//    e.g. `127.0.0.1:8080/admin/members#`, gets 400, so the path the router sees is the request target's, never
//    text smuggled in `Host`. Every path is checked, the probes too.
// 2. Origin and Host allow-lists (DNS-rebinding protection): a foreign `Origin`, or a foreign `Host` on a loopback
//    gateway (or when `allowedHosts` is set), gets 403. Every path is checked, `/metrics` and `/readyz` too.
// 3. The bearer JWT: pinned algorithm, `exp`, the gateway's own audience (`auth.audience`, default
//    {@link DEFAULT_GATEWAY_AUDIENCE}), `iss` when configured; a token addressed to a member (`aud` = a member's
//    serverId) and a token without a string `sub` are refused. Failures get 401 with
//    `WWW-Authenticate: Bearer error="invalid_token"`. Neither the token nor the Authorization header is ever logged.
import { AuthManager, type TokenPayload } from "../core/auth.ts";
import { AuthenticationError, type AuthenticationErrorCode, ConfigError } from "../core/errors.ts";
import { errorResponse, rpcErrorResponse } from "../core/_http.ts";
import type { Logger } from "../core/logger.ts";
import { DEFAULT_GATEWAY_AUDIENCE, type GatewayAuth } from "./options.ts";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** `host[:port]` with a DNS name, an IPv4 address or a bracketed IPv6 address, and nothing else. */
const BARE_AUTHORITY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

/** Whether a hostname (as in a URL, IPv6 in brackets) names the loopback interface. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host) || host.endsWith(".localhost");
}

/** Whether a `Host` header value is a bare authority (no path, query, fragment, user info or space). */
export function isBareAuthority(host: string): boolean {
  return BARE_AUTHORITY.test(host);
}

/** A small JSON-RPC error response without an id (MCP routes). */
export function rpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return rpcErrorResponse(status, code, message, headers);
}

/** Which error body a refusal gets: JSON-RPC on the MCP endpoint, `{ error: { code, message } }` elsewhere. */
export type RouteKind = "mcp" | "api";

/** Settings of an {@link HttpGuard}. */
export interface HttpGuardSettings {
  auth: GatewayAuth | undefined;
  hostname: string;
  allowedOrigins: readonly string[];
  allowedHosts: readonly string[];
  logger: Logger;
  /** Whether an id names a registered member: tokens addressed to one are refused. */
  isMember?: ((serverId: string) => boolean) | undefined;
}

function refusal(kind: RouteKind, status: number, code: string, message: string, headers: Record<string, string> = {}) {
  return kind === "mcp"
    ? rpcError(status, status === 401 ? -32001 : -32000, message, headers)
    : errorResponse(status, code, message, { headers });
}

/** Checks the Host, Origin and Authorization of inbound requests. */
export class HttpGuard {
  #auth: AuthManager | undefined;
  /** The audience passed to `verifyToken`; `undefined` with an AuthManager: the manager's own. */
  #audience: string | undefined;
  #anyOrigin: boolean;
  #origins: Set<string>;
  #hosts: Set<string>;
  #checkHost: boolean;
  #logger: Logger;
  #isMember: (serverId: string) => boolean;

  constructor(settings: HttpGuardSettings) {
    const { auth } = settings;
    if (auth === undefined || auth === null) {
      throw new ConfigError(
        "Invalid auth: the gateway requires inbound authentication; pass an AuthManager, { secret }, or false to turn it off",
        { field: "auth" },
      );
    }
    if (auth === false) this.#auth = undefined;
    else if (auth instanceof AuthManager) this.#auth = auth;
    else if (typeof auth === "object" && (typeof auth.secret === "string" || auth.secret instanceof Uint8Array)) {
      if (auth.audience !== undefined && (typeof auth.audience !== "string" || auth.audience === "")) {
        throw new ConfigError("Invalid auth.audience: must be a non-empty string", { field: "auth.audience" });
      }
      this.#audience = auth.audience ?? DEFAULT_GATEWAY_AUDIENCE;
      this.#auth = new AuthManager(auth.secret, {
        warn: (message) => settings.logger.warn(message),
        audience: this.#audience,
        ...(auth.algorithm ? { algorithm: auth.algorithm } : {}),
        ...(auth.issuer ? { issuer: auth.issuer } : {}),
      });
    } else {
      throw new ConfigError("Invalid auth: must be an AuthManager, { secret: string | Uint8Array }, or false", {
        field: "auth",
      });
    }
    this.#anyOrigin = settings.allowedOrigins.includes("*");
    this.#origins = new Set(settings.allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, "")));
    this.#hosts = new Set(settings.allowedHosts.map((h) => h.toLowerCase()));
    this.#checkHost = isLoopback(settings.hostname) || settings.allowedHosts.length > 0;
    this.#logger = settings.logger;
    this.#isMember = settings.isMember ?? (() => false);
  }

  /** Whether requests must carry a token. */
  get authenticates(): boolean {
    return this.#auth !== undefined;
  }

  /** The audience client tokens must carry (`undefined`: an AuthManager's own setting, or no authentication). */
  get audience(): string | undefined {
    return this.#audience;
  }

  /**
   * The first check of every request, before routing: a 400 when `Host` is not a bare authority, a 403 when the
   * Origin or Host is not allowed, else `undefined`.
   */
  checkRequest(request: Request, kind: RouteKind): Response | undefined {
    const host = request.headers.get("host");
    if (host !== null && !isBareAuthority(host)) {
      this.#logger.warn("Refused a request with a malformed Host header", { length: host.length });
      return refusal(kind, 400, "ERR_BAD_HOST", "Bad Request: the Host header must be a bare host[:port]");
    }
    return this.checkOrigin(request, kind);
  }

  /** A 403 response when the Origin or Host is not allowed, else `undefined`. */
  checkOrigin(request: Request, kind: RouteKind = "api"): Response | undefined {
    const origin = request.headers.get("origin");
    if (origin !== null && !this.#anyOrigin && !this.#originAllowed(origin)) {
      this.#logger.warn("Refused a request from a foreign origin", { origin: origin.slice(0, 200) });
      return refusal(kind, 403, "ERR_FORBIDDEN", `Forbidden: origin '${origin.slice(0, 200)}' is not allowed`);
    }
    if (this.#checkHost) {
      const host = request.headers.get("host");
      if (host !== null && !this.#hostAllowed(host)) {
        this.#logger.warn("Refused a request for a foreign host", { host: host.slice(0, 200) });
        return refusal(kind, 403, "ERR_FORBIDDEN", `Forbidden: host '${host.slice(0, 200)}' is not allowed`);
      }
    }
    return undefined;
  }

  #originAllowed(origin: string): boolean {
    if (this.#origins.has(origin.toLowerCase())) return true;
    if (!URL.canParse(origin)) return false;
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && isLoopback(url.hostname);
  }

  #hostAllowed(host: string): boolean {
    const lower = host.toLowerCase();
    if (this.#hosts.has(lower)) return true;
    if (!isBareAuthority(lower) || !URL.canParse(`http://${lower}`)) return false;
    const name = new URL(`http://${lower}`).hostname;
    return this.#hosts.has(name) || isLoopback(name);
  }

  /**
   * Verifies the bearer token: the one place the gateway does.
   *
   * @returns The claims (an empty object without authentication), or a 401 response.
   */
  async authenticate(
    request: Request,
    kind: RouteKind = "api",
  ): Promise<TokenPayload | Record<string, never> | Response> {
    if (!this.#auth) return {};
    const header = request.headers.get("authorization");
    const match = header === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    let code: AuthenticationErrorCode | "missing bearer token" = "missing bearer token";
    if (match) {
      try {
        const claims = await this.#auth.verifyToken(match[1]!, this.#audience ? { audience: this.#audience } : {});
        this.#checkClaims(claims);
        return claims;
      } catch (error) {
        code = error instanceof AuthenticationError ? error.code : "ERR_AUTH_MALFORMED";
      }
    }
    this.#logger.debug("Refused an unauthenticated request", { reason: code });
    return refusal(kind, 401, code === "missing bearer token" ? "ERR_AUTH_MALFORMED" : code, `Unauthorized: ${code}`, {
      "www-authenticate": 'Bearer error="invalid_token"',
    });
  }

  /** Refuses a verified token that is addressed to a member, has no audience, or has no string `sub`. */
  #checkClaims(claims: TokenPayload): void {
    const audiences = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (audiences.length === 0) {
      throw new AuthenticationError("ERR_AUTH_WRONG_AUDIENCE", "Token has no audience", { claim: "aud" });
    }
    if (audiences.some((aud) => typeof aud === "string" && this.#isMember(aud))) {
      throw new AuthenticationError("ERR_AUTH_WRONG_AUDIENCE", "Token is addressed to a member", { claim: "aud" });
    }
    if (typeof claims.sub !== "string" || claims.sub === "") {
      throw new AuthenticationError("ERR_AUTH_MALFORMED", "Token has no subject", { claim: "sub" });
    }
  }
}
