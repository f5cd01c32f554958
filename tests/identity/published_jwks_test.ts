// Our own JWKS published: a gateway whose proxy signs with an asymmetric key serves its public JWKS at
// /.well-known/jwks.json; members verify with `verifier: { jwksUrl }` and follow a rotation of the proxy's key
// without a restart.
import assert from "node:assert/strict";
import { AuthManager, FederationProxy } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { serveMember } from "../../packages/member/mod.ts";
import type { MemberHandle, ServeMemberOptions } from "../../packages/member/mod.ts";
import { createTestServer, newStats } from "../_support/test_server.ts";
import { GATEWAY_SECRET, SECRET } from "../_support/members.ts";
import { quiet, textOf } from "../_support/catalog_members.ts";

function startMember(serverId: string, verifier: ServeMemberOptions["verifier"]): Promise<MemberHandle> {
  return serveMember({
    serverId,
    verifier,
    server: () => createTestServer(serverId, newStats()),
    control: { port: 0 },
    data: { port: 0 },
    logger: quiet,
  });
}

function configOf(member: MemberHandle) {
  return {
    serverId: member.serverId,
    endpoints: { control: member.controlUrl!, data: member.dataUrl! },
    auth: { type: "jwt" as const, config: {} },
  };
}

Deno.test("Gateway serves its proxy's public JWKS; members verifying by URL accept a rotated key without restart", async () => {
  const signer = await AuthManager.generate("EdDSA");
  const firstKid = (await signer.signingKid())!;
  await using proxy = new FederationProxy(signer, { logger: quiet, proxyId: "proxy-1" });
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const jwksUrl = `${new URL(gateway.url).origin}/.well-known/jwks.json`;

  const published = await fetch(jwksUrl);
  assert.equal(published.status, 200);
  assert.equal(published.headers.get("content-type"), "application/jwk-set+json");
  const jwks = await published.json();
  assert.deepEqual(jwks.keys.map((k: { kid: string }) => k.kid), [firstKid]);
  assert.equal(jwks.keys[0].d, undefined, "no private part");

  // Member a: the serveMember option; member b: an AuthManager over the same URL, to count its fetches.
  const a = await startMember("a", { jwksUrl, issuer: "proxy-1", minRefetchInterval: 0 });
  const bVerifier = AuthManager.fromJwksUrl(jwksUrl, { audience: "b", issuer: "proxy-1", minRefetchInterval: 0 });
  const b = await startMember("b", bVerifier);
  try {
    await proxy.registerServer(configOf(a));
    await proxy.registerServer(configOf(b));
    assert.equal(textOf(await proxy.callTool("a", "echo", { text: "before" })), "before");
    assert.equal(bVerifier.remoteJwks!.fetches, 1);

    // Rotate, and drop the old key at once (the strict case: nothing signed with it verifies any more).
    const secondKid = await signer.rotateSigningKey();
    assert.notEqual(secondKid, firstKid);
    assert.ok(signer.removeVerificationKey(firstKid));
    assert.deepEqual((await (await fetch(jwksUrl)).json()).keys.map((k: { kid: string }) => k.kid), [secondKid]);

    // Fresh tokens (a user's calls mint their own) carry the new kid: both members refetch and accept them.
    for (const serverId of ["a", "b"]) {
      const result = await proxy.callTool(serverId, "echo", { text: `after-${serverId}` }, {
        channel: "data",
        onBehalfOf: { sub: "alice" },
      });
      assert.equal(textOf(result), `after-${serverId}`);
    }
    assert.equal(bVerifier.remoteJwks!.fetches, 2, "one refetch for the unknown kid");
    // A new connection (a fresh member registration) signs with the new key too.
    const c = await startMember("c", { jwksUrl, issuer: "proxy-1" });
    try {
      await proxy.registerServer(configOf(c));
      assert.equal(textOf(await proxy.callTool("c", "echo", { text: "new" })), "new");
    } finally {
      await c.close();
    }
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("A gateway whose proxy signs with a shared secret publishes no JWKS", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const response = await fetch(`${new URL(gateway.url).origin}/.well-known/jwks.json`);
  await response.body?.cancel();
  assert.equal(response.status, 404);
});
