import assert from "node:assert/strict";
import { checkSecretStrength, MIN_SECRET_BYTES, validateConfig, validateServerId } from "./config.ts";
import { ConfigError, FederationError } from "./errors.ts";
import type { FederationConfig } from "./types.ts";

const LONG_SECRET = "a-secret-of-at-least-thirty-two-bytes!!";

/** A valid config with a long secret; every bad case below changes one thing of a fresh copy. */
function good(): Record<string, unknown> {
  return {
    serverId: "server-1",
    endpoints: { control: "ws://localhost:3000", data: "http://localhost:3001" },
    auth: { type: "jwt", config: { secret: LONG_SECRET, expiresIn: "1h" } },
  };
}

function withEndpoints(endpoints: unknown): Record<string, unknown> {
  return { ...good(), endpoints };
}

function withAuth(auth: unknown): Record<string, unknown> {
  return { ...good(), auth };
}

function withJwt(config: Record<string, unknown>): Record<string, unknown> {
  return withAuth({ type: "jwt", config: { secret: LONG_SECRET, ...config } });
}

/**
 * Runs `body` (JavaScript, may `await`, ends with `return`) in a fresh worker with its own copy of config.ts, hence
 * a fresh once-per-process weak-secret flag whatever order the tests run in. `validateConfig`,
 * `checkSecretStrength` and a collecting `warn` (into `warnings`) are in scope.
 */
async function inFreshIsolate<T>(body: string): Promise<T> {
  const configUrl = new URL("./config.ts", import.meta.url).href;
  const source = `import { checkSecretStrength, validateConfig } from ${JSON.stringify(configUrl)};
const warnings = [];
const warn = (message) => void warnings.push(message);
self.postMessage(await (async () => { ${body} })());`;
  const worker = new Worker(`data:application/javascript;base64,${new TextEncoder().encode(source).toBase64()}`, {
    type: "module",
  });
  try {
    return await new Promise<T>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`Worker failed: ${event.message}`));
      };
    });
  } finally {
    worker.terminate();
  }
}

Deno.test("validateConfig() warns exactly once per process, through options.warn, about a secret under 32 bytes", async () => {
  const result = await inFreshIsolate<{ after32: number; warnings: string[] }>(`
    const config = (secret) => ({
      serverId: "server-1",
      endpoints: { data: "http://localhost:3001" },
      auth: { type: "jwt", config: { secret } },
    });
    validateConfig(config("x".repeat(32)), { warn });
    const after32 = warnings.length;
    validateConfig(config("weak-secret-number-one"), { warn });
    validateConfig(config("weak-secret-number-two"), { warn });
    checkSecretStrength("weak-secret-number-three", "secret", { warn });
    return { after32, warnings };
  `);
  assert.equal(result.after32, 0, "a secret of exactly 32 bytes must not warn");
  const { warnings } = result;
  assert.equal(warnings.length, 1, "the weak-secret warning is emitted once per process");
  assert.equal(MIN_SECRET_BYTES, 32);
  assert.match(warnings[0]!, /\b32\b/, "the warning names the 32-byte minimum");
  assert.match(warnings[0]!, /\b22 bytes\b/, "the warning names the secret's length");
  assert.ok(!warnings[0]!.includes("weak-secret-number-one"), "the warning must not contain the secret");
});

Deno.test("validateConfig() sends the weak-secret warning to console.warn when options.warn is not given", async () => {
  const result = await inFreshIsolate<string[][]>(`
    const lines = [];
    console.warn = (...args) => void lines.push(args.map(String));
    validateConfig({
      serverId: "server-1",
      endpoints: { data: "http://localhost:3001" },
      auth: { type: "jwt", config: { secret: "dev-secret" } },
    });
    return lines;
  `);
  assert.equal(result.length, 1);
  assert.match(result[0]![0]!, /\b32\b/);
});

Deno.test("validateConfig() with strictSecrets rejects a secret shorter than 32 bytes, naming the field", () => {
  const secret = "x".repeat(MIN_SECRET_BYTES - 1);
  assert.throws(
    () => validateConfig(withJwt({ secret }), { strictSecrets: true, warn: () => {} }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.code, "ERR_CONFIG_INVALID");
      assert.equal(e.field, "auth.config.secret");
      assert.match(e.message, /\b32\b/);
      assert.ok(!e.message.includes(secret));
      return true;
    },
  );
});

Deno.test("validateConfig() with strictSecrets counts bytes, not characters", () => {
  // 16 two-byte characters: 32 bytes, accepted; 15 of them plus one ASCII character: 31 bytes, rejected.
  validateConfig(withJwt({ secret: "é".repeat(16) }), { strictSecrets: true });
  assert.throws(
    () => validateConfig(withJwt({ secret: "é".repeat(15) + "a" }), { strictSecrets: true }),
    (e: unknown) => e instanceof ConfigError && e.field === "auth.config.secret",
  );
});

Deno.test("checkSecretStrength() rejects an empty secret even without strict mode", () => {
  assert.throws(
    () => checkSecretStrength("", "secret", { warn: () => {} }),
    (e: unknown) => e instanceof ConfigError && e.code === "ERR_CONFIG_INVALID" && e.field === "secret",
  );
});

interface BadCase {
  name: string;
  input: unknown;
  field: string;
}

const BAD: BadCase[] = [
  // The whole value
  { name: "a config that is not an object", input: "server-1", field: "config" },
  { name: "an array", input: [good()], field: "config" },
  { name: "null", input: null, field: "config" },
  { name: "undefined", input: undefined, field: "config" },
  // serverId
  { name: "a missing serverId", input: { ...good(), serverId: undefined }, field: "serverId" },
  { name: "an empty serverId", input: { ...good(), serverId: "" }, field: "serverId" },
  { name: "a serverId of 33 characters", input: { ...good(), serverId: "a".repeat(33) }, field: "serverId" },
  { name: "a serverId with a space", input: { ...good(), serverId: "a b" }, field: "serverId" },
  { name: "a serverId containing '__'", input: { ...good(), serverId: "a__b" }, field: "serverId" },
  { name: "a serverId with a dot", input: { ...good(), serverId: "a.b" }, field: "serverId" },
  { name: "a non-string serverId", input: { ...good(), serverId: 42 }, field: "serverId" },
  // Top level
  { name: "an unknown top-level key", input: { ...good(), endpoint: {} }, field: "endpoint" },
  // endpoints
  { name: "missing endpoints", input: { ...good(), endpoints: undefined }, field: "endpoints" },
  { name: "endpoints that are a string", input: withEndpoints("ws://localhost:3000"), field: "endpoints" },
  { name: "endpoints that are an array", input: withEndpoints(["ws://localhost:3000"]), field: "endpoints" },
  { name: "endpoints without control or data", input: withEndpoints({}), field: "endpoints" },
  {
    name: "an unknown endpoint key",
    input: withEndpoints({ data: "http://localhost:3001", events: "ws://localhost:3002" }),
    field: "endpoints.events",
  },
  {
    name: "a control endpoint with http:",
    input: withEndpoints({ control: "http://localhost:3000" }),
    field: "endpoints.control",
  },
  { name: "a data endpoint with ws:", input: withEndpoints({ data: "ws://localhost:3001" }), field: "endpoints.data" },
  { name: "a data endpoint with ftp:", input: withEndpoints({ data: "ftp://localhost/x" }), field: "endpoints.data" },
  { name: "an unparsable URL", input: withEndpoints({ control: "not a url" }), field: "endpoints.control" },
  { name: "an empty-string URL", input: withEndpoints({ data: "" }), field: "endpoints.data" },
  { name: "a non-string URL", input: withEndpoints({ data: 3001 }), field: "endpoints.data" },
  {
    name: "a URL with user:pass@",
    input: withEndpoints({ data: "http://user:pass@localhost:3001/mcp" }),
    field: "endpoints.data",
  },
  {
    name: "a URL with a user only",
    input: withEndpoints({ control: "ws://user@localhost:3000" }),
    field: "endpoints.control",
  },
  {
    name: "a URL with ?token=",
    input: withEndpoints({ control: "ws://localhost:3000/?token=abc" }),
    field: "endpoints.control",
  },
  {
    name: "a URL with ?access_token=",
    input: withEndpoints({ data: "http://localhost:3001/mcp?x=1&access_token=abc" }),
    field: "endpoints.data",
  },
  {
    name: "a URL with ?API_KEY= (any case)",
    input: withEndpoints({ data: "http://localhost:3001/?API_KEY=k" }),
    field: "endpoints.data",
  },
  {
    name: "a URL with a fragment",
    input: withEndpoints({ data: "http://localhost:3001/mcp#top" }),
    field: "endpoints.data",
  },
  {
    name: "a bad data endpoint next to a good control endpoint",
    input: withEndpoints({ control: "ws://localhost:3000", data: "ws://localhost:3001" }),
    field: "endpoints.data",
  },
  // auth
  { name: "auth that is not an object", input: withAuth("jwt"), field: "auth" },
  { name: "auth that is null", input: withAuth(null), field: "auth" },
  { name: 'auth.type "basic"', input: withAuth({ type: "basic", config: {} }), field: "auth.type" },
  { name: "a missing auth.type", input: withAuth({ config: { secret: LONG_SECRET } }), field: "auth.type" },
  {
    name: "auth.config that is not an object",
    input: withAuth({ type: "jwt", config: "secret" }),
    field: "auth.config",
  },
  {
    name: "auth.config that is an array",
    input: withAuth({ type: "jwt", config: [LONG_SECRET] }),
    field: "auth.config",
  },
  { name: "an empty secret", input: withJwt({ secret: "" }), field: "auth.config.secret" },
  { name: "a secret that is a number", input: withJwt({ secret: 12345 }), field: "auth.config.secret" },
  { name: 'expiresIn "soon"', input: withJwt({ expiresIn: "soon" }), field: "auth.config.expiresIn" },
  { name: "expiresIn -5", input: withJwt({ expiresIn: -5 }), field: "auth.config.expiresIn" },
  { name: "expiresIn 0", input: withJwt({ expiresIn: 0 }), field: "auth.config.expiresIn" },
  { name: 'expiresIn "1y"', input: withJwt({ expiresIn: "1y" }), field: "auth.config.expiresIn" },
  { name: "expiresIn that is a boolean", input: withJwt({ expiresIn: true }), field: "auth.config.expiresIn" },
  { name: 'algorithm "none"', input: withJwt({ algorithm: "none" }), field: "auth.config.algorithm" },
  { name: 'algorithm "RS256"', input: withJwt({ algorithm: "RS256" }), field: "auth.config.algorithm" },
  { name: 'algorithm "hs256" (wrong case)', input: withJwt({ algorithm: "hs256" }), field: "auth.config.algorithm" },
  { name: "an empty subject", input: withJwt({ subject: "" }), field: "auth.config.subject" },
  { name: "a subject that is a number", input: withJwt({ subject: 7 }), field: "auth.config.subject" },
];

Deno.test("the bad-config table has at least 25 cases, each one change away from a config validateConfig() accepts", () => {
  assert.ok(BAD.length >= 25, `only ${BAD.length} cases`);
  // Each bad case changes one thing of good() (through withEndpoints, withAuth or withJwt): they prove a rejection
  // only if the unchanged configs pass. A validator that refused too much would pass every case below.
  const base = good();
  assert.equal(validateConfig(base, { warn: () => {} }), base);
  validateConfig(withEndpoints({ control: "ws://localhost:3000" }), { warn: () => {} });
  validateConfig(withEndpoints({ data: "http://localhost:3001/mcp" }), { warn: () => {} });
  validateConfig(withAuth({ type: "none" }), { warn: () => {} });
  validateConfig(withAuth({ type: "jwt", config: {} }), { warn: () => {} });
  validateConfig(
    withJwt({ expiresIn: 3600, algorithm: "HS256", subject: "proxy-1" }),
    { warn: () => {} },
  );
  validateConfig(withJwt({ expiresIn: "24h", algorithm: "HS512" }), { warn: () => {} });
});

for (const { name, input, field } of BAD) {
  Deno.test(`validateConfig() rejects ${name} with a ConfigError on '${field}'`, () => {
    assert.throws(
      () => validateConfig(input, { warn: () => {} }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
        assert.ok(e instanceof FederationError);
        assert.equal(e.name, "ConfigError");
        assert.equal(e.code, "ERR_CONFIG_INVALID");
        assert.equal(e.field, field);
        // Once the serverId is known to be valid, errors name the server too.
        if (field !== "config" && field !== "serverId") assert.equal(e.serverId, "server-1");
        assert.ok(!e.message.includes(LONG_SECRET), "messages never carry the secret");
        return true;
      },
    );
  });
}

Deno.test("validateServerId() accepts 1 and 32 characters of [A-Za-z0-9_-] and returns the id", () => {
  for (const id of ["a", "Z", "0", "-", "_", "a".repeat(32), "server-1", "Srv_2-x"]) {
    assert.equal(validateServerId(id), id);
  }
});

Deno.test("validateConfig() accepts the usage guide's development config and returns the same object unchanged", () => {
  const devConfig: FederationConfig = {
    serverId: "dev-server",
    endpoints: {
      control: "ws://localhost:3000",
      data: "http://localhost:3001",
    },
    auth: {
      type: "jwt",
      config: {
        secret: "dev-secret",
        expiresIn: "1h",
      },
    },
  };
  const before = structuredClone(devConfig);
  const result = validateConfig(devConfig, { warn: () => {} });
  assert.equal(result, devConfig);
  assert.deepEqual(devConfig, before);
});

Deno.test("validateConfig() accepts the usage guide's production config (wss:// and https://)", () => {
  const prodConfig: FederationConfig = {
    serverId: "prod-server",
    endpoints: {
      control: "wss://production.example.com/ws",
      data: "https://production.example.com/api",
    },
    auth: {
      type: "jwt",
      config: {
        secret: Deno.env.get("PROD_SECRET"),
        expiresIn: "24h",
      },
    },
  };
  const before = structuredClone(prodConfig);
  assert.equal(validateConfig(prodConfig, { warn: () => {} }), prodConfig);
  assert.deepEqual(prodConfig, before);
});

Deno.test("validateConfig() accepts the usage guide's multi-server and load-test configs", () => {
  const secret = LONG_SECRET;
  const configs: FederationConfig[] = [0, 1, 2].map((i) => ({
    serverId: `test-server-${i}`,
    endpoints: { control: `ws://localhost:${3000 + i}`, data: `http://localhost:${4000 + i}` },
    auth: { type: "jwt", config: { secret } },
  }));
  for (const config of configs) assert.equal(validateConfig(config), config);
});

Deno.test("validateConfig() accepts a data-only config", () => {
  const config = { serverId: "data-only", endpoints: { data: "http://127.0.0.1:3001/mcp" } };
  assert.equal(validateConfig(config), config);
});

Deno.test("validateConfig() accepts a control-only config", () => {
  const config = { serverId: "control-only", endpoints: { control: "wss://example.com/ws" } };
  assert.equal(validateConfig(config), config);
});

Deno.test('validateConfig() accepts auth type "none"', () => {
  const config = { serverId: "public", endpoints: { data: "https://example.com/mcp" }, auth: { type: "none" } };
  assert.equal(validateConfig(config), config);
});

Deno.test("validateConfig() accepts a secret given as a function and does not call it", () => {
  let calls = 0;
  const secret = () => {
    calls++;
    return "short";
  };
  const config: FederationConfig = {
    serverId: "server-1",
    endpoints: { control: "ws://localhost:3000" },
    auth: { type: "jwt", config: { secret } },
  };
  assert.equal(validateConfig(config, { strictSecrets: true }), config);
  assert.equal(calls, 0);
});

Deno.test("validateConfig() accepts every HMAC algorithm, numeric expiresIn and a subject", () => {
  for (const algorithm of ["HS256", "HS384", "HS512"]) {
    const config = withJwt({ algorithm, expiresIn: 90, subject: "federation-proxy" });
    assert.equal(validateConfig(config), config);
  }
});

Deno.test("validateConfig() accepts URLs with harmless query parameters", () => {
  const config = withEndpoints({ control: "ws://localhost:3000/ws?v=2", data: "http://localhost:3001/mcp?tenant=a" });
  assert.equal(validateConfig(config), config);
});
