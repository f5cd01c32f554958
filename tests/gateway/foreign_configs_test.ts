import assert from "node:assert/strict";
import { ConfigError } from "../../packages/core/errors.ts";
import { containsKnownToken, isSecretName } from "../../packages/core/_secret_like.ts";
import { jsonErrorOffset } from "../../packages/core/_json_syntax.ts";
import { federationFileOf, importConfigFile } from "../../packages/gateway/_foreign_configs.ts";
import { loadGatewayConfig, parseGatewayConfig } from "../../packages/gateway/config_file.ts";

const VARS: Record<string, string> = { HOME: "/home/ada", DATA_DIR: "/srv/data", PORT: "3001" };
const env = (name: string) => VARS[name];
const NONE = { type: "none" };
const DEFAULT_GATEWAY = { auth: { secretEnv: "MCP_GATEWAY_SECRET" } };
// Built at run time so that no token-shaped literal sits in the repository.
const GHP = "ghp_" + "a1B2c3D4e5".repeat(4);

Deno.test("federationFileOf() maps each foreign shape to the expected members", async (t) => {
  const cases: [string, unknown, string, unknown[]][] = [
    [
      "Claude Desktop: command, args, env literal and by reference",
      {
        mcpServers: {
          github: {
            command: "npx",
            args: ["-y", "@modelcontextprotocol/server-github"],
            env: { GITHUB_PERSONAL_ACCESS_TOKEN: "${GITHUB_TOKEN}", DEBUG: "1", PATH: "/usr/bin" },
          },
        },
      },
      "claude_desktop_config.json",
      [{
        serverId: "github",
        endpoints: {
          stdio: {
            command: "npx",
            args: ["-y", "@modelcontextprotocol/server-github"],
            env: { DEBUG: "1", PATH: "/usr/bin" },
            envFrom: { GITHUB_PERSONAL_ACCESS_TOKEN: "GITHUB_TOKEN" },
          },
        },
        auth: NONE,
      }],
    ],
    [
      "Claude Code .mcp.json: ${VAR} and ${VAR:-default} expanded in args and cwd, type stdio",
      {
        mcpServers: {
          fs: {
            type: "stdio",
            command: "npx",
            args: ["@modelcontextprotocol/server-filesystem", "${DATA_DIR}", "${EXTRA:-/tmp}"],
            cwd: "${HOME}",
            env: { LOG_LEVEL: "${LEVEL:-info}" },
          },
        },
      },
      ".mcp.json",
      [{
        serverId: "fs",
        endpoints: {
          stdio: {
            command: "npx",
            args: ["@modelcontextprotocol/server-filesystem", "/srv/data", "/tmp"],
            env: { LOG_LEVEL: "info" },
            cwd: "/home/ada",
          },
        },
        auth: NONE,
      }],
    ],
    [
      "Claude Code / Cursor: url with type http, streamable-http or none → data-only members",
      {
        mcpServers: {
          docs: { type: "http", url: "https://docs.example.com/mcp" },
          local: { url: "http://127.0.0.1:${PORT}/mcp" },
          other: { type: "streamable-http", url: "https://other.example.com/mcp", headers: {} },
        },
      },
      ".cursor/mcp.json",
      [
        { serverId: "docs", endpoints: { data: "https://docs.example.com/mcp" }, auth: NONE },
        { serverId: "local", endpoints: { data: "http://127.0.0.1:3001/mcp" }, auth: NONE },
        { serverId: "other", endpoints: { data: "https://other.example.com/mcp" }, auth: NONE },
      ],
    ],
    [
      "VS Code: servers, ${env:…}, ${workspaceFolder}, ${userHome}, inputs and dev ignored",
      {
        inputs: [{ type: "promptString", id: "unused", password: true }],
        servers: {
          memory: {
            type: "stdio",
            command: "npx",
            args: ["${workspaceFolder}/memory.json", "${userHome}"],
            env: { API_KEY: "${env:MEMORY_API_KEY}", ROOT: "${workspaceFolder}" },
            dev: { watch: "src/**/*.ts" },
          },
          remote: { type: "http", url: "https://mcp.example.com/mcp" },
        },
      },
      "/work/project/.vscode/mcp.json",
      [
        {
          serverId: "memory",
          endpoints: {
            stdio: {
              command: "npx",
              args: ["/work/project/memory.json", "/home/ada"],
              env: { ROOT: "/work/project" },
              envFrom: { API_KEY: "MEMORY_API_KEY" },
            },
          },
          auth: NONE,
        },
        { serverId: "remote", endpoints: { data: "https://mcp.example.com/mcp" }, auth: NONE },
      ],
    ],
  ];
  for (const [what, input, file, members] of cases) {
    await t.step(what, () => {
      assert.deepEqual(federationFileOf(input, file, env), { gateway: DEFAULT_GATEWAY, members });
    });
  }
});

Deno.test("federationFileOf() keeps our sections and appends to members; a file in our form is untouched", () => {
  const ours = { serverId: "a", endpoints: { data: "http://127.0.0.1:1/mcp" } };
  const input = {
    gateway: { auth: false },
    catalog: { prefix: "always" },
    members: [ours],
    mcpServers: { b: { url: "http://127.0.0.1:2/mcp" } },
  };
  assert.deepEqual(federationFileOf(input, "f.json", env), {
    gateway: { auth: false },
    catalog: { prefix: "always" },
    members: [ours, { serverId: "b", endpoints: { data: "http://127.0.0.1:2/mcp" }, auth: NONE }],
  });
  const plain = { gateway: { auth: false }, members: [ours] };
  assert.equal(federationFileOf(plain, "f.json", env), plain);
});

Deno.test("federationFileOf() refuses each bad server with a ConfigError naming the server and the field", async (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    [
      "secret by name",
      { mcpServers: { github: { command: "npx", env: { GITHUB_TOKEN: "not-a-reference" } } } },
      "mcpServers.github.env.GITHUB_TOKEN",
      /looks like a secret written in the file: move it to the environment \(export GITHUB_TOKEN=…\) and write "GITHUB_TOKEN": "\$\{GITHUB_TOKEN\}"/,
    ],
    [
      "secret by token format under an innocent name",
      { mcpServers: { gh: { command: "npx", env: { CONFIG: GHP } } } },
      "mcpServers.gh.env.CONFIG",
      /looks like a secret/,
    ],
    [
      "secret in a header",
      {
        mcpServers: { api: { type: "http", url: "https://x.example/mcp", headers: { Authorization: "Bearer abc" } } },
      },
      "mcpServers.api.headers.Authorization",
      /\(export API_TOKEN=…\) and write "Authorization": "Bearer \$\{API_TOKEN\}"/,
    ],
    [
      "token on the command line",
      { mcpServers: { gh: { command: "gh-mcp", args: ["--token", GHP] } } },
      "mcpServers.gh.args[1]",
      /holds a token written in the file/,
    ],
    [
      "reference to a secret on the command line",
      { mcpServers: { gh: { command: "gh-mcp", args: ["--token", "${GITHUB_TOKEN}"] } } },
      "mcpServers.gh.args[1]",
      /refers to GITHUB_TOKEN, which looks like a secret/,
    ],
    [
      "secret composed into a plain env value",
      { mcpServers: { db: { command: "pg-mcp", env: { DATABASE_URL: "postgres://u:${DB_PASSWORD}@h/db" } } } },
      "mcpServers.db.env.DATABASE_URL",
      /refers to DB_PASSWORD/,
    ],
    [
      "a default for a secret",
      { mcpServers: { db: { command: "pg-mcp", env: { DB_PASSWORD: "${DB_PASSWORD:-hunter22}" } } } },
      "mcpServers.db.env.DB_PASSWORD",
      /a default for a secret/,
    ],
    [
      "unknown field",
      { mcpServers: { fs: { command: "npx", disabled: true } } },
      "mcpServers.fs.disabled",
      /is not a known field/,
    ],
    ["missing command", { mcpServers: { fs: { args: ["x"] } } }, "mcpServers.fs.command", /is required/],
    [
      "both command and url",
      { mcpServers: { fs: { command: "npx", url: "http://127.0.0.1:1/mcp" } } },
      "mcpServers.fs",
      /has both command and url/,
    ],
    [
      "bad type",
      { mcpServers: { ws: { type: "websocket", url: "ws://127.0.0.1:1" } } },
      "mcpServers.ws.type",
      /"websocket" is not one of/,
    ],
    [
      "legacy SSE",
      { mcpServers: { old: { type: "sse", url: "http://127.0.0.1:1/sse" } } },
      "mcpServers.old.type",
      /legacy HTTP\+SSE transport/,
    ],
    [
      "stdio fields on an HTTP server",
      { mcpServers: { h: { url: "http://127.0.0.1:1/mcp", env: { DEBUG: "1" } } } },
      "mcpServers.h.env",
      /is for stdio servers/,
    ],
    [
      "not an HTTP URL",
      { mcpServers: { h: { type: "http", url: "ws://127.0.0.1:1" } } },
      "mcpServers.h.url",
      /http:\/\/ or https:\/\//,
    ],
    [
      "credential in the URL's query",
      { mcpServers: { h: { url: "https://x.example/mcp?api_key=${DATA_DIR}" } } },
      "mcpServers.h.url",
      /carries a credential in its query \('api_key'\)/,
    ],
    [
      "headers (a static credential cannot be sent)",
      { mcpServers: { h: { url: "https://x.example/mcp", headers: { "X-Api-Key": "${API_KEY}" } } } },
      "mcpServers.h.headers",
      /are not supported/,
    ],
    [
      "invalid name",
      { mcpServers: { "my server": { command: "npx" } } },
      "mcpServers.my server",
      /must match \^\[A-Za-z0-9_-\]\{1,32\}\$ without '__': rename it, e.g\. to 'my-server'/,
    ],
    ["name with __", { mcpServers: { a__b: { command: "npx" } } }, "mcpServers.a__b", /e\.g\. to 'a_b'/],
    [
      "VS Code ${input:…}",
      { inputs: [], servers: { s: { type: "stdio", command: "npx", env: { API_KEY: "${input:api-key}" } } } },
      "servers.s.env.API_KEY",
      /a VS Code prompt.*write \$\{env:API_KEY\}/,
    ],
    [
      "envFile",
      { servers: { s: { type: "stdio", command: "npx", envFile: "${workspaceFolder}/.env" } } },
      "servers.s.envFile",
      /is not read/,
    ],
    [
      "unset variable without a default",
      { mcpServers: { fs: { command: "npx", args: ["${NOT_SET_ANYWHERE}"] } } },
      "mcpServers.fs.args[0]",
      /environment variable NOT_SET_ANYWHERE is not set/,
    ],
  ];
  for (const [what, input, field, message] of cases) {
    await t.step(what, () => {
      assert.throws(() => federationFileOf(input, "claude.json", env), (error) => {
        assert.ok(error instanceof ConfigError, what);
        assert.equal(error.code, "ERR_CONFIG_INVALID");
        assert.equal(error.field, field);
        const server = field.split(".")[1];
        assert.ok(error.message.startsWith(`Invalid config file 'claude.json': server '${server}': ${field}: `));
        assert.match(error.message, message);
        for (const secret of [GHP, "not-a-reference", "hunter22", "Bearer abc"]) {
          assert.ok(!error.message.includes(secret), "the secret is not echoed");
        }
        return true;
      });
    });
  }
});

Deno.test("federationFileOf() refuses a file with both mcpServers and servers, or inputs beside mcpServers", () => {
  for (
    const [input, field] of [
      [{ mcpServers: {}, servers: {} }, "servers"],
      [{ mcpServers: {}, inputs: [] }, "inputs"],
      [{ mcpServers: [] }, "mcpServers"],
    ] as const
  ) {
    assert.throws(() => federationFileOf(input, "f.json", env), (e) => e instanceof ConfigError && e.field === field);
  }
});

Deno.test("secret detection: credential names and token formats, not ordinary names", () => {
  for (const name of ["GITHUB_TOKEN", "apiKey", "X-Api-Key", "Authorization", "DB_PASSWORD", "GITHUB_PAT", "KEY"]) {
    assert.ok(isSecretName(name), name);
  }
  for (const name of ["PATH", "PYTHONPATH", "KEYBOARD", "DEBUG", "NODE_ENV", "HOME", "MONKEY_MODE"]) {
    assert.ok(!isSecretName(name), name);
  }
  const jwt = ["eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiJhZGEifQ", "c2lnbmF0dXJl"].join(".");
  for (const value of [GHP, "sk-" + "x".repeat(24), "xoxb-" + "1".repeat(12), "AKIA" + "A".repeat(16), jwt]) {
    assert.ok(containsKnownToken(value), value.slice(0, 6));
  }
  for (const value of ["1", "/usr/bin", "https://example.com/mcp", "task-runner", "sk-short"]) {
    assert.ok(!containsKnownToken(value), value);
  }
});

Deno.test("parseGatewayConfig() runs a Claude-style file: members validated, gateway secret read from the env", () => {
  const gatewaySecret = "g".repeat(40);
  const config = parseGatewayConfig(
    { mcpServers: { docs: { type: "http", url: "https://docs.example.com/mcp" } } },
    "claude_desktop_config.json",
    { env: (name) => name === "MCP_GATEWAY_SECRET" ? gatewaySecret : undefined },
  );
  assert.deepEqual(config.members, [{
    serverId: "docs",
    endpoints: { data: "https://docs.example.com/mcp" },
    auth: NONE,
  }]);
  assert.deepEqual(config.gateway.auth, { secret: gatewaySecret });
  assert.throws(
    () =>
      parseGatewayConfig({ mcpServers: { docs: { url: "https://x.example/mcp" } } }, "c.json", {
        env: () => undefined,
      }),
    (e) => e instanceof ConfigError && e.field === "gateway.auth.secretEnv",
  );
});

Deno.test("A JSON syntax error names the line and column, never the text near it (a token may sit there)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/claude_desktop_config.json`;
    await Deno.writeTextFile(file, `{\n  "mcpServers": {\n    "gh": { "env": { "B_TOKEN": ${GHP} } }\n  }\n}\n`);
    for (
      const load of [
        () => importConfigFile(file, env),
        () => loadGatewayConfig(file, { env }),
      ]
    ) {
      const error = await load().then(() => undefined, (e) => e);
      assert.ok(error instanceof ConfigError);
      assert.equal(error.field, "file");
      assert.match(error.message, /line 3, column 33/);
      assert.doesNotMatch(error.message, /ghp_|B_TOKEN/);
      assert.doesNotMatch(String(error.cause ?? ""), /ghp_/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jsonErrorOffset() finds the first error where JSON.parse fails, and none where it succeeds", () => {
  for (const text of ['{"a": 1}', "[1, 2.5e3, true, null]", '"\\u00e9"', " {} "]) {
    assert.equal(jsonErrorOffset(text), undefined, text);
  }
  for (
    const [text, offset] of [['{"a": nope}', 6], ['{"a": 1,}', 8], ["[1 2]", 3], ['{"a": "x"', 9], ["{} x", 3]] as const
  ) {
    assert.throws(() => JSON.parse(text));
    assert.equal(jsonErrorOffset(text), offset, text);
  }
});

Deno.test("federationFileOf() refuses a url with a user name or password, without quoting it", () => {
  for (const url of ["https://ada:hunter2-pass@db.example/mcp", "https://ada@db.example/mcp"]) {
    const error = (() => {
      try {
        federationFileOf({ mcpServers: { db: { type: "http", url } } }, "c.json", env);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof ConfigError, url);
    assert.equal(error.field, "mcpServers.db.url");
    assert.doesNotMatch(error.message, /hunter2|ada@/);
  }
});

Deno.test("--import keeps ${VAR} for values read from the environment; the gateway expands them on load", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/.mcp.json`;
    const withEnv = { command: "pg-mcp", args: ["${DATABASE_URL}"] };
    await Deno.writeTextFile(
      file,
      JSON.stringify({ mcpServers: { db: withEnv, plain: { command: "echo", args: ["hi", "${HOME}"] } } }),
    );
    const vars: Record<string, string> = {
      HOME: "/home/ada",
      DATABASE_URL: "postgres://app:db-pass-1@db/app",
      MCP_GATEWAY_SECRET: "g".repeat(40),
    };
    const read = (name: string) => vars[name];
    const imported = await importConfigFile(file, read);
    const printed = JSON.stringify(imported);
    assert.doesNotMatch(printed, /db-pass-1/);
    assert.deepEqual(imported.mcpServers, { db: withEnv });
    assert.deepEqual((imported.members as { serverId: string }[]).map((m) => m.serverId), ["plain"]);
    // The printed file runs: the kept server is converted (and expanded) when the gateway reads it.
    const config = parseGatewayConfig(JSON.parse(printed), "federation.json", { env: read });
    assert.deepEqual(config.members.map((m) => [m.serverId, m.endpoints.stdio?.args]), [
      ["plain", ["hi", "/home/ada"]],
      ["db", ["postgres://app:db-pass-1@db/app"]],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseGatewayConfig() refuses envFrom naming the variables the file uses for its own secrets", () => {
  const vars: Record<string, string> = {
    PROXY_KEY: "p".repeat(40),
    CLIENT_KEY: "c".repeat(40),
    SEAL_KEY: "s".repeat(40),
  };
  const file = (from: string) => ({
    gateway: { auth: { secretEnv: "CLIENT_KEY" } },
    proxy: { secretEnv: "PROXY_KEY" },
    store: { url: "redis://127.0.0.1:6379", keyEnv: "SEAL_KEY" },
    members: [{ serverId: "x", endpoints: { stdio: { command: "env", envFrom: { LEAK: from } } } }],
  });
  for (const [from, field] of [["PROXY_KEY", "proxy.secretEnv"], ["CLIENT_KEY", "gateway.auth.secretEnv"]] as const) {
    assert.throws(
      () => parseGatewayConfig(file(from), "f.json", { env: (name) => vars[name] }),
      (e) =>
        e instanceof ConfigError && e.field === "members[0].endpoints.stdio.envFrom.LEAK" &&
        e.message.includes(field),
      from,
    );
  }
});
