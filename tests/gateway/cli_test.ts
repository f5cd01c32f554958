import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { Client, StdioClientTransport } from "../../packages/core/_sdk.ts";
import { GATEWAY_SECRET, SECRET, TestMember } from "../_support/members.ts";
import { connectClient, gatewayToken, startDynamicMember, textOf } from "../_support/catalog_members.ts";
import { LineReader } from "../_support/lines.ts";

const CLI = fromFileUrl(new URL("../../packages/gateway/cli.ts", import.meta.url));
const EXAMPLE = fromFileUrl(new URL("../../examples/federation.json", import.meta.url));
const ENV = { RUST_BACKTRACE: "0", NO_COLOR: "1", MCP_SECRET_KEY: SECRET, MCP_GATEWAY_SECRET: GATEWAY_SECRET };

async function run(args: string[], env: Record<string, string> = ENV) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

async function writeConfig(dir: string, config: unknown): Promise<string> {
  const file = `${dir}/federation.json`;
  await Deno.writeTextFile(file, typeof config === "string" ? config : JSON.stringify(config, null, 2));
  return file;
}

Deno.test("CLI --check accepts the example config file", async () => {
  const result = await run(["--config", EXAMPLE, "--check"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /is valid: 2 member\(s\)/);
});

Deno.test("CLI exits 2 on a bad config file, naming the file, the member and the field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = { serverId: "good", endpoints: { data: "http://127.0.0.1:1/mcp" } };
    const cases: [string, unknown, RegExp][] = [
      [
        "bad endpoint scheme",
        { gateway: { auth: false }, members: [good, { serverId: "bad", endpoints: { control: "http://x:1" } }] },
        /federation\.json': member 'bad': members\[1\]\.endpoints\.control: scheme 'http:' not allowed/,
      ],
      [
        "secret written in the file",
        {
          gateway: { auth: false },
          members: [{ ...good, auth: { type: "jwt", config: { secret: "a-secret-of-at-least-thirty-two-bytes!!" } } }],
        },
        /member 'good': auth\.config\.secret: secrets must not be written in the file/,
      ],
      [
        "unknown field",
        { gateway: { auth: false, prot: 1 }, members: [good] },
        /gateway\.prot: is not a known field/,
      ],
      [
        "auth off on a public interface",
        { gateway: { hostname: "0.0.0.0", auth: false }, members: [good] },
        /gateway\.auth: false is only allowed on a loopback hostname/,
      ],
      ["not JSON", "{ members: [", /federation\.json': not JSON/],
    ];
    for (const [what, config, message] of cases) {
      const file = await writeConfig(dir, config);
      const result = await run(["--config", file, "--check"]);
      assert.equal(result.code, 2, what);
      assert.match(result.stderr, message, what);
      assert.ok(!result.stderr.includes("a-secret-of-at-least-thirty-two-bytes"), "the secret is not echoed");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI serves the federation over HTTP, reports each member, and drains on SIGTERM", async () => {
  await using member = await TestMember.start("live");
  const dir = await Deno.makeTempDir();
  const file = await writeConfig(dir, {
    gateway: { port: 0, auth: { secretEnv: "MCP_GATEWAY_SECRET" } },
    members: [member.config, { serverId: "gone", endpoints: { data: "http://127.0.0.1:1/mcp" } }],
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "--config", file, "--log-level", "warn"],
    env: ENV,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const output = new LineReader(child.stdout);
  try {
    const lines = await output.until((l) => l.startsWith("gateway "));
    assert.ok(
      lines.some((l) => /^member live {2}connected {2}control ws:\/\/127\.0\.0\.1:\d+\/ {2}data http/.test(l)),
      lines.join("\n"),
    );
    assert.ok(lines.some((l) => /^member gone {2}unavailable {2}ERR_CONNECTION_FAILED/.test(l)), lines.join("\n"));
    const summary = lines.find((l) => l.startsWith("gateway "))!;
    assert.match(summary, /members 1\/2 usable {2}tools \d+ {2}auth jwt/);
    const url = /^gateway (\S+)/.exec(summary)![1]!;
    const client = await connectClient(url, { token: await gatewayToken() });
    assert.equal(textOf(await client.callTool({ name: "live__echo", arguments: { text: "via cli" } })), "via cli");
    await client.close();
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
    assert.match(await output.rest(), /SIGTERM: draining/);
  } finally {
    output.release();
    await stderr;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI --stdio serves one MCP client over stdio with logs on stderr only", async () => {
  await using member = await TestMember.start("piped");
  const dir = await Deno.makeTempDir();
  // Stdio needs no client tokens: the gateway's secret variable may be unset.
  const file = await writeConfig(dir, {
    gateway: { auth: { secretEnv: "GATEWAY_SECRET_NOT_SET" } },
    members: [member.config],
  });
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", CLI, "--config", file, "--stdio", "--log-level", "debug"],
    env: ENV,
    stderr: "pipe",
  });
  const errors: Error[] = [];
  transport.onerror = (error) => errors.push(error);
  let stderr = "";
  transport.stderr?.on("data", (chunk: Uint8Array) => stderr += new TextDecoder().decode(chunk));
  const client = new Client({ name: "stdio-test", version: "1.0.0" });
  try {
    await client.connect(transport);
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes("piped__echo"), names.join());
    assert.equal(
      textOf(await client.callTool({ name: "piped__echo", arguments: { text: "over stdio" } })),
      "over stdio",
    );
    assert.deepEqual(errors, [], "nothing but JSON-RPC on stdout");
    assert.match(stderr, /member piped {2}connected/);
    assert.match(stderr, /gateway stdio: {2}members 1\/1 usable/);
  } finally {
    await client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI --stdio serves a 2026-07-28 client on the same connection type, era chosen by its first message", async () => {
  await using member = await TestMember.start("piped");
  const dir = await Deno.makeTempDir();
  const file = await writeConfig(dir, {
    gateway: { auth: { secretEnv: "GATEWAY_SECRET_NOT_SET" }, instructions: "The federation over stdio." },
    members: [member.config],
  });
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", CLI, "--config", file, "--stdio", "--log-level", "error"],
    env: ENV,
    stderr: "pipe",
  });
  const client = new Client({ name: "stdio-modern", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
  try {
    await client.connect(transport);
    assert.equal(client.getProtocolEra(), "modern");
    assert.match(client.getInstructions() ?? "", /^The federation over stdio\./);
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes("piped__echo"), names.join());
    assert.equal(
      textOf(await client.callTool({ name: "piped__echo", arguments: { text: "modern stdio" } })),
      "modern stdio",
    );
  } finally {
    await client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI --stdio sends a 2026-07-28 client's listen stream the federation's tool list changes", async () => {
  await using dynamic = await startDynamicMember("dyn");
  const dir = await Deno.makeTempDir();
  const file = await writeConfig(dir, {
    gateway: { auth: { secretEnv: "GATEWAY_SECRET_NOT_SET" } },
    members: [dynamic.member.config],
  });
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", CLI, "--config", file, "--stdio", "--log-level", "error"],
    env: ENV,
    stderr: "pipe",
  });
  const client = new Client({ name: "stdio-listen", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
  const changed = Promise.withResolvers<void>();
  client.setNotificationHandler("notifications/tools/list_changed", () => changed.resolve());
  try {
    await client.connect(transport);
    assert.equal(client.getProtocolEra(), "modern");
    await client.listTools();
    const subscription = await client.listen({ toolsListChanged: true });
    assert.equal(subscription.honoredFilter.toolsListChanged, true);
    dynamic.addTool("late");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("No tools/list_changed on the listen stream within 10 s")), 10_000);
    });
    await Promise.race([changed.promise, timeout]).finally(() => clearTimeout(timer));
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes("dyn__late") || names.includes("late"), names.join());
    await subscription.close();
  } finally {
    await client.close();
    await Deno.remove(dir, { recursive: true });
  }
});
