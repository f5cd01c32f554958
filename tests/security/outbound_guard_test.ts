import assert from "node:assert/strict";
import {
  CancelledError,
  checkOutboundUrl,
  ConfigError,
  FederationProxy,
  type FederationProxyOptions,
} from "../../mod.ts";
import type { FederationConfig } from "../../packages/core/types.ts";
import { FaultRelay } from "../_support/fault_relay.ts";
import { SECRET, TestMember, waitFor } from "../_support/members.ts";
import { MemoryRegistryStore } from "../../packages/cluster/mod.ts";
import { AuthManager } from "../../packages/core/auth.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { DEFAULT_GATEWAY_AUDIENCE } from "../../packages/gateway/options.ts";
import { LineReader } from "../_support/lines.ts";
import { spawnGatewayCli } from "../_support/gateway.ts";
import { quiet } from "../_support/catalog_members.ts";
import { freePort } from "../_support/ports.ts";

function newProxy(options: FederationProxyOptions = {}): FederationProxy {
  return new FederationProxy(SECRET, { logger: quiet, connectTimeout: 1_000, ...options });
}
/**
 * Every test here runs with network access to 127.0.0.1 only: were the guard to let a refused URL through, the
 * connection attempt would fail with a permission error instead of leaving the machine.
 */
const loopbackOnly: Deno.PermissionOptions = { net: ["127.0.0.1"] };

/** Member URLs the guard refuses by default, each with the host URL parsing turns it into. */
const BLOCKED: [url: string, what: string][] = [
  ["http://169.254.169.254/latest/meta-data/", "IPv4 link-local (AWS/GCP/Azure metadata)"],
  ["ws://169.254.0.1:3000/", "IPv4 link-local, ws"],
  ["http://169.254.255.255/", "top of 169.254.0.0/16"],
  ["http://2852039166/", "decimal IPv4 (169.254.169.254)"],
  ["http://0xA9FEA9FE/", "hex IPv4"],
  ["http://0251.0376.0251.0376/", "octal IPv4"],
  ["http://169.254.43518/", "two-part IPv4"],
  ["http://169.254.169.254./", "IPv4 with a trailing dot"],
  ["http://100.100.100.200/", "Alibaba Cloud metadata"],
  ["http://[fe80::1]/", "IPv6 link-local in brackets"],
  ["ws://[FE80::a:b:c:d]:8080/", "IPv6 link-local, upper case"],
  ["http://[febf:ffff::1]/", "top of fe80::/10"],
  ["http://[fd00:ec2::254]/", "AWS IMDS over IPv6"],
  ["http://[::ffff:169.254.169.254]/", "IPv4-mapped IPv6"],
  ["http://[::ffff:a9fe:a9fe]/", "IPv4-mapped IPv6, hex"],
  ["http://[64:ff9b::169.254.169.254]/", "NAT64"],
  ["http://[2002:a9fe:a9fe::]/", "6to4"],
  ["http://metadata.google.internal/computeMetadata/v1/", "GCP metadata name"],
  ["http://METADATA.Google.Internal./", "GCP metadata name, mixed case, trailing dot"],
  ["http://metadata%2Egoogle%2Einternal/", "percent-encoded name"],
  ["http://ｍｅｔａｄａｔａ.google.internal/", "full-width name (IDNA-mapped)"],
  ["http://metadata/", "bare metadata name"],
  ["http://metadata.goog/", "GCP metadata alias"],
  // More metadata addresses, the local-use NAT64 prefix, more IPv4-in-IPv6 embeddings.
  ["http://[fd20:ce::254]/", "GCP metadata over IPv6"],
  ["http://168.63.129.16/", "Azure WireServer"],
  ["http://192.0.0.192/", "Oracle Cloud Classic metadata"],
  ["http://[fd00:ec2::23]/", "AWS instance services (DNS) over IPv6"],
  ["http://[64:ff9b:1::a9fe:a9fe]/", "local-use NAT64 prefix (RFC 8215), metadata embedded"],
  ["http://[64:ff9b:1:ffff::1]/", "local-use NAT64 prefix, any address"],
  ["http://[::ffff:0:169.254.169.254]/", "IPv4-translated IPv6 (RFC 2765)"],
  ["http://[::169.254.169.254]/", "IPv4-compatible IPv6"],
  ["http://[2001:0:4136:e378:8000:63bf:5601:5601]/", "Teredo carrying 169.254.169.254 (inverted)"],
  ["http://[2607:f8b0::5efe:a9fe:a9fe]/", "ISATAP interface id carrying 169.254.169.254"],
  ["http://[64:ff9b::168.63.129.16]/", "NAT64 of Azure WireServer"],
  ["http://224.0.0.1/", "IPv4 multicast: not a unicast destination"],
  ["http://255.255.255.255/", "limited broadcast"],
  ["http://[ff02::1]/", "IPv6 multicast"],
  ["http://[100::1]/", "IPv6 discard-only prefix"],
];

Deno.test({
  name: "Outbound guard: registerServer() refuses link-local and metadata URLs with ConfigError, before connecting",
  permissions: loopbackOnly,
}, async () => {
  // The other endpoint of each config goes through a relay: it sees no connection, so nothing was attempted.
  await using member = await TestMember.start("guarded");
  await using relay = new FaultRelay(Number(new URL(member.handle.dataUrl!).port));
  await using proxy = newProxy();
  for (const [url, what] of BLOCKED) {
    const kind = url.startsWith("ws") ? "control" : "data";
    const endpoints = kind === "control"
      ? { control: url, data: `http://127.0.0.1:${relay.port}/` }
      : { data: url, control: `ws://127.0.0.1:${relay.port}/` };
    const started = performance.now();
    await assert.rejects(
      proxy.registerServer({ serverId: "guarded", endpoints }),
      (e) =>
        e instanceof ConfigError && e.code === "ERR_CONFIG_INVALID" && e.field === `endpoints.${kind}` &&
        e.serverId === "guarded",
      what,
    );
    assert.ok(performance.now() - started < 100, `${what}: refused after ${performance.now() - started}ms`);
  }
  assert.deepEqual(proxy.getStatus(), []);
  assert.equal(relay.accepted, 0, "no connection was attempted");
  assert.deepEqual(member.handle.sessionCount(), { control: 0, data: 0 });
});

Deno.test({
  name: "Outbound guard: loopback, private and ordinary hosts pass by default; the guard can be turned off",
  permissions: loopbackOnly,
}, async () => {
  for (
    const url of [
      "ws://127.0.0.1:1/",
      "http://localhost:1/",
      "http://[::1]:1/",
      "http://10.0.0.1/",
      "http://app.localhost/",
    ]
  ) {
    await checkOutboundUrl(url);
  }
  // A member on loopback registers as ever.
  await using member = await TestMember.start("loop");
  await using proxy = newProxy();
  assert.equal((await proxy.registerServer(member.config)).state, "connected");
  // With the guard off, a metadata URL is no longer refused by the guard: it gets as far as connecting, which this
  // test's permissions stop (nothing leaves the machine).
  await using open = newProxy({ outboundGuard: false });
  const error = await open.registerServer({ serverId: "imds", endpoints: { data: "http://169.254.169.254/" } }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(!(error instanceof ConfigError), String(error));
  assert.equal(open.hasServer("imds"), false);
});

Deno.test({
  name: "Outbound guard: allowHosts admits only listed hosts; allowMetadata admits link-local explicitly",
  permissions: loopbackOnly,
}, async () => {
  await using member = await TestMember.start("listed");
  const controlPort = new URL(member.handle.controlUrl!).port;
  const dataPort = new URL(member.handle.dataUrl!).port;
  await using proxy = newProxy({ outboundGuard: { allowHosts: ["127.0.0.1", "*.mcp.internal"] } });
  // Not listed: refused, even on loopback, and whatever the other endpoint is.
  await assert.rejects(
    proxy.registerServer({
      serverId: "listed",
      endpoints: { control: `ws://127.0.0.1:${controlPort}/`, data: `http://localhost:${dataPort}/` },
    }),
    (e) => e instanceof ConfigError && e.field === "endpoints.data" && /allowHosts/.test(e.message),
  );
  for (const url of ["http://mcp.internal/", "http://evil.com/", "http://mcp.internal.evil.com/", "http://[::1]/"]) {
    await assert.rejects(
      checkOutboundUrl(url, { allowHosts: ["127.0.0.1", "*.mcp.internal"] }),
      (e) => e instanceof ConfigError && e.field === "url",
      url,
    );
  }
  await checkOutboundUrl("http://a.b.mcp.internal:8/", { allowHosts: ["*.mcp.internal"], resolve: false });
  // Listed hosts are compared as URL parsing normalizes them.
  await checkOutboundUrl("http://2130706433/", { allowHosts: ["127.0.0.1"] });
  await checkOutboundUrl("http://[0:0::1]/", { allowHosts: ["::1"] });
  assert.deepEqual(proxy.getStatus(), []);
  assert.equal((await proxy.registerServer(member.config)).state, "connected");
  // Listing a metadata address is not enough: both rules apply until allowMetadata says so.
  await assert.rejects(
    checkOutboundUrl("http://169.254.10.1/", { allowHosts: ["169.254.10.1"] }),
    (e) => e instanceof ConfigError && /link-local/.test(e.message),
  );
  await checkOutboundUrl("http://169.254.10.1/", { allowHosts: ["169.254.10.1"], allowMetadata: true });
  await checkOutboundUrl("http://metadata.google.internal/", { allowMetadata: true });
  await assert.rejects(
    checkOutboundUrl("http://169.254.10.2/", { allowHosts: ["169.254.10.1"], allowMetadata: true }),
    ConfigError,
  );
});

Deno.test({
  name: "Outbound guard: DNS names are refused when they resolve to a metadata address; resolution is bounded",
  permissions: loopbackOnly,
}, async () => {
  const zone: Record<string, string[]> = {
    "imds.attacker.test": ["93.184.216.34", "169.254.169.254"],
    "v6.attacker.test": ["fe80::1"],
    "mapped.attacker.test": ["::ffff:169.254.169.254"],
    "fine.example.test": ["93.184.216.34", "2606:2800:220:1::1"],
  };
  const asked: string[] = [];
  const resolve = (hostname: string) => {
    asked.push(hostname);
    return Promise.resolve(zone[hostname] ?? []);
  };
  for (const host of ["imds.attacker.test", "v6.attacker.test", "mapped.attacker.test"]) {
    await assert.rejects(
      checkOutboundUrl(`http://${host}/`, { resolve, field: "endpoints.data", serverId: "dns" }),
      (e) => e instanceof ConfigError && e.field === "endpoints.data" && e.message.includes("resolves to"),
      host,
    );
  }
  await checkOutboundUrl("http://fine.example.test/", { resolve });
  await checkOutboundUrl("http://unknown.example.test/", { resolve });
  // Literal addresses and localhost are never resolved.
  await checkOutboundUrl("http://127.0.0.1/", { resolve });
  await checkOutboundUrl("http://api.localhost/", { resolve });
  assert.deepEqual(asked, [
    "imds.attacker.test",
    "v6.attacker.test",
    "mapped.attacker.test",
    "fine.example.test",
    "unknown.example.test",
  ]);
  // A resolver that never answers (and ignores the signal) holds registration for resolveTimeout, no longer.
  const hanging = () => new Promise<string[]>(() => {});
  await using proxy = newProxy({ outboundGuard: { resolve: hanging, resolveTimeout: 150 } });
  const started = performance.now();
  await assert.rejects(
    proxy.registerServer({ serverId: "slowdns", endpoints: { control: "ws://127.0.0.1:1/" } }),
    (e) => !(e instanceof ConfigError), // literal: not resolved, refused only by the closed port
  );
  const port = freePort();
  const unresolved = await proxy.registerServer({
    serverId: "slowdns",
    endpoints: { data: `http://never-answers.test:${port}/` },
  }).then(() => undefined, (e) => e);
  const elapsed = performance.now() - started;
  assert.ok(!(unresolved instanceof ConfigError), "unresolved names are let through to the connect attempt");
  assert.ok(elapsed >= 150 && elapsed < 1_500, `took ${elapsed}ms`);
  // The registration's signal cuts resolution short.
  const controller = new AbortController();
  const pending = checkOutboundUrl("http://slow.example.test/", { resolve: hanging, signal: controller.signal });
  controller.abort(new Error("gave up"));
  await assert.rejects(pending, CancelledError);
});

Deno.test({
  name: "Outbound guard: an invalid outboundGuard option is a TypeError, and nothing is registered",
  permissions: loopbackOnly,
}, async () => {
  const config: FederationConfig = { serverId: "x", endpoints: { data: "http://127.0.0.1:1/" } };
  for (
    const outboundGuard of [{ allowHosts: "127.0.0.1" }, { allowHosts: [1] }, { resolveTimeout: -1 }, { resolve: 1 }]
  ) {
    await using proxy = newProxy({ outboundGuard: outboundGuard as never });
    await assert.rejects(proxy.registerServer(config), TypeError);
    assert.deepEqual(proxy.getStatus(), []);
  }
});

Deno.test("Outbound guard: the gateway CLI has it on: a metadata member in federation.json is refused, the others serve", async () => {
  await using member = await TestMember.start("live");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/federation.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      gateway: { port: 0, auth: { secretEnv: "MCP_GATEWAY_SECRET" } },
      members: [{ serverId: "imds", endpoints: { data: "http://169.254.169.254/latest/" } }, member.config],
    }),
  );
  // Network access to loopback only: a guard that let the URL through could not reach past the machine.
  const child = spawnGatewayCli(file, { logLevel: "error" });
  const reader = new LineReader(child.stdout);
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  try {
    const output = (await reader.until((l) => l.startsWith("gateway "))).join("\n");
    assert.match(output, /^member imds {2}refused {2}ERR_CONFIG_INVALID: Invalid endpoints\.data of server 'imds'/m);
    assert.match(output, /^member live {2}connected/m);
    assert.match(output, /members 1\/2 usable/);
    child.kill("SIGTERM");
    await reader.rest();
    assert.equal((await child.status).code, 0);
  } finally {
    clearTimeout(timer);
    reader.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "Outbound guard: allowPrivate: false refuses loopback, private and special-purpose ranges, by address or name",
  permissions: loopbackOnly,
}, async () => {
  const strict = { allowPrivate: false, resolve: (host: string) => Promise.resolve(ZONE[host] ?? []) };
  const ZONE: Record<string, string[]> = {
    "intranet.example.test": ["93.184.216.34", "192.168.1.10"],
    "public.example.test": ["93.184.216.34", "2606:2800:220:1::1"],
  };
  for (
    const url of [
      "http://127.0.0.1/",
      "http://127.1.2.3/",
      "http://0.0.0.0/",
      "http://10.0.0.1/",
      "http://172.16.5.4/",
      "http://192.168.0.1/",
      "http://100.64.0.1/",
      "http://198.18.0.1/",
      "http://192.0.2.1/",
      "http://[::1]/",
      "http://[::]/",
      "http://[fd12:3456::1]/",
      "http://[fec0::1]/",
      "http://[2001:db8::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://[64:ff9b::10.0.0.1]/",
      "http://localhost/",
      "http://api.localhost/",
      "http://intranet.example.test/",
    ]
  ) {
    await assert.rejects(
      checkOutboundUrl(url, strict),
      (e) => e instanceof ConfigError && e.code === "ERR_CONFIG_INVALID" && /allowPrivate/.test(e.message),
      url,
    );
    await checkOutboundUrl(url, { resolve: strict.resolve }); // allowed by default
  }
  await checkOutboundUrl("http://93.184.216.34/", strict);
  await checkOutboundUrl("http://[2606:2800:220:1::1]/", strict);
  await checkOutboundUrl("http://public.example.test/", strict);
});

Deno.test({
  name:
    "Outbound guard: refuseUnresolved refuses a name that does not resolve or times out; the membership API sets it",
  permissions: loopbackOnly,
}, async () => {
  const hanging = () => new Promise<string[]>(() => {});
  const nothing = () => Promise.resolve([]);
  const failing = () => Promise.reject(new Error("SERVFAIL"));
  for (const resolve of [hanging, nothing, failing]) {
    await assert.rejects(
      checkOutboundUrl("http://slow.example.test/", { resolve, resolveTimeout: 100, refuseUnresolved: true }),
      (e) => e instanceof ConfigError && /did not resolve within 100ms/.test(e.message),
      resolve.name,
    );
    await checkOutboundUrl("http://slow.example.test/", { resolve, resolveTimeout: 100 }); // fail-open by default
  }
  // Through the gateway's membership API: a member whose name does not resolve in time is refused (400).
  const gatewaySecret = "gateway-secret-of-at-least-thirty-two-bytes";
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  const store = new MemoryRegistryStore();
  await using gateway = await serveGateway(proxy, {
    auth: { secret: gatewaySecret },
    port: 0,
    logger: quiet,
    cluster: {
      store,
      key: "admin-test-store-key-of-at-least-32-bytes",
      outboundGuard: { resolve: hanging, resolveTimeout: 100 },
    },
  });
  const token = await new AuthManager(gatewaySecret).createToken({ scope: "federation:admin" }, {
    subject: "operator",
    expiresIn: "5m",
    audience: DEFAULT_GATEWAY_AUDIENCE,
  });
  const response = await fetch(gateway.url.replace(/\/mcp$/, "/admin/members"), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ serverId: "slowdns", endpoints: { data: "http://never-answers.test:1/" } }),
  });
  const body = await response.json();
  assert.equal(response.status, 400, JSON.stringify(body));
  assert.equal(body.error.code, "ERR_CONFIG_INVALID");
  assert.match(JSON.stringify(body), /did not resolve within 100ms/);
  assert.deepEqual((await store.listMembers()).members, []);
  await store.close();
});

/** A name of this machine that the system resolver maps to 127.0.0.1 (the host name, in /etc/hosts), if any. */
const HOST = Deno.hostname();
const hostIsLoopback = await (async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const conn = await Deno.connect({ hostname: HOST, port: listener.addr.port });
    (await listener.accept()).close();
    conn.close();
    return true;
  } catch {
    return false;
  } finally {
    listener.close();
  }
})();

Deno.test({
  name: "Outbound guard: a name that resolves elsewhere after registration is refused at the reconnect (DNS rebinding)",
  // Needs a host name the system resolves to 127.0.0.1 (the test resolver is only the guard's).
  ignore: !hostIsLoopback,
  permissions: { net: ["127.0.0.1", HOST] },
}, async () => {
  await using member = await TestMember.start("rebind");
  await using relay = new FaultRelay(Number(new URL(member.handle.controlUrl!).port));
  let answer = ["93.184.216.34"];
  const asked: string[] = [];
  const resolve = (host: string) => {
    asked.push(`${host} -> ${answer.join(",")}`);
    return Promise.resolve(answer);
  };
  await using proxy = newProxy({
    outboundGuard: { resolve, allowPrivate: false },
    backoff: { initialDelay: 20, maxDelay: 50, minDelay: 10 },
  });
  const url = `ws://${HOST}:${relay.port}/`;
  assert.equal((await proxy.registerServer({ serverId: "rebind", endpoints: { control: url } })).state, "connected");
  // Checked at registration and again at the connect itself.
  assert.deepEqual(asked, [`${HOST} -> 93.184.216.34`, `${HOST} -> 93.184.216.34`]);
  const accepted = relay.accepted;
  const refused = new Promise<Error | undefined>((resolveRefused) => {
    const timer = setTimeout(() => resolveRefused(undefined), 5_000);
    proxy.addEventListener("error", (event) => {
      const cause = (event as unknown as { cause?: Error }).cause;
      if (cause instanceof ConfigError) {
        clearTimeout(timer);
        resolveRefused(cause);
      }
    });
  });
  answer = ["127.0.0.1"];
  relay.cut();
  const cause = await refused;
  assert.ok(cause instanceof ConfigError, "the reconnect was not refused by the guard");
  assert.equal(cause.field, "endpoints.control");
  assert.equal(cause.serverId, "rebind");
  assert.match(cause.message, /resolves to '127\.0\.0\.1'/);
  assert.equal(relay.accepted, accepted, "no connection was made to the re-resolved address");
  assert.notEqual(proxy.getServerStatus("rebind")?.state, "connected");
  // Once the name resolves to an allowed address again, the member comes back.
  answer = ["93.184.216.34"];
  await waitFor(() => proxy.getServerStatus("rebind")?.state === "connected", 5_000);
  assert.ok(relay.accepted > accepted);
});
