// Internal: validation of ServeMemberOptions into a resolved plan (endpoints, listeners, limits).

import { AuthManager } from "../core/auth.ts";
import { isRecord } from "../core/_json.ts";
import type { JsonWebKeySet } from "../core/auth.ts";
import { validateServerId } from "../core/config.ts";
import { ConfigError } from "../core/errors.ts";
import { consoleLogger } from "../core/logger.ts";
import type { Logger } from "../core/logger.ts";
import type { HmacAlgorithm } from "../core/types.ts";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../core/websocket_transport.ts";
import type { MemberJwksUrlVerifier, ServeMemberOptions } from "./types.ts";
import { checkJwksUrl } from "../core/remote_jwks.ts";

/** Default {@link ServeMemberOptions.maxSessions}. */
export const DEFAULT_MAX_SESSIONS = 1000;
/** Default {@link ServeMemberOptions.idleTimeout}, in milliseconds. */
export const DEFAULT_IDLE_TIMEOUT = 300_000;
/** Path of the health check on every listener. */
export const HEALTH_PATH = "/healthz";

/** One listener and the endpoints it serves. */
export interface ListenerPlan {
  port: number;
  controlPath: string | undefined;
  dataPath: string | undefined;
}

/** Validated options. */
export interface ResolvedOptions {
  serverId: string;
  factory: ServeMemberOptions["server"];
  verifier: string | Uint8Array | AuthManager | JsonWebKeySet | MemberJwksUrlVerifier;
  algorithm: HmacAlgorithm;
  issuer: string | undefined;
  hostname: string;
  listeners: ListenerPlan[];
  jsonResponse: boolean;
  maxMessageBytes: number;
  maxSessions: number;
  idleTimeout: number;
  logger: Logger;
  tls: { cert: string; key: string } | undefined;
  signal: AbortSignal | undefined;
  now: () => number;
  requireUserIdentity: boolean;
}

function fail(field: string, rule: string, serverId?: string): never {
  throw new ConfigError(
    `Invalid ${field}${serverId === undefined ? "" : ` of member '${serverId}'`}: ${rule}`,
    serverId === undefined ? { field } : { field, serverId },
  );
}

function positiveInteger(value: unknown, field: string, fallback: number, serverId: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    fail(field, `${JSON.stringify(value)} must be a positive integer`, serverId);
  }
  return value;
}

interface EndpointPlan {
  port: number | undefined;
  path: string;
  jsonResponse: boolean;
}

function endpoint(value: unknown, field: "control" | "data", serverId: string): EndpointPlan | undefined {
  if (value === false) return undefined;
  if (value === undefined) return { port: undefined, path: "/", jsonResponse: false };
  if (!isRecord(value)) fail(field, "must be an object or false", serverId);
  const { port, path, jsonResponse } = value;
  if (port !== undefined && (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)) {
    fail(`${field}.port`, `${JSON.stringify(port)} must be an integer from 0 to 65535`, serverId);
  }
  if (path !== undefined && (typeof path !== "string" || !/^\/[^?#\s]*$/.test(path))) {
    fail(`${field}.path`, `${JSON.stringify(path)} must start with '/' and have no query, fragment or space`, serverId);
  }
  if (path === HEALTH_PATH) fail(`${field}.path`, `'${HEALTH_PATH}' is reserved for the health check`, serverId);
  if (field === "data" && jsonResponse !== undefined && typeof jsonResponse !== "boolean") {
    fail("data.jsonResponse", "must be a boolean", serverId);
  }
  return {
    port: port as number | undefined,
    path: (path as string | undefined) ?? "/",
    jsonResponse: jsonResponse === true,
  };
}

function isJwks(value: unknown): value is JsonWebKeySet {
  return isRecord(value) && Array.isArray(value.keys);
}

/**
 * Validates options.
 *
 * @throws {TypeError} For a missing options object, server factory, or a non-function `now`/bad `logger`/`signal`.
 * @throws {ConfigError} For every other bad value, naming the field.
 */
export function resolveOptions(options: ServeMemberOptions): ResolvedOptions {
  if (!isRecord(options)) throw new TypeError("serveMember() needs an options object");
  const serverId = validateServerId(options.serverId);
  if (typeof options.server !== "function") {
    throw new TypeError(`Invalid server of member '${serverId}': must be a function that returns a new MCP server`);
  }
  const verifier = options.verifier;
  if (typeof verifier === "string" || verifier instanceof Uint8Array) {
    if (verifier.length === 0) fail("verifier", "the shared secret must not be empty", serverId);
  } else if (isRecord(verifier) && "jwksUrl" in verifier) {
    try {
      checkJwksUrl(verifier.jwksUrl as string, "verifier.jwksUrl");
    } catch (error) {
      fail("verifier.jwksUrl", (error as Error).message.replace(/^Invalid verifier\.jwksUrl:? ?/, ""), serverId);
    }
    const issuer = (verifier as MemberJwksUrlVerifier).issuer;
    if (issuer !== undefined && (typeof issuer !== "string" || issuer === "")) {
      fail("verifier.issuer", "must be a non-empty string", serverId);
    }
  } else if (!(verifier instanceof AuthManager) && !isJwks(verifier)) {
    fail("verifier", "must be a shared secret (string or bytes), an AuthManager, a JWKS or { jwksUrl }", serverId);
  }
  const algorithm = options.algorithm ?? "HS512";
  if (!["HS256", "HS384", "HS512"].includes(algorithm)) {
    fail("algorithm", `${JSON.stringify(algorithm)} is not one of HS256, HS384, HS512`, serverId);
  }
  if (options.issuer !== undefined && (typeof options.issuer !== "string" || options.issuer.length === 0)) {
    fail("issuer", "must be a non-empty string", serverId);
  }
  const hostname = options.hostname ?? "127.0.0.1";
  if (typeof hostname !== "string" || hostname.length === 0) fail("hostname", "must be a non-empty string", serverId);
  const control = endpoint(options.control, "control", serverId);
  const data = endpoint(options.data, "data", serverId);
  if (!control && !data) fail("control", "control and data are both disabled: enable at least one", serverId);
  if (options.tls !== undefined) {
    const tls: unknown = options.tls;
    if (!isRecord(tls) || typeof tls.cert !== "string" || typeof tls.key !== "string" || !tls.cert || !tls.key) {
      fail("tls", "must be { cert, key } with PEM strings", serverId);
    }
  }
  const idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
  if (typeof idleTimeout !== "number" || Number.isNaN(idleTimeout) || idleTimeout <= 0) {
    fail("idleTimeout", `${JSON.stringify(idleTimeout)} must be a positive number of milliseconds`, serverId);
  }
  const logger = options.logger ?? consoleLogger("warn");
  if (!isRecord(logger) || !["debug", "info", "warn", "error"].every((l) => typeof logger[l] === "function")) {
    throw new TypeError(`Invalid logger of member '${serverId}': must have debug, info, warn and error methods`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(`Invalid signal of member '${serverId}': must be an AbortSignal`);
  }
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new TypeError(`Invalid now of member '${serverId}': must be a function returning milliseconds`);
  }
  return {
    serverId,
    factory: options.server,
    verifier,
    algorithm,
    issuer: options.issuer,
    hostname,
    listeners: planListeners(control, data),
    jsonResponse: data?.jsonResponse ?? false,
    maxMessageBytes: positiveInteger(options.maxMessageBytes, "maxMessageBytes", DEFAULT_MAX_MESSAGE_BYTES, serverId),
    maxSessions: positiveInteger(options.maxSessions, "maxSessions", DEFAULT_MAX_SESSIONS, serverId),
    idleTimeout,
    logger: logger as unknown as Logger,
    tls: options.tls,
    signal: options.signal,
    now: options.now ?? Date.now,
    requireUserIdentity: options.requireUserIdentity === true,
  };
}

// An endpoint without a port shares the other's listener; two endpoints on the same non-zero port share one;
// `port: 0` on both asks for two listeners on two free ports.
function planListeners(control: EndpointPlan | undefined, data: EndpointPlan | undefined): ListenerPlan[] {
  if (control && data) {
    const shared = control.port === undefined || data.port === undefined ||
      (control.port === data.port && control.port !== 0);
    if (shared) return [{ port: control.port ?? data.port ?? 0, controlPath: control.path, dataPath: data.path }];
    return [
      { port: control.port!, controlPath: control.path, dataPath: undefined },
      { port: data.port!, controlPath: undefined, dataPath: data.path },
    ];
  }
  if (control) return [{ port: control.port ?? 0, controlPath: control.path, dataPath: undefined }];
  return [{ port: data!.port ?? 0, controlPath: undefined, dataPath: data!.path }];
}
