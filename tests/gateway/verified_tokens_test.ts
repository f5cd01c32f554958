// The gateway checks a client token's signature once, not on every request (a client sends the same token with
// each one); every request still has its claims checked, and a token never verified is always checked.
import assert from "node:assert/strict";
import { AuthManager, type TokenPayload } from "../../packages/core/auth.ts";
import { Client, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { FederationProxy } from "../../mod.ts";
import { quiet } from "../_support/catalog_members.ts";
import { GATEWAY_SECRET, SECRET, TestMember } from "../_support/members.ts";

/** A real AuthManager that counts the tokens it verified. */
class CountingManager extends AuthManager {
  verified = 0;
  override verifyToken(token: string, options?: Parameters<AuthManager["verifyToken"]>[1]): Promise<TokenPayload> {
    this.verified++;
    return super.verifyToken(token, options);
  }
}

Deno.test("Gateway verifies a client token's signature once for the many requests that carry it", async () => {
  await using member = await TestMember.start("a");
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(member.config);
  const manager = new CountingManager(GATEWAY_SECRET, { audience: "federation-gateway" });
  await using gateway = await serveGateway(proxy, { auth: manager, port: 0, logger: quiet });
  const token = await manager.createToken({}, { subject: "user-1", audience: "federation-gateway" });
  const client = new Client({ name: "t", version: "1" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gateway.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  try {
    for (let i = 0; i < 20; i++) await client.callTool({ name: "a__echo", arguments: { text: `${i}` } });
    assert.equal(manager.verified, 1);
    // A token signed with another key is checked (and refused) every time.
    const forged = await new AuthManager("another-secret-of-at-least-thirty-two-bytes!").createToken({}, {
      subject: "user-1",
      audience: "federation-gateway",
    });
    for (let i = 0; i < 2; i++) {
      const refused = await fetch(gateway.url, {
        method: "POST",
        headers: { authorization: `Bearer ${forged}`, "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(refused.status, 401);
      await refused.body?.cancel();
    }
    assert.equal(manager.verified, 3);
  } finally {
    await client.close();
  }
});
