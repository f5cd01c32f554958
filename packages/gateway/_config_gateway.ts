// Internal: the `gateway` section of the config file (listen address, client-token auth, origins and hosts, request
// limits, sessions and the membership API).
import { isRecord } from "../core/_json.ts";
import { isLoopback } from "./_http_guard.ts";
import type { GatewayConfig, GatewaySessionAndAdminConfig } from "./_config_types.ts";
import { type Env, ENV_NAME, type Json, type Problems, refuseLiteralSecret } from "./_config_problems.ts";
import type { GatewayAuth, GatewayOAuthAuth } from "./options.ts";
import { checkJwksUrl, REMOTE_JWKS_ALGORITHMS, type RemoteJwksAlgorithm } from "../core/remote_jwks.ts";

function sessionAndAdminKeys(): string[] {
  return ["maxSessions", "maxSessionsPerSubject", "sessionIdleTimeout", "memberSecretEnv"];
}

function parseSessionAndAdmin(problems: Problems, raw: Json): GatewaySessionAndAdminConfig {
  const out: GatewaySessionAndAdminConfig = {};
  for (const key of ["maxSessions", "maxSessionsPerSubject"] as const) {
    if (raw[key] !== undefined) out[key] = problems.number(raw[key], `gateway.${key}`, { integer: true, min: 1 });
  }
  if (raw.sessionIdleTimeout !== undefined) {
    out.sessionIdleTimeout = problems.number(raw.sessionIdleTimeout, "gateway.sessionIdleTimeout", { min: 1 });
  }
  const env = raw.memberSecretEnv;
  if (env !== undefined) {
    if (!isRecord(env)) {
      problems.fail("gateway.memberSecretEnv", 'must be an object like { "prefixes": ["MCP_MEMBER_"] }');
    }
    problems.keys(env, ["prefixes", "names"], "gateway.memberSecretEnv.");
    const allowed: { prefixes?: string[]; names?: string[] } = {};
    if (env.prefixes !== undefined) {
      allowed.prefixes = problems.strings(env.prefixes, "gateway.memberSecretEnv.prefixes");
      if (allowed.prefixes.some((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) {
        problems.fail("gateway.memberSecretEnv.prefixes", "each must start a variable name (letters, digits, _)");
      }
    }
    if (env.names !== undefined) {
      allowed.names = problems.strings(env.names, "gateway.memberSecretEnv.names");
      if (allowed.names.some((n) => !ENV_NAME.test(n))) {
        problems.fail("gateway.memberSecretEnv.names", "each must be the name of an environment variable");
      }
    }
    out.memberSecretEnv = allowed;
  }
  return out;
}

const GATEWAY_KEYS = [
  "hostname",
  "port",
  "path",
  "auth",
  "allowedOrigins",
  "allowedHosts",
  "instructions",
  ...sessionAndAdminKeys(),
];
/** Request limits of the HTTP server (body size, concurrency). */
const GATEWAY_LIMIT_KEYS = ["maxBodyBytes", "maxConcurrentRequests"] as const;

/** Validates the `gateway` section (`stdio`: a stdio gateway, whose `gateway.auth` is optional and not read). */
export function parseGatewaySection(
  problems: Problems,
  input: Json,
  env: Env,
  stdio: boolean,
): GatewayConfig["gateway"] {
  const gatewayRaw = input.gateway ?? {};
  if (!isRecord(gatewayRaw)) problems.fail("gateway", "must be an object");
  problems.keys(gatewayRaw, [...GATEWAY_KEYS, ...GATEWAY_LIMIT_KEYS], "gateway.");
  const hostname = gatewayRaw.hostname ?? "127.0.0.1";
  if (typeof hostname !== "string" || hostname === "") problems.fail("gateway.hostname", "must be a non-empty string");
  const port = problems.number(gatewayRaw.port ?? 8080, "gateway.port", { integer: true, max: 65535 });
  const path = gatewayRaw.path ?? "/mcp";
  if (typeof path !== "string" || !path.startsWith("/")) {
    problems.fail("gateway.path", "must be a string starting with '/'");
  }
  let auth: GatewayAuth;
  const authRaw = gatewayRaw.auth;
  if (stdio) {
    if (authRaw !== undefined && authRaw !== false && !isRecord(authRaw)) {
      problems.fail("gateway.auth", 'must be { "secretEnv": "NAME" } or false');
    }
    if (isRecord(authRaw)) refuseLiteralSecret(problems, authRaw, "gateway.auth");
    auth = false;
  } else if (authRaw === false) {
    if (!isLoopback(hostname)) {
      problems.fail("gateway.auth", `false is only allowed on a loopback hostname, not '${hostname}'`);
    }
    auth = false;
  } else if (authRaw === undefined) {
    problems.fail("gateway.auth", 'is required: { "secretEnv": "NAME" } (or false on a loopback hostname)');
  } else if (isRecord(authRaw) && authRaw.jwksUrl !== undefined) {
    auth = parseOAuthAuth(problems, authRaw);
  } else if (isRecord(authRaw)) {
    refuseLiteralSecret(problems, authRaw, "gateway.auth");
    problems.keys(authRaw, ["secretEnv", "audience", "issuer", "algorithm"], "gateway.auth.");
    const secret = problems.secret(authRaw.secretEnv, "gateway.auth.secretEnv", env);
    for (const key of ["audience", "issuer"] as const) {
      if (authRaw[key] !== undefined && typeof authRaw[key] !== "string") {
        problems.fail(`gateway.auth.${key}`, "must be a string");
      }
    }
    const algorithm = authRaw.algorithm;
    if (algorithm !== undefined && !["HS256", "HS384", "HS512"].includes(algorithm as string)) {
      problems.fail("gateway.auth.algorithm", `${JSON.stringify(algorithm)} is not one of HS256, HS384, HS512`);
    }
    auth = {
      secret,
      ...(typeof authRaw.audience === "string" ? { audience: authRaw.audience } : {}),
      ...(typeof authRaw.issuer === "string" ? { issuer: authRaw.issuer } : {}),
      ...(algorithm ? { algorithm: algorithm as "HS256" | "HS384" | "HS512" } : {}),
    };
  } else {
    problems.fail("gateway.auth", 'must be { "secretEnv": "NAME" } or false');
  }
  const gateway: GatewayConfig["gateway"] = {
    hostname,
    port,
    path,
    auth,
    allowedOrigins: gatewayRaw.allowedOrigins === undefined
      ? []
      : problems.strings(gatewayRaw.allowedOrigins, "gateway.allowedOrigins"),
    allowedHosts: gatewayRaw.allowedHosts === undefined
      ? []
      : problems.strings(gatewayRaw.allowedHosts, "gateway.allowedHosts"),
    ...parseSessionAndAdmin(problems, gatewayRaw),
  };
  if (gatewayRaw.instructions !== undefined) {
    if (typeof gatewayRaw.instructions !== "string") problems.fail("gateway.instructions", "must be a string");
    gateway.instructions = gatewayRaw.instructions;
  }
  // Request limits (body size, concurrency).
  for (const key of GATEWAY_LIMIT_KEYS) {
    if (gatewayRaw[key] !== undefined) {
      gateway[key] = problems.number(gatewayRaw[key], `gateway.${key}`, { integer: true, min: 1 });
    }
  }

  return gateway;
}

/**
 * `gateway.auth` as an OAuth resource server: `{ "jwksUrl", "issuer", "resource" | "audience",
 * "authorizationServers"?, "mcpScope"?, "algorithms"?, "minRefetchInterval"? }` (no secret: the gateway only
 * verifies the authorization server's tokens).
 */
function parseOAuthAuth(problems: Problems, raw: Json): GatewayOAuthAuth {
  const field = "gateway.auth.";
  refuseLiteralSecret(problems, raw, "gateway.auth");
  problems.keys(
    raw,
    [
      "jwksUrl",
      "issuer",
      "audience",
      "resource",
      "authorizationServers",
      "mcpScope",
      "algorithms",
      "minRefetchInterval",
    ],
    field,
  );
  const text = (key: string, required: boolean): string | undefined => {
    const value = raw[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== "string" || value === "") problems.fail(`${field}${key}`, "must be a non-empty string");
    return value;
  };
  const jwksUrl = text("jwksUrl", true)!;
  try {
    checkJwksUrl(jwksUrl, `${field}jwksUrl`);
  } catch (error) {
    problems.fail(`${field}jwksUrl`, (error as Error).message.replace(/^Invalid \S+:? ?/, ""));
  }
  const issuer = text("issuer", true)!;
  const resource = text("resource", false);
  const audience = text("audience", false);
  if (resource === undefined && audience === undefined) {
    problems.fail(`${field}resource`, "is required with jwksUrl: the gateway's resource URL (or set audience)");
  }
  if (resource !== undefined && !URL.canParse(resource)) problems.fail(`${field}resource`, "must be an absolute URL");
  const auth: GatewayOAuthAuth = { jwksUrl, issuer };
  if (resource !== undefined) auth.resource = resource;
  if (audience !== undefined) auth.audience = audience;
  if (raw.authorizationServers !== undefined) {
    auth.authorizationServers = problems.strings(raw.authorizationServers, `${field}authorizationServers`);
  }
  if (raw.mcpScope === false) auth.mcpScope = false;
  else if (raw.mcpScope !== undefined) auth.mcpScope = text("mcpScope", true)!;
  if (raw.algorithms !== undefined) {
    const algorithms = problems.strings(raw.algorithms, `${field}algorithms`);
    const bad = algorithms.find((a) => !(REMOTE_JWKS_ALGORITHMS as readonly string[]).includes(a));
    if (bad !== undefined || algorithms.length === 0) {
      problems.fail(`${field}algorithms`, `each must be one of ${REMOTE_JWKS_ALGORITHMS.join(", ")}`);
    }
    auth.algorithms = algorithms as RemoteJwksAlgorithm[];
  }
  if (raw.minRefetchInterval !== undefined) {
    auth.minRefetchInterval = problems.number(raw.minRefetchInterval, `${field}minRefetchInterval`, { min: 1 });
  }
  return auth;
}
