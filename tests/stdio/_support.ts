/**
 * Helpers of the stdio member tests: configs that run our fixtures, and counts of child processes and open file
 * descriptors read from `/proc`.
 *
 * @module
 */
import type { FederationConfig, StdioEndpoint } from "../../packages/core/types.ts";
import type { Logger } from "../../packages/core/logger.ts";

export { groupMembers, processesWith, rssKiB } from "../_support/processes.ts";

const ROOT = new URL("../../", import.meta.url);

/** The repository's deno.json (the SDK fixture needs its import map). */
export const DENO_CONFIG: string = new URL("deno.json", ROOT).pathname;

/** A stdio endpoint running one of our fixtures with `--marker=<marker>`. */
export function fixtureEndpoint(
  marker: string,
  fixture: "stdio_member" | "stdio_tiny" = "stdio_member",
): StdioEndpoint {
  const script = new URL(`tests/fixtures/${fixture}.ts`, ROOT).pathname;
  const args = fixture === "stdio_member"
    ? ["run", "--quiet", "--no-lock", "--allow-env", `--config=${DENO_CONFIG}`, script, `--marker=${marker}`]
    : ["run", "--quiet", "--no-lock", "--no-config", script, `--marker=${marker}`];
  return { command: Deno.execPath(), args };
}

/** A stdio member's config running a fixture. */
export function fixtureConfig(
  serverId: string,
  marker: string,
  fixture: "stdio_member" | "stdio_tiny" = "stdio_member",
): FederationConfig {
  return { serverId, endpoints: { stdio: fixtureEndpoint(marker, fixture) } };
}

/** A fresh marker, unique to this test run. */
export function newMarker(name: string): string {
  return `fmcp-${name}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Open file descriptors of this process. */
export function openFds(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

/** The pipes on a process's stdin, stdout and stderr (`pipe:[inode]`; the same inode as our end of each). */
export function stdioPipesOf(pid: number): string[] {
  return [0, 1, 2].flatMap((fd) => {
    try {
      const target = Deno.readLinkSync(`/proc/${pid}/fd/${fd}`);
      return target.startsWith("pipe:") ? [target] : [];
    } catch {
      return [];
    }
  });
}

/** What this process's open descriptors point at (`pipe:[inode]`, `socket:[inode]`, paths). */
export function ownDescriptors(): Set<string> {
  const targets = new Set<string>();
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      targets.add(Deno.readLinkSync(`/proc/self/fd/${entry.name}`));
    } catch {
      // Closed meanwhile.
    }
  }
  return targets;
}

/** A logger that keeps its lines. */
export function recordingLogger(): Logger & {
  lines: { level: string; message: string; data?: Record<string, unknown> }[];
} {
  const lines: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, data?: Record<string, unknown>) => {
    lines.push(data === undefined ? { level, message } : { level, message, data });
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Waits until `check` holds, polling every 20 ms, up to `timeout` ms. */
export async function until(check: () => boolean, timeout = 10_000): Promise<boolean> {
  const deadline = performance.now() + timeout;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** The error `run` rejects with, which must be an instance of `type`. */
export async function rejects<E extends Error>(
  run: () => Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await run();
  } catch (error) {
    if (error instanceof type) return error;
    throw new Error(
      `Expected a ${type.name}, got ${error instanceof Error ? `${error.name}: ${error.message}` : error}`,
    );
  }
  throw new Error(`Expected a ${type.name}, nothing was thrown`);
}
