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

/** How {@link consoleLogger} writes a line: readable text, or one JSON object a line (for log collectors). */
export type LogFormat = "text" | "json";

/** Options of {@link consoleLogger}. */
export interface ConsoleLoggerOptions {
  /** `text`: `[federated-mcp] info: Message key=value`; `json`: `{"time":…,"level":…,"msg":…,…}`. @default {"text"} */
  format?: LogFormat;
  /**
   * Start each text line with an ISO 8601 timestamp (`2026-11-27T13:04:03.123Z [federated-mcp] info: …`); JSON lines
   * always carry `time`. @default {false}
   */
  timestamps?: boolean;
  /** Clock of the timestamps, in milliseconds since the epoch. @default {Date.now} */
  now?: () => number;
  /** Where a finished line goes. @default {console.error} */
  write?: (line: string) => void;
}

const BARE_VALUE = /^[^\s"=]{1,200}$/;

// A value as it appears in a line: an Error by its name, code and message (never a whole object graph), the rest
// as JSON. Both formats stay one line whatever the data holds.
function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, ...(code === undefined ? {} : { code }), message: value.message };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v) => plain(v)) ?? String(value);
  } catch {
    // A cycle: every object is written once, later references as "[Circular]".
    const seen = new WeakSet<object>();
    return JSON.stringify(value, (_key, v) => {
      const out = plain(v);
      if (typeof out !== "object" || out === null) return out;
      if (seen.has(out)) return "[Circular]";
      seen.add(out);
      return out;
    }) ?? String(value);
  }
}

function textValue(value: unknown): string {
  if (typeof value === "string") return BARE_VALUE.test(value) ? value : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (value instanceof Error) {
    const { name, code, message } = plain(value) as { name: string; code?: unknown; message: string };
    return JSON.stringify(`${name}${code === undefined ? "" : ` [${String(code)}]`}: ${message}`);
  }
  return json(value);
}

/**
 * Formats one log line (no trailing newline).
 *
 * @param format `text` or `json`.
 * @param entry The time (ms since the epoch), level, message and data.
 * @param options `timestamps`: start a text line with the time (JSON always has it).
 * @returns The line.
 * @example
 * ```ts
 * import { formatLogLine } from "@federated-mcp/federation/core";
 *
 * const entry = { time: 0, level: "info", message: "Member up", data: { serverId: "a" } } as const;
 * console.log(formatLogLine("text", entry, { timestamps: true }));
 * // 1970-01-01T00:00:00.000Z [federated-mcp] info: Member up serverId=a
 * console.log(formatLogLine("json", entry));
 * // {"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"Member up","serverId":"a"}
 * ```
 */
export function formatLogLine(
  format: LogFormat,
  entry: { time: number; level: Exclude<LogLevel, "silent">; message: string; data?: Record<string, unknown> },
  options: { timestamps?: boolean } = {},
): string {
  const time = new Date(entry.time).toISOString();
  const data = entry.data ?? {};
  if (format === "json") {
    const reserved = new Set(["time", "level", "msg"]);
    const fields = Object.fromEntries(
      Object.entries(data).map(([key, value]) => [reserved.has(key) ? `data.${key}` : key, value]),
    );
    return json({ time, level: entry.level, msg: entry.message, ...fields });
  }
  const pairs = Object.entries(data).filter(([, value]) => value !== undefined).map(([key, value]) =>
    `${key}=${textValue(value)}`
  );
  const message = entry.message.replaceAll("\n", "\\n");
  const head = `${options.timestamps ? `${time} ` : ""}[federated-mcp] ${entry.level}: ${message}`;
  return [head, ...pairs].join(" ");
}

/**
 * A logger that writes lines at or above `level` to the console (`console.error` for every level, so standard
 * output stays free for a stdio MCP transport). Each event is one line whatever its data holds: text
 * (`[federated-mcp] warn: Message key=value`, optionally after an ISO 8601 timestamp) or JSON (with `time`).
 *
 * @param level The lowest level written.
 * @param options `format` (`text` or `json`), `timestamps`, `now`, `write`.
 * @returns The logger.
 * @example
 * ```ts
 * import { consoleLogger } from "@federated-mcp/federation/core";
 *
 * consoleLogger("warn").warn("Server 'a' is degraded", { channel: "control" });
 * consoleLogger("info", { format: "json" }).info("Member up", { serverId: "a" });
 * consoleLogger("info", { timestamps: true }).info("Member up", { serverId: "a" });
 * ```
 */
export function consoleLogger(level: LogLevel = "warn", options: ConsoleLoggerOptions = {}): Logger {
  const min = ORDER[level];
  const format = options.format ?? "text";
  const timestamps = { timestamps: options.timestamps ?? false };
  const now = options.now ?? Date.now;
  const out = options.write ?? ((line: string) => console.error(line));
  function write(at: Exclude<LogLevel, "silent">) {
    return (message: string, data?: Record<string, unknown>): void => {
      if (ORDER[at] < min) return;
      out(
        formatLogLine(format, { time: now(), level: at, message, ...(data === undefined ? {} : { data }) }, timestamps),
      );
    };
  }
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}
