// The member verifies a bearer token's signature once, not on every request: the proxy sends the same token with
// every request of a connection. A remembered token still expires, and is verified again after
// VERIFIED_MAX_AGE_MS; a token never verified (or refused) is always checked.
import assert from "node:assert/strict";
import { AuthManager, type TokenPayload } from "../../packages/core/auth.ts";
import { AuthGuard } from "../../packages/member/_auth_guard.ts";
import { VERIFIED_MAX_AGE_MS } from "../../packages/core/_verified_tokens.ts";
import { AuthenticationError } from "../../packages/core/errors.ts";
import { SECRET } from "../_support/members.ts";

/** A real AuthManager that counts the signatures it verified. */
class CountingManager extends AuthManager {
  verified = 0;
  override verifyToken(token: string, options?: Parameters<AuthManager["verifyToken"]>[1]): Promise<TokenPayload> {
    this.verified++;
    return super.verifyToken(token, options);
  }
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

Deno.test("Member auth guard verifies a token's signature once, then until its expiry or the max age", async () => {
  let now = Date.now();
  const manager = new CountingManager(SECRET);
  const guard = new AuthGuard(manager, { audience: "m", issuer: undefined, now: () => now, logger: quiet });
  const signer = new AuthManager(SECRET);
  const token = await signer.createToken({}, { audience: "m", subject: "proxy", expiresIn: 120 });
  for (let i = 0; i < 100; i++) assert.equal((await guard.verify(token)).sub, "proxy");
  assert.equal(manager.verified, 1);
  // Another token is verified on its own.
  const other = await signer.createToken({}, { audience: "m", subject: "other", expiresIn: 120 });
  assert.equal((await guard.verify(other)).sub, "other");
  assert.equal(manager.verified, 2);
  // A forged token (another key) is checked every time, and refused every time.
  const forged = await new AuthManager("another-secret-of-at-least-thirty-two-bytes").createToken({}, {
    audience: "m",
    subject: "proxy",
  });
  for (let i = 0; i < 2; i++) await assert.rejects(guard.verify(forged), AuthenticationError);
  assert.equal(manager.verified, 4);
  // After the max age the signature is checked again.
  now += VERIFIED_MAX_AGE_MS + 1;
  await guard.verify(token);
  assert.equal(manager.verified, 5);
  // Past its expiry a remembered token is refused.
  now += 120_000;
  await assert.rejects(guard.verify(token), (error: unknown) => error instanceof AuthenticationError);
});

Deno.test("Member auth guard: a verification key removed stops admitting its remembered tokens at once", async () => {
  const manager = new CountingManager("current-secret-of-at-least-thirty-two-bytes");
  const oldKid = await manager.addVerificationKey(SECRET);
  const guard = new AuthGuard(manager, { audience: "m", issuer: undefined, now: () => Date.now(), logger: quiet });
  const token = await new AuthManager(SECRET).createToken({}, { audience: "m", subject: "proxy", expiresIn: 120 });
  for (let i = 0; i < 3; i++) assert.equal((await guard.verify(token)).sub, "proxy");
  assert.equal(manager.verified, 1);
  // Adding a key forgets what was verified (verified again, still admitted).
  await manager.addVerificationKey("third-secret-of-at-least-thirty-two-bytes!");
  assert.equal((await guard.verify(token)).sub, "proxy");
  assert.equal(manager.verified, 2);
  // Removing the key that signed it refuses it on the next request, well within VERIFIED_MAX_AGE_MS.
  assert.ok(manager.removeVerificationKey(oldKid));
  await assert.rejects(guard.verify(token), AuthenticationError);
  assert.equal(manager.verified, 3);
});
