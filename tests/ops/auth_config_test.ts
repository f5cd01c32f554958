// `auth.config` typos and an undefined secret are refused clearly (issue 17 §6).
import assert from "node:assert/strict";
import { validateConfig } from "../../packages/core/config.ts";
import { ConfigError } from "../../packages/core/errors.ts";
import { parseGatewayConfig } from "../../packages/gateway/config_file.ts";

const SECRET = "a-secret-of-at-least-thirty-two-bytes!!";

function member(config: Record<string, unknown>) {
  return { serverId: "a", endpoints: { data: "http://127.0.0.1:1/mcp" }, auth: { type: "jwt", config } };
}

Deno.test("validateConfig() refuses a typo inside auth.config, naming the field and the likely one", () => {
  assert.throws(() => validateConfig(member({ secret: SECRET, expires_in: "1h" })), (error) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, "ERR_CONFIG_INVALID");
    assert.equal(error.field, "auth.config.expires_in");
    assert.equal(error.serverId, "a");
    assert.match(error.message, /is not a known field \(did you mean 'expiresIn'\?\)/);
    return true;
  });
  assert.throws(() => validateConfig(member({ algo: "HS256" })), { field: "auth.config.algo" });
});

Deno.test("validateConfig() warns, naming the member, when auth.config.secret is present but undefined", () => {
  const warnings: string[] = [];
  const warn = (message: string) => void warnings.push(message);
  validateConfig(member({ secret: Deno.env.get("SURELY_NOT_SET_OPS_TEST"), expiresIn: "1h" }), { warn });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^auth\.config\.secret of server 'a' is undefined \(an unset environment variable\?\)/);
  assert.match(warnings[0]!, /signed with the proxy's secret/);
  // Twice: once per config, not once per process.
  validateConfig(member({ secret: undefined }), { warn });
  assert.equal(warnings.length, 2);
  // Without the key (or with a real secret) nothing is said.
  validateConfig(member({ expiresIn: "1h" }), { warn });
  validateConfig(member({ secret: SECRET, expiresIn: 60, algorithm: "HS256", subject: "s" }), { warn });
  assert.equal(warnings.length, 2);
});

Deno.test("parseGatewayConfig() refuses a typo inside a member's auth.config, naming file, member and field", () => {
  const env = (name: string) => name === "MEMBER_SECRET" ? SECRET : undefined;
  assert.throws(
    () =>
      parseGatewayConfig(
        { gateway: { auth: false }, members: [member({ secretEnv: "MEMBER_SECRET", expires_in: "1h" })] },
        "federation.json",
        { env },
      ),
    (error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.field, "members[0].auth.config.expires_in");
      assert.match(
        error.message,
        /^Invalid config file 'federation\.json': member 'a': members\[0\]\.auth\.config\.expires_in/,
      );
      return true;
    },
  );
});
