/**
 * A small local identity provider for tests: a real `Deno.serve` on 127.0.0.1 port 0 that publishes a JWKS
 * (counting the fetches), its OAuth authorization server metadata, and a `client_credentials` token endpoint, and
 * signs tokens with jose. Keys rotate on demand.
 *
 * @module
 */

import * as jose from "jose";

/** One signing key of the provider. */
export interface ProviderKey {
  kid: string;
  alg: "ES256" | "EdDSA" | "RS256";
  privateKey: CryptoKey;
  publicJwk: jose.JWK;
}

/** Options of {@link startIdentityProvider}. */
export interface IdentityProviderOptions {
  /** Algorithm of generated keys. @default {"ES256"} */
  alg?: ProviderKey["alg"];
  /** `Cache-Control` of the JWKS response (`undefined`: no caching header). @default {"max-age=300"} */
  cacheControl?: string | undefined;
  /** Audience of tokens from the token endpoint. */
  tokenAudience?: string;
  /** Scope of tokens from the token endpoint. @default {"mcp:tools"} */
  tokenScope?: string;
}

async function newKey(alg: ProviderKey["alg"]): Promise<ProviderKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  const kid = `${alg.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}`;
  return { kid, alg, privateKey: privateKey as CryptoKey, publicJwk: { ...jwk, kid, alg, use: "sig" } };
}

/** A running identity provider. */
export class IdentityProvider implements AsyncDisposable {
  /** Issuer identifier, e.g. `http://127.0.0.1:PORT`. */
  readonly issuer: string;
  /** The JWKS URL. */
  readonly jwksUrl: string;
  /** Requests to the JWKS URL so far. */
  jwksHits = 0;
  /** Requests to the token endpoint so far. */
  tokenHits = 0;
  /** Published keys (the first signs). */
  keys: ProviderKey[];
  /** `Cache-Control` of the JWKS response. */
  cacheControl: string | undefined;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #options: IdentityProviderOptions;
  #stopped = false;

  private constructor(server: Deno.HttpServer<Deno.NetAddr>, keys: ProviderKey[], options: IdentityProviderOptions) {
    this.#server = server;
    this.keys = keys;
    this.#options = options;
    this.cacheControl = "cacheControl" in options ? options.cacheControl : "max-age=300";
    this.issuer = `http://127.0.0.1:${server.addr.port}`;
    this.jwksUrl = `${this.issuer}/jwks`;
  }

  /** Starts a provider with one key. */
  static async start(options: IdentityProviderOptions = {}): Promise<IdentityProvider> {
    const keys = [await newKey(options.alg ?? "ES256")];
    const holder: { provider?: IdentityProvider } = {};
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) => holder.provider!.#handle(request),
    );
    holder.provider = new IdentityProvider(server, keys, options);
    return holder.provider;
  }

  async #handle(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/jwks") {
      this.jwksHits++;
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (this.cacheControl !== undefined) headers["cache-control"] = this.cacheControl;
      return new Response(JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }), { headers });
    }
    if (pathname === "/.well-known/oauth-authorization-server" || pathname === "/.well-known/openid-configuration") {
      return Response.json({
        issuer: this.issuer,
        jwks_uri: this.jwksUrl,
        token_endpoint: `${this.issuer}/token`,
        authorization_endpoint: `${this.issuer}/authorize`,
        response_types_supported: ["code"],
        grant_types_supported: ["client_credentials"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (pathname === "/token" && request.method === "POST") {
      this.tokenHits++;
      const form = new URLSearchParams(await request.text());
      const basic = request.headers.get("authorization");
      let clientId = form.get("client_id");
      if (basic?.startsWith("Basic ")) clientId = atob(basic.slice(6)).split(":")[0] ?? null;
      if (form.get("grant_type") !== "client_credentials" || !clientId) {
        return Response.json({ error: "unsupported_grant_type" }, { status: 400 });
      }
      const audience = form.get("resource") ?? this.#options.tokenAudience;
      const token = await this.sign({ scope: form.get("scope") ?? this.#options.tokenScope ?? "mcp:tools" }, {
        subject: clientId,
        ...(audience ? { audience } : {}),
      });
      return Response.json({ access_token: token, token_type: "Bearer", expires_in: 300 });
    }
    return new Response("Not found", { status: 404 });
  }

  /** Adds a new signing key in front (the old ones stay published unless `dropOld`); returns its kid. */
  async rotate(options: { dropOld?: boolean; alg?: ProviderKey["alg"] } = {}): Promise<string> {
    const key = await newKey(options.alg ?? this.keys[0]!.alg);
    this.keys = options.dropOld ? [key] : [key, ...this.keys];
    return key.kid;
  }

  /** A key that is never published (for unknown-kid tokens). */
  static unpublishedKey(alg: ProviderKey["alg"] = "ES256"): Promise<ProviderKey> {
    return newKey(alg);
  }

  /** Signs a token with the current key (or `key`): `iss` = the provider unless given, `exp` in 5 minutes. */
  async sign(
    claims: Record<string, unknown>,
    options: { subject?: string; audience?: string; issuer?: string; key?: ProviderKey; expiresIn?: number } = {},
  ): Promise<string> {
    const key = options.key ?? this.keys[0]!;
    const jwt = new jose.SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" })
      .setIssuedAt()
      .setIssuer(options.issuer ?? this.issuer)
      .setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresIn ?? 300))
      .setJti(crypto.randomUUID());
    if (options.subject) jwt.setSubject(options.subject);
    if (options.audience) jwt.setAudience(options.audience);
    return await jwt.sign(key.privateKey);
  }

  /** Stops the provider (it becomes unreachable). Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#server.shutdown();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
