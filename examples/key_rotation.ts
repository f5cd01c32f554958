/**
 * Key rotation and asymmetric keys (docs/security.md). First a shared secret is rotated without a failed call:
 * members accept the old and the new secret, the proxy switches to the new one (its secret is a provider function,
 * called for every token), connections renew their tokens in place, and then members drop the old secret. Then a
 * member verifies EdDSA tokens with nothing but a public JWKS: it can check tokens, not mint them.
 *
 * ```sh
 * deno run -A examples/key_rotation.ts
 * ```
 *
 * @module
 */

import { AuthManager, consoleLogger, FederationProxy } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, LocalMember, probeDataEndpoint, sleep } from "./_support.ts";

const flags = exampleFlags({
  summary: "Rotates the shared secret with calls in flight, then verifies EdDSA tokens with a JWKS.",
  runningMembers: false,
});
const oldSecret = exampleSecret(flags);
const newSecret = crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url", omitPadding: true });

// #region rotate-member
// 1. Members accept both secrets: the new one, and the old one as an extra verification key
const verifier = new AuthManager(newSecret);
const oldKid = await verifier.addVerificationKey(oldSecret);
// #endregion rotate-member
await using member = await LocalMember.start("server-1", newSecret, { extra: { verifier } });

// #region rotate-proxy
// 2. The proxy's secret is a provider, called for every token it mints
let currentSecret = oldSecret;
await using proxy = new FederationProxy(() => currentSecret, { logger: consoleLogger("error") });
await proxy.registerServer({
  serverId: "server-1",
  endpoints: member.endpoints,
  auth: { type: "jwt", config: { expiresIn: 4 } }, // short-lived tokens, renewed at 75% of their lifetime
});
currentSecret = newSecret; // from now on, tokens are signed with the new secret
// #endregion rotate-proxy
console.log("Registered with the old secret; the proxy now signs with the new one");

// Calls keep flowing while tokens renew with the new secret.
let calls = 0;
let failures = 0;
const deadline = performance.now() + 4_500;
while (performance.now() < deadline) {
  await proxy.callTool("server-1", "echo", { text: "x" }).then(() => calls++, () => failures++);
  await sleep(50);
}
console.log(`Calls during the switch: ${calls} succeeded, ${failures} failed`);

// #region rotate-retire
// 3. Once every old token has expired (the longest lifetime in use), members drop the old secret
verifier.removeVerificationKey(oldKid);
// #endregion rotate-retire
const oldToken = await new AuthManager(oldSecret).createToken({}, { audience: "server-1" });
const newToken = await new AuthManager(newSecret).createToken({}, { audience: "server-1" });
const dataUrl = member.endpoints.data!;
const retired = (await probeDataEndpoint(dataUrl, oldToken)).status;
const current = (await probeDataEndpoint(dataUrl, newToken)).status;
console.log(`Member after retirement: old secret HTTP ${retired}, new secret HTTP ${current}`);
for (const channel of ["control", "data"] as const) {
  const result = await proxy.callTool("server-1", "echo", { text: "still connected" }, { channel });
  console.log(`Proxy after retirement, ${channel} channel: ${result.isError ? "error" : "call succeeded"}`);
  if (result.isError) failures++;
}

// #region asymmetric
// An EdDSA key pair: whoever holds the signer mints tokens; members get only the public JWKS
const signer = await AuthManager.generate("EdDSA");
const jwks = await signer.publicJwks(); // { keys: [{ kty: "OKP", crv: "Ed25519", x: "…", kid: "…", alg: "EdDSA" }] }
const memberVerifier = await AuthManager.fromJwks(jwks);
console.log(`A JWKS verifier can mint tokens: ${await memberVerifier.canSign()}`);
// #endregion asymmetric
await using jwksMember = await LocalMember.start("server-2", newSecret, { extra: { verifier: jwks } });
const eddsa = await signer.createToken({}, { audience: "server-2", expiresIn: "5m" });
const hmac = await new AuthManager(newSecret).createToken({}, { audience: "server-2" });
const eddsaStatus = (await probeDataEndpoint(jwksMember.endpoints.data!, eddsa)).status;
const hmacStatus = (await probeDataEndpoint(jwksMember.endpoints.data!, hmac)).status;
console.log(`JWKS member: EdDSA token HTTP ${eddsaStatus}, HMAC token HTTP ${hmacStatus}`);
if (failures > 0 || retired !== 401 || current !== 200 || eddsaStatus !== 200 || hmacStatus !== 401) Deno.exit(1);
