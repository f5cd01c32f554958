// Internal: validation of GatewayOptions into a resolved plan (listen address, limits, timeouts), so that the
// Gateway class and its endpoint files only ever see checked values with their defaults applied.
import { ConfigError } from "../core/errors.ts";
import { consoleLogger, type Logger } from "../core/logger.ts";
import type { Implementation } from "../core/mcp_types.ts";
import { type BackoffPolicy, DEFAULT_BACKOFF } from "../core/backoff.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./_body_limit.ts";
import { DEFAULT_SERVER_INFO } from "./_server_info.ts";
import type { GatewayOptions } from "./options.ts";

/** Default {@link GatewayOptions.maxConcurrentRequests}. */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 4096;

/** How the listener is opened again after its accept loop failed (e.g. out of file descriptors). */
export const RELISTEN_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  ...DEFAULT_BACKOFF,
  initialDelay: 100,
  maxDelay: 2_000,
  minDelay: 50,
});

/** Validated options of one HTTP gateway. */
export interface ResolvedGatewayOptions {
  logger: Logger;
  hostname: string;
  port: number;
  path: string;
  tls: { cert: string; key: string } | undefined;
  maxSessions: number;
  maxSessionsPerSubject: number | undefined;
  sessionIdleTimeout: number;
  replayBuffer: number;
  sseRetryInterval: number;
  drainTimeout: number;
  serverRequestTimeout: number;
  callTimeout: number | undefined;
  maxBodyBytes: number;
  maxConcurrentRequests: number;
  serverInfo: Implementation;
  instructions: string | undefined;
  signal: AbortSignal | undefined;
}

function positive(value: number | undefined, fallback: number, field: string, allowZero = false): number {
  const n = value ?? fallback;
  if (typeof n !== "number" || Number.isNaN(n) || !(n > 0 || (allowZero && n === 0))) {
    throw new ConfigError(`Invalid ${field} ${n}: must be a number ${allowZero ? ">= 0" : "> 0"}`, { field });
  }
  return n;
}

function positiveInteger(value: number | undefined, fallback: number, field: string): number {
  const n = positive(value, fallback, field);
  if (!Number.isSafeInteger(n)) throw new ConfigError(`Invalid ${field} ${n}: must be an integer`, { field });
  return n;
}

/**
 * Validates the options of {@link serveGateway} (but `auth` and `cluster`, which their own owners check).
 *
 * @throws {ConfigError} Naming the field.
 */
export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  const hostname = options.hostname ?? "127.0.0.1";
  if (typeof hostname !== "string" || hostname === "") {
    throw new ConfigError("Invalid hostname: must be a non-empty string", { field: "hostname" });
  }
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`Invalid port ${port}: must be an integer from 0 to 65535`, { field: "port" });
  }
  const path = options.path ?? "/mcp";
  if (typeof path !== "string" || !/^\/[^?#\s]*$/.test(path)) {
    throw new ConfigError(`Invalid path '${path}': must start with '/' and have no query, fragment or space`, {
      field: "path",
    });
  }
  if (["/healthz", "/readyz", "/metrics"].includes(path) || path.startsWith("/admin/")) {
    throw new ConfigError(`Invalid path '${path}': reserved for the probes or the admin API`, { field: "path" });
  }
  return {
    logger: options.logger ?? consoleLogger("warn"),
    hostname,
    port,
    path,
    tls: options.tls,
    maxSessions: positive(options.maxSessions, 1000, "maxSessions"),
    maxSessionsPerSubject: options.maxSessionsPerSubject,
    sessionIdleTimeout: positive(options.sessionIdleTimeout, 1_800_000, "sessionIdleTimeout"),
    replayBuffer: positive(options.replayBuffer, 256, "replayBuffer", true),
    sseRetryInterval: positive(options.sseRetryInterval, 1_000, "sseRetryInterval"),
    drainTimeout: positive(options.drainTimeout, 10_000, "drainTimeout", true),
    serverRequestTimeout: positive(options.serverRequestTimeout, 300_000, "serverRequestTimeout"),
    callTimeout: options.callTimeout,
    maxBodyBytes: positiveInteger(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, "maxBodyBytes"),
    maxConcurrentRequests: positiveInteger(
      options.maxConcurrentRequests,
      DEFAULT_MAX_CONCURRENT_REQUESTS,
      "maxConcurrentRequests",
    ),
    serverInfo: options.serverInfo ?? DEFAULT_SERVER_INFO,
    instructions: options.instructions,
    signal: options.signal,
  };
}
