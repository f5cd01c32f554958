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
// 4. OAuth resource server mode (`auth: { jwksUrl, issuer, resource | audience }`): tokens are verified against the
//    authorization server's JWKS (core/remote_jwks.ts) with the resource as audience; every 401 also names the
//    protected resource metadata (`resource_metadata="…"`, RFC 9728 §5.1; no `error` when no token was sent,
//    RFC 6750 §3.1), and a token without the MCP scope gets 403 `error="insufficient_scope", scope="…"`. The
//    metadata document is served here too (`/.well-known/oauth-protected-resource` and its path-suffixed form).
import { VerifiedTokens } from "../core/_verified_tokens.ts";
import { keyRevision } from "../core/_key_ring.ts";
import { AuthManager, type TokenPayload } from "../core/auth.ts";
import { AuthenticationError, type AuthenticationErrorCode, ConfigError } from "../core/errors.ts";
import { errorResponse, jsonResponse, rpcErrorResponse } from "../core/_http.ts";
import type { Logger } from "../core/logger.ts";
import { checkOutboundUrl } from "../core/outbound_guard.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { DEFAULT_GATEWAY_AUDIENCE, DEFAULT_MCP_SCOPE, type GatewayAuth, type GatewayOAuthAuth } from "./options.ts";
import { DEFAULT_ADMIN_SCOPE } from "./cluster_options.ts";

/** Where the gateway publishes its proxy's public signing keys. */
export const JWKS_PATH = "/.well-known/jwks.json";

/** The well-known path of OAuth protected resource metadata (RFC 9728 §3). */
export const RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource";

/** Whether a token's `scope` (space-separated) or `scp` (array) claim grants `scope`. */
export function hasScope(claims: Record<string, unknown>, scope: string): boolean {
  if (typeof claims.scope === "string" && claims.scope.split(/\s+/).includes(scope)) return true;
  return Array.isArray(claims.scp) && claims.scp.includes(scope);
}

/** A quoted-string value of an auth-param (RFC 9110 §11.2), with `"` and `\` escaped. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The OAuth settings of a resource-server gateway, resolved. */
interface OAuthPlan {
  resource: string | undefined;
  authorizationServers: readonly string[];
  mcpScope: string | undefined;
  adminScope: string;
}

function isOAuth(auth: object): auth is GatewayOAuthAuth {
  return "jwksUrl" in auth;
}

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
  /** Path of the MCP endpoint (for the path-suffixed metadata URL). @default {"/mcp"} */
  mcpPath?: string | undefined;
  /** Scope of the admin API, published in the metadata. @default {DEFAULT_ADMIN_SCOPE} */
  adminScope?: string | undefined;
}

function refusal(kind: RouteKind, status: number, code: string, message: string, headers: Record<string, string> = {}) {
  return kind === "mcp"
    ? rpcError(status, status === 401 ? -32001 : -32000, message, headers)
    : errorResponse(status, code, message, { headers });
}

/** Most distinct allowed `Host` values remembered (`HttpGuard.#hostAllowed`). */
const MAX_ALLOWED_HOSTS = 256;

/** Checks the Host, Origin and Authorization of inbound requests. */
export class HttpGuard {
  #auth: AuthManager | undefined;
  /** The audience passed to `verifyToken`; `undefined` with an AuthManager: the manager's own. */
  #audience: string | undefined;
  #anyOrigin: boolean;
  #origins: Set<string>;
  #hosts: Set<string>;
  /** `Host` values already judged allowed (`#hostAllowed`). */
  #allowedHosts = new Set<string>();
  #checkHost: boolean;
  #logger: Logger;
  #isMember: (serverId: string) => boolean;
  #oauth: OAuthPlan | undefined;
  #mcpPath: string;
  #issuer: string | undefined;
  /** Tokens verified lately, with their claims (their age on the monotonic clock: a wall-clock step cannot stretch it). */
  #verified = new VerifiedTokens<TokenPayload>(
    () => performance.now(),
    () => this.#auth ? keyRevision(this.#auth) : 0,
  );

  constructor(settings: HttpGuardSettings) {
    const { auth } = settings;
    if (auth === undefined || auth === null) {
      throw new ConfigError(
        "Invalid auth: the gateway requires inbound authentication; pass an AuthManager, { secret }, or false to turn it off",
        { field: "auth" },
      );
    }
    this.#mcpPath = settings.mcpPath ?? "/mcp";
    if (auth === false) this.#auth = undefined;
    else if (auth instanceof AuthManager) this.#auth = auth;
    else if (typeof auth === "object" && isOAuth(auth)) this.#auth = this.#resourceServer(auth, settings);
    else if (typeof auth === "object" && (typeof auth.secret === "string" || auth.secret instanceof Uint8Array)) {
      if (auth.audience !== undefined && (typeof auth.audience !== "string" || auth.audience === "")) {
        throw new ConfigError("Invalid auth.audience: must be a non-empty string", { field: "auth.audience" });
      }
      this.#audience = auth.audience ?? DEFAULT_GATEWAY_AUDIENCE;
      this.#issuer = auth.issuer;
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

  /** Builds the verifier of OAuth mode, checking the settings. */
  #resourceServer(auth: GatewayOAuthAuth, settings: HttpGuardSettings): AuthManager {
    const text = (value: unknown, field: string) => {
      if (value !== undefined && (typeof value !== "string" || value === "")) {
        throw new ConfigError(`Invalid auth.${field}: must be a non-empty string`, { field: `auth.${field}` });
      }
    };
    text(auth.issuer, "issuer");
    if (auth.issuer === undefined) {
      throw new ConfigError("Invalid auth.issuer: required with auth.jwksUrl (the authorization server's issuer)", {
        field: "auth.issuer",
      });
    }
    text(auth.resource, "resource");
    text(auth.audience, "audience");
    if (auth.resource !== undefined && !URL.canParse(auth.resource)) {
      throw new ConfigError("Invalid auth.resource: must be an absolute URL (RFC 8707)", { field: "auth.resource" });
    }
    const audience = auth.audience ?? auth.resource;
    if (audience === undefined) {
      throw new ConfigError("Invalid auth: with auth.jwksUrl, set auth.resource (or auth.audience)", {
        field: "auth.resource",
      });
    }
    if (auth.resource === undefined && !isLoopback(settings.hostname) && settings.allowedHosts.length === 0) {
      // The metadata would name whatever Host a request carries (cached, readable from any origin).
      throw new ConfigError(
        "Invalid auth.resource: required on a non-loopback gateway without allowedHosts (else the published resource comes from the Host header)",
        { field: "auth.resource" },
      );
    }
    if (auth.mcpScope !== undefined && auth.mcpScope !== false) text(auth.mcpScope, "mcpScope");
    const servers = auth.authorizationServers ?? [auth.issuer];
    if (!Array.isArray(servers) || servers.length === 0 || servers.some((s) => typeof s !== "string" || !s)) {
      throw new ConfigError("Invalid auth.authorizationServers: must be a non-empty list of URLs", {
        field: "auth.authorizationServers",
      });
    }
    this.#audience = audience;
    this.#issuer = auth.issuer;
    this.#oauth = {
      resource: auth.resource,
      authorizationServers: servers,
      mcpScope: auth.mcpScope === false ? undefined : auth.mcpScope ?? DEFAULT_MCP_SCOPE,
      adminScope: settings.adminScope ?? DEFAULT_ADMIN_SCOPE,
    };
    const logger = settings.logger;
    try {
      return AuthManager.fromJwksUrl(auth.jwksUrl, {
        issuer: auth.issuer,
        audience,
        warn: (message, fields) => logger.warn(message, fields),
        ...(auth.algorithms === undefined ? {} : { algorithms: auth.algorithms }),
        ...(auth.minRefetchInterval === undefined ? {} : { minRefetchInterval: auth.minRefetchInterval }),
        ...(auth.outboundGuard === false ? {} : {
          checkUrl: (url: string, signal: AbortSignal) => checkOutboundUrl(url, { signal, field: "auth.jwksUrl" }),
        }),
      });
    } catch (error) {
      if (error instanceof ConfigError) {
        throw new ConfigError(error.message.replace(/^Invalid jwksUrl/, "Invalid auth.jwksUrl"), {
          field: "auth.jwksUrl",
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Whether the gateway is an OAuth resource server (auth from an authorization server's JWKS). */
  get resourceServer(): boolean {
    return this.#oauth !== undefined;
  }

  /**
   * The resource identifier: the configured one, else the MCP endpoint's URL as this request reached it (only on a
   * loopback gateway or one with `allowedHosts`, where the Host header is checked).
   */
  #resourceOf(request: Request): string {
    return this.#oauth?.resource ?? `${new URL(request.url).origin}${this.#mcpPath}`;
  }

  /** The metadata URL of the resource (RFC 9728 §3.1: the well-known path inserted before the resource's path). */
  #metadataUrl(request: Request): string {
    const resource = new URL(this.#resourceOf(request));
    const path = resource.pathname === "/" ? "" : resource.pathname;
    return `${resource.origin}${RESOURCE_METADATA_PATH}${path}`;
  }

  /**
   * Serves the protected resource metadata (RFC 9728) at `/.well-known/oauth-protected-resource` and its form
   * suffixed with the MCP path (or the configured resource's path); `undefined` for other paths or without OAuth.
   */
  resourceMetadata(request: Request, pathname: string): Response | undefined {
    const oauth = this.#oauth;
    if (!oauth || !pathname.startsWith(RESOURCE_METADATA_PATH)) return undefined;
    const suffix = pathname.slice(RESOURCE_METADATA_PATH.length);
    const resourcePath = oauth.resource === undefined ? this.#mcpPath : new URL(oauth.resource).pathname;
    if (suffix !== "" && suffix !== this.#mcpPath && suffix !== resourcePath) return undefined;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return errorResponse(405, "ERR_METHOD_NOT_ALLOWED", "Method not allowed", { headers: { allow: "GET, HEAD" } });
    }
    const scopes = [...new Set([...(oauth.mcpScope ? [oauth.mcpScope] : []), oauth.adminScope])];
    return jsonResponse(200, {
      resource: this.#resourceOf(request),
      authorization_servers: oauth.authorizationServers,
      scopes_supported: scopes,
      bearer_methods_supported: ["header"],
    }, { "cache-control": "max-age=300", "access-control-allow-origin": "*" });
  }

  /**
   * Serves the gateway's well-known documents: the protected resource metadata (OAuth mode) and, at
   * {@link JWKS_PATH}, the public JWKS of the proxy's asymmetric signing key, so that members verify with
   * `verifier: { jwksUrl }` and follow its rotation. `undefined` for a path it does not serve (a proxy that signs
   * with a shared secret publishes nothing).
   */
  async wellKnown(request: Request, pathname: string, proxy: FederationProxy): Promise<Response | undefined> {
    if (pathname === JWKS_PATH) {
      const jwks = await proxy.publicJwks();
      if (jwks.keys.length === 0) return undefined;
      if (request.method !== "GET" && request.method !== "HEAD") {
        return errorResponse(405, "ERR_METHOD_NOT_ALLOWED", "Method not allowed", { headers: { allow: "GET, HEAD" } });
      }
      // Short caching: members refetch on an unknown kid anyway; this bounds how long a removed key lingers.
      return jsonResponse(200, jwks, { "content-type": "application/jwk-set+json", "cache-control": "max-age=60" });
    }
    return this.resourceMetadata(request, pathname);
  }

  /** The `WWW-Authenticate` value of a 401: `error` only when a token was sent (RFC 6750 §3.1). */
  #challenge(request: Request, tokenSent: boolean): string {
    if (!this.#oauth) return 'Bearer error="invalid_token"';
    const metadata = `resource_metadata=${quoted(this.#metadataUrl(request))}`;
    return tokenSent ? `Bearer error="invalid_token", ${metadata}` : `Bearer ${metadata}`;
  }

  /**
   * The 403 of a token that lacks `scope`: `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`
   * (RFC 6750 §3.1, the MCP authorization specification's step-up).
   */
  insufficientScope(request: Request, kind: RouteKind, scope: string): Response {
    const params = [`error="insufficient_scope"`, `scope=${quoted(scope)}`];
    if (this.#oauth) params.push(`resource_metadata=${quoted(this.#metadataUrl(request))}`);
    return refusal(kind, 403, "ERR_FORBIDDEN", `Forbidden: the token lacks the '${scope}' scope`, {
      "www-authenticate": `Bearer ${params.join(", ")}`,
    });
  }

  /** The issuer client tokens must carry, when one is configured (passed to members as the user's issuer). */
  get issuer(): string | undefined {
    return this.#issuer;
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
    if (this.#allowedHosts.has(host)) return true;
    // Clients send few distinct Host values: each allowed one is parsed once. Only allowed values are remembered, up
    // to a bound, so that a flood of refused or varied values can neither grow the memo nor push the clients' out.
    const allowed = this.#judgeHost(host);
    if (allowed && this.#allowedHosts.size < MAX_ALLOWED_HOSTS) this.#allowedHosts.add(host);
    return allowed;
  }

  #judgeHost(host: string): boolean {
    const lower = host.toLowerCase();
    if (this.#hosts.has(lower)) return true;
    const name = isBareAuthority(lower) ? URL.parse(`http://${lower}`)?.hostname : undefined;
    return name !== undefined && (this.#hosts.has(name) || isLoopback(name));
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
        const claims = await this.#verify(match[1]!, this.#auth);
        this.#checkClaims(claims);
        const scope = this.#oauth?.mcpScope;
        if (kind === "mcp" && scope !== undefined && !hasScope(claims, scope)) {
          this.#logger.debug("Refused a token without the MCP scope", { scope });
          return this.insufficientScope(request, kind, scope);
        }
        return claims;
      } catch (error) {
        code = error instanceof AuthenticationError ? error.code : "ERR_AUTH_MALFORMED";
      }
    }
    this.#logger.debug("Refused an unauthenticated request", { reason: code });
    return refusal(kind, 401, code === "missing bearer token" ? "ERR_AUTH_MALFORMED" : code, `Unauthorized: ${code}`, {
      "www-authenticate": this.#challenge(request, match !== null),
    });
  }

  /**
   * A token's claims: its signature checked once in `VERIFIED_MAX_AGE_MS` (a client sends the same token with every
   * request); a remembered token past its `exp` is verified again (and refused).
   */
  async #verify(token: string, auth: AuthManager): Promise<TokenPayload> {
    const known = this.#verified.get(token);
    if (known !== undefined && known.exp * 1000 > Date.now()) return known;
    const revision = this.#verified.revision();
    const claims = await auth.verifyToken(token, this.#audience ? { audience: this.#audience } : {});
    this.#verified.set(token, claims, revision);
    return claims;
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
