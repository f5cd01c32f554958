// A member must not become an administrator (its secret differs from the client tokens'), a path smuggled in Host is
// refused, and probes keep the Host and Origin checks, against a real gateway on 127.0.0.1:0. Malformed Host headers
// go over raw `Deno.connect`.
import assert from "node:assert/strict";
import { AuthManager, ConfigError, FederationProxy } from "../../mod.ts";
import { DEFAULT_GATEWAY_AUDIENCE, parseGatewayConfig, serveGateway } from "../../packages/gateway/mod.ts";
import { GATEWAY_SECRET, SECRET, TestMember } from "../_support/members.ts";
import { withGateway } from "../_support/gateway.ts";
import { connectClient, gatewayToken, quiet, textOf } from "../_support/catalog_members.ts";
import { McpServer } from "../../packages/core/_sdk.ts";
import { serveMember } from "../../packages/member/mod.ts";
import { INITIALIZE } from "./_probes.ts";

const MEMBER_SECRET = "member-own-secret-of-at-least-32-bytes!!";

function post(url: string, authorization: string, body = INITIALIZE): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization },
    body,
  });
}

/** A raw HTTP/1.1 request; returns the status code and the head of the answer. */
async function raw(base: string, lines: string[]): Promise<{ status: number; head: string }> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(new TextEncoder().encode([...lines, "Connection: close", "", ""].join("\r\n")));
    const buffer = new Uint8Array(4096);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      head += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head };
  } finally {
    conn.close();
  }
}

Deno.test("serveGateway() refuses a client secret the proxy or a member signs with, and a member's serverId as audience", async () => {
  await using member = await TestMember.start("own", { secret: MEMBER_SECRET });
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer({ ...member.config, auth: { type: "jwt", config: { secret: MEMBER_SECRET } } });
  for (const secret of [SECRET, MEMBER_SECRET]) {
    await assert.rejects(
      serveGateway(proxy, { auth: { secret }, port: 0, logger: quiet }),
      (error: unknown) => error instanceof ConfigError && error.field === "auth.secret",
    );
  }
  await assert.rejects(
    serveGateway(proxy, { auth: { secret: GATEWAY_SECRET, audience: "own" }, port: 0, logger: quiet }),
    (error: unknown) => error instanceof ConfigError && error.field === "auth.audience",
  );
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  assert.match(gateway.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
});

Deno.test("The config file refuses gateway.auth holding the proxy's or a member's secret", () => {
  const member = { serverId: "m", endpoints: { data: "http://127.0.0.1:1/mcp" } };
  const cases: [string, Record<string, string>, unknown[], string][] = [
    ["the proxy's", { GW: SECRET, MCP_SECRET_KEY: SECRET }, [member], "gateway.auth.secretEnv"],
    [
      "a member's",
      { GW: MEMBER_SECRET, MCP_SECRET_KEY: SECRET, M: MEMBER_SECRET },
      [{ ...member, auth: { type: "jwt", config: { secretEnv: "M" } } }],
      "members[0].auth.config.secretEnv",
    ],
  ];
  for (const [what, env, members, field] of cases) {
    assert.throws(
      () => parseGatewayConfig({ gateway: { auth: { secretEnv: "GW" } }, members }, "f.json", { env: (n) => env[n] }),
      (error: unknown) => error instanceof ConfigError && error.field === field && !error.message.includes(SECRET),
      what,
    );
  }
});

Deno.test("Gateway refuses a member-addressed admin token, a token without the gateway's audience, and one without sub", async () => {
  // The verifier is handed in as an AuthManager over the proxy's own secret (the configuration the secret check
  // cannot see): the audience rule alone must keep members' tokens out.
  await withGateway({ auth: new AuthManager(SECRET) }, async (url, base) => {
    const proxyMinted = await new AuthManager(SECRET, { issuer: "proxy-1" }).createToken(
      { scope: "federation:admin" },
      { audience: "a", subject: "proxy-1", expiresIn: "5m" },
    );
    for (const target of [url, `${base}/admin/members`]) {
      const response = target === url
        ? await post(target, `Bearer ${proxyMinted}`)
        : await fetch(target, { headers: { authorization: `Bearer ${proxyMinted}` } });
      assert.equal(response.status, 401, `member-addressed token at ${target}`);
      assert.match(response.headers.get("www-authenticate") ?? "", /invalid_token/);
      const body = await response.json();
      // The MCP endpoint answers JSON-RPC errors; the admin API the one error body of non-MCP routes.
      if (target === url) assert.equal(body.error.code, -32001);
      else assert.equal(body.error.code, "ERR_AUTH_WRONG_AUDIENCE");
    }
    const noAudience = await new AuthManager(SECRET).createToken({}, { subject: "alice", expiresIn: "5m" });
    const refused = await post(url, `Bearer ${noAudience}`);
    assert.equal(refused.status, 401, "no aud");
    await refused.body?.cancel();
  }, { proxyId: "proxy-1" });
  await withGateway({}, async (url) => {
    const clients = new AuthManager(GATEWAY_SECRET);
    const cases: [string, string, number][] = [
      ["no sub", await clients.createToken({}, { audience: DEFAULT_GATEWAY_AUDIENCE, expiresIn: "5m" }), 401],
      ["no aud", await clients.createToken({}, { subject: "alice", expiresIn: "5m" }), 401],
      ["aud of a member", await clients.createToken({}, { audience: "a", subject: "alice", expiresIn: "5m" }), 401],
      ["the gateway's", await gatewayToken("alice"), 200],
    ];
    for (const [what, token, status] of cases) {
      const response = await post(url, `Bearer ${token}`);
      assert.equal(response.status, status, what);
      if (status === 401) {
        const body = await response.json();
        assert.equal(body.error.code, -32001, what);
      } else await response.body?.cancel();
    }
  }, { proxyId: "proxy-1" });
});

Deno.test("Gateway answers 400 to a Host that is not a bare authority and never routes on it", async () => {
  const admin = await new AuthManager(GATEWAY_SECRET).createToken({ scope: "federation:admin" }, {
    subject: "operator",
    audience: DEFAULT_GATEWAY_AUDIENCE,
    expiresIn: "5m",
  });
  await withGateway({}, async (_url, base) => {
    const { port } = new URL(base);
    for (
      const host of [
        `127.0.0.1:${port}/admin/members#`,
        `127.0.0.1:${port}/admin/members?`,
        `user@127.0.0.1:${port}`,
        `127.0.0.1:${port} /admin`,
        `127.0.0.1:${port}\\admin`,
      ]
    ) {
      const answer = await raw(base, ["GET /mcp HTTP/1.1", `Host: ${host}`, `Authorization: Bearer ${admin}`]);
      assert.equal(answer.status, 400, `Host ${JSON.stringify(host)}: ${answer.head.split("\r\n")[0]}`);
    }
    const fine = await raw(base, ["GET /healthz HTTP/1.1", `Host: 127.0.0.1:${port}`]);
    assert.equal(fine.status, 200);
  }, { proxyId: "proxy-1" });
});

Deno.test("Gateway checks Host and Origin on /metrics, /readyz and /healthz too", async () => {
  await withGateway({}, async (_url, base) => {
    const { port } = new URL(base);
    for (const path of ["/metrics", "/readyz", "/healthz"]) {
      const own = await raw(base, [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`]);
      assert.equal(own.status, 200, `${path} on its own host`);
      const rebound = await raw(base, [`GET ${path} HTTP/1.1`, `Host: attacker.example:${port}`]);
      assert.equal(rebound.status, 403, `${path} for a foreign Host (DNS rebinding)`);
      const foreign = await raw(base, [
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        "Origin: https://attacker.example",
      ]);
      assert.equal(foreign.status, 403, `${path} from a foreign Origin`);
    }
  }, { proxyId: "proxy-1" });
});

for (const routing of ["data", "control"] as const) {
  Deno.test(`A client's reserved _meta keys never reach the member (routing ${routing})`, async () => {
    // A member whose tool answers the `_meta` keys its handler sees.
    await using member = await serveMember({
      serverId: "m",
      verifier: SECRET,
      server: () => {
        const server = new McpServer({ name: "m", version: "1.0.0" });
        server.registerTool("meta", { description: "The _meta keys seen" }, (ctx) => ({
          content: [{ type: "text", text: JSON.stringify(Object.keys(ctx.mcpReq._meta ?? {}).sort()) }],
        }));
        return server;
      },
      control: { port: 0 },
      data: { port: 0 },
      logger: quiet,
    });
    await using proxy = new FederationProxy(SECRET, { logger: quiet, routing });
    await proxy.registerServer({
      serverId: "m",
      endpoints: { control: member.controlUrl!, data: member.dataUrl! },
      auth: { type: "jwt", config: {} },
    });
    for (const auth of [{ secret: GATEWAY_SECRET }, false as const]) {
      await using gateway = await serveGateway(proxy, { auth, port: 0, logger: quiet });
      const client = await connectClient(gateway.url, auth === false ? { token: null } : {});
      try {
        const result = await client.callTool({
          name: "m__meta",
          arguments: {},
          _meta: {
            "io.github.federated-mcp/user-token": "a-token-of-someone-else",
            "io.github.federated-mcp/related-request": 99,
            "io.github.federated-mcp/anything": true,
            "com.example/kept": 1,
          },
        });
        assert.equal(result.isError, undefined, textOf(result));
        const keys: string[] = JSON.parse(textOf(result));
        assert.ok(keys.includes("com.example/kept"), `auth ${auth !== false}: ${keys}`);
        assert.deepEqual(
          keys.filter((key) => key.startsWith("io.github.federated-mcp/")),
          [],
          `auth ${auth !== false}`,
        );
      } finally {
        await client.close();
      }
    }
  });
}
