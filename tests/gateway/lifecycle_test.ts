import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { serveGateway, serveGatewayStdio } from "../../packages/gateway/mod.ts";
import { GATEWAY_SECRET, SECRET, TestMember, waitFor } from "../_support/members.ts";
import { connectClient, quiet, textOf } from "../_support/catalog_members.ts";
import { PassThrough } from "node:stream";

Deno.test("Gateway close() stops listening now, is idempotent, and closed() resolves; drain() after close() is the same close", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  const gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const base = gateway.url.replace(/\/mcp$/, "");
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  let closed = false;
  const watching = gateway.closed().then(() => closed = true);
  const first = gateway.close();
  assert.equal(gateway.close(), first, "close() is idempotent");
  assert.equal(gateway.drain(), first, "drain() after close() is the same close");
  await first;
  await watching;
  assert.equal(closed, true);
  await assert.rejects(fetch(`${base}/healthz`), TypeError, "not listening any more");
  await gateway[Symbol.asyncDispose]();
});

Deno.test("Gateway [Symbol.asyncDispose] drains: a call in progress finishes before the gateway closes", async () => {
  await using a = await TestMember.start("a");
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(a.config);
  let call: Promise<unknown> | undefined;
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;
  {
    await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
    client = await connectClient(gateway.url);
    call = client.callTool({ name: "a__slow", arguments: { ms: 300 } });
    await waitFor(() => a.stats.executions.get("slow") === 1, 5_000, "call started");
  }
  assert.equal(textOf(await call as never), "slept 300", "the call finished before the scope ended");
  await client.close().catch(() => {});
});

Deno.test("Gateway closes when its signal aborts; closed() never rejects", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  const stop = new AbortController();
  const gateway = await serveGateway(proxy, {
    auth: { secret: GATEWAY_SECRET },
    port: 0,
    logger: quiet,
    signal: stop.signal,
  });
  stop.abort();
  await gateway.closed();
  assert.equal(gateway.sessionCount(), 0);
});

Deno.test("Stdio gateway has the same lifecycle: close() idempotent, closed() resolves when stdin ends", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const gateway = await serveGatewayStdio(proxy, { stdin, stdout, logger: quiet });
  assert.equal(gateway.sessionCount(), 1);
  stdin.end();
  await gateway.closed();
  assert.equal(gateway.sessionCount(), 0);
  assert.equal(gateway.close(), gateway.close());
  await gateway[Symbol.asyncDispose]();
});
