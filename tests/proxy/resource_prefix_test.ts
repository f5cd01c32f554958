// Resource URIs that stay the same when a member with the same URI joins or leaves (issue 17 §6): the catalog's
// `resourcePrefix: "always"`, and the gateway config file's default.
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { FederatedCatalog } from "../../packages/proxy/catalog.ts";
import { ConfigError } from "../../packages/core/errors.ts";
import { parseGatewayConfig } from "../../packages/gateway/mod.ts";
import type { FederationError } from "../../packages/core/errors.ts";
import { GATEWAY_SECRET, SECRET, TestMember } from "../_support/members.ts";
import { connectClient, gatewayToken, quiet } from "../_support/catalog_members.ts";
import { LineReader } from "../_support/lines.ts";

/** The catalog's resource URIs by member. */
async function urisOf(catalog: FederatedCatalog): Promise<Record<string, string>> {
  const resources = await catalog.listResources();
  return Object.fromEntries(resources.map((r) => {
    const origin = r._meta?.["io.github.federated-mcp/origin"] as { serverId: string };
    return [origin.serverId, r.uri];
  }));
}

Deno.test('Catalog resourcePrefix "always": a URI stays the same when a member with the same URI joins and leaves', async () => {
  await using a = await TestMember.start("a");
  await using b = await TestMember.start("b");
  await using proxy = new FederationProxy(SECRET, { logger: quiet, catalog: { resourcePrefix: "always" } });
  await proxy.registerServer(a.config);
  const alone = await urisOf(proxy.catalog);
  assert.deepEqual(alone, { a: "federated://a/info://server" });
  // While only one member offers it, the member's own URI still reaches that member (never listed).
  const raw = await proxy.catalog.readResource("info://server");
  assert.equal(raw.contents[0]?.uri, "info://server");
  assert.equal((raw.contents[0] as { text: string }).text, "server a");

  await proxy.registerServer(b.config);
  assert.deepEqual(await urisOf(proxy.catalog), { a: "federated://a/info://server", b: "federated://b/info://server" });
  const read = await proxy.catalog.readResource("federated://b/info://server");
  assert.equal(read.contents[0]?.uri, "federated://b/info://server");
  assert.equal((read.contents[0] as { text: string }).text, "server b");
  // Two members offer the raw URI now: it names neither.
  await assert.rejects(
    proxy.catalog.readResource("info://server"),
    (error: FederationError) => error.code === "ERR_NOT_FOUND",
  );

  await proxy.removeServer("b");
  assert.deepEqual(await urisOf(proxy.catalog), alone);
});

Deno.test('Catalog resourcePrefix "on-collision" (the library default) keeps a unique URI and rewrites it on a clash', async () => {
  await using a = await TestMember.start("a");
  await using b = await TestMember.start("b");
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(a.config);
  assert.deepEqual(await urisOf(proxy.catalog), { a: "info://server" });
  await proxy.registerServer(b.config);
  assert.deepEqual(await urisOf(proxy.catalog), { a: "federated://a/info://server", b: "federated://b/info://server" });
});

Deno.test("Catalog refuses an unknown resourcePrefix with RangeError", () => {
  const proxy = new FederationProxy(SECRET, { logger: quiet });
  assert.throws(
    () => new FederatedCatalog(proxy, { resourcePrefix: "sometimes" as "always" }),
    (error: Error) => error instanceof RangeError && /resourcePrefix/.test(error.message),
  );
});

const CLI = fromFileUrl(new URL("../../packages/gateway/cli.ts", import.meta.url));

/** Runs the gateway CLI on `config` and hands `test` its URL; stops it after. */
async function withCli(config: unknown, test: (url: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/federation.json`;
  await Deno.writeTextFile(file, JSON.stringify(config));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "--config", file, "--log-level", "warn"],
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1", MCP_SECRET_KEY: SECRET, MCP_GATEWAY_SECRET: GATEWAY_SECRET },
    clearEnv: true,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const output = new LineReader(child.stdout);
  try {
    const lines = await output.until((l) => l.startsWith("gateway "));
    await test(/^gateway (\S+)/.exec(lines.at(-1)!)![1]!);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    output.release();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("Gateway config file: resource URIs are always prefixed by default; resourcePrefix on-collision keeps them", async () => {
  await using member = await TestMember.start("solo");
  const gateway = { port: 0, auth: { secretEnv: "MCP_GATEWAY_SECRET" } };
  for (
    const [catalog, uri] of [
      [undefined, "federated://solo/info://server"],
      [{ resourcePrefix: "on-collision" }, "info://server"],
    ] as const
  ) {
    await withCli({ gateway, members: [member.config], ...(catalog ? { catalog } : {}) }, async (url) => {
      const client = await connectClient(url, { token: await gatewayToken() });
      try {
        const resources = (await client.listResources()).resources;
        assert.deepEqual(resources.map((r) => r.uri), [uri]);
        const read = await client.readResource({ uri });
        assert.equal(read.contents[0]?.uri, uri);
      } finally {
        await client.close();
      }
    });
  }
});

Deno.test("Gateway config file: the catalog's listTimeout, retryAfter and listConcurrency are read and checked", () => {
  const { catalog } = parseGatewayConfig({
    gateway: { auth: false },
    catalog: { listTimeout: 2_000, retryAfter: 10_000, listConcurrency: 16 },
    members: [],
  }, "federation.json");
  assert.deepEqual(catalog, { listTimeout: 2_000, retryAfter: 10_000, listConcurrency: 16 });
  for (const listConcurrency of [0, 1.5, "8"]) {
    assert.throws(
      () => parseGatewayConfig({ gateway: { auth: false }, catalog: { listConcurrency }, members: [] }, "f.json"),
      (error) => error instanceof ConfigError && error.field === "catalog.listConcurrency",
      String(listConcurrency),
    );
  }
});
