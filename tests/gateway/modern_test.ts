import assert from "node:assert/strict";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { serveGateway, serveGatewayStdio } from "../../packages/gateway/mod.ts";
import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import type { GatewayHandle } from "../../packages/gateway/mod.ts";
import {
  Client,
  ResultSchema,
  Server,
  ServerProtocolError,
  StreamableHTTPClientTransport,
} from "../../packages/core/_sdk.ts";
import { GATEWAY_SECRET, SECRET, TestMember } from "../_support/members.ts";
import { connectClient, gatewayToken, quiet, startDynamicMember, textOf } from "../_support/catalog_members.ts";
import { sleep } from "../../packages/core/_sleep.ts";

const MODERN = "2026-07-28";

/** A proxy with the given members and a gateway in front of it, closed together. */
async function federation(members: TestMember[], instructions?: string, eraPreference?: "legacy" | "modern") {
  const proxy = new FederationProxy(SECRET, { logger: quiet, ...(eraPreference ? { eraPreference } : {}) });
  for (const member of members) await proxy.registerServer(member.config);
  const gateway: GatewayHandle = await serveGateway(proxy, {
    auth: { secret: GATEWAY_SECRET },
    port: 0,
    logger: quiet,
    ...(instructions === undefined ? {} : { instructions }),
  });
  return {
    proxy,
    gateway,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await proxy.close();
    },
  };
}

/** The envelope of a modern request's `_meta`. */
function envelope(capabilities: Record<string, unknown> = {}, version = MODERN): Record<string, unknown> {
  return {
    "io.modelcontextprotocol/protocolVersion": version,
    "io.modelcontextprotocol/clientCapabilities": capabilities,
    "io.modelcontextprotocol/clientInfo": { name: "raw-client", version: "1.0.0" },
  };
}

/** POSTs one 2026-07-28 request with the standard headers (overridable). */
async function post(
  url: string,
  method: string,
  params: Record<string, unknown>,
  options: { name?: string; headers?: Record<string, string>; version?: string; signal?: AbortSignal } = {},
): Promise<Response> {
  const token = await gatewayToken();
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    authorization: `Bearer ${token}`,
    "mcp-protocol-version": options.version ?? MODERN,
    "mcp-method": method,
    ...(options.name === undefined ? {} : { "mcp-name": options.name }),
    ...options.headers,
  };
  const body = {
    jsonrpc: "2.0",
    id: 7,
    method,
    params: { ...params, _meta: { ...envelope({}, options.version), ...(params._meta as object) } },
  };
  return await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** The JSON-RPC message of a response (JSON, or the last `data:` of an SSE stream). */
async function messageOf(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (!response.headers.get("content-type")?.includes("text/event-stream")) return JSON.parse(text);
  const data = text.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim());
  return JSON.parse(data.at(-1)!);
}

Deno.test("Gateway serves a 2026-07-28 client with no session: discover, list and call through a real member", async () => {
  await using dynamic = await startDynamicMember("alpha");
  await using fed = await federation([dynamic.member], "The whole federation.");
  const token = await gatewayToken();
  const seen: Headers[] = [];
  const client = new Client({ name: "modern-client", version: "1.0.0" }, {
    versionNegotiation: { mode: "auto" },
  });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(fed.gateway.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        seen.push(response.headers);
        return response;
      },
    }),
  );
  try {
    assert.equal(client.getProtocolEra(), "modern");
    const discovered = client.getDiscoverResult();
    assert.ok(discovered?.capabilities.tools, "tools announced");
    assert.ok(discovered?.capabilities.resources?.subscribe === true);
    assert.match(client.getInstructions() ?? "", /^The whole federation\./);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    assert.ok(names.includes("alpha__echo"), names.join());
    const result = await client.callTool({ name: "alpha__echo", arguments: { text: "modern" } });
    assert.equal(textOf(result), "modern");
    assert.equal(fed.gateway.sessionCount(), 0, "no session was opened");
    assert.ok(seen.length >= 3 && seen.every((headers) => headers.get("mcp-session-id") === null));
  } finally {
    await client.close();
  }
});

Deno.test("Gateway answers an unsupported version with 400 / -32022 listing the supported one", async () => {
  await using fed = await federation([]);
  const response = await post(fed.gateway.url, "tools/list", {}, { version: "2099-01-01" });
  assert.equal(response.status, 400);
  const message = await messageOf(response);
  const error = message.error as { code: number; data: { supported: string[]; requested: string } };
  assert.equal(error.code, -32022);
  assert.deepEqual(error.data.supported, [MODERN]);
  assert.equal(error.data.requested, "2099-01-01");
  assert.equal(message.id, 7);
});

Deno.test("Gateway refuses an Mcp-Name that does not match the body with 400 / -32020", async () => {
  await using dynamic = await startDynamicMember("alpha");
  await using fed = await federation([dynamic.member]);
  const response = await post(fed.gateway.url, "tools/call", { name: "alpha__echo", arguments: { text: "x" } }, {
    name: "alpha__other",
  });
  assert.equal(response.status, 400);
  assert.equal((((await messageOf(response)).error) as { code: number }).code, -32020);
});

/** A member with a tool whose `region` argument is mirrored into `Mcp-Param-Region`; it echoes the region. */
function startRegionMember(serverId: string): Promise<TestMember> {
  return TestMember.start(serverId, {
    extra: {
      server: () => {
        const server = new Server({ name: "regions", version: "1.0.0" }, { capabilities: { tools: {} } });
        server.setRequestHandler("tools/list", () => ({
          tools: [{
            name: "query",
            inputSchema: {
              type: "object",
              properties: { region: { type: "string", "x-mcp-header": "Region" }, sql: { type: "string" } },
            },
          }],
        }));
        server.setRequestHandler("tools/call", (request) => ({
          content: [{ type: "text", text: String(request.params.arguments?.region) }],
        }));
        return server;
      },
    },
  });
}

Deno.test("Gateway checks Mcp-Param-* headers against the federated tool's x-mcp-header declarations", async () => {
  await using member = await startRegionMember("db");
  await using fed = await federation([member]);
  const call = (headers: Record<string, string>) =>
    post(fed.gateway.url, "tools/call", { name: "db__query", arguments: { region: "us-west1", sql: "x" } }, {
      name: "db__query",
      headers,
    });
  const good = await call({ "mcp-param-region": "us-west1" });
  assert.equal(good.status, 200);
  assert.equal(textOf((await messageOf(good)).result), "us-west1");
  const encoded = await call({ "mcp-param-region": `=?base64?${btoa("us-west1")}?=` });
  assert.equal(encoded.status, 200);
  await encoded.body?.cancel();
  for (const headers of [{ "mcp-param-region": "eu-north1" }, {}]) {
    const refused = await call(headers);
    assert.equal(refused.status, 400, JSON.stringify(headers));
    const error = (await messageOf(refused)).error as { code: number; message: string };
    assert.equal(error.code, -32020);
    assert.match(error.message, /Mcp-Param-Region/);
  }
});

Deno.test("Gateway puts the members' merged cache hint on 2026-07-28 list results, not on 2025 ones", async () => {
  await using dynamic = await startDynamicMember("alpha");
  await using fed = await federation([dynamic.member]);
  // The proxy's merge of members' hints, as the catalog reports it.
  Object.assign(fed.proxy.catalog, { cacheHint: () => ({ ttlMs: 30_000, cacheScope: "public" }) });
  const response = await post(fed.gateway.url, "tools/list", {}, {});
  assert.equal(response.status, 200);
  const result = (await messageOf(response)).result as Record<string, unknown>;
  assert.equal(result.ttlMs, 30_000);
  assert.equal(result.cacheScope, "public");
  assert.ok(Array.isArray(result.tools));
  const legacy = await connectClient(fed.gateway.url);
  try {
    const listed = await legacy.request({ method: "tools/list" }, ResultSchema) as Record<string, unknown>;
    assert.ok(Array.isArray(listed.tools));
    assert.equal(listed.ttlMs, undefined);
    assert.equal(listed.cacheScope, undefined);
  } finally {
    await legacy.close();
  }
});

Deno.test("Gateway cancels the member's call when a 2026-07-28 client closes the response stream", async () => {
  await using dynamic = await startDynamicMember("alpha");
  await using fed = await federation([dynamic.member]);
  const abort = new AbortController();
  const response = await post(fed.gateway.url, "tools/call", {
    name: "alpha__wait",
    arguments: { ms: 30_000 },
    _meta: { progressToken: "p1" },
  }, { name: "alpha__wait", signal: abort.signal });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
  const reader = response.body!.getReader();
  await reader.read(); // the first progress notification: the call is running on the member
  abort.abort();
  await reader.cancel().catch(() => {});
  const deadline = performance.now() + 10_000;
  while (dynamic.cancelled() === 0 && performance.now() < deadline) await sleep(50);
  assert.equal(dynamic.cancelled(), 1);
});

Deno.test("Gateway.drain() lets a 2026-07-28 call in progress finish before closing", async () => {
  await using dynamic = await startDynamicMember("alpha");
  await using fed = await federation([dynamic.member]);
  const response = await post(fed.gateway.url, "tools/call", {
    name: "alpha__wait",
    arguments: { ms: 400 },
    _meta: { progressToken: "p1" },
  }, { name: "alpha__wait" });
  const reader = response.body!.getReader();
  let text = new TextDecoder().decode((await reader.read()).value); // the call is running on the member
  const drained = fed.gateway.drain();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    text += new TextDecoder().decode(chunk.value);
  }
  await drained;
  const last = text.split("\n").filter((line) => line.startsWith("data:")).at(-1)!;
  assert.equal(textOf(JSON.parse(last.slice(5)).result), "waited 400");
  assert.equal(dynamic.cancelled(), 0);
});

/** A member whose `whoami` tool answers with the envelope and trace context it received, and `needs` fails -32021. */
function startEnvelopeMember(serverId: string): Promise<TestMember> {
  return TestMember.start(serverId, {
    extra: {
      server: () => {
        const server = new Server({ name: "envelope", version: "1.0.0" }, { capabilities: { tools: {} } });
        server.setRequestHandler("tools/list", () => ({
          tools: [
            { name: "whoami", inputSchema: { type: "object" } },
            { name: "needs", inputSchema: { type: "object" } },
            { name: "stamped", inputSchema: { type: "object" } },
          ],
        }));
        server.setRequestHandler("tools/call", (request, ctx) => {
          if (request.params.name === "needs") {
            throw new ServerProtocolError(-32021, "Missing required client capability", {
              requiredCapabilities: { sampling: {} },
            });
          }
          if (request.params.name === "stamped") {
            const _meta = { "io.modelcontextprotocol/serverInfo": { name: "member", version: "9" }, kept: 1 };
            return { content: [{ type: "text", text: "stamped" }], _meta };
          }
          const meta = ctx.mcpReq._meta ?? {};
          const seen = {
            envelope: ctx.mcpReq.envelope ?? {},
            traceparent: meta.traceparent,
            metaKeys: Object.keys(meta),
          };
          return { content: [{ type: "text", text: JSON.stringify(seen) }] };
        });
        return server;
      },
    },
  });
}

Deno.test("Gateway passes a 2026-07-28 client's envelope and trace context on to the member", async () => {
  await using member = await startEnvelopeMember("env");
  await using fed = await federation([member]);
  const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const response = await post(fed.gateway.url, "tools/call", {
    name: "env__whoami",
    arguments: {},
    _meta: { traceparent, "io.modelcontextprotocol/clientCapabilities": { elicitation: {} } },
  }, { name: "env__whoami" });
  assert.equal(response.status, 200);
  const seen = JSON.parse(textOf((await messageOf(response)).result));
  assert.equal(seen.traceparent, traceparent);
  assert.deepEqual(seen.envelope["io.modelcontextprotocol/clientInfo"], { name: "raw-client", version: "1.0.0" });
  assert.deepEqual(seen.envelope["io.modelcontextprotocol/clientCapabilities"], { elicitation: {} });
});

Deno.test("Gateway tells a 2026-07-28 member what a 2025-11-25 client's initialize stated: its capabilities and info", async () => {
  await using member = await startEnvelopeMember("env");
  await using fed = await federation([member]);
  const envelopeSeen = async (client: Client) => {
    const seen = JSON.parse(textOf(await client.callTool({ name: "env__whoami", arguments: {} })));
    return seen.envelope as Record<string, unknown>;
  };
  const asking = await connectClient(fed.gateway.url, {
    name: "asking-client",
    capabilities: { elicitation: {}, sampling: { context: {} }, roots: { listChanged: true }, experimental: { x: {} } },
  });
  const plain = await connectClient(fed.gateway.url, {
    name: "plain-client",
    capabilities: { elicitation: { url: {} }, sampling: { tools: {} } },
  });
  const none = await connectClient(fed.gateway.url, { name: "quiet-client" });
  // The three at once on one member: each call tells it its own client's.
  const [seen, plainSeen, noneSeen] = await Promise.all([asking, plain, none].map(envelopeSeen));
  // What the federation can relay, as the client declared it (an empty elicitation is 2025-11-25's form mode);
  // nothing else of its capabilities (sampling's context, experimental ones) reaches the member.
  assert.deepEqual(seen!["io.modelcontextprotocol/clientCapabilities"], {
    elicitation: { form: {} },
    sampling: {},
    roots: { listChanged: true },
  });
  assert.deepEqual(seen!["io.modelcontextprotocol/clientInfo"], { name: "asking-client", version: "1.0.0" });
  assert.deepEqual(plainSeen!["io.modelcontextprotocol/clientCapabilities"], {
    elicitation: { url: {} },
    sampling: { tools: {} },
  });
  // A client that declared nothing is asked for nothing: the proxy's own capabilities are not stated for it.
  assert.deepEqual(noneSeen!["io.modelcontextprotocol/clientCapabilities"], {});
  for (const client of [asking, plain, none]) await client.close();
});

Deno.test("Gateway over stdio tells a 2026-07-28 member anew what a 2025-11-25 client states when it initializes again", async () => {
  await using member = await startEnvelopeMember("env");
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(member.config);
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  await using _gateway = await serveGatewayStdio(proxy, { stdin, stdout });
  const answers = new Map<number, (message: Record<string, unknown>) => void>();
  createInterface({ input: stdout }).on("line", (line) => {
    const message = JSON.parse(line);
    answers.get(message.id)?.(message);
  });
  let next = 0;
  const request = (method: string, params: Record<string, unknown>) => {
    const id = ++next;
    const answered = new Promise<Record<string, unknown>>((resolve) => answers.set(id, resolve));
    stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    // An answer that never comes fails the test instead of hanging it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`No answer to ${method} in 10 s`)), 10_000);
    });
    return Promise.race([answered, late]).finally(() => clearTimeout(timer));
  };
  const initialize = async (capabilities: Record<string, unknown>, name: string) => {
    const answer = await request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities,
      clientInfo: { name, version: "1.0.0" },
    });
    assert.ok("result" in answer, JSON.stringify(answer));
    stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
  };
  const envelopeSeen = async () => {
    const answer = await request("tools/call", { name: "env__whoami", arguments: {} });
    return JSON.parse(textOf(answer.result as { content: unknown[] })).envelope as Record<string, unknown>;
  };
  await initialize({ elicitation: {} }, "first");
  const first = await envelopeSeen();
  assert.deepEqual(first["io.modelcontextprotocol/clientCapabilities"], { elicitation: { form: {} } });
  assert.deepEqual(first["io.modelcontextprotocol/clientInfo"], { name: "first", version: "1.0.0" });
  await initialize({ roots: { listChanged: true } }, "second");
  const second = await envelopeSeen();
  assert.deepEqual(second["io.modelcontextprotocol/clientCapabilities"], { roots: { listChanged: true } });
  assert.deepEqual(second["io.modelcontextprotocol/clientInfo"], { name: "second", version: "1.0.0" });
  stdin.end();
});

Deno.test("Gateway names no client to a 2025-11-25 member: no envelope key reaches it from either era's client", async () => {
  await using member = await startEnvelopeMember("env");
  await using fed = await federation([member], undefined, "legacy");
  const legacyClient = await connectClient(fed.gateway.url, { name: "asking-client", capabilities: { roots: {} } });
  const fromLegacy = JSON.parse(textOf(await legacyClient.callTool({ name: "env__whoami", arguments: {} })));
  await legacyClient.close();
  const response = await post(fed.gateway.url, "tools/call", {
    name: "env__whoami",
    arguments: {},
    _meta: { "io.modelcontextprotocol/clientCapabilities": { elicitation: {} } },
  }, { name: "env__whoami" });
  const fromModern = JSON.parse(textOf((await messageOf(response)).result));
  // (The member's SDK lifts envelope keys out of `_meta` into the request's envelope, in either era.)
  for (const seen of [fromLegacy, fromModern]) {
    assert.deepEqual(seen.envelope, {}, JSON.stringify(seen));
    assert.ok(
      !(seen.metaKeys as string[]).some((key) => key.startsWith("io.modelcontextprotocol/")),
      JSON.stringify(seen),
    );
  }
});

Deno.test("Gateway answers a member's -32021 to a 2026-07-28 client with HTTP 400 and the capabilities", async () => {
  await using member = await startEnvelopeMember("env");
  await using fed = await federation([member]);
  const response = await post(fed.gateway.url, "tools/call", { name: "env__needs", arguments: {} }, {
    name: "env__needs",
  });
  assert.equal(response.status, 400);
  const error = (await messageOf(response)).error as { code: number; data: { requiredCapabilities: unknown } };
  assert.equal(error.code, -32021);
  assert.deepEqual(error.data.requiredCapabilities, { sampling: {} });
});

Deno.test("Gateway relays a member's log lines to a 2026-07-28 client only when its envelope asks for a level", async () => {
  await using dynamic = await startDynamicMember("alpha");
  await using fed = await federation([dynamic.member]);
  const frames = async (meta: Record<string, unknown>) => {
    const response = await post(fed.gateway.url, "tools/call", { name: "alpha__log", arguments: {}, _meta: meta }, {
      name: "alpha__log",
    });
    const text = await response.text();
    return text.split("\n").filter((line) => line.startsWith("data:")).map((line) => JSON.parse(line.slice(5)));
  };
  const logged = await frames({ "io.modelcontextprotocol/logLevel": "info" });
  const lines = logged.filter((frame) => frame.method === "notifications/message");
  assert.deepEqual(lines.map((frame) => frame.params.data), ["one", "two", "three"]);
  assert.equal(lines[0].params.logger, "alpha/tool");
  assert.equal(textOf(logged.at(-1).result), "logged");
  const quietFrames = await frames({ "io.modelcontextprotocol/logLevel": "error" });
  assert.equal(quietFrames.filter((frame) => frame.method === "notifications/message").length, 0);
});

Deno.test("Gateway names itself, not the member, in the serverInfo of a routed result", async () => {
  await using member = await startEnvelopeMember("env");
  await using fed = await federation([member]);
  const response = await post(fed.gateway.url, "tools/call", { name: "env__stamped", arguments: {} }, {
    name: "env__stamped",
  });
  const result = (await messageOf(response)).result as { _meta: Record<string, { name?: string } | number> };
  assert.equal((result._meta["io.modelcontextprotocol/serverInfo"] as { name: string }).name, "federated-mcp-gateway");
  assert.equal(result._meta.kept, 1);
});
