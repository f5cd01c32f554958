// Gateway metrics added for issue 17 §3: reconnects per member, answers by route and status, auth failures.
import assert from "node:assert/strict";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { connectClient, gatewayToken, quiet } from "../_support/catalog_members.ts";
import { AccessLog, MAX_TOOL_SERIES, OTHER_TOOL } from "../../packages/gateway/_access_log.ts";
import { PrometheusWriter } from "../../packages/core/_prometheus.ts";
import { GATEWAY_SECRET, SECRET, TestMember, waitFor } from "../_support/members.ts";

async function metrics(base: string): Promise<string> {
  return await (await fetch(`${base}/metrics`)).text();
}

Deno.test("/metrics counts a member's reconnections, and answers by route and status", async () => {
  await using member = await TestMember.start("alpha");
  await using proxy = new FederationProxy(SECRET, {
    logger: quiet,
    backoff: { initialDelay: 20, maxDelay: 100 },
    heartbeatInterval: 100,
    heartbeatTimeout: 500,
  });
  await proxy.registerServer(member.config);
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const base = gateway.url.replace(/\/mcp$/, "");
  assert.doesNotMatch(await metrics(base), /^federation_member_reconnects_total\{/m);

  await member.stop();
  await waitFor(() => proxy.getServerStatus("alpha")?.state === "reconnecting", 5_000, "reconnecting");
  await member.restart();
  await waitFor(() => proxy.getServerStatus("alpha")?.state === "connected", 10_000, "connected again");
  const text = await metrics(base);
  assert.match(text, /^federation_member_reconnects_total\{server_id="alpha"\} 1$/m);

  const client = await connectClient(gateway.url, { token: await gatewayToken() });
  await client.callTool({ name: "alpha__echo", arguments: { text: "x" } });
  await client.callTool({ name: "alpha__nope", arguments: {} }).catch(() => {});
  await client.close();
  const tools = await metrics(base);
  assert.match(tools, /^federation_gateway_tool_calls_total\{tool="alpha__echo",outcome="ok"\} 1$/m);
  assert.match(tools, /^federation_gateway_tool_calls_total\{tool="alpha__nope",outcome="(error|tool_error)"\} 1$/m);
  assert.match(tools, /^federation_gateway_tool_call_seconds_total\{tool="alpha__echo",outcome="ok"\} [0-9.e-]+$/m);

  const missing = await fetch(`${base}/nowhere`);
  await missing.body?.cancel();
  const noToken = await fetch(`${base}/admin/members`);
  await noToken.body?.cancel();
  const after = await metrics(base);
  assert.match(after, /^federation_gateway_http_responses_total\{route="other",status="404"\} 1$/m);
  assert.match(after, /^federation_gateway_http_responses_total\{route="admin",status="401"\} 1$/m);
  assert.match(after, /^federation_gateway_auth_failures_total\{route="admin",reason="missing_token"\} 1$/m);
  assert.match(after, /^federation_gateway_http_responses_total\{route="probe",status="200"\} 3$/m);
});

Deno.test("Per-tool call counters are bounded: past MAX_TOOL_SERIES names, calls count under _other", async () => {
  const log = new AccessLog(quiet);
  const call = (name: string) =>
    log.observe(
      new Request("http://127.0.0.1/mcp", {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: { a: 1 } } }),
      }),
      () => Promise.resolve(Response.json({ jsonrpc: "2.0", id: 1, result: { content: [] } })),
    );
  for (let i = 0; i < MAX_TOOL_SERIES + 5; i++) await (await call(`m__tool${i}`)).body?.cancel();
  await (await call("m__tool0")).body?.cancel();
  await new Promise((resolve) => setTimeout(resolve, 10)); // the JSON answers are read from clones
  const out = new PrometheusWriter();
  log.write(out);
  const lines = out.lines().filter((l) => l.startsWith("federation_gateway_tool_calls_total{"));
  assert.equal(lines.length, MAX_TOOL_SERIES + 1);
  assert.ok(lines.includes(`federation_gateway_tool_calls_total{tool="${OTHER_TOOL}",outcome="ok"} 5`), lines.at(-1));
  assert.ok(lines.includes('federation_gateway_tool_calls_total{tool="m__tool0",outcome="ok"} 2'));
});
