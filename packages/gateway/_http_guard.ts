// Internal: what an HTTP request must pass before it reaches an MCP session: an allowed Origin and Host
// (DNS-rebinding protection, 403) and a valid bearer JWT (401 with `WWW-Authenticate: Bearer error="invalid_token"`).
// Neither the token nor the Authorization header is ever logged.
import { AuthManager, type TokenPayload } from "../core/auth.ts";
import { AuthenticationError, ConfigError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { GatewayAuth } from "./options.ts";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** Whether a hostname (as in a URL, IPv6 in brackets) names the loopback interface. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host) || host.endsWith(".localhost");
}

/** A small JSON-RPC error response without an id. */
export function rpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/** Settings of an {@link HttpGuard}. */
export interface HttpGuardSettings {
  auth: GatewayAuth | undefined;
  hostname: string;
  allowedOrigins: readonly string[];
  allowedHosts: readonly string[];
  logger: Logger;
}

/** Checks the Origin, Host and Authorization of requests to the MCP endpoint. */
export class HttpGuard {
  #auth: AuthManager | undefined;
  #anyOrigin: boolean;
  #origins: Set<string>;
  #hosts: Set<string>;
  #checkHost: boolean;
  #logger: Logger;

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
      this.#auth = new AuthManager(auth.secret, {
        warn: (message) => settings.logger.warn(message),
        ...(auth.algorithm ? { algorithm: auth.algorithm } : {}),
        ...(auth.audience ? { audience: auth.audience } : {}),
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
  }

  /** Whether requests must carry a token. */
  get authenticates(): boolean {
    return this.#auth !== undefined;
  }

  /** A 403 response when the Origin or Host is not allowed, else `undefined`. */
  checkOrigin(request: Request): Response | undefined {
    const origin = request.headers.get("origin");
    if (origin !== null && !this.#anyOrigin && !this.#originAllowed(origin)) {
      this.#logger.warn("Refused a request from a foreign origin", { origin });
      return rpcError(403, -32000, `Forbidden: origin '${origin}' is not allowed`);
    }
    if (this.#checkHost) {
      const host = request.headers.get("host");
      if (host !== null && !this.#hostAllowed(host)) {
        this.#logger.warn("Refused a request for a foreign host", { host });
        return rpcError(403, -32000, `Forbidden: host '${host}' is not allowed`);
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
    if (!URL.canParse(`http://${lower}`)) return false;
    const name = new URL(`http://${lower}`).hostname;
    return this.#hosts.has(name) || isLoopback(name);
  }

  /**
   * Verifies the bearer token.
   *
   * @returns The claims (an empty object without authentication), or a 401 response.
   */
  async authenticate(request: Request): Promise<TokenPayload | Record<string, never> | Response> {
    if (!this.#auth) return {};
    const header = request.headers.get("authorization");
    const match = header === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    let code = "ERR_AUTH_MALFORMED";
    if (match) {
      try {
        return await this.#auth.verifyToken(match[1]!);
      } catch (error) {
        code = error instanceof AuthenticationError ? error.code : code;
      }
    }
    const reason = match ? code : "missing bearer token";
    this.#logger.debug("Refused an unauthenticated request", { reason });
    return rpcError(401, -32001, `Unauthorized: ${reason}`, {
      "www-authenticate": 'Bearer error="invalid_token"',
    });
  }
}
