// Gateway metrics added for issue 17 §3: reconnects per member, answers by route and status, auth failures.
import assert from "node:assert/strict";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { quiet } from "../_support/catalog_members.ts";
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

  const missing = await fetch(`${base}/nowhere`);
  await missing.body?.cancel();
  const noToken = await fetch(`${base}/admin/members`);
  await noToken.body?.cancel();
  const after = await metrics(base);
  assert.match(after, /^federation_gateway_http_responses_total\{route="other",status="404"\} 1$/m);
  assert.match(after, /^federation_gateway_http_responses_total\{route="admin",status="401"\} 1$/m);
  assert.match(after, /^federation_gateway_auth_failures_total\{route="admin",reason="missing_token"\} 1$/m);
  assert.match(after, /^federation_gateway_http_responses_total\{route="probe",status="200"\} 2$/m);
});
