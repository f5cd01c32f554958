/**
 * Token validation (usage guide, "Best Practices" 1): `AuthManager.verifyToken` accepts a well-formed, unexpired
 * token signed with the pinned algorithm and refuses everything else with an `AuthenticationError` code. Then the
 * same checks seen from a member: an HTTP request with a bad token gets 401 before any MCP processing.
 *
 * ```sh
 * deno run -A examples/token_validation.ts
 * ```
 *
 * @module
 */

import { AuthenticationError, AuthManager, type TokenPayload } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, probeDataEndpoint, startMembers } from "./_support.ts";

const flags = exampleFlags({ summary: "Validates good and bad tokens locally, then against a member." });
const SECRET_KEY = exampleSecret(flags);

// #region validate
const authManager = new AuthManager(SECRET_KEY);

// Validate incoming tokens
async function validateToken(token: string): Promise<TokenPayload | null> {
  try {
    const payload = await authManager.verifyToken(token);
    return payload;
  } catch (error) {
    // The error names the failed check (code, claim), never the token
    console.error("Token validation failed:", error instanceof AuthenticationError ? error.code : error);
    return null;
  }
}
// #endregion validate

const base64url = (text: string) =>
  new TextEncoder().encode(text).toBase64({ alphabet: "base64url", omitPadding: true });
const good = await authManager.createToken({ role: "demo" }, {
  issuer: "federation-proxy",
  audience: "server-1",
  subject: "example",
  expiresIn: "1h",
});
const [header, payload] = good.split(".");
const twoHoursAgo = new AuthManager(SECRET_KEY, { now: () => Date.now() - 2 * 3_600_000 });
const tokens: [what: string, token: string, accept: boolean][] = [
  ["valid token", good, true],
  ["expired token", await twoHoursAgo.createToken({}, { expiresIn: "1h" }), false],
  ["token of another secret", await new AuthManager("some-other-secret-of-at-least-32-bytes!").createToken(), false],
  ["tampered payload", `${header}.${base64url('{"role":"admin","exp":9999999999}')}.${good.split(".")[2]}`, false],
  ['"alg": "none" token', `${base64url('{"alg":"none","typ":"JWT"}')}.${payload}.`, false],
  ["garbage", "not-a-token", false],
];

let wrong = 0;
for (const [what, token, accept] of tokens) {
  const claims = await validateToken(token);
  const verdict = claims
    ? `accepted (iss ${claims.iss}, aud ${claims.aud}, sub ${claims.sub}, ` +
      `lifetime ${claims.exp - claims.iat!}s, jti ${claims.jti ? "set" : "missing"})`
    : "rejected";
  console.log(`${what}: ${verdict}`);
  if ((claims !== null) !== accept) wrong++;
}

// #region audience
// A member accepts only tokens addressed to it: aud must be its serverId
try {
  await authManager.verifyToken(good, { audience: "server-2" });
} catch (error) {
  if (error instanceof AuthenticationError) console.log(`token for server-1 shown to server-2: ${error.code}`);
}
// #endregion audience

// The member side: a bad token is refused with 401 before any MCP processing, a good one is let through.
await using members = await startMembers(flags, SECRET_KEY, ["server-1"]);
const dataUrl = members.list[0]!.endpoints.data!;
for (const [what, token] of [["bad token", "not-a-token"], ["good token", good]] as const) {
  const { status, challenge } = await probeDataEndpoint(dataUrl, token);
  console.log(`member, ${what}: HTTP ${status}${challenge ? ` (WWW-Authenticate: ${challenge})` : ""}`);
  if ((status === 200) !== (what === "good token")) wrong++;
}
if (wrong > 0) {
  console.error(`${wrong} token(s) were judged wrongly`);
  Deno.exit(1);
}
