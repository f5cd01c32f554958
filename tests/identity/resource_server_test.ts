// The gateway as an OAuth 2.1 resource server, against a real local identity provider: discovery from the 401
// (RFC 9728 metadata), tokens verified against the provider's JWKS with the gateway's resource URL as audience,
// scopes, key rotation without a failed request, and real clients (the SDK's OAuth client, the MCP Inspector CLI).
import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { ConfigError } from "../../packages/core/errors.ts";
import { parseGatewayConfig, serveGateway } from "../../packages/gateway/mod.ts";
import type { GatewayOAuthAuth } from "../../packages/gateway/mod.ts";
import { SECRET, TestMember } from "../_support/members.ts";
import { connectClient, quiet, textOf } from "../_support/catalog_members.ts";
import { IdentityProvider } from "../_support/identity_provider.ts";
import { Client, ClientCredentialsProvider, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { freePort } from "../_support/ports.ts";

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "probe", version: "1" } },
});

function post(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: INITIALIZE,
  });
}

/** A member, a proxy and a gateway verifying the provider's tokens; `resource` is the gateway's MCP URL. */
async function withResourceServer(
  provider: IdentityProvider,
  test: (url: string, resource: string) => Promise<void>,
  extra: Partial<GatewayOAuthAuth> = {},
): Promise<void> {
  await using member = await TestMember.start("a");
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(member.config);
  // The resource URL names the port, so reserve one first.
  const port = freePort();
  const resource = `http://127.0.0.1:${port}/mcp`;
  await using gateway = await serveGateway(proxy, {
    auth: { jwksUrl: provider.jwksUrl, issuer: provider.issuer, resource, ...extra },
    port,
    logger: quiet,
  });
  await test(gateway.url, resource);
}

Deno.test("Gateway (OAuth) answers 401 with resource_metadata and serves RFC 9728 metadata naming the provider", async () => {
  await using provider = await IdentityProvider.start();
  await withResourceServer(provider, async (url, resource) => {
    const response = await post(url);
    await response.body?.cancel();
    assert.equal(response.status, 401);
    const challenge = response.headers.get("www-authenticate")!;
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    assert.equal(metadataUrl, `${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`);
    assert.ok(!challenge.includes("error="), "no error code when no token was sent (RFC 6750 §3.1)");
    const metadata = await (await fetch(metadataUrl!)).json();
    assert.deepEqual(metadata, {
      resource,
      authorization_servers: [provider.issuer],
      scopes_supported: ["mcp:tools", "federation:admin"],
      bearer_methods_supported: ["header"],
    });
    // The root form serves the same document; other suffixes are not ours.
    assert.equal(
      (await (await fetch(`${new URL(url).origin}/.well-known/oauth-protected-resource`)).json()).resource,
      resource,
    );
    const other = await fetch(`${new URL(url).origin}/.well-known/oauth-protected-resource/other`);
    await other.body?.cancel();
    assert.equal(other.status, 404);
    // A bad token: error="invalid_token" and the metadata URL.
    const bad = await post(url, { authorization: "Bearer not.a.token" });
    await bad.body?.cancel();
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get("www-authenticate")!, /^Bearer error="invalid_token", resource_metadata="http:/);
  });
});

Deno.test("Gateway (OAuth) serves a provider token with its resource as audience; refuses other audiences, issuers, scopes", async () => {
  await using provider = await IdentityProvider.start();
  await withResourceServer(provider, async (url, resource) => {
    const good = await provider.sign({ scope: "mcp:tools" }, { subject: "alice", audience: resource });
    const client = await connectClient(url, { token: good });
    assert.equal(textOf(await client.callTool({ name: "a__echo", arguments: { text: "hi" } })), "hi");
    await client.close();

    const wrongAudience = await post(url, {
      authorization: `Bearer ${await provider.sign({ scope: "mcp:tools" }, {
        subject: "alice",
        audience: "https://other/mcp",
      })}`,
    });
    assert.equal(wrongAudience.status, 401);
    assert.equal((await wrongAudience.json()).error.message, "Unauthorized: ERR_AUTH_WRONG_AUDIENCE");
    const wrongIssuer = await post(url, {
      authorization: `Bearer ${await provider.sign({ scope: "mcp:tools" }, {
        subject: "alice",
        audience: resource,
        issuer: "https://evil",
      })}`,
    });
    assert.equal(wrongIssuer.status, 401);
    assert.equal((await wrongIssuer.json()).error.message, "Unauthorized: ERR_AUTH_WRONG_ISSUER");

    const noScope = await post(url, {
      authorization: `Bearer ${await provider.sign({ scope: "profile" }, { subject: "alice", audience: resource })}`,
    });
    await noScope.body?.cancel();
    assert.equal(noScope.status, 403);
    assert.match(
      noScope.headers.get("www-authenticate")!,
      /^Bearer error="insufficient_scope", scope="mcp:tools", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"$/,
    );
    // The admin API needs the admin scope: 403 with the scope to ask for.
    const admin = await fetch(`${new URL(url).origin}/admin/members`, { headers: { authorization: `Bearer ${good}` } });
    await admin.body?.cancel();
    assert.equal(admin.status, 403);
    assert.match(admin.headers.get("www-authenticate")!, /error="insufficient_scope", scope="federation:admin"/);
    const adminToken = await provider.sign({ scope: "federation:admin" }, { subject: "ops", audience: resource });
    const listed = await fetch(`${new URL(url).origin}/admin/members`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(listed.status, 200);
    await listed.body?.cancel();
  });
});

Deno.test("Gateway (OAuth) survives the provider's key rotation without a failed request", async () => {
  await using provider = await IdentityProvider.start();
  await withResourceServer(provider, async (url, resource) => {
    const first = await post(url, {
      authorization: `Bearer ${await provider.sign({ scope: "mcp:tools" }, { subject: "alice", audience: resource })}`,
    });
    await first.body?.cancel();
    assert.equal(first.status, 200);
    // A fresh gateway fetched once; the provider rotates (old key dropped) and signs with the new kid. The gateway
    // fetched less than 30 s ago, so this is the rate-limited case: minRefetchInterval is set to 0 below for it.
    await provider.rotate({ dropOld: true });
    const second = await post(url, {
      authorization: `Bearer ${await provider.sign({ scope: "mcp:tools" }, { subject: "alice", audience: resource })}`,
    });
    await second.body?.cancel();
    assert.equal(second.status, 200);
    assert.equal(provider.jwksHits, 2);
  }, { minRefetchInterval: 0 });
});

Deno.test("The SDK's OAuth client (client credentials) discovers the metadata from the 401, gets a token, calls a tool", async () => {
  await using provider = await IdentityProvider.start();
  await withResourceServer(provider, async (url, resource) => {
    const authProvider = new ClientCredentialsProvider({
      clientId: "ci-bot",
      clientSecret: "ci-bot-secret",
      expectedIssuer: provider.issuer,
    });
    const client = new Client({ name: "oauth-client", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider });
    // The first connect meets the 401, runs discovery and the token request, and reports UnauthorizedError only
    // for interactive flows; client credentials finish in the same call.
    await client.connect(transport);
    assert.equal(provider.tokenHits, 1);
    const issued = authProvider.tokens()!.access_token;
    const claims = JSON.parse(
      new TextDecoder().decode(Uint8Array.fromBase64(issued.split(".")[1]!, { alphabet: "base64url" })),
    );
    assert.equal(claims.aud, resource, "the SDK asked for the resource the metadata names (RFC 8707)");
    assert.equal(claims.sub, "ci-bot");
    assert.equal(textOf(await client.callTool({ name: "a__echo", arguments: { text: "via oauth" } })), "via oauth");
    await client.close();
  });
});

Deno.test("The MCP Inspector CLI lists the gateway's tools with a token from the provider", async () => {
  await using provider = await IdentityProvider.start();
  await withResourceServer(provider, async (url, resource) => {
    const token = await provider.sign({ scope: "mcp:tools" }, { subject: "inspector", audience: resource });
    const run = async (authorization: string) => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--no-lock",
          "npm:@modelcontextprotocol/inspector@2.12.0",
          "--cli",
          url,
          "--transport",
          "http",
          "--method",
          "tools/list",
          "--header",
          `Authorization: ${authorization}`,
        ],
        stdout: "piped",
        stderr: "piped",
        env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
      }).output();
      return { code: output.code, out: new TextDecoder().decode(output.stdout) };
    };
    const ok = await run(`Bearer ${token}`);
    assert.equal(ok.code, 0, ok.out);
    assert.ok(JSON.parse(ok.out).tools.some((t: { name: string }) => t.name === "a__echo"), ok.out);
    const refused = await run("Bearer not-a-token");
    assert.notEqual(refused.code, 0);
  });
});

Deno.test("parseGatewayConfig() reads gateway.auth as an OAuth resource server and refuses bad settings", () => {
  const members = [{ serverId: "docs", endpoints: { data: "http://127.0.0.1:3001/mcp" }, auth: { type: "none" } }];
  const config = parseGatewayConfig({
    gateway: {
      auth: {
        jwksUrl: "https://id.example.com/jwks",
        issuer: "https://id.example.com",
        resource: "https://mcp.example.com/mcp",
        mcpScope: "mcp",
        algorithms: ["RS256", "ES256"],
      },
    },
    members,
  }, "f.json");
  assert.deepEqual(config.gateway.auth, {
    jwksUrl: "https://id.example.com/jwks",
    issuer: "https://id.example.com",
    resource: "https://mcp.example.com/mcp",
    mcpScope: "mcp",
    algorithms: ["RS256", "ES256"],
  });
  const bad: [Record<string, unknown>, string][] = [
    [{ jwksUrl: "http://id.example.com/jwks", issuer: "x", resource: "https://m/mcp" }, "gateway.auth.jwksUrl"],
    [{ jwksUrl: "https://id.example.com/jwks", resource: "https://m/mcp" }, "gateway.auth.issuer"],
    [{ jwksUrl: "https://id.example.com/jwks", issuer: "x" }, "gateway.auth.resource"],
    [
      { jwksUrl: "https://id.example.com/jwks", issuer: "x", audience: "a", algorithms: ["HS256"] },
      "gateway.auth.algorithms",
    ],
    [{ jwksUrl: "https://id.example.com/jwks", issuer: "x", audience: "a", secretEnv: "S" }, "gateway.auth.secretEnv"],
  ];
  for (const [auth, field] of bad) {
    assert.throws(
      () => parseGatewayConfig({ gateway: { auth }, members }, "f.json", { env: () => "s".repeat(40) }),
      (error: unknown) => error instanceof ConfigError && error.field === field,
      `${JSON.stringify(auth)} → ${field}`,
    );
  }
});

Deno.test("An OAuth gateway off loopback needs auth.resource or allowedHosts (else the metadata names any Host)", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  const auth = { jwksUrl: "https://id.example.com/jwks", issuer: "https://id.example.com", audience: "gw" };
  await assert.rejects(
    serveGateway(proxy, { auth, hostname: "0.0.0.0", port: 0, logger: quiet }),
    (error: unknown) =>
      error instanceof ConfigError && error.field === "auth.resource" && /allowedHosts/.test(error.message),
  );
  // With the Host checked against allowedHosts, or on loopback, the resource may come from the request.
  for (const options of [{ hostname: "0.0.0.0", allowedHosts: ["mcp.example.com"] }, { hostname: "127.0.0.1" }]) {
    const gateway = await serveGateway(proxy, { auth, port: 0, logger: quiet, ...options });
    await gateway.close();
  }
});
