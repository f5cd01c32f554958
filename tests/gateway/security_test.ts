import assert from "node:assert/strict";
import { AuthManager, ConfigError, FederationProxy } from "../../mod.ts";
import { DEFAULT_GATEWAY_AUDIENCE, serveGateway } from "../../packages/gateway/mod.ts";
import type { GatewayOptions } from "../../packages/gateway/mod.ts";
import { GATEWAY_SECRET, recordingLogger, SECRET } from "../_support/members.ts";
import { withGateway } from "../_support/gateway.ts";
import { connectClient, gatewayToken, quiet } from "../_support/catalog_members.ts";

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "probe", version: "1" } },
});

function post(url: string, headers: Record<string, string>, body = INITIALIZE): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body,
  });
}

/** Sends a POST with a chosen Host header over a raw TCP connection; returns the status code. */
async function rawStatus(url: string, host: string, authorization: string): Promise<number> {
  const { hostname, port, pathname } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const request = [
      `POST ${pathname} HTTP/1.1`,
      `Host: ${host}`,
      `Authorization: ${authorization}`,
      "Content-Type: application/json",
      "Accept: application/json, text/event-stream",
      `Content-Length: ${new TextEncoder().encode(INITIALIZE).byteLength}`,
      "Connection: close",
      "",
      INITIALIZE,
    ].join("\r\n");
    await conn.write(new TextEncoder().encode(request));
    const buffer = new Uint8Array(256);
    const n = await conn.read(buffer);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buffer.subarray(0, n ?? 0)));
    return Number(status?.[1]);
  } finally {
    conn.close();
  }
}

Deno.test("Gateway answers 401 with WWW-Authenticate to missing, malformed, wrongly signed and expired tokens", async () => {
  const { lines, logger } = recordingLogger();
  await withGateway({ logger }, async (url) => {
    const wrong = await new AuthManager("another-secret-of-at-least-thirty-two-bytes").createToken({}, {
      subject: "x",
    });
    const expired = await new AuthManager(GATEWAY_SECRET, { now: () => Date.now() - 7_200_000 }).createToken({}, {
      expiresIn: "1h",
      audience: DEFAULT_GATEWAY_AUDIENCE,
      subject: "x",
    });
    for (
      const [what, headers, code] of [
        ["missing", {}, "missing bearer token"],
        ["malformed", { authorization: "Bearer not.a.jwt" }, "ERR_AUTH_MALFORMED"],
        ["wrong scheme", { authorization: `Basic ${btoa("a:b")}` }, "missing bearer token"],
        ["wrongly signed", { authorization: `Bearer ${wrong}` }, "ERR_AUTH_BAD_SIGNATURE"],
        ["expired", { authorization: `Bearer ${expired}` }, "ERR_AUTH_EXPIRED"],
      ] as const
    ) {
      const response = await post(url, headers);
      assert.equal(response.status, 401, what);
      assert.equal(response.headers.get("www-authenticate"), 'Bearer error="invalid_token"', what);
      const body = await response.json();
      assert.equal(body.error.message, `Unauthorized: ${code}`, what);
    }
    const ok = await post(url, { authorization: `Bearer ${await gatewayToken()}` });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.ok(!lines.some((line) => line.includes(wrong) || line.includes(expired)), "no token in the logs");
  });
});

Deno.test("Gateway refuses foreign Origin and Host headers with 403 and accepts loopback ones", async () => {
  await withGateway({ allowedOrigins: ["https://app.example.com"] }, async (url) => {
    const authorization = `Bearer ${await gatewayToken()}`;
    const evil = await post(url, { authorization, origin: "http://evil.example.com" });
    assert.equal(evil.status, 403);
    await evil.body?.cancel();
    // fetch() does not let a caller set Host: send the request by hand, as a rebound browser would.
    assert.equal(await rawStatus(url, "evil.example.com", authorization), 403);
    assert.equal(await rawStatus(url, `localhost:${new URL(url).port}`, authorization), 200);
    for (const origin of ["http://localhost:5173", "http://127.0.0.1", "https://app.example.com"]) {
      const allowed = await post(url, { authorization, origin });
      assert.equal(allowed.status, 200, origin);
      assert.equal(allowed.headers.get("access-control-allow-origin"), origin);
      await allowed.body?.cancel();
    }
  });
});

Deno.test("Gateway binds a session to the subject of the token that opened it", async () => {
  await withGateway({}, async (url) => {
    const client = await connectClient(url, { token: await gatewayToken("alice") });
    try {
      const sessionId = (client.transport as { sessionId?: string }).sessionId!;
      const stolen = await post(url, {
        authorization: `Bearer ${await gatewayToken("mallory")}`,
        "mcp-session-id": sessionId,
      }, JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }));
      assert.equal(stolen.status, 403);
      await stolen.body?.cancel();
      assert.ok((await client.listTools()).tools.length > 0, "the owner keeps using the session");
    } finally {
      await client.close();
    }
  });
});

Deno.test("Gateway requires auth to be given: an AuthManager, a secret, or an explicit false", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await assert.rejects(
    serveGateway(proxy, { port: 0, logger: quiet } as unknown as GatewayOptions),
    (e) => e instanceof ConfigError && e.field === "auth",
  );
  await withGateway({ auth: false }, async (url) => {
    const client = await connectClient(url, { token: null });
    assert.ok((await client.listTools()).tools.some((t) => t.name === "a__echo"));
    await client.close();
  });
  await withGateway({ auth: new AuthManager(GATEWAY_SECRET, { audience: "gateway" }) }, async (url) => {
    const noAudience = await post(url, { authorization: `Bearer ${await gatewayToken()}` });
    assert.equal(noAudience.status, 401);
    await noAudience.body?.cancel();
    const token = await new AuthManager(GATEWAY_SECRET).createToken({}, { audience: "gateway", subject: "x" });
    const ok = await post(url, { authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });
});
