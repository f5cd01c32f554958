// validateConfig on stdio members: the shape is strict, every refusal names its field, and no secret is written
// inline.
import assert from "node:assert/strict";
import { ConfigError } from "../../packages/core/errors.ts";
import { SECRET_ENV_NAME, validateConfig } from "../../packages/core/config.ts";
import { isSecretName } from "../../packages/core/_secret_like.ts";

function refusal(input: unknown): ConfigError {
  try {
    validateConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("accepted");
}

const stdio = (endpoint: unknown, extra: Record<string, unknown> = {}) => ({
  serverId: "fs",
  endpoints: { stdio: endpoint },
  ...extra,
});

Deno.test("validateConfig() accepts a stdio member with command, args, env, envFrom and cwd", () => {
  const config = stdio({
    command: "npx",
    args: ["-y", "@modelcontextprotocol/server-filesystem", "/data"],
    env: { LOG_LEVEL: "debug" },
    envFrom: { GITHUB_PERSONAL_ACCESS_TOKEN: "GITHUB_TOKEN" },
    cwd: "/tmp",
  });
  assert.equal(validateConfig(config), config);
  assert.ok(validateConfig(stdio({ command: "x" }, { auth: { type: "none" } })));
});

Deno.test("validateConfig() refuses bad stdio members, naming the field", () => {
  const cases: [unknown, string][] = [
    [stdio({}), "endpoints.stdio.command"],
    [stdio({ command: "" }), "endpoints.stdio.command"],
    [stdio({ command: "  " }), "endpoints.stdio.command"],
    [stdio({ command: 7 }), "endpoints.stdio.command"],
    [stdio({ command: "x", argv: [] }), "endpoints.stdio.argv"],
    [stdio({ command: "x", args: "-y" }), "endpoints.stdio.args"],
    [stdio({ command: "x", args: ["-y", 3] }), "endpoints.stdio.args[1]"],
    [stdio({ command: "x", env: { A: 1 } }), "endpoints.stdio.env.A"],
    [stdio({ command: "x", env: { "A-B": "1" } }), "endpoints.stdio.env.A-B"],
    [stdio({ command: "x", env: ["A"] }), "endpoints.stdio.env"],
    [stdio({ command: "x", envFrom: { A: "not a name" } }), "endpoints.stdio.envFrom.A"],
    [stdio({ command: "x", cwd: "" }), "endpoints.stdio.cwd"],
    [stdio("npx"), "endpoints.stdio"],
    [{ serverId: "fs", endpoints: { stdio: { command: "x" }, data: "http://127.0.0.1:1/mcp" } }, "endpoints.stdio"],
    [stdio({ command: "x" }, { auth: { type: "jwt", config: {} } }), "auth"],
    [stdio({ command: "x" }, { auth: { type: "none", config: { secret: "s" } } }), "auth.config"],
  ];
  for (const [input, field] of cases) {
    const error = refusal(input);
    assert.equal(error.code, "ERR_CONFIG_INVALID", field);
    assert.equal(error.field, field);
    assert.equal(error.serverId, "fs");
  }
});

Deno.test("validateConfig() refuses an inline secret in a stdio member's env without quoting it", () => {
  for (
    const name of ["GITHUB_TOKEN", "API_KEY", "OPENAI_API_KEY", "DB_PASSWORD", "CLIENT_SECRET", "AWS_ACCESS_KEY_ID"]
  ) {
    const error = refusal(stdio({ command: "x", env: { [name]: "ghp_inline-value-1234" } }));
    assert.equal(error.field, `endpoints.stdio.env.${name}`);
    assert.match(error.message, /envFrom/);
    assert.doesNotMatch(error.message, /ghp_inline-value-1234/);
  }
  // Ordinary names pass.
  assert.ok(validateConfig(stdio({ command: "x", env: { AUTHOR: "me", LOG_LEVEL: "info", PORT: "1" } })));
});

Deno.test("validateConfig() refuses envFrom naming the federation's own secret variables", () => {
  for (const from of ["MCP_SECRET_KEY", "MCP_GATEWAY_SECRET", "MCP_STORE_KEY"]) {
    const error = refusal(stdio({ command: "x", envFrom: { STOLEN: from } }));
    assert.equal(error.field, "endpoints.stdio.envFrom.STOLEN");
    assert.match(error.message, new RegExp(from));
  }
  assert.ok(validateConfig(stdio({ command: "x", envFrom: { GITHUB_TOKEN: "MCP_MEMBER_GITHUB" } })));
});

Deno.test("SECRET_ENV_NAME and the importer's isSecretName are one rule", () => {
  const names = ["GITHUB_TOKEN", "DB_PASSPHRASE", "SESSION_ID", "AUTHORIZATION", "GITHUB_PAT", "KEY", "AUTHOR", "PATH"];
  for (const name of names) assert.equal(SECRET_ENV_NAME.test(name), isSecretName(name), name);
  assert.ok(isSecretName("DB_PASSPHRASE") && isSecretName("SESSION_ID") && !isSecretName("AUTHOR"));
});
