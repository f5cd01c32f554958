import assert from "node:assert/strict";
import * as jose from "jose";
import { AuthManager, MAX_TOKEN_LENGTH } from "./auth.ts";
import { AuthenticationError, ConfigError } from "./errors.ts";
import type { AuthenticationErrorCode } from "./errors.ts";
import type { FederationConfig } from "./types.ts";

const SECRET = "a-secret-of-at-least-thirty-two-bytes!!";
const OTHER_SECRET = "another-secret-of-at-least-thirty-two-bytes";
/** A fixed instant (2030-01-01T00:00:00Z) for the injected clocks. */
const T = Date.UTC(2030, 0, 1);
const T_SECONDS = T / 1000;

/** A clock the test moves by hand. */
function manualClock(start: number = T): { t: number; now: () => number } {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

async function assertRejectsWith(
  promise: Promise<unknown>,
  code: AuthenticationErrorCode,
  claim?: string,
): Promise<AuthenticationError> {
  let caught: unknown;
  await assert.rejects(promise, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof AuthenticationError, `expected an AuthenticationError, got ${String(caught)}`);
  assert.equal(caught.name, "AuthenticationError");
  assert.equal(caught.code, code);
  if (claim !== undefined) assert.equal(caught.claim, claim);
  return caught;
}

function base64url(value: unknown): string {
  return new TextEncoder().encode(JSON.stringify(value)).toBase64({ alphabet: "base64url", omitPadding: true });
}

// From the usage guide ("Troubleshooting: Authentication Issues"). Only change: `?.` so it type-checks under
// strict mode, since `auth` is optional in FederationConfig.
async function verifyAuthentication(config: FederationConfig) {
  const authManager = new AuthManager(config.auth?.config?.secret as string);
  try {
    const token = await authManager.createToken({ test: true });
    await authManager.verifyToken(token);
    return true;
  } catch {
    return false;
  }
}

// The weak-secret warning is once per process (each test module runs in its own isolate). This is the only test of
// the file that gives AuthManager a short secret without strictSecrets, so it holds in any test order; keep it so.
Deno.test("the usage guide's verifyAuthentication() returns true for its development config, warning once", async () => {
  const devConfig: FederationConfig = {
    serverId: "dev-server",
    endpoints: { control: "ws://localhost:3000", data: "http://localhost:3001" },
    auth: { type: "jwt", config: { secret: "dev-secret", expiresIn: "1h" } },
  };
  const warnings: unknown[][] = [];
  const originalWarn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args);
  try {
    assert.equal(await verifyAuthentication(devConfig), true);
    assert.equal(await verifyAuthentication(devConfig), true);
  } finally {
    console.warn = originalWarn;
  }
  assert.equal(warnings.length, 1, "a short secret warns once per process");
  const line = String(warnings[0]![0]);
  assert.match(line, /\b32\b/);
  assert.ok(!line.includes("dev-secret"), "the warning must not contain the secret");
});

Deno.test("AuthManager round-trips a token with its extra claims", async () => {
  const auth = new AuthManager(SECRET);
  const token = await auth.createToken({ test: true, role: "proxy", n: 3 });
  assert.equal(token.split(".").length, 3);
  const payload = await auth.verifyToken(token);
  assert.equal(payload.test, true);
  assert.equal(payload.role, "proxy");
  assert.equal(payload.n, 3);
});

Deno.test("AuthManager.createToken() sets iat, exp, a unique jti and a kid header on every token", async () => {
  const clock = manualClock();
  const auth = new AuthManager(SECRET, { now: clock.now });
  const [first, second] = [await auth.createToken(), await auth.createToken()];
  const kid = await auth.signingKid();
  assert.equal(typeof kid, "string");
  for (const token of [first, second]) {
    const header = jose.decodeProtectedHeader(token);
    assert.equal(header.kid, kid);
    assert.equal(header.alg, "HS512", "HS512 is the default algorithm");
    assert.equal(header.typ, "JWT");
    const claims = jose.decodeJwt(token);
    assert.equal(claims.iat, T_SECONDS);
    assert.equal(claims.exp, T_SECONDS + 3600, "the default lifetime is one hour");
    assert.equal(typeof claims.jti, "string");
    assert.ok(claims.jti!.length > 0);
  }
  assert.notEqual(jose.decodeJwt(first).jti, jose.decodeJwt(second).jti);
});

Deno.test('AuthManager.createToken() honours expiresIn "1h", "24h" and 90 seconds exactly', async () => {
  const auth = new AuthManager(SECRET, { now: manualClock().now });
  for (const [expiresIn, seconds] of [["1h", 3600], ["24h", 86400], [90, 90], ["90s", 90]] as const) {
    const claims = jose.decodeJwt(await auth.createToken({}, { expiresIn }));
    assert.equal(claims.iat, T_SECONDS);
    assert.equal(claims.exp! - claims.iat!, seconds, `expiresIn ${JSON.stringify(expiresIn)}`);
  }
});

Deno.test("AuthManager options.expiresIn is the default lifetime of created tokens", async () => {
  const auth = new AuthManager(SECRET, { now: manualClock().now, expiresIn: "24h" });
  const claims = jose.decodeJwt(await auth.createToken());
  assert.equal(claims.exp! - claims.iat!, 86400);
});

Deno.test("AuthManager.createToken() rejects an invalid expiresIn with a RangeError", async () => {
  const auth = new AuthManager(SECRET);
  await assert.rejects(auth.createToken({}, { expiresIn: "soon" }), RangeError);
  await assert.rejects(auth.createToken({}, { expiresIn: -5 }), RangeError);
});

Deno.test("AuthManager.verifyToken() rejects an expired token with ERR_AUTH_EXPIRED on claim exp", async () => {
  const clock = manualClock();
  const auth = new AuthManager(SECRET, { now: clock.now });
  const token = await auth.createToken();
  clock.t = T + 2 * 3600 * 1000;
  const err = await assertRejectsWith(auth.verifyToken(token), "ERR_AUTH_EXPIRED", "exp");
  assert.equal((err.cause as { code?: string }).code, "ERR_JWT_EXPIRED", "the jose error is the cause");
  assert.ok(!err.message.includes(token), "messages never carry the token");
});

Deno.test("AuthManager.verifyToken() rejects a token before its nbf with ERR_AUTH_NOT_YET_VALID", async () => {
  const clock = manualClock();
  const auth = new AuthManager(SECRET, { now: clock.now });
  const token = await auth.createToken({}, { notBefore: 3600, expiresIn: "2h" });
  assert.equal(jose.decodeJwt(token).nbf, T_SECONDS + 3600);
  await assertRejectsWith(auth.verifyToken(token), "ERR_AUTH_NOT_YET_VALID", "nbf");
  clock.t = T + 3600 * 1000;
  assert.equal((await auth.verifyToken(token)).nbf, T_SECONDS + 3600);
});

Deno.test("AuthManager.verifyToken() tolerates 5 seconds of clock skew on exp, and no more", async () => {
  const clock = manualClock();
  const auth = new AuthManager(SECRET, { now: clock.now });
  const token = await auth.createToken({}, { expiresIn: 60 });
  clock.t = T + (60 + 4) * 1000;
  await auth.verifyToken(token);
  clock.t = T + (60 + 6) * 1000;
  await assertRejectsWith(auth.verifyToken(token), "ERR_AUTH_EXPIRED", "exp");
});

Deno.test("AuthManager.verifyToken() tolerates 5 seconds of clock skew on nbf, and no more", async () => {
  const clock = manualClock();
  const auth = new AuthManager(SECRET, { now: clock.now });
  const token = await auth.createToken({}, { notBefore: 60 });
  clock.t = T + (60 - 4) * 1000;
  await auth.verifyToken(token);
  clock.t = T + (60 - 6) * 1000;
  await assertRejectsWith(auth.verifyToken(token), "ERR_AUTH_NOT_YET_VALID", "nbf");
});

Deno.test("AuthManager options.clockTolerance replaces the 5-second default", async () => {
  const clock = manualClock();
  const strict = new AuthManager(SECRET, { now: clock.now, clockTolerance: 0 });
  const token = await strict.createToken({}, { expiresIn: 60 });
  clock.t = T + (60 + 2) * 1000;
  await assertRejectsWith(strict.verifyToken(token), "ERR_AUTH_EXPIRED", "exp");
});

Deno.test("AuthManager.verifyToken() rejects a token signed with another secret with ERR_AUTH_BAD_SIGNATURE", async () => {
  const signer = new AuthManager(OTHER_SECRET);
  const verifier = new AuthManager(SECRET);
  // The kids differ (they are derived from the secrets), so the key lookup fails first.
  assert.notEqual(await signer.signingKid(), await verifier.signingKid());
  await assertRejectsWith(verifier.verifyToken(await signer.createToken()), "ERR_AUTH_BAD_SIGNATURE");
});

Deno.test("AuthManager.verifyToken() rejects another secret's token under the same kid with ERR_AUTH_BAD_SIGNATURE", async () => {
  const signer = new AuthManager(OTHER_SECRET, { kid: "shared-kid" });
  const verifier = new AuthManager(SECRET, { kid: "shared-kid" });
  const err = await assertRejectsWith(verifier.verifyToken(await signer.createToken()), "ERR_AUTH_BAD_SIGNATURE");
  assert.equal((err.cause as { code?: string }).code, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
});

Deno.test("AuthManager.verifyToken() rejects a token whose payload was changed with ERR_AUTH_BAD_SIGNATURE", async () => {
  const auth = new AuthManager(SECRET);
  const token = await auth.createToken({ role: "reader" }, { audience: "server-1" });
  const [header, , signature] = token.split(".");
  const claims = jose.decodeJwt(token);
  const tampered = `${header}.${base64url({ ...claims, role: "admin" })}.${signature}`;
  assert.equal(jose.decodeJwt(tampered).role, "admin");
  await assertRejectsWith(auth.verifyToken(tampered, { audience: "server-1" }), "ERR_AUTH_BAD_SIGNATURE");
});

Deno.test("AuthManager.verifyToken() rejects a wrong audience with ERR_AUTH_WRONG_AUDIENCE on claim aud", async () => {
  const auth = new AuthManager(SECRET);
  const token = await auth.createToken({}, { audience: "server-1" });
  await assertRejectsWith(auth.verifyToken(token, { audience: "server-2" }), "ERR_AUTH_WRONG_AUDIENCE", "aud");
  assert.equal((await auth.verifyToken(token, { audience: "server-1" })).aud, "server-1");
});

Deno.test("AuthManager.verifyToken() rejects a token without aud when one is required", async () => {
  const auth = new AuthManager(SECRET);
  const token = await auth.createToken();
  await assertRejectsWith(auth.verifyToken(token, { audience: "server-1" }), "ERR_AUTH_WRONG_AUDIENCE", "aud");
});

Deno.test("AuthManager.verifyToken() rejects a wrong issuer with ERR_AUTH_WRONG_ISSUER on claim iss", async () => {
  const auth = new AuthManager(SECRET);
  const token = await auth.createToken({}, { issuer: "proxy-1" });
  await assertRejectsWith(auth.verifyToken(token, { issuer: "proxy-2" }), "ERR_AUTH_WRONG_ISSUER", "iss");
  assert.equal((await auth.verifyToken(token, { issuer: "proxy-1" })).iss, "proxy-1");
});

Deno.test("AuthManager options issuer and audience are set on created tokens and enforced on verification", async () => {
  const bound = new AuthManager(SECRET, { issuer: "proxy-1", audience: "server-1" });
  const token = await bound.createToken({}, { subject: "federation-proxy" });
  const claims = await bound.verifyToken(token);
  assert.equal(claims.iss, "proxy-1");
  assert.equal(claims.aud, "server-1");
  assert.equal(claims.sub, "federation-proxy");

  const unbound = new AuthManager(SECRET);
  await assertRejectsWith(
    bound.verifyToken(await unbound.createToken({}, { issuer: "proxy-1" })),
    "ERR_AUTH_WRONG_AUDIENCE",
    "aud",
  );
  await assertRejectsWith(
    bound.verifyToken(await unbound.createToken({}, { audience: "server-1", issuer: "proxy-9" })),
    "ERR_AUTH_WRONG_ISSUER",
    "iss",
  );
  // A call may override the defaults.
  const other = await unbound.createToken({}, { audience: "server-2", issuer: "proxy-1" });
  assert.equal((await bound.verifyToken(other, { audience: "server-2" })).aud, "server-2");
});

Deno.test("AuthManager.verifyToken() rejects truncated, garbage and empty tokens with ERR_AUTH_MALFORMED", async () => {
  const auth = new AuthManager(SECRET);
  const token = await auth.createToken();
  const [header, payload] = token.split(".");
  const bad = [
    "",
    `${header}.${payload}`,
    `${header}`,
    token.slice(0, header!.length + 1 + 10),
    "not.a.token",
    "garbage",
    "....",
    `${base64url("not an object")}.${payload}.sig`,
    `!!!.${payload}.${token.split(".")[2]}`,
  ];
  for (const candidate of bad) {
    await assertRejectsWith(auth.verifyToken(candidate), "ERR_AUTH_MALFORMED");
  }
  await assertRejectsWith(auth.verifyToken(undefined as unknown as string), "ERR_AUTH_MALFORMED");
  // Cut inside the signature, or with the signature removed, the token is well-formed but its signature is wrong.
  await assertRejectsWith(auth.verifyToken(token.slice(0, -10)), "ERR_AUTH_BAD_SIGNATURE");
  await assertRejectsWith(auth.verifyToken(`${header}.${payload}.`), "ERR_AUTH_BAD_SIGNATURE");
});

Deno.test("AuthManager.verifyToken() rejects a 64 KiB token, even a validly signed one, with ERR_AUTH_MALFORMED", async () => {
  const auth = new AuthManager(SECRET);
  const huge = await auth.createToken({ blob: "x".repeat(64 * 1024) });
  assert.ok(huge.length > 64 * 1024);
  await assertRejectsWith(auth.verifyToken(huge), "ERR_AUTH_MALFORMED");
  const justOver = await auth.createToken({ blob: "x".repeat(MAX_TOKEN_LENGTH) });
  await assertRejectsWith(auth.verifyToken(justOver), "ERR_AUTH_MALFORMED");
  await assertRejectsWith(auth.verifyToken("a".repeat(MAX_TOKEN_LENGTH + 1)), "ERR_AUTH_MALFORMED");
});

Deno.test("AuthManager.verifyToken() rejects a hand-crafted alg none token with ERR_AUTH_ALG_NOT_ALLOWED", async () => {
  const auth = new AuthManager(SECRET);
  const kid = await auth.signingKid();
  const now = Math.floor(Date.now() / 1000);
  const claims = { iat: now, exp: now + 3600, jti: "x", admin: true };
  for (const alg of ["none", "None", "NONE"]) {
    const unsigned = `${base64url({ alg, typ: "JWT", kid })}.${base64url(claims)}.`;
    await assertRejectsWith(auth.verifyToken(unsigned), "ERR_AUTH_ALG_NOT_ALLOWED");
  }
});

Deno.test("AuthManager.verifyToken() rejects an HS256 token signed with the same secret and kid by an HS512 manager", async () => {
  const auth = new AuthManager(SECRET);
  const kid = await auth.signingKid();
  const downgraded = await new jose.SignJWT({ admin: true })
    .setProtectedHeader({ alg: "HS256", kid: kid! })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));
  await assertRejectsWith(auth.verifyToken(downgraded), "ERR_AUTH_ALG_NOT_ALLOWED");
});

Deno.test("AuthManager with algorithm HS256 signs HS256 and rejects HS512 tokens of the same secret", async () => {
  const hs256 = new AuthManager(SECRET, { algorithm: "HS256" });
  const token = await hs256.createToken();
  assert.equal(jose.decodeProtectedHeader(token).alg, "HS256");
  await hs256.verifyToken(token);
  const hs512Token = await new AuthManager(SECRET).createToken();
  await assertRejectsWith(hs256.verifyToken(hs512Token), "ERR_AUTH_ALG_NOT_ALLOWED");
});

Deno.test("AuthManager.verifyToken() rejects a token without exp with ERR_AUTH_CLAIM_INVALID on claim exp", async () => {
  const auth = new AuthManager(SECRET);
  const noExp = await new jose.SignJWT({ test: true })
    .setProtectedHeader({ alg: "HS512", kid: (await auth.signingKid())! })
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .sign(new TextEncoder().encode(SECRET));
  // Control: the same construction with exp is accepted, so only the missing exp is at fault.
  const withExp = await new jose.SignJWT({ test: true })
    .setProtectedHeader({ alg: "HS512", kid: (await auth.signingKid())! })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));
  await auth.verifyToken(withExp);
  await assertRejectsWith(auth.verifyToken(noExp), "ERR_AUTH_CLAIM_INVALID", "exp");
});

Deno.test("AuthManager.verifyToken() accepts a token without kid when it holds a single key", async () => {
  const auth = new AuthManager(SECRET);
  const noKid = await new jose.SignJWT({})
    .setProtectedHeader({ alg: "HS512" })
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));
  await auth.verifyToken(noKid);
  await auth.addVerificationKey(OTHER_SECRET);
  await assertRejectsWith(auth.verifyToken(noKid), "ERR_AUTH_BAD_SIGNATURE");
});

Deno.test("AuthManager accepts a Uint8Array secret with the same kid as the equal string secret", async () => {
  const fromString = new AuthManager(SECRET);
  const fromBytes = new AuthManager(new TextEncoder().encode(SECRET));
  assert.equal(await fromBytes.signingKid(), await fromString.signingKid());
  await fromString.verifyToken(await fromBytes.createToken());
});

Deno.test("AuthManager rotation: old and new keys verify during the overlap, the old one not after removal", async () => {
  const OLD = SECRET;
  const NEW = OTHER_SECRET;
  const oldSigner = new AuthManager(OLD);
  const newSigner = new AuthManager(NEW);
  const verifier = new AuthManager(NEW);
  const oldTokenBefore = await oldSigner.createToken({ gen: "old" });
  await assertRejectsWith(verifier.verifyToken(oldTokenBefore), "ERR_AUTH_BAD_SIGNATURE");

  const added = await verifier.addVerificationKey(OLD);
  const oldKid = await oldSigner.signingKid();
  assert.equal(added, oldKid);
  assert.equal((await verifier.verifyToken(oldTokenBefore)).gen, "old");
  assert.equal((await verifier.verifyToken(await newSigner.createToken({ gen: "new" }))).gen, "new");

  assert.equal(verifier.removeVerificationKey(oldKid!), true);
  assert.equal(verifier.removeVerificationKey(oldKid!), false);
  await assertRejectsWith(verifier.verifyToken(await oldSigner.createToken()), "ERR_AUTH_BAD_SIGNATURE");
  await verifier.verifyToken(await newSigner.createToken());
});

Deno.test("AuthManager.fromJwks() builds a verify-only manager that accepts its signer's tokens (EdDSA, ES256)", async () => {
  for (const alg of ["EdDSA", "ES256"] as const) {
    const signer = await AuthManager.generate(alg);
    assert.equal(await signer.canSign(), true);
    const jwks = await signer.publicJwks();
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]!.d, undefined, "a published JWKS never holds the private key");
    assert.equal(jwks.keys[0]!.alg, alg);
    assert.equal(jwks.keys[0]!.kid, await signer.signingKid());

    const verifier = await AuthManager.fromJwks(jwks);
    const token = await signer.createToken({ test: true }, { audience: "server-1" });
    assert.equal(jose.decodeProtectedHeader(token).alg, alg);
    const claims = await verifier.verifyToken(token, { audience: "server-1" });
    assert.equal(claims.test, true);
    assert.equal(claims.aud, "server-1");
  }
});

Deno.test("AuthManager.fromJwks() manager rejects another signer's tokens (EdDSA, ES256)", async () => {
  for (const alg of ["EdDSA", "ES256"] as const) {
    const signer = await AuthManager.generate(alg);
    const stranger = await AuthManager.generate(alg);
    const verifier = await AuthManager.fromJwks(await signer.publicJwks());
    await assertRejectsWith(verifier.verifyToken(await stranger.createToken()), "ERR_AUTH_BAD_SIGNATURE");

    // A forger who copies the signer's kid still fails on the signature.
    const { privateKey } = await jose.generateKeyPair(alg);
    const forged = await new jose.SignJWT({})
      .setProtectedHeader({ alg, kid: (await signer.signingKid())! })
      .setExpirationTime("1h")
      .sign(privateKey);
    await assertRejectsWith(verifier.verifyToken(forged), "ERR_AUTH_BAD_SIGNATURE");
  }
});

Deno.test("AuthManager.fromJwks() manager cannot sign: canSign() is false and createToken() throws ERR_AUTH_NO_KEY", async () => {
  const signer = await AuthManager.generate("EdDSA");
  const verifier = await AuthManager.fromJwks(await signer.publicJwks());
  assert.equal(await verifier.canSign(), false);
  assert.equal(await verifier.signingKid(), undefined);
  await assertRejectsWith(verifier.createToken(), "ERR_AUTH_NO_KEY");
});

Deno.test("AuthManager with a shared secret publishes an empty JWKS", async () => {
  assert.deepEqual(await new AuthManager(SECRET).publicJwks(), { keys: [] });
});

Deno.test("AuthManager with a shared secret rejects an EdDSA token", async () => {
  const signer = await AuthManager.generate("EdDSA");
  const hmac = new AuthManager(SECRET);
  const err = await assertRejectsWith(hmac.verifyToken(await signer.createToken()), "ERR_AUTH_ALG_NOT_ALLOWED");
  assert.equal((err.cause as { code?: string }).code, "ERR_JOSE_ALG_NOT_ALLOWED");
});

Deno.test("AuthManager.fromJwks() manager rejects an HMAC token", async () => {
  const verifier = await AuthManager.fromJwks(await (await AuthManager.generate("ES256")).publicJwks());
  await assertRejectsWith(
    verifier.verifyToken(await new AuthManager(SECRET).createToken()),
    "ERR_AUTH_ALG_NOT_ALLOWED",
  );
});

Deno.test("AuthManager.fromJwks() manager rejects an ES256 token under an EdDSA key set", async () => {
  const verifier = await AuthManager.fromJwks(await (await AuthManager.generate("EdDSA")).publicJwks());
  await assertRejectsWith(
    verifier.verifyToken(await (await AuthManager.generate("ES256")).createToken()),
    "ERR_AUTH_ALG_NOT_ALLOWED",
  );
});

Deno.test("AuthManager.addVerificationKey() with a JWK lets a verify-only manager accept a second signer", async () => {
  const first = await AuthManager.generate("EdDSA");
  const second = await AuthManager.generate("ES256");
  const verifier = await AuthManager.fromJwks(await first.publicJwks());
  await assertRejectsWith(verifier.verifyToken(await second.createToken()), "ERR_AUTH_ALG_NOT_ALLOWED");
  const kid = await verifier.addVerificationKey((await second.publicJwks()).keys[0]!);
  assert.equal(kid, await second.signingKid());
  await verifier.verifyToken(await first.createToken());
  await verifier.verifyToken(await second.createToken());
});

Deno.test("AuthManager.fromJwks() rejects a private JWK, a symmetric JWK and an empty key set with TypeError", async () => {
  const { privateKey } = await jose.generateKeyPair("EdDSA", { extractable: true });
  const privateJwk = { ...(await jose.exportJWK(privateKey)), alg: "EdDSA" };
  assert.equal(typeof privateJwk.d, "string");
  await assert.rejects(AuthManager.fromJwks({ keys: [privateJwk] }), TypeError);

  const octJwk: jose.JWK = {
    kty: "oct",
    k: new TextEncoder().encode(SECRET).toBase64({ alphabet: "base64url" }),
    alg: "HS256",
  };
  await assert.rejects(AuthManager.fromJwks({ keys: [octJwk] }), TypeError);

  await assert.rejects(AuthManager.fromJwks({ keys: [] }), TypeError);

  const publicJwk = (await (await AuthManager.generate("ES256")).publicJwks()).keys[0]!;
  await assert.rejects(AuthManager.fromJwks({ keys: [{ ...publicJwk, alg: "RS256" }] }), TypeError);
});

Deno.test("new AuthManager() rejects an empty secret with a ConfigError", () => {
  for (const secret of ["", new Uint8Array(0)]) {
    assert.throws(
      () => new AuthManager(secret),
      (e: unknown) => e instanceof ConfigError && e.code === "ERR_CONFIG_INVALID" && e.field === "secret",
    );
  }
});

Deno.test("new AuthManager() with strictSecrets rejects a secret shorter than 32 bytes", () => {
  assert.throws(
    () => new AuthManager("x".repeat(31), { strictSecrets: true }),
    (e: unknown) => e instanceof ConfigError && e.code === "ERR_CONFIG_INVALID" && e.field === "secret",
  );
  new AuthManager("x".repeat(32), { strictSecrets: true });
});

Deno.test("AuthManager.verifyToken() refuses a token issued in the future", async () => {
  const t0 = Date.UTC(2026, 0, 1);
  const issuer = new AuthManager("a-secret-of-at-least-thirty-two-bytes!!", { now: () => t0 + 60_000 });
  const verifier = new AuthManager("a-secret-of-at-least-thirty-two-bytes!!", { now: () => t0 });
  const token = await issuer.createToken({}, { expiresIn: "1h" });
  await assert.rejects(
    verifier.verifyToken(token),
    (e) => e instanceof AuthenticationError && e.code === "ERR_AUTH_CLAIM_INVALID" && e.claim === "iat",
  );
  const skewed = new AuthManager("a-secret-of-at-least-thirty-two-bytes!!", { now: () => t0 + 57_000 });
  assert.equal(typeof (await skewed.verifyToken(token)).iat, "number");
});
