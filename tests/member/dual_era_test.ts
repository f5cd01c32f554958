// serveMember in both protocol eras: 2025-11-25 ("legacy") and 2026-07-28 ("modern") clients on the control
// WebSocket and the data endpoint, the control channel extension advertised, tokens checked on modern requests,
// changes announced onto listen streams.

import assert from "node:assert/strict";
import { Client, McpServer, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import type { JSONRPCMessage } from "../../packages/core/_sdk.ts";
import { CONTROL_CHANNEL_EXTENSION } from "../../packages/core/control_channel_extension.ts";
import { WebSocketTransport } from "../../packages/core/websocket_transport.ts";
import { serveMember, USER_TOKEN_META_KEY, userIdentity } from "../../packages/member/mod.ts";
import type { MemberHandle, ServeMemberOptions, SessionInfo, SessionServer } from "../../packages/member/mod.ts";
import {
  mint,
  recordingLogger,
  SECRET,
  SERVER_ID,
  signer,
  textOf,
  waitFor,
} from "../../packages/member/_helpers_test.ts";
import { quiet } from "../_support/catalog_members.ts";
import { sleep } from "../_support/sleep.ts";

const MODERN = "2026-07-28";

/** A v2 McpServer with a `whoami` tool (the user a call is made for) and a `ping_pong` tool. */
function whoServer(): McpServer {
  const server = new McpServer({ name: "who", version: "1.0.0" });
  server.registerTool("whoami", { description: "The calling user" }, (ctx) => {
    const user = userIdentity(ctx);
    return { content: [{ type: "text", text: user ? `${user.sub} via ${user.actor}` : "nobody" }] };
  });
  server.registerTool("ping_pong", { description: "Answers pong" }, () => ({
    content: [{ type: "text", text: "pong" }],
  }));
  server.registerTool("wait", { description: "Answers when cancelled, after a while" }, async (ctx) => {
    await sleep(10_000, ctx.mcpReq.signal);
    return { content: [{ type: "text", text: "waited" }] };
  });
  return server;
}

function start(overrides: Partial<ServeMemberOptions> = {}): Promise<MemberHandle> {
  return serveMember({
    serverId: SERVER_ID,
    server: whoServer,
    verifier: SECRET,
    control: { port: 0 },
    data: { port: 0 },
    logger: quiet,
    ...overrides,
  });
}

function newClient(mode: "auto" | "legacy"): Client {
  return new Client({ name: `test-${mode}`, version: "1.0.0" }, { versionNegotiation: { mode } });
}

async function controlClient(member: MemberHandle, mode: "auto" | "legacy", token?: string): Promise<Client> {
  const transport = await WebSocketTransport.connect(member.controlUrl!, {
    headers: { Authorization: `Bearer ${token ?? await mint()}` },
  });
  const client = newClient(mode);
  await client.connect(transport);
  return client;
}

async function dataClient(member: MemberHandle, mode: "auto" | "legacy"): Promise<Client> {
  const client = newClient(mode);
  const headers = { Authorization: `Bearer ${await mint()}` };
  await client.connect(new StreamableHTTPClientTransport(new URL(member.dataUrl!), { requestInit: { headers } }));
  return client;
}

/** A 2026-07-28 request body with the per-request `_meta` envelope. */
function modernRequest(id: number, method: string, params: Record<string, unknown> = {}): JSONRPCMessage {
  return {
    jsonrpc: "2.0",
    id,
    method,
    params: {
      ...params,
      _meta: {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
        "io.modelcontextprotocol/clientCapabilities": {},
      },
    },
  } as JSONRPCMessage;
}

function modernHeaders(method: string, token: string | undefined): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": MODERN,
    "mcp-method": method,
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  };
}

Deno.test("serveMember() pins each control connection to the era of its first message: a modern and a legacy client at once", async () => {
  await using member = await start();
  const modern = await controlClient(member, "auto");
  const legacy = await controlClient(member, "legacy");
  try {
    assert.equal(modern.getProtocolEra(), "modern");
    assert.equal(legacy.getProtocolEra(), "legacy");
    const [a, b] = await Promise.all([
      modern.callTool({ name: "ping_pong", arguments: {} }),
      legacy.callTool({ name: "ping_pong", arguments: {} }),
    ]);
    assert.equal(textOf(a), "pong");
    assert.equal(textOf(b), "pong");
    assert.equal(member.sessionCount().control, 2);
  } finally {
    await Promise.all([modern.close(), legacy.close()]);
  }
});

Deno.test("serveMember() answers server/discover on both channels and advertises the control channel extension in both eras", async () => {
  await using member = await start();
  const clients = [
    await controlClient(member, "auto"),
    await dataClient(member, "auto"),
    await controlClient(member, "legacy"),
    await dataClient(member, "legacy"),
  ];
  try {
    for (const [i, client] of clients.entries()) {
      assert.equal(client.getProtocolEra(), i < 2 ? "modern" : "legacy");
      if (i < 2) assert.ok(client.getDiscoverResult(), "discover answered");
      const extension = client.getServerCapabilities()?.extensions?.[CONTROL_CHANNEL_EXTENSION];
      assert.deepEqual(extension, { version: "1", subprotocol: "mcp" }, `client ${i}`);
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
});

Deno.test("serveMember() without a control channel does not advertise the control channel extension", async () => {
  await using member = await start({ control: false });
  for (const mode of ["auto", "legacy"] as const) {
    const client = await dataClient(member, mode);
    try {
      assert.equal(client.getServerCapabilities()?.extensions?.[CONTROL_CHANNEL_EXTENSION], undefined, mode);
      assert.equal(textOf(await client.callTool({ name: "ping_pong", arguments: {} })), "pong");
    } finally {
      await client.close();
    }
  }
});

Deno.test("serveMember() refuses a 2026-07-28 POST without a valid token before any MCP processing", async () => {
  await using member = await start();
  const body = JSON.stringify(modernRequest(1, "tools/list"));
  for (const token of [undefined, "not-a-jwt", await mint({ audience: "another-member" })]) {
    const response = await fetch(member.dataUrl!, {
      method: "POST",
      headers: modernHeaders("tools/list", token),
      body,
    });
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { error: "invalid_token" });
  }
  const ok = await fetch(member.dataUrl!, { method: "POST", headers: modernHeaders("tools/list", await mint()), body });
  assert.equal(ok.status, 200);
  const answer = await ok.json() as { result: { tools: { name: string }[] } };
  assert.deepEqual(answer.result.tools.map((tool) => tool.name).sort(), ["ping_pong", "wait", "whoami"]);
});

Deno.test("serveMember() answers a 2026-07-28 request the classification ladder refuses with its status and JSON-RPC error", async () => {
  await using member = await start();
  // The Mcp-Method header names another method than the body: -32020 (header mismatch), HTTP 400.
  const response = await fetch(member.dataUrl!, {
    method: "POST",
    headers: modernHeaders("prompts/list", await mint()),
    body: JSON.stringify(modernRequest(7, "tools/list")),
  });
  assert.equal(response.status, 400);
  const answer = await response.json() as { id: unknown; error: { code: number } };
  assert.equal(answer.id, 7);
  assert.equal(answer.error.code, -32020);
});

Deno.test("serveMember() hands a 2026-07-28 control request the user of its user token", async () => {
  await using member = await start();
  const client = await controlClient(member, "auto");
  try {
    assert.equal(client.getProtocolEra(), "modern");
    const userToken = await signer.createToken({ act: { sub: "proxy-a" } }, {
      audience: SERVER_ID,
      subject: "alice",
      expiresIn: "1h",
    });
    const asAlice = await client.callTool({
      name: "whoami",
      arguments: {},
      _meta: { [USER_TOKEN_META_KEY]: userToken },
    });
    assert.equal(textOf(asAlice), "alice via proxy-a");
    assert.equal(textOf(await client.callTool({ name: "whoami", arguments: {} })), "nobody");
  } finally {
    await client.close();
  }
});

Deno.test("MemberHandle.notify reaches 2026-07-28 listen streams on both channels and 2025-11-25 sessions", async () => {
  await using member = await start();
  const clients = [
    await controlClient(member, "auto"),
    await dataClient(member, "auto"),
    await controlClient(member, "legacy"),
    await dataClient(member, "legacy"),
  ];
  const seen = clients.map(() => 0);
  for (const [i, client] of clients.entries()) {
    client.setNotificationHandler("notifications/tools/list_changed", () => void seen[i]!++);
  }
  const subscriptions = await Promise.all(clients.slice(0, 2).map((c) => c.listen({ toolsListChanged: true })));
  // The legacy HTTP session receives notifications on its GET stream, which the client opens after initialize.
  await new Promise((resolve) => setTimeout(resolve, 200));
  try {
    member.notify.toolsChanged();
    await waitFor(() => seen.every((count) => count === 1), 3_000);
    // A prompt change reaches no one who listens for tools only on 2026-07-28.
    member.notify.promptsChanged();
    member.notify.toolsChanged();
    await waitFor(() => seen.every((count) => count === 2), 3_000);
  } finally {
    await Promise.all(subscriptions.map((s) => s.close()));
    await Promise.all(clients.map((client) => client.close()));
  }
});

Deno.test("serveMember() serves a server of another kind on 2025-11-25 only: a negotiating client falls back", async () => {
  // A structural SessionServer wrapping a v2 server (as a server built on another SDK would be): not a v2 instance.
  const foreign = (): SessionServer => {
    const inner = whoServer();
    return { connect: (transport) => inner.connect(transport as never), close: () => inner.close() };
  };
  await using member = await start({ server: foreign });
  const response = await fetch(member.dataUrl!, {
    method: "POST",
    headers: modernHeaders("tools/list", await mint()),
    body: JSON.stringify(modernRequest(3, "tools/list")),
  });
  assert.equal(response.status, 400);
  const answer = await response.json() as { id: unknown; error: { code: number; data: { supported: string[] } } };
  assert.equal(answer.error.code, -32022);
  assert.ok(answer.error.data.supported.includes("2025-11-25"));
  for (const client of [await dataClient(member, "auto"), await controlClient(member, "auto")]) {
    try {
      assert.equal(client.getProtocolEra(), "legacy");
      assert.equal(textOf(await client.callTool({ name: "ping_pong", arguments: {} })), "pong");
    } finally {
      await client.close();
    }
  }
});

Deno.test("MemberHandle.drain() does not wait for open 2026-07-28 listen streams, and ends them", async () => {
  const { logger, lines } = recordingLogger();
  const member = await start({ logger });
  const clients = [await controlClient(member, "auto"), await dataClient(member, "auto")];
  try {
    const subscriptions = await Promise.all(clients.map((client) => client.listen({ toolsListChanged: true })));
    assert.equal(textOf(await clients[0]!.callTool({ name: "ping_pong", arguments: {} })), "pong");
    await member.drain();
    assert.deepEqual(lines.filter((line) => line.message.startsWith("Drain timed out")), []);
    // Both streams end with the member (gracefully or by the connection going away).
    await Promise.all(subscriptions.map((subscription) => subscription.closed));
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
});

Deno.test("serveMember() builds a server per 2026-07-28 request for the subject of the request's token", async () => {
  const sessions: SessionInfo[] = [];
  await using member = await start({
    server: (info) => {
      sessions.push(info);
      return whoServer();
    },
  });
  const body = JSON.stringify(modernRequest(1, "tools/list"));
  for (const subject of ["proxy-a", "proxy-b"]) {
    const token = await mint({ subject });
    const response = await fetch(member.dataUrl!, {
      method: "POST",
      headers: modernHeaders("tools/list", token),
      body,
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  // (The first request may build one more server: the member checks once that the factory builds v2 servers.)
  const subjects = sessions.filter((info) => info.channel === "data").map((info) => info.subject);
  assert.deepEqual([...new Set(subjects)], ["proxy-a", "proxy-b"]);
});

Deno.test("serveMember() applies requireUserIdentity and maxMessageBytes to 2026-07-28 requests", async () => {
  await using member = await start({ requireUserIdentity: true, maxMessageBytes: 4_096 });
  const token = await mint();
  const call = modernRequest(5, "tools/call", { name: "ping_pong", arguments: {} });
  const refused = await fetch(member.dataUrl!, {
    method: "POST",
    headers: { ...modernHeaders("tools/call", token), "mcp-name": "ping_pong" },
    body: JSON.stringify(call),
  });
  const answer = await refused.json() as { id: unknown; error: { code: number } };
  assert.equal(answer.id, 5);
  assert.equal(answer.error.code, -32001);
  // Lists stay allowed without a user.
  const list = await fetch(member.dataUrl!, {
    method: "POST",
    headers: modernHeaders("tools/list", token),
    body: JSON.stringify(modernRequest(6, "tools/list")),
  });
  assert.equal(list.status, 200);
  assert.ok("result" in (await list.json() as Record<string, unknown>));
  const big = await fetch(member.dataUrl!, {
    method: "POST",
    headers: modernHeaders("tools/list", token),
    body: JSON.stringify(modernRequest(7, "tools/list", { padding: "x".repeat(8_000) })),
  });
  assert.equal(big.status, 413);
  await big.body?.cancel();
});

Deno.test("MemberHandle.drain() does not wait for control requests their client cancelled, in both eras", async () => {
  const { logger, lines } = recordingLogger();
  const member = await start({ logger });
  const clients = [await controlClient(member, "auto"), await controlClient(member, "legacy")];
  try {
    const cancels = clients.map((client) => {
      const controller = new AbortController();
      const call = client.callTool({ name: "wait", arguments: {} }, { signal: controller.signal })
        .catch((error: unknown) => error);
      return { controller, call };
    });
    // Both calls have reached the member: a later request on each connection is answered after them.
    for (const client of clients) {
      assert.equal(textOf(await client.callTool({ name: "ping_pong", arguments: {} })), "pong");
    }
    for (const { controller } of cancels) controller.abort();
    await Promise.all(cancels.map(({ call }) => call));
    await member.drain();
    assert.deepEqual(lines.filter((line) => line.message.startsWith("Drain timed out")), []);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
});
