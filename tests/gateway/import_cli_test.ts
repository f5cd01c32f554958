import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { GATEWAY_SECRET } from "../_support/members.ts";

const CLI = fromFileUrl(new URL("../../packages/gateway/cli.ts", import.meta.url));
const EXAMPLE = fromFileUrl(new URL("../../examples/claude_desktop_config.json", import.meta.url));
// Built at run time so that no token-shaped literal sits in the repository.
const GITHUB_TOKEN = "ghp_" + "Z9y8X7w6V5".repeat(4);
const HOME = Deno.env.get("HOME") ?? "/root";
const ENV = {
  RUST_BACKTRACE: "0",
  NO_COLOR: "1",
  // The real HOME: Deno finds its cache there.
  HOME,
  MCP_GATEWAY_SECRET: GATEWAY_SECRET,
  GITHUB_TOKEN,
};

async function run(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env: ENV,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

Deno.test("CLI --import prints the federation config equivalent to a Claude Desktop file, secrets as references", async () => {
  const result = await run(["--import", EXAMPLE]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), {
    gateway: { auth: { secretEnv: "MCP_GATEWAY_SECRET" } },
    members: [
      {
        serverId: "filesystem",
        endpoints: {
          stdio: {
            command: "npx",
            args: ["-y", "@modelcontextprotocol/server-filesystem@2026.8.31", `${HOME}/shared`],
          },
        },
        auth: { type: "none" },
      },
      {
        serverId: "memory",
        endpoints: {
          stdio: {
            command: "npx",
            args: ["-y", "@modelcontextprotocol/server-memory@2026.8.31"],
            env: { MEMORY_FILE_PATH: `${HOME}/memory.jsonl` },
          },
        },
        auth: { type: "none" },
      },
      {
        serverId: "github",
        endpoints: {
          stdio: {
            command: "npx",
            args: ["-y", "@modelcontextprotocol/server-github"],
            envFrom: { GITHUB_PERSONAL_ACCESS_TOKEN: "GITHUB_TOKEN" },
          },
        },
        auth: { type: "none" },
      },
      {
        serverId: "docs",
        endpoints: { data: "https://docs.example.com/mcp" },
        auth: { type: "none" },
      },
    ],
  });
  assert.ok(!result.stdout.includes(GITHUB_TOKEN), "the secret's value is not printed");
});

Deno.test("CLI --import output of an HTTP-only file passes --check, and so does the file itself", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/.mcp.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        mcpServers: {
          docs: { type: "http", url: "https://docs.example.com/mcp" },
          local: { url: "http://127.0.0.1:3001/mcp" },
        },
      }),
    );
    const imported = await run(["--import", file]);
    assert.equal(imported.code, 0, imported.stderr);
    await Deno.writeTextFile(`${dir}/federation.json`, imported.stdout);
    for (const config of [file, `${dir}/federation.json`]) {
      const checked = await run(["--check", "--config", config]);
      assert.equal(checked.code, 0, checked.stderr);
      assert.match(checked.stdout, /is valid: 2 member\(s\)/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI --check --config exits 2 on a Claude Desktop file with an inline secret, an unknown field, a missing command, naming file, server and field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/claude_desktop_config.json`;
    const cases: [string, unknown, RegExp][] = [
      [
        "inline secret",
        { mcpServers: { github: { command: "npx", env: { GITHUB_PERSONAL_ACCESS_TOKEN: GITHUB_TOKEN } } } },
        /claude_desktop_config\.json': server 'github': mcpServers\.github\.env\.GITHUB_PERSONAL_ACCESS_TOKEN: looks like a secret written in the file: move it to the environment \(export GITHUB_PERSONAL_ACCESS_TOKEN=…\) and write "GITHUB_PERSONAL_ACCESS_TOKEN": "\$\{GITHUB_PERSONAL_ACCESS_TOKEN\}"/,
      ],
      [
        "unknown field",
        { mcpServers: { fs: { command: "npx", autoStart: true } } },
        /claude_desktop_config\.json': server 'fs': mcpServers\.fs\.autoStart: is not a known field/,
      ],
      [
        "missing command",
        { mcpServers: { memory: { args: ["-y", "@modelcontextprotocol/server-memory"] } } },
        /claude_desktop_config\.json': server 'memory': mcpServers\.memory\.command: is required/,
      ],
    ];
    for (const [what, config, message] of cases) {
      await Deno.writeTextFile(file, JSON.stringify(config));
      for (const args of [["--check", "--config", file], ["--import", file]]) {
        const result = await run(args);
        assert.equal(result.code, 2, `${what} ${args[0]}`);
        assert.match(result.stderr, message, what);
        assert.equal(result.stdout, "", what);
        assert.ok(!result.stderr.includes(GITHUB_TOKEN), "the secret is not echoed");
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI --import exits 2 for a file without a server list, and with --config", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/federation.json`;
    await Deno.writeTextFile(file, JSON.stringify({ members: [] }));
    const nothing = await run(["--import", file]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /Nothing to import from '.*federation\.json': it has no mcpServers/);
    const both = await run(["--import", file, "--config", file]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /Use --import <file> or --config <file>, not both/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
