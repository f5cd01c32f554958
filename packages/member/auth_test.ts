import assert from "node:assert/strict";
import { z } from "zod";
import { AuthenticationError } from "../core/errors.ts";
import { CloseCode } from "../core/websocket_transport.ts";
import {
  AuthManager,
  closeCodeOf,
  httpClient,
  initializeBody,
  mint,
  mintExpiringSoon,
  OTHER_SECRET,
  postHeaders,
  rawHttp,
  SECRET,
  SERVER_ID,
  signer,
  startMember,
  textOf,
  upgradeHeaders,
  WebSocketTransport,
  wsClient,
} from "./_helpers_test.ts";
import { MemberRpcErrorCode, RENEW_TOKEN_METHOD } from "./control_protocol.ts";

function b64url(value: unknown): string {
  return new TextEncoder().encode(JSON.stringify(value)).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Every way of presenting a bad credential; each value is the Authorization header (or undefined for none). */
async function badCredentials(): Promise<{ name: string; authorization: string | undefined; query?: string }[]> {
  const now = Math.floor(Date.now() / 1000);
  const valid = await mint();
  const past = new AuthManager(SECRET, { now: () => Date.now() - 2 * 3600_000 });
  const hs256 = new AuthManager(SECRET, { algorithm: "HS256" });
  const noneToken = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ aud: SERVER_ID, sub: "x", exp: now + 3600 })}.`;
  const validParts = valid.split(".");
  const forged = `${validParts[0]}.${b64url({ aud: SERVER_ID, sub: "admin", exp: now + 3600 })}.${validParts[2]}`;
  return [
    { name: "no header", authorization: undefined },
    {
      name: "expired",
      authorization: `Bearer ${await past.createToken({}, { audience: SERVER_ID, expiresIn: "1h" })}`,
    },
    { name: "another serverId", authorization: `Bearer ${await mint({ audience: "member-2" })}` },
    { name: "no audience", authorization: `Bearer ${await signer.createToken({}, { subject: "proxy-a" })}` },
    { name: "another secret", authorization: `Bearer ${await mint({}, new AuthManager(OTHER_SECRET))}` },
    { name: "another HMAC algorithm", authorization: `Bearer ${await hs256.createToken({}, { audience: SERVER_ID })}` },
    { name: "alg none", authorization: `Bearer ${noneToken}` },
    { name: "forged payload", authorization: `Bearer ${forged}` },
    { name: "bare Bearer", authorization: "Bearer" },
    { name: "Basic", authorization: "Basic dXNlcjpwYXNz" },
    { name: "two segments", authorization: "Bearer a.b" },
    { name: "garbage", authorization: "Bearer ####" },
    { name: "two tokens", authorization: `Bearer ${valid}, Bearer ${valid}` },
    { name: "token in the query only", authorization: undefined, query: `?token=${valid}&access_token=${valid}` },
  ];
}

function assertUnauthorized(response: { status: number; headers: Headers; body: string }, name: string): void {
  assert.equal(response.status, 401, name);
  assert.equal(response.headers.get("www-authenticate"), 'Bearer error="invalid_token"', name);
  assert.deepEqual(JSON.parse(response.body), { error: "invalid_token" }, name);
}

Deno.test("both endpoints answer every bad credential with 401 before any upgrade, then serve a good client", async () => {
  const { member, lines } = await startMember({ control: { port: 0 }, data: { port: 0 } });
  const cases = await badCredentials();
  for (const { name, authorization, query = "" } of cases) {
    const auth: Record<string, string> = authorization === undefined ? {} : { authorization };
    const data = await fetch(member.dataUrl! + query, {
      method: "POST",
      headers: { ...postHeaders(undefined), ...auth },
      body: initializeBody(),
    });
    assertUnauthorized({ status: data.status, headers: data.headers, body: await data.text() }, `data: ${name}`);
    const get = await fetch(member.dataUrl! + query, { headers: { accept: "text/event-stream", ...auth } });
    assertUnauthorized({ status: get.status, headers: get.headers, body: await get.text() }, `data GET: ${name}`);
    const control = await rawHttp(member.controlUrl!.replace("ws:", "http:") + query, upgradeHeaders(auth));
    assertUnauthorized(control, `control: ${name}`);
  }
  // The project's client transport reports the refusal as ERR_AUTH_REJECTED.
  await assert.rejects(
    WebSocketTransport.connect(member.controlUrl!, { headers: { Authorization: "Bearer a.b.c" } }),
    (error: unknown) => error instanceof AuthenticationError && error.code === "ERR_AUTH_REJECTED",
  );
  assert.deepEqual(member.sessionCount(), { control: 0, data: 0 });

  const token = await mint();
  const http = await httpClient(member.dataUrl!, token);
  const { client: ws } = await wsClient(member.controlUrl!, token);
  assert.equal(textOf(await http.callTool({ name: "echo", arguments: { text: "still" } })), "still");
  assert.equal(textOf(await ws.callTool({ name: "echo", arguments: { text: "here" } })), "here");
  await http.close();
  await ws.close();
  await member.close();

  // Refusals are logged at debug with their code, and no token appears in any logged line or data.
  const logged = JSON.stringify(lines);
  assert.ok(lines.some((l) => l.level === "debug" && (l.data as { code?: string })?.code === "ERR_AUTH_EXPIRED"));
  assert.ok(lines.some((l) => (l.data as { code?: string })?.code === "ERR_AUTH_ALG_NOT_ALLOWED"));
  for (const { authorization } of cases) {
    const secretPart = authorization?.split(" ")[1];
    if (secretPart && secretPart.length > 8) assert.ok(!logged.includes(secretPart), "a token was logged");
  }
  assert.ok(!logged.includes(token));
  assert.ok(!logged.toLowerCase().includes("bearer"));
});

Deno.test("a token with a past exp inside the verifier's clock tolerance is refused", async () => {
  const { member } = await startMember();
  const manager = new AuthManager(SECRET, { now: () => Date.now() - 62_000 });
  const token = await manager.createToken({}, { audience: SERVER_ID, expiresIn: 60 }); // expired ~2 s ago
  const response = await fetch(member.dataUrl!, {
    method: "POST",
    headers: postHeaders(token),
    body: initializeBody(),
  });
  assert.equal(response.status, 401);
  await response.body?.cancel();
  await member.close();
});

Deno.test("an issuer option requires that iss", async () => {
  const { member } = await startMember({ issuer: "proxy-1" });
  for (
    const [token, status] of [[await mint({ issuer: "proxy-2" }), 401], [await mint(), 401], [
      await mint({ issuer: "proxy-1" }),
      200,
    ]] as const
  ) {
    const response = await fetch(member.dataUrl!, {
      method: "POST",
      headers: postHeaders(token),
      body: initializeBody(),
    });
    assert.equal(response.status, status);
    await response.body?.cancel();
  }
  await member.close();
});

Deno.test("a JWKS verifier accepts the key owner's tokens only; an AuthManager verifier is used as given", async () => {
  const owner = await AuthManager.generate("EdDSA");
  const { member } = await startMember({ verifier: await owner.publicJwks() });
  const good = await owner.createToken({}, { audience: SERVER_ID, subject: "p" });
  const http = await httpClient(member.dataUrl!, good);
  assert.equal(textOf(await http.callTool({ name: "echo", arguments: { text: "jwks" } })), "jwks");
  const hmac = await fetch(member.dataUrl!, {
    method: "POST",
    headers: postHeaders(await mint()),
    body: initializeBody(),
  });
  assert.equal(hmac.status, 401);
  await hmac.body?.cancel();
  await http.close();
  await member.close();

  const { member: second } = await startMember({ verifier: new AuthManager(SECRET, { algorithm: "HS256" }) });
  const hs256 = await new AuthManager(SECRET, { algorithm: "HS256" }).createToken({}, { audience: SERVER_ID });
  const ok = await fetch(second.dataUrl!, { method: "POST", headers: postHeaders(hs256), body: initializeBody() });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  const hs512 = await fetch(second.dataUrl!, {
    method: "POST",
    headers: postHeaders(await mint()),
    body: initializeBody(),
  });
  assert.equal(hs512.status, 401);
  await hs512.body?.cancel();
  await second.close();
});

Deno.test("the algorithm option pins the HMAC algorithm of a shared secret", async () => {
  const { member } = await startMember({ algorithm: "HS256" });
  const hs256 = await new AuthManager(SECRET, { algorithm: "HS256" }).createToken({}, { audience: SERVER_ID });
  const { client } = await wsClient(member.controlUrl!, hs256);
  assert.equal(textOf(await client.callTool({ name: "echo", arguments: { text: "256" } })), "256");
  await client.close();
  const refused = await rawHttp(
    member.controlUrl!.replace("ws:", "http:"),
    upgradeHeaders({ Authorization: `Bearer ${await mint()}` }),
  );
  assert.equal(refused.status, 401);
  await member.close();
});

Deno.test("an upgrade that does not offer subprotocol mcp gets 400", async () => {
  const { member } = await startMember();
  const token = await mint();
  const response = await rawHttp(
    member.controlUrl!.replace("ws:", "http:"),
    upgradeHeaders({ Authorization: `Bearer ${token}`, "Sec-WebSocket-Protocol": "chat, superchat" }),
  );
  assert.equal(response.status, 400);
  const accepted = await rawHttp(
    member.controlUrl!.replace("ws:", "http:"),
    upgradeHeaders({ Authorization: `Bearer ${token}` }),
  );
  assert.equal(accepted.status, 101);
  assert.equal(accepted.headers.get("sec-websocket-protocol"), "mcp");
  await member.close();
});

Deno.test("a control session is closed with 4001 when its token expires", async () => {
  const { member } = await startMember();
  const { token, exp } = await mintExpiringSoon();
  const { client, transport } = await wsClient(member.controlUrl!, token);
  assert.equal(textOf(await client.callTool({ name: "echo", arguments: { text: "x" } })), "x");
  const code = await closeCodeOf(transport);
  assert.equal(code, CloseCode.TOKEN_EXPIRED);
  assert.equal(transport.closeReason, "Token expired");
  assert.ok(Date.now() >= exp * 1000, "closed at, not before, exp");
  assert.ok(Date.now() < exp * 1000 + 1000, "closed soon after exp");
  await client.close();
  await member.close();
});

Deno.test("federation/renewToken moves a control session's deadline; refused renewals leave it unchanged", async () => {
  const { member, lines } = await startMember();
  const renewed = await mintExpiringSoon(600);
  const kept = await mintExpiringSoon(600);
  const a = await wsClient(member.controlUrl!, renewed.token);
  const b = await wsClient(member.controlUrl!, kept.token);
  const resultSchema = z.object({ expiresAt: z.number() });

  const fresh = await mint({ expiresIn: 120 });
  const { expiresAt } = await a.client.request({ method: RENEW_TOKEN_METHOD, params: { token: fresh } }, resultSchema);
  assert.ok(expiresAt >= Math.floor(Date.now() / 1000) + 119);

  const refusals: [unknown, string][] = [
    [await mint({ subject: "proxy-b" }), "ERR_AUTH_CLAIM_INVALID"],
    [await mint({ audience: "member-2" }), "ERR_AUTH_WRONG_AUDIENCE"],
    [await mint({}, new AuthManager(OTHER_SECRET)), "ERR_AUTH_BAD_SIGNATURE"],
    ["not-a-token", "ERR_AUTH_MALFORMED"],
    [undefined, "ERR_AUTH_MALFORMED"],
  ];
  for (const [token, code] of refusals) {
    await assert.rejects(
      b.client.request({ method: RENEW_TOKEN_METHOD, params: token === undefined ? {} : { token } }, resultSchema),
      (error: { code?: number; message?: string }) =>
        error.code === MemberRpcErrorCode.RENEWAL_REFUSED && error.message!.includes(`Token renewal refused: ${code}`),
    );
  }
  const closedB = closeCodeOf(b.transport);
  assert.equal(await closedB, CloseCode.TOKEN_EXPIRED, "refused renewals did not extend the deadline");
  assert.ok(Date.now() >= renewed.exp * 1000);
  // The renewed connection outlives its first token.
  assert.ok(a.transport.isOpen);
  assert.equal(textOf(await a.client.callTool({ name: "echo", arguments: { text: "renewed" } })), "renewed");
  await a.client.close();
  await b.client.close();
  await member.close();
  const logged = JSON.stringify(lines);
  assert.ok(!logged.includes(fresh) && !logged.includes(renewed.token));
});

Deno.test("a data session is bound to its token's subject: another subject gets 404", async () => {
  const { member } = await startMember();
  const tokenA = await mint({ subject: "proxy-a" });
  const tokenB = await mint({ subject: "proxy-b" });
  const response = await fetch(member.dataUrl!, {
    method: "POST",
    headers: postHeaders(tokenA),
    body: initializeBody(),
  });
  const sessionId = response.headers.get("mcp-session-id")!;
  await response.body?.cancel();
  const call = (token: string, method = "POST") =>
    fetch(member.dataUrl!, {
      method,
      headers: postHeaders(token, { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" }),
      ...(method === "POST" ? { body: JSON.stringify({ jsonrpc: "2.0", id: 5, method: "tools/list" }) } : {}),
    });
  for (const method of ["POST", "GET", "DELETE"]) {
    const foreign = await call(tokenB, method);
    assert.equal(foreign.status, 404, method);
    assert.equal(((await foreign.json()) as { error: { code: number } }).error.code, -32001);
  }
  const unknown = await fetch(member.dataUrl!, {
    method: "POST",
    headers: postHeaders(tokenA, { "mcp-session-id": crypto.randomUUID() }),
    body: JSON.stringify({ jsonrpc: "2.0", id: 5, method: "tools/list" }),
  });
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();
  // The owner, with a fresh token of the same subject, still uses it.
  const own = await call(await mint({ subject: "proxy-a" }));
  assert.equal(own.status, 200);
  assert.match(await own.text(), /"echo"/);
  await member.close();
});

Deno.test("a GET stream ends when the token that opened it expires, and the session stays usable", async () => {
  const { member } = await startMember();
  const long = await mint();
  const response = await fetch(member.dataUrl!, { method: "POST", headers: postHeaders(long), body: initializeBody() });
  const sessionId = response.headers.get("mcp-session-id")!;
  await response.body?.cancel();
  const { token: short, exp } = await mintExpiringSoon();
  const guard = new AbortController();
  const timer = setTimeout(() => guard.abort(), 4000);
  const stream = await fetch(member.dataUrl!, {
    headers: { accept: "text/event-stream", authorization: `Bearer ${short}`, "mcp-session-id": sessionId },
    signal: guard.signal,
  });
  assert.equal(stream.status, 200);
  await stream.text(); // resolves only when the server ends the stream (rejects if it is still open after 4 s)
  clearTimeout(timer);
  assert.ok(Date.now() >= exp * 1000);
  const again = await fetch(member.dataUrl!, {
    method: "POST",
    headers: postHeaders(long, { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" }),
    body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
  });
  assert.equal(again.status, 200);
  await again.body?.cancel();
  await member.close();
});

Deno.test("the now option is the member's clock for token expiry", async () => {
  const { member } = await startMember({ now: () => Date.now() + 2 * 3600_000 });
  const response = await fetch(member.dataUrl!, {
    method: "POST",
    headers: postHeaders(await mint({ expiresIn: "1h" })),
    body: initializeBody(),
  });
  assert.equal(response.status, 401);
  await response.body?.cancel();
  const accepted = await fetch(member.dataUrl!, {
    method: "POST",
    headers: postHeaders(await mint({ expiresIn: "3h" })),
    body: initializeBody(),
  });
  assert.equal(accepted.status, 200);
  await accepted.body?.cancel();
  await member.close();
});
