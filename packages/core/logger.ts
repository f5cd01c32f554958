/**
 * The logger seam: the library writes to the console only through a {@link Logger}.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "@federated-mcp/federation/core";
 *
 * const logger = consoleLogger("info");
 * logger.info("Federation started", { members: 3 });
 * ```
 * @module
 */

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/**
 * Where the library's log lines go. Lines never contain a token or a secret.
 */
export interface Logger {
  /** Detail for debugging. */
  debug(message: string, data?: Record<string, unknown>): void;
  /** Normal operation. */
  info(message: string, data?: Record<string, unknown>): void;
  /** Something a user should look at. */
  warn(message: string, data?: Record<string, unknown>): void;
  /** Something failed. */
  error(message: string, data?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/**
 * A logger that writes lines at or above `level` to the console (`console.error` for every level, so standard
 * output stays free for a stdio MCP transport).
 *
 * @param level The lowest level written.
 * @returns The logger.
 * @example
 * ```ts
 * import { consoleLogger } from "@federated-mcp/federation/core";
 *
 * consoleLogger("warn").warn("Server 'a' is degraded", { channel: "control" });
 * ```
 */
export function consoleLogger(level: LogLevel = "warn"): Logger {
  const min = ORDER[level];
  function write(at: Exclude<LogLevel, "silent">) {
    return (message: string, data?: Record<string, unknown>): void => {
      if (ORDER[at] < min) return;
      if (data === undefined) console.error(`[federated-mcp] ${at}: ${message}`);
      else console.error(`[federated-mcp] ${at}: ${message}`, data);
    };
  }
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}
