/**
 * The member sidecar as a child process for tests: `deno run -A packages/member/sidecar.ts …` on free ports, its
 * endpoints read from its start-up line, its upstream processes counted in `/proc`.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { LineReader } from "../_support/lines.ts";
import { SECRET } from "../_support/members.ts";

import { childrenOf } from "../_support/processes.ts";

export { alive, childrenOf, groupMembers as groupOf, rssKiB } from "../_support/processes.ts";

/** The sidecar module. */
export const SIDECAR: string = fileURLToPath(new URL("../../packages/member/sidecar.ts", import.meta.url));
/** The pinned real servers from npm. */
export const EVERYTHING = "npm:@modelcontextprotocol/server-everything@2026.8.31";
export const MEMORY = "npm:@modelcontextprotocol/server-memory@2026.8.31";
/** Environment of every child: the member secret, no colours, no Rust backtraces. */
export const BASE_ENV: Record<string, string> = {
  RUST_BACKTRACE: "0",
  NO_COLOR: "1",
  MCP_SECRET_KEY: SECRET,
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  HOME: Deno.env.get("HOME") ?? "/tmp",
  ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
};

/** A stdio upstream command: a real server from npm run by Deno. */
export function denoServer(spec: string, ...args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", spec, ...args];
}

/** A running sidecar. */
export class Sidecar implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly control: string;
  readonly data: string;
  readonly health: string;
  readonly startedIn: number;
  #stderr: Promise<string>;
  #status: Deno.CommandStatus | undefined;

  private constructor(
    child: Deno.ChildProcess,
    urls: { control: string; data: string; health: string },
    stderr: Promise<string>,
    startedIn: number,
  ) {
    this.child = child;
    this.control = urls.control;
    this.data = urls.data;
    this.health = urls.health;
    this.#stderr = stderr;
    this.startedIn = startedIn;
  }

  /**
   * Starts a sidecar on free ports (`--control-port 0 --data-port 0` unless `args` name ports) and waits for its
   * start-up line.
   */
  static async start(args: string[], env: Record<string, string> = {}): Promise<Sidecar> {
    const ports = args.some((a) => a.endsWith("-port") || a === "--port")
      ? []
      : ["--control-port", "0", "--data-port", "0"];
    const split = args.indexOf("--");
    const own = split < 0 ? args : args.slice(0, split);
    const rest = split < 0 ? [] : args.slice(split);
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SIDECAR, ...ports, ...own, ...rest],
      env: { ...BASE_ENV, ...env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const reader = new LineReader(child.stdout);
    const lines = await reader.until((line) => line.startsWith("member "));
    const line = lines.find((l) => l.startsWith("member "));
    // Keep reading stdout so that the child never blocks on a full pipe.
    void reader.rest().catch(() => {});
    if (!line) {
      const status = await child.status;
      throw new Error(`The sidecar did not start (exit ${status.code}): ${await stderr}`);
    }
    const url = (name: string) => new RegExp(`${name} (\\S+)`).exec(line)![1]!;
    const urls = { control: url("control"), data: url("data"), health: url("health") };
    if (urls.health.startsWith("http:")) {
      const response = await fetch(urls.health);
      await response.body?.cancel();
    }
    return new Sidecar(child, urls, stderr, performance.now() - started);
  }

  /** Its upstream processes. */
  upstreams(): number[] {
    return childrenOf(this.child.pid);
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<{ status: Deno.CommandStatus; stderr: string }> {
    if (!this.#status) {
      try {
        this.child.kill(signal);
      } catch {
        // exited already
      }
      this.#status = await this.child.status;
    }
    return { status: this.#status, stderr: await this.#stderr };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
