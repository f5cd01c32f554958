// Each user's identity at the member: the proxy mints a token per user (sub = the user, act.sub = the proxy,
// orig_iss = the user's issuer, aud = the member, short-lived) for the data-channel requests of that user's calls,
// the member hands it to tool handlers (`userIdentity(ctx)`), and `requireUserIdentity` refuses calls without one.
import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { AuthManager, FederationProxy } from "../../mod.ts";
import { McpServer } from "../../packages/core/_sdk.ts";
import { serveMember, USER_TOKEN_META_KEY, userIdentity } from "../../packages/member/mod.ts";
import type { MemberHandle } from "../../packages/member/mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { SECRET } from "../_support/members.ts";
import { connectClient, quiet, textOf } from "../_support/catalog_members.ts";
import { IdentityProvider } from "../_support/identity_provider.ts";
import { freePort } from "../_support/ports.ts";

/** A member whose `whoami` tool answers the caller's identity (`sub|orig_iss|actor`). */
async function startWhoamiMember(
  serverId: string,
  options: { requireUserIdentity?: boolean; control?: boolean } = {},
): Promise<{ member: MemberHandle }> {
  const member = await serveMember({
    serverId,
    verifier: SECRET,
    server: () => {
      const server = new McpServer({ name: serverId, version: "1.0.0" });
      server.registerTool("whoami", { description: "The calling user" }, async (ctx) => {
        // Let calls of different users overlap on the member.
        await new Promise((resolve) => setTimeout(resolve, 5));
        const user = userIdentity(ctx);
        return { content: [{ type: "text", text: user ? `${user.sub}|${user.iss ?? ""}|${user.actor}` : "nobody" }] };
      });
      return server;
    },
    control: options.control === false ? false : { port: 0 },
    data: { port: 0 },
    logger: quiet,
    requireUserIdentity: options.requireUserIdentity ?? false,
  });
  return { member };
}

function configOf(member: MemberHandle) {
  return {
    serverId: member.serverId,
    endpoints: {
      ...(member.controlUrl ? { control: member.controlUrl } : {}),
      ...(member.dataUrl ? { data: member.dataUrl } : {}),
    },
    auth: { type: "jwt" as const, config: {} },
  };
}

for (
  const [routing, era] of [["data", "legacy"], ["control", "legacy"], ["data", "modern"], [
    "control",
    "modern",
  ]] as const
) {
  Deno.test(`Two users through one gateway to one member (routing ${routing}, ${era} clients): each user's own subject at the member`, async () => {
    await using provider = await IdentityProvider.start();
    const { member } = await startWhoamiMember("who", { requireUserIdentity: true });
    try {
      await using proxy = new FederationProxy(SECRET, { logger: quiet, proxyId: "proxy-1", routing });
      await proxy.registerServer(configOf(member));
      const port = freePort();
      const resource = `http://127.0.0.1:${port}/mcp`;
      await using gateway = await serveGateway(proxy, {
        auth: { jwksUrl: provider.jwksUrl, issuer: provider.issuer, resource },
        port,
        logger: quiet,
      });
      const token = (sub: string) => provider.sign({ scope: "mcp:tools" }, { subject: sub, audience: resource });
      const alice = await connectClient(gateway.url, { token: await token("alice"), name: "alice", era });
      const bob = await connectClient(gateway.url, { token: await token("bob"), name: "bob", era });
      assert.equal(alice.getProtocolEra(), era);
      // 20 calls each, interleaved and concurrent, on one member (one data session of the proxy).
      const calls = Array.from({ length: 20 }, () => [
        alice.callTool({ name: "who__whoami", arguments: {} }).then((r) => ["alice", textOf(r)]),
        bob.callTool({ name: "who__whoami", arguments: {} }).then((r) => ["bob", textOf(r)]),
      ]).flat();
      const answers = await Promise.all(calls);
      for (const [user, text] of answers) {
        const subject = user!;
        assert.equal(text, `${subject}|${provider.issuer}|proxy-1`);
      }
      assert.equal(answers.filter(([u]) => u === "alice").length, 20);
      await alice.close();
      await bob.close();
    } finally {
      await member.close();
    }
  });
}

Deno.test("A member with requireUserIdentity refuses calls made under the proxy's own identity, on both channels", async () => {
  const { member } = await startWhoamiMember("strict", { requireUserIdentity: true });
  try {
    await using proxy = new FederationProxy(SECRET, { logger: quiet });
    await proxy.registerServer(configOf(member));
    // Lists stay allowed (the catalog needs them).
    assert.ok((await proxy.listTools("strict")).some((t) => t.name === "whoami"));
    for (const channel of ["data", "control"] as const) {
      await assert.rejects(
        () => proxy.callTool("strict", "whoami", {}, { channel }),
        (error: Error & { code?: string }) => /requires a user identity/.test(error.message),
        channel,
      );
    }
    // The channels stay up: one request's refusal fails that request only.
    assert.equal(proxy.getServerStatus("strict")?.state, "connected");
    // On behalf of a user, on either channel: accepted, and the user is seen (on the control channel the user's
    // token rides in the request's _meta and is removed before the handler runs).
    for (const channel of ["data", "control"] as const) {
      const result = await proxy.callTool("strict", "whoami", {}, {
        channel,
        onBehalfOf: { sub: `carol-${channel}`, iss: "https://id.example.com" },
      });
      assert.equal(textOf(result), `carol-${channel}|https://id.example.com|federation-proxy`, channel);
    }
  } finally {
    await member.close();
  }
});

Deno.test("The control channel refuses a user token in _meta that is not its proxy's, and keeps message order", async () => {
  const { member } = await startWhoamiMember("ctl", { requireUserIdentity: true });
  try {
    await using proxy = new FederationProxy(SECRET, { logger: quiet });
    await proxy.registerServer(configOf(member));
    // A token for this member signed with the right key, but with another actor than the connection's subject:
    // the member requires the user token's actor to be the connection's own proxy.
    const forged = await new AuthManager(SECRET).createToken({ act: { sub: "someone-else" } }, {
      audience: "ctl",
      issuer: "federation-proxy",
      subject: "mallory",
      expiresIn: 60,
    });
    for (const token of [forged, "not-a-token"]) {
      await assert.rejects(
        () => proxy.callTool("ctl", "whoami", {}, { channel: "control", meta: { [USER_TOKEN_META_KEY]: token } }),
        (error: Error) => /User token refused: ERR_AUTH_/.test(error.message),
      );
    }
    // Concurrent calls of many users on the one socket: each sees its own user.
    const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    const answers = await Promise.all(
      users.map((sub) => proxy.callTool("ctl", "whoami", {}, { channel: "control", onBehalfOf: { sub } })),
    );
    assert.deepEqual(answers.map((r) => textOf(r).split("|")[0]), users);
    assert.equal(proxy.getServerStatus("ctl")?.state, "connected");
  } finally {
    await member.close();
  }
});

Deno.test("Tokens minted for a user: sub, act, orig_iss, aud = the member, short-lived, cached per user", async () => {
  // A data-only third-party-style endpoint that records the Authorization header of every POST.
  const authorizations: string[] = [];
  const { member } = await startWhoamiMember("rec", { control: false });
  const relay = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const header = request.headers.get("authorization");
    if (header && request.method === "POST") authorizations.push(header.slice("Bearer ".length));
    const target = new URL(request.url);
    const upstream = new URL(member.dataUrl!);
    target.host = upstream.host;
    return fetch(target, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: request.signal,
    });
  });
  try {
    await using proxy = new FederationProxy(SECRET, { logger: quiet, proxyId: "proxy-9" });
    await proxy.registerServer({
      serverId: "rec",
      endpoints: { data: `http://127.0.0.1:${relay.addr.port}${new URL(member.dataUrl!).pathname}` },
      auth: { type: "jwt", config: {} },
    });
    authorizations.length = 0;
    for (let i = 0; i < 3; i++) {
      await proxy.callTool("rec", "whoami", {}, { onBehalfOf: { sub: "dave", iss: "https://id.example.com" } });
    }
    await proxy.callTool("rec", "whoami", {}, { onBehalfOf: { sub: "erin" } });
    await proxy.callTool("rec", "whoami", {});
    const claims = authorizations.map((t) => decodeJwt(t));
    const dave = claims.filter((c) => c.sub === "dave");
    assert.equal(dave.length, 3);
    assert.equal(new Set(authorizations.filter((_, i) => claims[i]!.sub === "dave")).size, 1, "cached per user");
    assert.deepEqual(dave[0]!.act, { sub: "proxy-9" });
    assert.equal(dave[0]!.orig_iss, "https://id.example.com");
    assert.equal(dave[0]!.iss, "proxy-9");
    assert.equal(dave[0]!.aud, "rec");
    assert.ok(dave[0]!.exp! - dave[0]!.iat! <= 300, "short-lived");
    const erin = claims.find((c) => c.sub === "erin")!;
    assert.equal(erin.orig_iss, undefined);
    assert.notEqual(erin.jti, dave[0]!.jti);
    // The call without a user: the proxy's own token, no act.
    const own = claims.at(-1)!;
    assert.equal(own.act, undefined);
    assert.notEqual(own.sub, "dave");
  } finally {
    await relay.shutdown();
    await member.close();
  }
});

Deno.test("A member with requireUserIdentity answers every request of a mixed batch sent without a user", async () => {
  const { member } = await startWhoamiMember("batch", { requireUserIdentity: true, control: false });
  try {
    // The proxy's own token (no user), as the proxy's data channel sends it.
    const token = await new AuthManager(SECRET).createToken({}, {
      audience: "batch",
      issuer: "federation-proxy",
      subject: "federation-proxy",
      expiresIn: 60,
    });
    const post = (body: unknown, session?: string) =>
      fetch(member.dataUrl!, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": "2025-11-25",
          ...(session === undefined ? {} : { "mcp-session-id": session }),
        },
        body: JSON.stringify(body),
      });
    const init = await post({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "probe", version: "1" } },
    });
    assert.equal(init.status, 200);
    await init.body?.cancel();
    const session = init.headers.get("mcp-session-id")!;
    await (await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session)).body?.cancel();
    const response = await post([
      { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } },
      { jsonrpc: "2.0", id: 3, method: "ping" },
    ], session);
    assert.equal(response.status, 200);
    const answers: { id: number; error?: { code: number; message: string } }[] = await response.json();
    assert.deepEqual(answers.map((a) => a.id), [1, 2, 3], "one answer per request");
    assert.match(answers[0]!.error!.message, /requires a user identity/);
    for (const answer of answers.slice(1)) assert.match(answer.error!.message, /batch carries a call/);
  } finally {
    await member.close();
  }
});
