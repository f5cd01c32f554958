// The gateway's status page (issue 17 §2): served at /status, fed by /status.json behind the admin scope, and live
// in a real headless Chromium: a member going down and coming back shows on the page.
import assert from "node:assert/strict";
import { AuthManager } from "../../packages/core/auth.ts";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { DEFAULT_GATEWAY_AUDIENCE } from "../../packages/gateway/options.ts";
import { connectClient, gatewayToken, quiet } from "../_support/catalog_members.ts";
import { GATEWAY_SECRET, SECRET, TestMember, waitFor } from "../_support/members.ts";
import { findChromium, HeadlessPage } from "./_chromium.ts";

const CHROMIUM = findChromium();
if (!CHROMIUM) {
  console.warn(
    "SKIPPING the status page's browser test: no chromium on PATH (apt-get install -y chromium; .ci/run does it)",
  );
}

function adminToken(scope = "federation:admin"): Promise<string> {
  return new AuthManager(GATEWAY_SECRET).createToken({ scope }, {
    subject: "ops-status",
    expiresIn: "5m",
    audience: DEFAULT_GATEWAY_AUDIENCE,
  });
}

function newProxy(): FederationProxy {
  return new FederationProxy(SECRET, {
    logger: quiet,
    backoff: { initialDelay: 50, maxDelay: 200 },
    heartbeatInterval: 100,
    heartbeatTimeout: 500,
  });
}

Deno.test("/status.json needs an admin-scoped token; the HTML is inert without one", async () => {
  await using member = await TestMember.start("alpha");
  await using proxy = newProxy();
  await proxy.registerServer(member.config);
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const base = gateway.url.replace(/\/mcp$/, "");

  const page = await fetch(`${base}/status`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type")!, /^text\/html/);
  assert.match(
    page.headers.get("content-security-policy")!,
    /script-src 'sha256-[A-Za-z0-9+/=]+'; .*connect-src 'self'/,
  );
  const html = await page.text();
  assert.ok(!html.includes("alpha"), "the HTML carries no member data");

  const anonymous = await fetch(`${base}/status.json`);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  const client = await fetch(`${base}/status.json`, { headers: { authorization: `Bearer ${await gatewayToken()}` } });
  assert.equal(client.status, 403);
  assert.match(client.headers.get("www-authenticate")!, /insufficient_scope/);
  await client.body?.cancel();
  const posted = await fetch(`${base}/status.json`, { method: "POST" });
  assert.equal(posted.status, 405);
  await posted.body?.cancel();

  const mcp = await connectClient(gateway.url, { token: await gatewayToken() });
  await mcp.callTool({ name: "alpha__echo", arguments: { text: "x" } });
  const admin = await fetch(`${base}/status.json`, { headers: { authorization: `Bearer ${await adminToken()}` } });
  assert.equal(admin.status, 200);
  const feed = await admin.json();
  await mcp.close();
  assert.equal(feed.gateway.sessions, 1);
  assert.ok(feed.gateway.mcp.requests >= 2, JSON.stringify(feed.gateway));
  assert.ok(feed.gateway.http.authFailures >= 2, "the two refused requests above");
  const alpha = feed.members.find((m: { serverId: string }) => m.serverId === "alpha");
  assert.equal(alpha.state, "connected");
  assert.equal(alpha.up, true);
  assert.ok(alpha.tools > 0);
  assert.ok(alpha.requests >= 1);
  assert.deepEqual(Object.keys(alpha.channels).sort(), ["control", "data"]);
  assert.equal(alpha.channels.control.state, "up");
});

Deno.test("/status.json without gateway authentication is served on a loopback interface only", async () => {
  await using proxy = newProxy();
  await using gateway = await serveGateway(proxy, { auth: false, port: 0, hostname: "127.0.0.1", logger: quiet });
  const base = gateway.url.replace(/\/mcp$/, "");
  const feed = await fetch(`${base}/status.json`);
  assert.equal(feed.status, 200);
  assert.deepEqual((await feed.json()).members, []);
});

Deno.test({
  name: "Status page in headless Chromium: loads with a #token, shows a member going down and coming back",
  ignore: CHROMIUM === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using alpha = await TestMember.start("alpha");
    await using beta = await TestMember.start("beta", { control: false });
    await using proxy = newProxy();
    await proxy.registerServer(alpha.config);
    await proxy.registerServer(beta.config);
    await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
    const base = gateway.url.replace(/\/mcp$/, "");
    await using page = await HeadlessPage.open(CHROMIUM!, `${base}/status#token=${await adminToken()}`);

    const state = `document.querySelector('tr[data-member="alpha"]')?.dataset.state ?? null`;
    assert.equal(await page.until<string | null>(state, (s) => s === "connected"), "connected");
    assert.equal(await page.evaluate<string>("location.hash"), "", "the token leaves the address bar");
    assert.equal(await page.evaluate<string>("document.body.dataset.live"), "true");
    const row = await page.evaluate<string>(`document.querySelector('tr[data-member="alpha"]').innerText`);
    assert.match(row, /control up/);
    assert.match(row, /data up/);
    assert.equal(
      await page.evaluate<string | null>(`document.querySelector('tr[data-member="beta"]')?.dataset.state ?? null`),
      "connected",
    );

    await alpha.stop();
    const down = await page.until<string | null>(state, (s) => s !== null && s !== "connected" && s !== "degraded");
    assert.ok(["reconnecting", "disconnected", "connecting"].includes(down!), String(down));
    assert.match(
      await page.evaluate<string>(`document.querySelector('tr[data-member="alpha"]').className`),
      /down/,
    );

    await alpha.restart();
    await page.until<string | null>(state, (s) => s === "connected", 10_000);
    const events = await page.evaluate<string[]>(
      `[...document.querySelectorAll('#events li[data-member="alpha"]')].map((li) => li.dataset.event)`,
    );
    assert.ok(events.includes("connected"), events.join());
    assert.ok(events.some((e) => e === "reconnecting" || e === "disconnected"), events.join());
    assert.match(await page.evaluate<string>(`document.getElementById("usable").textContent`), /^2 \/ 2$/);
    // Repeated failures of the reconnection attempts are one entry each, with a count.
    const feed = await (await fetch(`${base}/status.json`, {
      headers: { authorization: `Bearer ${await adminToken()}` },
    })).json();
    const errors =
      (feed.events as { type: string; serverId: string; channel?: string; message?: string; count: number }[])
        .filter((e) => e.type === "error");
    const keys = errors.map((e) => `${e.serverId} ${e.channel} ${e.message}`);
    assert.equal(new Set(keys).size, keys.length, keys.join("\n"));
    assert.ok(errors.every((e) => e.count >= 1));
    const shot = Deno.env.get("STATUS_SCREENSHOT");
    if (shot) await Deno.writeFile(shot, await page.screenshot());
    await waitFor(() => proxy.getServerStatus("alpha")?.state === "connected");
  },
});

Deno.test({
  name: "Status page in headless Chromium: without a token it asks for one, and a refused token says so",
  ignore: CHROMIUM === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using proxy = newProxy();
    await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
    const base = gateway.url.replace(/\/mcp$/, "");
    await using page = await HeadlessPage.open(CHROMIUM!, `${base}/status#token=${await gatewayToken()}`);
    const problem = await page.until<string>(`document.getElementById("problem")?.textContent ?? ""`, (t) => t !== "");
    assert.match(problem, /^Refused \(403\)/);
    assert.equal(await page.evaluate<boolean>(`document.getElementById("login").hidden`), false);
  },
});
