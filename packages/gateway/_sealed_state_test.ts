import assert from "node:assert/strict";
import {
  InvalidRequestStateError,
  MAX_SEALED_STATE_CHARS,
  RequestStateSealer,
  type SealedState,
} from "./_sealed_state.ts";

const SECRET = "a-gateway-client-secret-of-32-bytes!!";
const OTHER_SECRET = "another-gateway-secret-of-32-bytes!!!";

const STATE: SealedState = {
  member: "weather",
  memberState: "member-opaque-state",
  sub: "alice",
  method: "tools/call",
  name: "weather__ask",
};

function b64(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

function unb64(text: string): Uint8Array {
  return Uint8Array.fromBase64(text, { alphabet: "base64url" });
}

async function refused(promise: Promise<unknown>, reason: InvalidRequestStateError["reason"]): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof InvalidRequestStateError);
    assert.equal(err.code, -32602);
    assert.equal(err.message, "Invalid or expired requestState");
    assert.equal(err.reason, reason);
    return true;
  });
}

Deno.test("RequestStateSealer round-trips a state and hides its content", async () => {
  const sealer = await RequestStateSealer.fromSecret(SECRET);
  const token = await sealer.seal(STATE);
  assert.ok(token.startsWith(`v1.${sealer.kid}.`));
  const ciphertext = new TextDecoder().decode(unb64(token.split(".")[3]!));
  assert.ok(!ciphertext.includes("member-opaque-state") && !ciphertext.includes("weather"));
  assert.deepEqual(await sealer.open(token, { sub: "alice" }), STATE);
});

Deno.test("RequestStateSealer round-trips an undefined memberState and sub", async () => {
  const sealer = await RequestStateSealer.fromSecret(new TextEncoder().encode(SECRET));
  const state: SealedState = { ...STATE, memberState: undefined, sub: undefined };
  assert.deepEqual(await sealer.open(await sealer.seal(state), { sub: undefined }), state);
});

Deno.test("RequestStateSealer seals the same state differently each time (fresh nonce)", async () => {
  const sealer = await RequestStateSealer.fromSecret(SECRET);
  assert.notEqual(await sealer.seal(STATE), await sealer.seal(STATE));
});

Deno.test("RequestStateSealer.open() refuses a token with any byte changed", async () => {
  const sealer = await RequestStateSealer.fromSecret(SECRET);
  const token = await sealer.seal(STATE);
  const [version, kid, iv, ct] = token.split(".") as [string, string, string, string];
  const ivBytes = unb64(iv);
  const ctBytes = unb64(ct);
  for (let i = 0; i < ivBytes.length; i++) {
    const bad = ivBytes.slice();
    bad[i]! ^= 0x01;
    await refused(sealer.open(`${version}.${kid}.${b64(bad)}.${ct}`, { sub: "alice" }), "tampered");
  }
  for (let i = 0; i < ctBytes.length; i++) {
    const bad = ctBytes.slice();
    bad[i]! ^= 0x80;
    await refused(sealer.open(`${version}.${kid}.${iv}.${b64(bad)}`, { sub: "alice" }), "tampered");
  }
  const truncated = b64(ctBytes.subarray(0, ctBytes.length - 1));
  await refused(sealer.open(`${version}.${kid}.${iv}.${truncated}`, { sub: "alice" }), "tampered");
  await refused(sealer.open(`${version}.AAAAAAAA.${iv}.${ct}`, { sub: "alice" }), "unknown-key");
  await refused(sealer.open(`v2.${kid}.${iv}.${ct}`, { sub: "alice" }), "malformed");
});

Deno.test("RequestStateSealer.open() refuses every change of a character, including non-canonical spellings", async () => {
  const sealer = await RequestStateSealer.fromSecret(SECRET);
  const token = await sealer.seal(STATE);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (let i = 0; i < token.length; i++) {
    if (token[i] === ".") continue;
    const other = alphabet[(alphabet.indexOf(token[i]!) + 1) % alphabet.length]!;
    const changed = token.slice(0, i) + other + token.slice(i + 1);
    await assert.rejects(sealer.open(changed, { sub: "alice" }), InvalidRequestStateError, `position ${i}`);
  }
});

Deno.test("RequestStateSealer.open() refuses malformed and oversized tokens before decrypting", async () => {
  const sealer = await RequestStateSealer.fromSecret(SECRET);
  const token = await sealer.seal(STATE);
  for (const bad of ["", "v1", "v1.a.b", `${token}.x`, token.replace(/\.[^.]*$/, ".%%%"), `${token}=`]) {
    await refused(sealer.open(bad, { sub: "alice" }), "malformed");
  }
  await refused(sealer.open(`${token}${"A".repeat(MAX_SEALED_STATE_CHARS)}`, { sub: "alice" }), "malformed");
});

Deno.test("RequestStateSealer.open() refuses a state sealed by a gateway with another secret", async () => {
  const ours = await RequestStateSealer.fromSecret(SECRET);
  const theirs = await RequestStateSealer.fromSecret(OTHER_SECRET);
  assert.notEqual(ours.kid, theirs.kid);
  const token = await theirs.seal(STATE);
  await refused(ours.open(token, { sub: "alice" }), "unknown-key");
  // Relabelled with our kid, the ciphertext still does not authenticate under our key.
  await refused(ours.open(token.replace(`v1.${theirs.kid}.`, `v1.${ours.kid}.`), { sub: "alice" }), "tampered");
});

Deno.test("RequestStateSealer: replicas sharing the secret open each other's states", async () => {
  const a = await RequestStateSealer.fromSecret(SECRET);
  const b = await RequestStateSealer.fromSecret(SECRET);
  assert.equal(a.kid, b.kid);
  assert.deepEqual(await b.open(await a.seal(STATE), { sub: "alice" }), STATE);
});

Deno.test("RequestStateSealer.open() refuses an expired state", async () => {
  let now = 1_000_000;
  const sealer = await RequestStateSealer.fromSecret(SECRET, { ttlMs: 5_000, now: () => now });
  const token = await sealer.seal(STATE);
  now += 4_999;
  assert.equal((await sealer.open(token, { sub: "alice" })).member, "weather");
  now += 1;
  await refused(sealer.open(token, { sub: "alice" }), "expired");
});

Deno.test("RequestStateSealer defaults to a ten-minute lifetime", async () => {
  let now = 0;
  const sealer = await RequestStateSealer.fromSecret(SECRET, { now: () => now });
  const token = await sealer.seal(STATE);
  now = 599_999;
  assert.deepEqual(await sealer.open(token, { sub: "alice" }), STATE);
  now = 600_000;
  await refused(sealer.open(token, { sub: "alice" }), "expired");
});

Deno.test("RequestStateSealer.open() refuses a state issued in the future (beyond the clock skew)", async () => {
  let now = 10_000_000;
  const sealer = await RequestStateSealer.fromSecret(SECRET, { now: () => now });
  const token = await sealer.seal(STATE);
  now -= 60_001;
  await refused(sealer.open(token, { sub: "alice" }), "expired");
});

Deno.test("RequestStateSealer.open() refuses a state presented by another subject", async () => {
  const sealer = await RequestStateSealer.fromSecret(SECRET);
  const token = await sealer.seal(STATE);
  await refused(sealer.open(token, { sub: "mallory" }), "subject");
  await refused(sealer.open(token, { sub: undefined }), "subject");
  const anonymous = await sealer.seal({ ...STATE, sub: undefined });
  await refused(sealer.open(anonymous, { sub: "alice" }), "subject");
});

Deno.test("RequestStateSealer opens states sealed before a rotation while the old secret is listed", async () => {
  const before = await RequestStateSealer.fromSecret(SECRET);
  const token = await before.seal(STATE);
  const after = await RequestStateSealer.fromSecret(OTHER_SECRET, { previousSecrets: [SECRET] });
  assert.deepEqual(await after.open(token, { sub: "alice" }), STATE);
  // New states are sealed under the new key only.
  const fresh = await after.seal(STATE);
  assert.ok(fresh.startsWith(`v1.${after.kid}.`));
  await refused(before.open(fresh, { sub: "alice" }), "unknown-key");
  // Once the old secret is dropped, the old state no longer opens.
  const dropped = await RequestStateSealer.fromSecret(OTHER_SECRET);
  await refused(dropped.open(token, { sub: "alice" }), "unknown-key");
});

Deno.test("RequestStateSealer.fromSecret() rejects an empty secret and a non-positive ttl", async () => {
  await assert.rejects(RequestStateSealer.fromSecret(""), TypeError);
  await assert.rejects(RequestStateSealer.fromSecret(new Uint8Array()), TypeError);
  await assert.rejects(RequestStateSealer.fromSecret(SECRET, { ttlMs: 0 }), TypeError);
  await assert.rejects(RequestStateSealer.fromSecret(SECRET, { ttlMs: Number.NaN }), TypeError);
});
