// Internal: the client side of MCP's stdio transport for a process this library spawns. One instance is one
// process's lifetime: `start()` spawns it (`Deno.Command`, in its own process group), messages are newline-delimited
// JSON-RPC on its stdin/stdout, its stderr goes to the logger line by line (each line cut at a bound), and `close()`
// ends its stdin, then sends SIGTERM and, after a grace period, SIGKILL to its whole process group. `onclose` fires
// once, when the process has exited (whoever ended it). Restarting is the owner's business: start a new instance.

import type { JSONRPCMessage, Transport } from "../core/_sdk.ts";
import { isJsonRpcMessage } from "../core/_jsonrpc.ts";
import type { Logger } from "../core/logger.ts";

/** What to run. */
export interface StdioCommand {
  /** Program (looked up on `PATH`). */
  command: string;
  /** Its arguments. */
  args: string[];
  /** Environment of the process: exactly these variables when `clearEnv`, else added to the inherited ones. */
  env: Record<string, string>;
  /** Start from an empty environment (plus `env`). */
  clearEnv: boolean;
  /** Working directory. */
  cwd?: string | undefined;
}

/** Options of a {@link StdioUpstreamTransport}. */
export interface StdioUpstreamOptions {
  /** Where stderr lines and protocol faults go. */
  logger: Logger;
  /** Added to every log line (e.g. `{ serverId }`). */
  label: Record<string, unknown>;
  /** Longest stdout line (one message), in bytes: a longer one is dropped and logged. @default {4194304} */
  maxMessageBytes?: number;
  /** Longest stderr line logged, in characters (longer ones are cut). @default {2000} */
  maxStderrLine?: number;
  /** Time between SIGTERM and SIGKILL on close, in ms. @default {2000} */
  killGrace?: number;
}

const encoder = new TextEncoder();
/** How long the stdout of an exited process may stay open (held by its children) before they are killed, in ms. */
const STDOUT_GRACE_MS = 1_000;

/** Splits a byte stream into lines (LF, an optional CR before it dropped); a line longer than `max` is skipped. */
async function* lines(stream: ReadableStream<Uint8Array>, max: number, onOverflow: () => void): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  let skipping = false;
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (skipping) {
        skipping = false;
        continue;
      }
      yield line.endsWith("\r") ? line.slice(0, -1) : line;
    }
    if (buffer.length > max) {
      if (!skipping) onOverflow();
      skipping = true;
      buffer = "";
    }
  }
  if (buffer.length > 0 && !skipping) yield buffer;
}

/** An MCP client transport over a spawned process's stdin/stdout. */
export class StdioUpstreamTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T) => void) | undefined;

  #command: StdioCommand;
  #options: Required<StdioUpstreamOptions>;
  #child: Deno.ChildProcess | undefined;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #exited = Promise.withResolvers<void>();
  #closing: Promise<void> | undefined;
  #done = false;

  constructor(command: StdioCommand, options: StdioUpstreamOptions) {
    this.#command = command;
    this.#options = { maxMessageBytes: 4_194_304, maxStderrLine: 2_000, killGrace: 2_000, ...options };
  }

  /** The process id, once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Resolves when the process has exited. Never rejects. */
  get exited(): Promise<void> {
    return this.#exited.promise;
  }

  start(): Promise<void> {
    if (this.#child) throw new Error("StdioUpstreamTransport already started");
    const { command, args, env, clearEnv, cwd } = this.#command;
    const child = new Deno.Command(command, {
      args,
      env,
      clearEnv,
      ...(cwd === undefined ? {} : { cwd }),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // Its own process group (setsid), so that close() ends the whole tree (npx → sh → node), not just its root.
      detached: true,
    }).spawn();
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#stdin.closed.catch(() => {});
    const stdoutDone = this.#readStdout(child.stdout);
    void this.#readStderr(child.stderr);
    child.status.then((status) => {
      const { logger, label } = this.#options;
      const detail = { ...label, pid: child.pid, code: status.code, signal: status.signal ?? undefined };
      if (this.#closing) logger.debug("Upstream process ended", detail);
      else logger.warn("Upstream process exited", detail);
    }, () => {}).finally(async () => {
      // What it wrote before exiting is delivered before onclose. Whatever of its group outlived it (holding the
      // pipes open) is ended: a restart must not leave an orphan behind.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([stdoutDone, new Promise<void>((resolve) => timer = setTimeout(resolve, STDOUT_GRACE_MS))]);
      clearTimeout(timer);
      this.#signal(child.pid, "SIGKILL");
      await stdoutDone;
      this.#finish();
    });
    return Promise.resolve();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (!this.#stdin || this.#done || this.#closing) throw new Error("Upstream process is not running");
    await this.#stdin.write(encoder.encode(JSON.stringify(message) + "\n"));
  }

  /** Ends stdin, SIGTERM to the process group, SIGKILL after the grace period; resolves once it has exited. */
  close(): Promise<void> {
    this.#closing ??= this.#terminate();
    return this.#closing;
  }

  async #terminate(): Promise<void> {
    const child = this.#child;
    if (!child || this.#done) return;
    await this.#stdin?.close().catch(() => {});
    this.#signal(child.pid, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#signal(child.pid, "SIGKILL");
        resolve();
      }, this.#options.killGrace);
    });
    await Promise.race([this.#exited.promise, killed]);
    clearTimeout(timer);
    await this.#exited.promise;
    // Children that outlived their group leader.
    this.#signal(child.pid, "SIGKILL");
  }

  #signal(pid: number, signal: Deno.Signal): void {
    try {
      Deno.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  }

  async #readStdout(stdout: ReadableStream<Uint8Array>): Promise<void> {
    const { logger, label, maxMessageBytes } = this.#options;
    try {
      const overflow = () =>
        logger.warn("Dropped an upstream message over the size limit", { ...label, maxMessageBytes });
      for await (const line of lines(stdout, maxMessageBytes, overflow)) {
        if (line.trim() === "") continue;
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          logger.warn("Ignored a line of the upstream's stdout that is not JSON", { ...label, length: line.length });
          continue;
        }
        if (!isJsonRpcMessage(message)) {
          logger.warn("Ignored a JSON value of the upstream's stdout that is not JSON-RPC", label);
          continue;
        }
        this.onmessage?.(message);
      }
    } catch (error) {
      if (!this.#closing) this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async #readStderr(stderr: ReadableStream<Uint8Array>): Promise<void> {
    const { logger, label, maxStderrLine } = this.#options;
    try {
      for await (const line of lines(stderr, 65_536, () => {})) {
        if (line.trim() === "") continue;
        const text = line.length > maxStderrLine ? `${line.slice(0, maxStderrLine)}…` : line;
        logger.info("Upstream stderr", { ...label, line: text });
      }
    } catch {
      // The pipe broke: the process is gone.
    }
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#stdin?.abort().catch(() => {});
    this.#exited.resolve();
    this.onclose?.();
  }
}
