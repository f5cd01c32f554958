/**
 * Parsing of durations such as `"1h"`, `"24h"`, `"90s"` or a number of seconds.
 *
 * @example
 * ```ts
 * import { parseDuration } from "@federated-mcp/federation/core";
 *
 * console.log(parseDuration("1h")); // 3600
 * ```
 * @module
 */

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;

/**
 * Parses a duration to seconds: a positive number of seconds, or a string of digits with an optional unit
 * (`ms`, `s`, `m`, `h`, `d`).
 *
 * @param value The duration.
 * @returns Seconds, greater than zero.
 * @throws {RangeError} When the value is not a positive finite duration.
 * @example
 * ```ts
 * import { parseDuration } from "@federated-mcp/federation/core";
 *
 * console.log(parseDuration("24h"), parseDuration(30), parseDuration("1500ms")); // 86400 30 1.5
 * ```
 */
export function parseDuration(value: string | number): number {
  let seconds = Number.NaN;
  if (typeof value === "number") seconds = value;
  else if (typeof value === "string") {
    const match = PATTERN.exec(value.trim());
    if (match) seconds = Number(match[1]) * UNITS[match[2] ?? "s"]!;
  }
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new RangeError(`Invalid duration ${JSON.stringify(value)}: use seconds or a string like "90s", "1h", "24h"`);
  }
  return seconds;
}
