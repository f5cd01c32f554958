import assert from "node:assert/strict";
import { AuthManager, FederationProxy, type JsonWebKeySet, WebSocketTransport } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { Client, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { GATEWAY_SECRET, recordingLogger, SECRET, TestMember } from "../_support/members.ts";
import { text } from "../_support/relayed.ts";
import {
  goodClaims,
  hmacJwt,
  hmacKid,
  noneJwt,
  type ProbeAnswer,
  probePost,
  probeUpgrade,
  withPayload,
} from "./_probes.ts";

const OTHER_SECRET = "another-secret-of-at-least-thirty-two-bytes";
const PROXY_ID = "federation-proxy";
const now = () => Math.floor(Date.now() / 1000);

/**
 * A 64 KiB header is larger than Deno's HTTP server reads: it answers 400 or 431 itself, before any handler runs
 * (so before any upgrade or MCP processing). That refusal is as good as a 401; smaller oversized tokens reach the
 * verifier and get the 401.
 */
function refusedBeforeHandler(c: Case, answer: ProbeAnswer): boolean {
  return c.name.startsWith("oversized: 64 KiB") && (answer.status === 400 || answer.status === 431);
}

/** A named bad token (or raw Authorization value) and how to send it. */
interface Case {
  name: string;
  /** The Authorization header value(s); `undefined` for none. */
  authorization: string | string[] | undefined;
  /** A query string to add (`?token=…`). */
  query?: string;
}

/** An endpoint under test and how to reach it. */
interface Target {
  name: string;
  probe(authorization: string | string[] | undefined, query?: string): Promise<ProbeAnswer>;
  /** A token this endpoint accepts: the positive control. */
  good: string;
  /** The bad tokens specific to its verifier. */
  cases: Case[];
}

function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** Bad tokens against an HMAC verifier (HS512 pinned) for `audience`, requiring `issuer`. */
async function hmacCases(
  audience: string,
  issuer: string,
  other: string,
  secret: string = SECRET,
): Promise<{ good: string; cases: Case[] }> {
  const kid = await hmacKid(secret);
  const claims = goodClaims(audience, issuer);
  const header = { alg: "HS512", kid, typ: "JWT" };
  const good = await hmacJwt(header, claims, secret, 512);
  const ed = await AuthManager.generate("EdDSA", { issuer });
  const edWithHmacKid = await AuthManager.generate("EdDSA", { issuer, kid });
  const t = now();
  const tokens: [string, string][] = [
    ["alg none", noneJwt({ kid, typ: "JWT" }, claims)],
    ["alg none without kid", noneJwt({ typ: "JWT" }, claims)],
    ["alg NONE (upper case)", noneJwt({ kid }, claims).replace(/^[^.]+/, btoa('{"alg":"NONE"}').replace(/=+$/, ""))],
    [
      "HS256 where HS512 is pinned (same key, same kid)",
      await hmacJwt({ ...header, alg: "HS256" }, claims, secret, 256),
    ],
    ["HS256 without kid", await hmacJwt({ alg: "HS256" }, claims, secret, 256)],
    ["HS384 where HS512 is pinned", await hmacJwt({ ...header, alg: "HS384" }, claims, secret, 384)],
    ["EdDSA-signed to an HMAC verifier", await ed.createToken({}, { audience, subject: "probe" })],
    ["EdDSA-signed carrying the HMAC kid", await edWithHmacKid.createToken({}, { audience, subject: "probe" })],
    ["expired an hour ago", await hmacJwt(header, { ...claims, iat: t - 7200, exp: t - 3600 }, secret, 512)],
    ["nbf in the future", await hmacJwt(header, { ...claims, nbf: t + 600 }, secret, 512)],
    [`minted for '${other}', replayed here`, await hmacJwt(header, { ...claims, aud: other }, secret, 512)],
    ["audience list without this one", await hmacJwt(header, { ...claims, aud: [other, "x"] }, secret, 512)],
    ["no aud", await hmacJwt(header, { ...claims, aud: undefined }, secret, 512)],
    ["wrong issuer", await hmacJwt(header, { ...claims, iss: "evil-proxy" }, secret, 512)],
    ["no iss", await hmacJwt(header, { ...claims, iss: undefined }, secret, 512)],
    ["no exp", await hmacJwt(header, { ...claims, exp: undefined }, secret, 512)],
    ["tampered payload (sub changed, signature kept)", withPayload(good, { ...claims, sub: "admin" })],
    ["tampered payload (exp extended, signature kept)", withPayload(good, { ...claims, exp: t + 86_400 * 365 })],
    ["tampered signature", good.replace(/\.(.)([^.]*)$/, (_, c, rest) => `.${c === "A" ? "B" : "A"}${rest}`)],
    ["signed with another secret", await hmacJwt(header, claims, OTHER_SECRET, 512)],
    ["unknown kid (path injection)", await hmacJwt({ ...header, kid: "../../../../dev/null" }, claims, secret, 512)],
    ["unknown crit header", await hmacJwt({ ...header, crit: ["x-unknown"], "x-unknown": 1 }, claims, secret, 512)],
    [
      "RS256 with a jku pointing elsewhere",
      await hmacJwt({ alg: "RS256", jku: "http://127.0.0.1:1/" }, claims, secret, 256),
    ],
    [
      "oversized: 64 KiB claim, validly signed",
      await hmacJwt(header, { ...claims, pad: "x".repeat(64 * 1024) }, secret, 512),
    ],
    [
      "oversized: just over 8 KiB, validly signed",
      await hmacJwt(header, { ...claims, pad: "x".repeat(6_200) }, secret, 512),
    ],
    ["five parts (JWE shape)", `${good}.e30.e30`],
  ];
  return { good, cases: tokens.map(([name, token]) => ({ name, authorization: bearer(token) })) };
}

/** The signer's clock offset, in ms: lets {@link mintAt} mint with the same key at another time. */
let skew = 0;

/** A token from `signer` (made with `now: signerClock`) as if minted `offset` ms from now. */
async function mintAt(
  signer: AuthManager,
  offset: number,
  options: { audience: string; expiresIn: string },
): Promise<string> {
  skew = offset;
  try {
    return await signer.createToken({}, options);
  } finally {
    skew = 0;
  }
}

/** The clock of the JWKS signer. */
function signerClock(): number {
  return Date.now() + skew;
}

/** Bad tokens against a JWKS (EdDSA) verifier for `audience`. */
async function jwksCases(
  signer: AuthManager,
  jwks: JsonWebKeySet,
  audience: string,
  other: string,
): Promise<{ good: string; cases: Case[] }> {
  const kid = (await signer.signingKid())!;
  const good = await signer.createToken({}, { audience, subject: "probe" });
  const claims = goodClaims(audience);
  const publicKey = jwks.keys[0]!;
  const impostor = await AuthManager.generate("EdDSA", { kid });
  const es = await AuthManager.generate("ES256", { kid });
  const t = now();
  const tokens: [string, string][] = [
    [
      "HMAC token (HS512, shared secret) to a JWKS verifier",
      await new AuthManager(SECRET).createToken({}, { audience }),
    ],
    [
      "HS256 signed with the public key as secret (key confusion)",
      await hmacJwt({ alg: "HS256", kid }, claims, new TextEncoder().encode(publicKey.x!), 256),
    ],
    [
      "HS256 signed with the public JWK as secret",
      await hmacJwt({ alg: "HS256", kid }, claims, JSON.stringify(publicKey), 256),
    ],
    ["alg none with the JWKS kid", noneJwt({ kid }, claims)],
    ["EdDSA from another key pair claiming the kid", await impostor.createToken({}, { audience })],
    ["ES256 claiming the EdDSA kid", await es.createToken({}, { audience })],
    ["expired an hour ago", await mintAt(signer, -7_200_000, { audience, expiresIn: "1h" })],
    ["nbf in the future", await signer.createToken({}, { audience, notBefore: 600 })],
    [`minted for '${other}', replayed here`, await signer.createToken({}, { audience: other })],
    ["tampered payload (signature kept)", withPayload(good, { ...claims, sub: "admin", exp: t + 86_400 })],
    [
      "oversized: 64 KiB claim, validly signed",
      await signer.createToken({ pad: "x".repeat(64 * 1024) }, { audience }),
    ],
  ];
  return { good, cases: tokens.map(([name, token]) => ({ name, authorization: bearer(token) })) };
}

/** Header values that are not a valid bearer token, whatever the verifier, and a good token sent elsewhere. */
function garbageCases(good: string): Case[] {
  const values: [string, string | string[] | undefined][] = [
    ["no Authorization header", undefined],
    ["empty Authorization header", ""],
    ["'Bearer' alone", "Bearer"],
    ["'Bearer' and spaces", "Bearer    "],
    ["Basic credentials", `Basic ${btoa("proxy:secret")}`],
    ["another scheme with the good token", `Token ${good}`],
    ["the good token without a scheme", good],
    ["two tokens after Bearer", `Bearer ${good} ${good}`],
    ["two Bearer credentials in one header", `Bearer ${good}, Bearer ${good}`],
    ["two Authorization headers", [`Bearer ${good}`, `Bearer ${good}`]],
    ["the good token with a trailing dot", `Bearer ${good}.`],
    ["the good token cut short", `Bearer ${good.slice(0, -10)}`],
    ["three dots", "Bearer ..."],
    ["a.b.c", "Bearer a.b.c"],
    ["empty JSON parts", "Bearer e30.e30.e30"],
    ["null", "Bearer null"],
    ["JSON object", `Bearer {"token":"${good}"}`],
    ["not base64url", "Bearer !!!.***.$$$"],
    ["9,000 characters", `Bearer ${"a".repeat(9_000)}`],
  ];
  return [
    ...values.map(([name, authorization]) => ({ name: `garbage: ${name}`, authorization })),
    { name: "good token in ?token= only", authorization: undefined, query: `?token=${good}` },
    { name: "good token in ?access_token= only", authorization: undefined, query: `?access_token=${good}` },
  ];
}

Deno.test("Security: bad tokens get 401 + WWW-Authenticate on both member endpoints and the gateway; no log has a token", async () => {
  const logs = {
    memberA: recordingLogger(),
    memberB: recordingLogger(),
    memberJ: recordingLogger(),
    proxy: recordingLogger(),
    gateway: recordingLogger(),
    gatewayJ: recordingLogger(),
  };
  const signer = await AuthManager.generate("EdDSA", { now: signerClock });
  const jwks = await signer.publicJwks();
  await using memberA = await TestMember.start("member-a", {
    extra: { issuer: PROXY_ID, logger: logs.memberA.logger },
  });
  await using memberB = await TestMember.start("member-b", {
    extra: { issuer: PROXY_ID, logger: logs.memberB.logger },
  });
  await using memberJ = await TestMember.start("member-j", { extra: { verifier: jwks, logger: logs.memberJ.logger } });
  await using proxy = new FederationProxy(SECRET, { logger: logs.proxy.logger, proxyId: PROXY_ID });
  await proxy.registerServer(memberA.config);
  await using gateway = await serveGateway(proxy, {
    auth: { secret: GATEWAY_SECRET, audience: "gateway", issuer: "gateway-clients" },
    port: 0,
    logger: logs.gateway.logger,
  });
  await using gatewayJ = await serveGateway(proxy, {
    auth: await AuthManager.fromJwks(jwks, { audience: "gateway" }),
    port: 0,
    logger: logs.gatewayJ.logger,
  });

  const memberHmac = await hmacCases("member-a", PROXY_ID, "member-b");
  const memberJwks = await jwksCases(signer, jwks, "member-j", "member-a");
  const gatewayHmac = await hmacCases("gateway", "gateway-clients", "member-a", GATEWAY_SECRET);
  const gatewayJwks = await jwksCases(signer, jwks, "gateway", "member-j");
  const upgrade = (url: string) => (authorization: string | string[] | undefined, query?: string) =>
    probeUpgrade(url, Array.isArray(authorization) ? authorization.join(", ") : authorization, query ? { query } : {});
  const post = (url: string) => (authorization: string | string[] | undefined, query?: string) =>
    probePost(url, authorization, query ? { query } : {});
  const targets: Target[] = [
    { name: "member control (HMAC)", probe: upgrade(memberA.handle.controlUrl!), ...memberHmac },
    { name: "member data (HMAC)", probe: post(memberA.handle.dataUrl!), ...memberHmac },
    { name: "member control (JWKS)", probe: upgrade(memberJ.handle.controlUrl!), ...memberJwks },
    { name: "member data (JWKS)", probe: post(memberJ.handle.dataUrl!), ...memberJwks },
    { name: "gateway /mcp (HMAC)", probe: post(gateway.url), ...gatewayHmac },
    { name: "gateway /mcp (JWKS)", probe: post(gatewayJ.url), ...gatewayJwks },
  ];

  const tried: string[] = [];
  const refusedByServer = new Set<string>();
  let probes = 0;
  for (const target of targets) {
    // Positive control: the probe can succeed, so each refusal below is the verifier's doing.
    const accepted = await target.probe(bearer(target.good));
    assert.ok(accepted.status === 101 || accepted.status === 200, `${target.name}: good token got ${accepted.status}`);
    for (const c of [...target.cases, ...garbageCases(target.good)]) {
      const answer = await target.probe(c.authorization, c.query);
      probes++;
      if (refusedBeforeHandler(c, answer)) {
        refusedByServer.add(`${target.name}: ${answer.status}`);
      } else {
        assert.equal(answer.status, 401, `${target.name}: ${c.name}`);
        assert.equal(answer.wwwAuthenticate, 'Bearer error="invalid_token"', `${target.name}: ${c.name}`);
      }
      for (const value of [c.authorization, c.query].flat()) {
        if (value === undefined || value.length < 20) continue;
        const token = value.replace(/^(Bearer|Token) |^\?\w+=/, "");
        tried.push(token);
        assert.ok(!answer.body.includes(token), `${target.name}: ${c.name}: the answer reflects the token`);
      }
    }
  }
  console.log(
    `security: ${probes} bad tokens and headers tried on ${targets.length} endpoints, all refused` +
      (refusedByServer.size
        ? ` (64 KiB header refused by the HTTP server itself: ${[...refusedByServer].join(", ")})`
        : ""),
  );

  // A good client still works everywhere.
  for (const channel of ["control", "data"] as const) {
    assert.equal(text(await proxy.callTool("member-a", "echo", { text: "still" }, { channel })), "still");
  }
  await proxy.registerServer(memberB.config);
  assert.equal(text(await proxy.callTool("member-b", "echo", { text: "b" })), "b");
  const jwksToken = await signer.createToken({}, { audience: "member-j", subject: "probe" });
  const viaData = new Client({ name: "probe", version: "1" });
  await viaData.connect(
    new StreamableHTTPClientTransport(new URL(memberJ.handle.dataUrl!), {
      requestInit: { headers: { Authorization: bearer(jwksToken) } },
    }),
  );
  assert.equal(text(await viaData.callTool({ name: "echo", arguments: { text: "j" } }) as never), "j");
  await viaData.close();
  const viaControl = new Client({ name: "probe", version: "1" });
  await viaControl.connect(
    await WebSocketTransport.connect(memberJ.handle.controlUrl!, { headers: { Authorization: bearer(jwksToken) } }),
  );
  assert.equal(text(await viaControl.callTool({ name: "echo", arguments: { text: "j" } }) as never), "j");
  await viaControl.close();
  const clientToken = await new AuthManager(GATEWAY_SECRET).createToken({}, {
    audience: "gateway",
    issuer: "gateway-clients",
    subject: "client",
  });
  for (const url of [gateway.url, gatewayJ.url]) {
    const token = url === gateway.url
      ? clientToken
      : await signer.createToken({}, { audience: "gateway", subject: "client" });
    const client = new Client({ name: "probe", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: bearer(token) } } }),
    );
    const tools = await client.listTools();
    assert.ok(tools.tools.length > 0);
    const echo = tools.tools.find((t) => t.name.endsWith("echo"))!;
    assert.equal(text(await client.callTool({ name: echo.name, arguments: { text: "gw" } }) as never), "gw");
    await client.close();
  }

  // Nothing that was logged, by any member, the proxy or the gateways, holds a token, a signature or the secret.
  const lines = Object.values(logs).flatMap((l) => l.lines);
  assert.ok(lines.length > 0);
  assert.ok(logs.memberA.lines.some((l) => /invalid token/i.test(l)), "refusals are logged (without the token)");
  const secrets = [SECRET, OTHER_SECRET, jwksToken, clientToken, ...tried];
  const fragments = new Set(secrets.flatMap((s) => [s, ...s.split(".").filter((part) => part.length >= 24).slice(1)]));
  for (const line of lines) {
    for (const fragment of fragments) {
      assert.ok(!line.includes(fragment), `a log line holds a token or secret: ${line}`);
    }
    assert.ok(!/Bearer\s+\S/.test(line), `a log line holds an Authorization value: ${line}`);
  }
});
