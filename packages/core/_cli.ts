// Internal: what the two command lines (gateway/cli.ts and member/sidecar.ts) share: the signal that ends a run,
// and the `--log-level` values.
import type { LogLevel } from "./logger.ts";

/** The values `--log-level` accepts. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** Whether `value` is one of {@link LOG_LEVELS}. */
export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * The first SIGINT or SIGTERM; a second one while draining exits at once (code 130).
 *
 * @param write Where the "exiting without draining" line goes (stderr when stdout carries MCP). @default {console.error}
 */
export function waitForSignal(
  write: (line: string) => void = (line) => console.error(line),
): { promise: Promise<string>; dispose: () => void } {
  let resolve!: (signal: string) => void;
  let received = false;
  const promise = new Promise<string>((r) => resolve = r);
  const handlers: [Deno.Signal, () => void][] = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const handler = () => {
      if (received) {
        write(`${signal} again: exiting without draining`);
        Deno.exit(130);
      }
      received = true;
      resolve(signal);
    };
    Deno.addSignalListener(signal, handler);
    return [signal, handler];
  });
  return { promise, dispose: () => handlers.forEach(([s, h]) => Deno.removeSignalListener(s, h)) };
}
