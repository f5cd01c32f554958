import assert from "node:assert/strict";
import { z } from "zod";
import { Client, McpServer, StreamableHTTPClientTransport } from "../core/_sdk.ts";
import { CancelledError, ConfigError, ConnectionError } from "../core/errors.ts";
import { CloseCode } from "../core/websocket_transport.ts";
import {
  closeCodeOf,
  httpClient,
  initializeBody,
  mint,
  openHttpSession,
  postHeaders,
  rawHttp,
  SECRET,
  SERVER_ID,
  startMember,
  textOf,
  upgradeHeaders,
  wsClient,
} from "./_helpers_test.ts";
import { serveMember } from "./serve_member.ts";

Deno.test("serveMember() serves both channels on one port: SDK clients list and call tools", async () => {
  const { member } = await startMember();
  assert.match(member.controlUrl!, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal(new URL(member.controlUrl!).port, new URL(member.dataUrl!).port);
  const token = await mint();

  const http = await httpClient(member.dataUrl!, token);
  const tools = await http.listTools();
  assert.deepEqual(tools.tools.map((t) => t.name).sort(), ["add", "echo", "time"]);
  assert.equal(tools.tools.find((t) => t.name === "echo")?.annotations?.readOnlyHint, true);
  assert.equal(textOf(await http.callTool({ name: "add", arguments: { a: 2, b: 3 } })), "5");
  const info = await http.readResource({ uri: "info://server" });
  assert.match(JSON.stringify(info.contents), /serverId: member-1/);
  const prompt = await http.getPrompt({ name: "greet", arguments: { name: "Ada" } });
  assert.match(JSON.stringify(prompt.messages), /Ada/);

  const { client: ws } = await wsClient(member.controlUrl!, token);
  assert.equal(textOf(await ws.callTool({ name: "echo", arguments: { text: "over ws" } })), "over ws");
  assert.equal((await ws.listTools()).tools.length, 3);
  assert.deepEqual(member.sessionCount(), { control: 1, data: 1 });

  await http.close();
  await ws.close();
  await member.close();
});

Deno.test("serveMember() serves control and data on two ports", async () => {
  const { member } = await startMember({ control: { port: 0 }, data: { port: 0 } });
  assert.notEqual(new URL(member.controlUrl!).port, new URL(member.dataUrl!).port);
  const token = await mint();
  const http = await httpClient(member.dataUrl!, token);
  const { client: ws } = await wsClient(member.controlUrl!, token);
  assert.equal(textOf(await http.callTool({ name: "echo", arguments: { text: "a" } })), "a");
  assert.equal(textOf(await ws.callTool({ name: "echo", arguments: { text: "b" } })), "b");
  // A plain request on the control-only listener asks for an upgrade; the data path is not served there.
  const plain = await fetch(member.controlUrl!.replace("ws:", "http:"), {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(plain.status, 426);
  await plain.body?.cancel();
  // Health on both listeners.
  for (const url of [member.healthUrl, member.controlUrl!.replace("ws:", "http:") + "healthz"]) {
    const health = await fetch(url);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
  }
  await http.close();
  await ws.close();
  await member.close();
});

Deno.test("serveMember() serves endpoints on distinct paths of one listener", async () => {
  const { member } = await startMember({ control: { path: "/ws" }, data: { path: "/mcp" } });
  assert.ok(member.controlUrl!.endsWith("/ws"));
  assert.ok(member.dataUrl!.endsWith("/mcp"));
  const token = await mint();
  const http = await httpClient(member.dataUrl!, token);
  const { client: ws } = await wsClient(member.controlUrl!, token);
  assert.equal(textOf(await http.callTool({ name: "echo", arguments: { text: "a" } })), "a");
  assert.equal(textOf(await ws.callTool({ name: "echo", arguments: { text: "b" } })), "b");
  const root = await fetch(member.dataUrl!.replace("/mcp", "/"), { headers: { authorization: `Bearer ${token}` } });
  assert.equal(root.status, 404);
  await root.body?.cancel();
  await http.close();
  await ws.close();
  await member.close();
});

Deno.test("serveMember() serves a data-only and a control-only member", async () => {
  const token = await mint();
  const { member: dataOnly } = await startMember({ control: false });
  assert.equal(dataOnly.controlUrl, undefined);
  const http = await httpClient(dataOnly.dataUrl!, token);
  assert.equal(textOf(await http.callTool({ name: "echo", arguments: { text: "d" } })), "d");
  const upgrade = await rawHttp(dataOnly.dataUrl!, upgradeHeaders({ Authorization: `Bearer ${token}` }));
  assert.notEqual(upgrade.status, 101);
  await http.close();
  await dataOnly.close();

  const { member: controlOnly } = await startMember({ data: false });
  assert.equal(controlOnly.dataUrl, undefined);
  assert.ok(controlOnly.healthUrl.startsWith("http://127.0.0.1:"));
  const { client } = await wsClient(controlOnly.controlUrl!, token);
  assert.equal(textOf(await client.callTool({ name: "echo", arguments: { text: "c" } })), "c");
  await client.close();
  await controlOnly.close();
});

Deno.test("serveMember() answers JSON instead of SSE with data.jsonResponse", async () => {
  const { member } = await startMember({ data: { jsonResponse: true } });
  const token = await mint();
  const response = await fetch(member.dataUrl!, {
    method: "POST",
    headers: postHeaders(token),
    body: initializeBody(),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(
    ((await response.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name,
    "demo-member-1",
  );
  const http = await httpClient(member.dataUrl!, token);
  assert.equal(textOf(await http.callTool({ name: "add", arguments: { a: 1, b: 1 } })), "2");
  await http.close();
  await member.close();
});

Deno.test("serveMember() hides the Authorization header from the MCP server's request info", async () => {
  let seen: Record<string, unknown> | undefined;
  const { member } = await startMember({
    server: () => {
      const server = new McpServer({ name: "spy", version: "1.0.0" });
      server.registerTool("spy", { inputSchema: z.object({ x: z.number().optional() }) }, (_args, ctx) => {
        seen = ctx.http?.req ? Object.fromEntries(ctx.http.req.headers) : undefined;
        return { content: [{ type: "text", text: "ok" }] };
      });
      return server;
    },
  });
  const token = await mint();
  const http = await httpClient(member.dataUrl!, token);
  await http.callTool({ name: "spy", arguments: {} });
  assert.ok(seen, "the tool saw request info");
  assert.equal(seen["authorization"], undefined);
  assert.ok(!JSON.stringify(seen).includes(token));
  await http.close();
  await member.close();
});

Deno.test("GET /healthz answers 200 without auth and reveals nothing; unknown paths get 404", async () => {
  const { member } = await startMember();
  const health = await fetch(member.healthUrl);
  assert.equal(health.status, 200);
  const text = await health.text();
  assert.equal(text, '{"status":"ok"}');
  assert.ok(!text.includes(SERVER_ID));
  for (const path of ["/nope", "/healthz/x", "/.well-known/oauth-protected-resource"]) {
    const response = await fetch(new URL(path, member.dataUrl!));
    assert.equal(response.status, 404, path);
    assert.ok(!(await response.text()).includes(SERVER_ID));
  }
  await member.close();
});

Deno.test("serveMember() rejects invalid options with ConfigError or TypeError naming the field", async () => {
  const server = () => new McpServer({ name: "x", version: "1" });
  const base = { serverId: "ok", server, verifier: SECRET };
  const cases: [Record<string, unknown>, string][] = [
    [{ serverId: "a b" }, "serverId"],
    [{ serverId: "a__b" }, "serverId"],
    [{ verifier: "" }, "verifier"],
    [{ verifier: 42 }, "verifier"],
    [{ control: false, data: false }, "control"],
    [{ control: { port: 70000 } }, "control.port"],
    [{ data: { port: -1 } }, "data.port"],
    [{ data: { path: "mcp" } }, "data.path"],
    [{ control: { path: "/healthz" } }, "control.path"],
    [{ maxMessageBytes: 0 }, "maxMessageBytes"],
    [{ maxSessions: 1.5 }, "maxSessions"],
    [{ idleTimeout: -1 }, "idleTimeout"],
    [{ issuer: "" }, "issuer"],
    [{ algorithm: "none" }, "algorithm"],
    [{ tls: { cert: "" } }, "tls"],
  ];
  for (const [patch, field] of cases) {
    await assert.rejects(
      serveMember({ ...base, ...patch } as never),
      (error: unknown) => error instanceof ConfigError && error.field === field,
      field,
    );
  }
  await assert.rejects(serveMember({ ...base, server: undefined } as never), TypeError);
  await assert.rejects(serveMember({ ...base, now: 5 } as never), TypeError);
  await assert.rejects(serveMember({ ...base, signal: AbortSignal.abort() }), CancelledError);
});

Deno.test("serveMember() fails with ConnectionError when the port is taken, leaving nothing open", async () => {
  const { member } = await startMember({ data: false });
  const port = Number(new URL(member.controlUrl!).port);
  await assert.rejects(
    startMember({ control: { port: 0 }, data: { port } }),
    (error: unknown) => error instanceof ConnectionError && error.code === "ERR_CONNECTION_FAILED",
  );
  await member.close();
});

Deno.test("close() closes open sessions with 1001, ends HTTP sessions and resolves closed()", async () => {
  const { member } = await startMember();
  const token = await mint();
  const ws = await Promise.all([wsClient(member.controlUrl!, token), wsClient(member.controlUrl!, token)]);
  const http = await httpClient(member.dataUrl!, token);
  const sessionId = await openHttpSession(member.dataUrl!, token);
  assert.deepEqual(member.sessionCount(), { control: 2, data: 2 });
  const codes = ws.map(({ transport }) => closeCodeOf(transport));
  await member.close();
  assert.deepEqual(await Promise.all(codes), [CloseCode.GOING_AWAY, CloseCode.GOING_AWAY]);
  assert.equal(ws[0]!.transport.closeReason, "Server shutting down");
  assert.deepEqual(member.sessionCount(), { control: 0, data: 0 });
  await member.closed();
  await member.close(); // idempotent
  await member[Symbol.asyncDispose]();
  await assert.rejects(fetch(member.healthUrl));
  assert.ok(sessionId);
  await http.close();
});

Deno.test("aborting the signal shuts the member down", async () => {
  const controller = new AbortController();
  const { member } = await startMember({ signal: controller.signal });
  const { transport } = await wsClient(member.controlUrl!, await mint());
  const code = closeCodeOf(transport);
  controller.abort();
  await member.closed();
  assert.equal(await code, CloseCode.GOING_AWAY);
});

/** A server factory whose tool `slow` waits for `release` (and tells `started`), and whose tool `fast` answers now. */
function slowServer() {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  function server(): McpServer {
    const server = new McpServer({ name: "slow", version: "1.0.0" });
    server.registerTool("slow", {}, async () => {
      started.resolve();
      await release.promise;
      return { content: [{ type: "text", text: "done" }] };
    });
    server.registerTool("fast", {}, () => ({ content: [{ type: "text", text: "fast" }] }));
    return server;
  }
  return { started, release, server };
}

Deno.test("drain() lets a request in progress finish, refuses new work with 503 and -32003, then stops", async () => {
  const { started, release, server } = slowServer();
  const { member } = await startMember({ server });
  const token = await mint();
  const http = await httpClient(member.dataUrl!, token);
  const { client: ws } = await wsClient(member.controlUrl!, token);
  const slow = http.callTool({ name: "slow" });
  await started.promise;
  const drained = member.drain();
  // New work is refused on both channels while the slow call runs.
  const health = await fetch(member.healthUrl);
  assert.equal(health.status, 503);
  assert.deepEqual(await health.json(), { status: "draining" });
  const refused = await fetch(member.dataUrl!, { method: "POST", headers: postHeaders(token), body: initializeBody() });
  assert.equal(refused.status, 503);
  await refused.body?.cancel();
  await assert.rejects(ws.callTool({ name: "fast" }), (error: { code?: number }) => error.code === -32003);
  release.resolve();
  assert.equal(textOf(await slow), "done");
  await drained;
  await member.closed();
  await http.close();
  await ws.close();
});

Deno.test("[Symbol.asyncDispose]() drains: a request in progress finishes; a second dispose is a no-op", async () => {
  const { started, release, server } = slowServer();
  const { member } = await startMember({ server });
  const http = await httpClient(member.dataUrl!, await mint());
  const slow = http.callTool({ name: "slow" });
  await started.promise;
  let disposed = false;
  const disposing = member[Symbol.asyncDispose]().then(() => disposed = true);
  const again = member[Symbol.asyncDispose]();
  // Draining: the health check says so, and the member is still up for the call in progress.
  const health = await fetch(member.healthUrl);
  assert.equal(health.status, 503);
  await health.body?.cancel();
  assert.equal(disposed, false);
  release.resolve();
  assert.equal(textOf(await slow), "done", "close() would have ended the call instead");
  await Promise.all([disposing, again]);
  await member.closed();
  await http.close();
});

Deno.test("serveMember() serves https and wss with the tls option", async () => {
  const read = (name: string) => Deno.readTextFileSync(new URL(`./testdata/${name}`, import.meta.url));
  const ca = read("ca.pem");
  const { member } = await startMember({ tls: { cert: read("localhost.pem"), key: read("localhost.key") } });
  assert.match(member.controlUrl!, /^wss:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(member.dataUrl!, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  using client = Deno.createHttpClient({ caCerts: [ca] });
  const health = await fetch(member.healthUrl, { client });
  assert.deepEqual(await health.json(), { status: "ok" });
  const token = await mint();
  const http = new Client({ name: "tls", version: "1.0.0" });
  await http.connect(
    new StreamableHTTPClientTransport(new URL(member.dataUrl!), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
      fetch: (url, init) => fetch(url, { ...init, client }),
    }),
  );
  assert.equal(textOf(await http.callTool({ name: "echo", arguments: { text: "tls" } })), "tls");
  await http.close();
  // WebSocket clients take the CA from the process (--cert): check wss from a child process.
  const caFile = new URL("./testdata/ca.pem", import.meta.url).pathname;
  const transportModule = new URL("../core/websocket_transport.ts", import.meta.url).href;
  const script = `
    import { WebSocketTransport } from "${transportModule}";
    const t = await WebSocketTransport.connect(Deno.args[0], { headers: { Authorization: "Bearer " + Deno.args[1] } });
    t.onmessage = (m) => { console.log(JSON.stringify(m)); t.close(); };
    await t.send({ jsonrpc: "2.0", id: 1, method: "ping" });
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--cert", caFile, script, member.controlUrl!, token],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout)), { jsonrpc: "2.0", id: 1, result: {} });
  await member.close();
});
