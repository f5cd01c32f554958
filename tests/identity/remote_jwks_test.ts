// AuthManager.fromJwksUrl against a real local identity provider (tests/_support/identity_provider.ts): caching,
// refetch on an unknown kid, the rate limit, the last good set when the provider is down, and the refusals.
import nodeAssert from "node:assert/strict";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepEqual(actual, expected, message);
async function assertRejects(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("Expected a rejection");
}
import * as jose from "jose";
import { AuthManager } from "../../packages/core/auth.ts";
import { AuthenticationError, ConfigError } from "../../packages/core/errors.ts";
import { RemoteJwks } from "../../packages/core/remote_jwks.ts";
import { IdentityProvider } from "../_support/identity_provider.ts";

const AUDIENCE = "https://mcp.example.com/mcp";

/** A manual clock, so that cache and rate-limit windows are exact. */
function clock(start = Date.now()) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function verifierFor(provider: IdentityProvider, now: () => number, extra: Record<string, unknown> = {}) {
  return AuthManager.fromJwksUrl(provider.jwksUrl, { issuer: provider.issuer, audience: AUDIENCE, now, ...extra });
}

async function authCode(promise: Promise<unknown>): Promise<string> {
  const error = await assertRejects(() => promise);
  assert(error instanceof AuthenticationError, `expected AuthenticationError, got ${error}`);
  return error.code;
}

Deno.test("AuthManager.fromJwksUrl() accepts a provider's token and fetches its JWKS once while cached", async () => {
  await using provider = await IdentityProvider.start();
  const time = clock();
  const auth = verifierFor(provider, time.now);
  const token = await provider.sign({ scope: "mcp:tools" }, { subject: "alice", audience: AUDIENCE });
  assertEquals((await auth.verifyToken(token)).sub, "alice");
  for (let i = 0; i < 20; i++) await auth.verifyToken(token);
  assertEquals(provider.jwksHits, 1);
  assertEquals(await auth.canSign(), false);
});

Deno.test("AuthManager.fromJwksUrl() accepts the very next token after the provider rotates its key", async () => {
  await using provider = await IdentityProvider.start();
  const time = clock();
  const auth = verifierFor(provider, time.now);
  await auth.verifyToken(await provider.sign({}, { subject: "alice", audience: AUDIENCE }));
  // Past the rate-limit window (30 s), well inside the cache lifetime (300 s): only the unknown kid refetches.
  time.advance(31_000);
  const newKid = await provider.rotate({ dropOld: true });
  const token = await provider.sign({}, { subject: "alice", audience: AUDIENCE });
  assertEquals(jose.decodeProtectedHeader(token).kid, newKid);
  assertEquals((await auth.verifyToken(token)).sub, "alice");
  assertEquals(provider.jwksHits, 2);
});

Deno.test("AuthManager.fromJwksUrl() fetches at most once per rate-limit window on a flood of unknown kids", async () => {
  await using provider = await IdentityProvider.start();
  const time = clock();
  const auth = verifierFor(provider, time.now);
  await auth.verifyToken(await provider.sign({}, { subject: "alice", audience: AUDIENCE }));
  time.advance(31_000);
  const stranger = await IdentityProvider.unpublishedKey();
  const forged = await provider.sign({}, { subject: "mallory", audience: AUDIENCE, key: stranger });
  // 200 at once, then 200 one after the other, inside one window.
  const codes = await Promise.all(Array.from({ length: 200 }, () => authCode(auth.verifyToken(forged))));
  for (let i = 0; i < 200; i++) {
    codes.push(await authCode(auth.verifyToken(forged)));
    time.advance(100);
  }
  assert(codes.every((c) => c === "ERR_AUTH_BAD_SIGNATURE"), `codes: ${[...new Set(codes)]}`);
  assertEquals(provider.jwksHits, 2, "one fetch at start, one for the whole flood");
  // The next window allows one more.
  time.advance(30_000);
  await authCode(auth.verifyToken(forged));
  assertEquals(provider.jwksHits, 3);
});

Deno.test("AuthManager.fromJwksUrl() keeps the last good key set while the provider is down", async () => {
  const provider = await IdentityProvider.start();
  const time = clock();
  const auth = verifierFor(provider, time.now);
  const token = await provider.sign({}, { subject: "alice", audience: AUDIENCE, expiresIn: 3600 });
  await auth.verifyToken(token);
  await provider.stop();
  // Past the cache lifetime (300 s): the refresh fails, the cached keys still verify, and the failure is retried
  // no sooner than the rate-limit window.
  time.advance(301_000);
  assertEquals((await auth.verifyToken(token)).sub, "alice");
  assertEquals((await auth.verifyToken(token)).sub, "alice");
  assertEquals(auth.remoteJwks!.fetches, 2);
});

Deno.test("AuthManager.fromJwksUrl() asks a provider that was never reachable once per window, not once per token", async () => {
  const provider = await IdentityProvider.start();
  const token = await provider.sign({}, { subject: "alice", audience: AUDIENCE });
  await provider.stop();
  const time = clock();
  const auth = verifierFor(provider, time.now);
  const codes = await Promise.all(Array.from({ length: 50 }, () => authCode(auth.verifyToken(token))));
  for (let i = 0; i < 50; i++) codes.push(await authCode(auth.verifyToken(token)));
  assert(codes.every((c) => c === "ERR_AUTH_NO_KEY"), `codes: ${[...new Set(codes)]}`);
  assertEquals(auth.remoteJwks!.fetches, 1);
  time.advance(30_000);
  await authCode(auth.verifyToken(token));
  assertEquals(auth.remoteJwks!.fetches, 2);
});

Deno.test("AuthManager.fromJwksUrl() follows Cache-Control max-age within its bounds", async () => {
  await using provider = await IdentityProvider.start({ cacheControl: "public, max-age=60" });
  const time = clock();
  const auth = verifierFor(provider, time.now);
  const token = await provider.sign({}, { subject: "alice", audience: AUDIENCE, expiresIn: 3600 });
  await auth.verifyToken(token);
  time.advance(59_000);
  await auth.verifyToken(token);
  assertEquals(provider.jwksHits, 1);
  time.advance(2_000);
  await auth.verifyToken(token);
  assertEquals(provider.jwksHits, 2);
  // no-store is clamped to the lower bound (the rate-limit window), not "fetch on every request".
  provider.cacheControl = "no-store";
  time.advance(61_000);
  await auth.verifyToken(token);
  await auth.verifyToken(token);
  assertEquals(provider.jwksHits, 3);
});

Deno.test("AuthManager.fromJwksUrl() refuses a wrong issuer, a wrong audience and an algorithm not allowed", async () => {
  await using provider = await IdentityProvider.start();
  const time = clock();
  const auth = verifierFor(provider, time.now);
  assertEquals(
    await authCode(
      auth.verifyToken(await provider.sign({}, { subject: "a", audience: AUDIENCE, issuer: "https://evil" })),
    ),
    "ERR_AUTH_WRONG_ISSUER",
  );
  assertEquals(
    await authCode(auth.verifyToken(await provider.sign({}, { subject: "a", audience: "another-resource" }))),
    "ERR_AUTH_WRONG_AUDIENCE",
  );
  // HMAC with the published key's kid (the classic key-confusion attack): never accepted from a JWKS.
  const kid = provider.keys[0]!.kid;
  const hmac = await new jose.SignJWT({ sub: "a", aud: AUDIENCE, iss: provider.issuer })
    .setProtectedHeader({ alg: "HS256", kid }).setExpirationTime("5m").sign(new TextEncoder().encode("x".repeat(32)));
  assertEquals(await authCode(auth.verifyToken(hmac)), "ERR_AUTH_ALG_NOT_ALLOWED");
  // alg none.
  const none = new jose.UnsecuredJWT({ sub: "a", aud: AUDIENCE, iss: provider.issuer }).setExpirationTime("5m")
    .encode();
  assertEquals(await authCode(auth.verifyToken(none)), "ERR_AUTH_ALG_NOT_ALLOWED");
  // An allow-list without the provider's algorithm: its ES256 key is not used, its ES256 tokens are refused (the
  // provider publishes an EdDSA key too, so the set is usable).
  await provider.rotate({ alg: "EdDSA" });
  const esKey = provider.keys[1]!;
  const edOnly = verifierFor(provider, time.now, { algorithms: ["EdDSA"] });
  assertEquals(
    await authCode(edOnly.verifyToken(await provider.sign({}, { subject: "a", audience: AUDIENCE, key: esKey }))),
    "ERR_AUTH_ALG_NOT_ALLOWED",
  );
  assertEquals((await edOnly.verifyToken(await provider.sign({}, { subject: "a", audience: AUDIENCE }))).sub, "a");
  // A token whose header names another algorithm than the key is pinned to.
  const edKey = provider.keys[0]!;
  const mismatched = await new jose.SignJWT({ sub: "a", aud: AUDIENCE, iss: provider.issuer })
    .setProtectedHeader({ alg: "ES256", kid: edKey.kid }).setExpirationTime("5m")
    .sign((await IdentityProvider.unpublishedKey("ES256")).privateKey);
  time.advance(31_000);
  assertEquals(await authCode(auth.verifyToken(mismatched)), "ERR_AUTH_ALG_NOT_ALLOWED");
});

Deno.test("AuthManager.fromJwksUrl() refuses an http JWKS URL off loopback and needs an audience", () => {
  for (const url of ["http://id.example.com/jwks", "http://10.0.0.1/jwks", "ftp://127.0.0.1/jwks", "not a url"]) {
    const error = (() => {
      try {
        AuthManager.fromJwksUrl(url, { issuer: "https://id.example.com", audience: AUDIENCE });
      } catch (error) {
        return error;
      }
    })();
    assert(error instanceof ConfigError, `${url}: ${error}`);
    assertEquals(error.field, "jwksUrl");
  }
  AuthManager.fromJwksUrl("https://id.example.com/jwks", { issuer: "https://id.example.com", audience: AUDIENCE });
  AuthManager.fromJwksUrl("http://localhost:8080/jwks", { issuer: "x", audience: AUDIENCE });
  AuthManager.fromJwksUrl("http://[::1]:8080/jwks", { issuer: "x", audience: AUDIENCE });
  let missing: unknown;
  try {
    AuthManager.fromJwksUrl("https://id.example.com/jwks", { issuer: "x" } as never);
  } catch (error) {
    missing = error;
  }
  assert(missing instanceof TypeError);
});

Deno.test("RemoteJwks runs the URL check (the outbound guard) before every fetch and fails closed", async () => {
  await using provider = await IdentityProvider.start();
  let checks = 0;
  const jwks = new RemoteJwks(provider.jwksUrl, {
    checkUrl: () => {
      checks++;
      return Promise.reject(new ConfigError("Invalid url: refused by the guard", { field: "url" }));
    },
  });
  const error = await assertRejects(() => jwks.keys());
  assert(error instanceof ConfigError);
  assertEquals(checks, 1);
  assertEquals(provider.jwksHits, 0);
  const auth = AuthManager.fromJwksUrl(provider.jwksUrl, {
    issuer: provider.issuer,
    audience: AUDIENCE,
    checkUrl: () => Promise.reject(new Error("refused")),
  });
  const token = await provider.sign({}, { subject: "a", audience: AUDIENCE });
  assertEquals(await authCode(auth.verifyToken(token)), "ERR_AUTH_NO_KEY");
  assertEquals(provider.jwksHits, 0);
});
