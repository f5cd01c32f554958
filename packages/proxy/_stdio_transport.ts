// Internal: the transport of a stdio member. Spawns the member's process (`Deno.Command`, its own process group),
// speaks MCP over its stdin/stdout as newline-delimited JSON-RPC (one message a line, as the MCP stdio transport
// specifies), hands its stderr to the logger line by line (bounded length and rate), and kills the whole group on
// close. One transport is one process: the member's channel makes a new one on every reconnect, which is how an
// exited process is restarted with the proxy's backoff.
//
// Process group: the child is spawned `detached` (setsid on Unix: its own session and group), so `close()` can signal
// the group (`kill(-pid)`) and reach what the program started itself (`npx` → `sh` → `node`). On Windows there are no
// groups: only the child is killed. If the proxy's own process dies without closing, the child's stdin reaches EOF,
// on which MCP stdio servers exit.
import { ConfigError, ConnectionError, ProtocolError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { StdioEndpoint } from "../core/types.ts";
import { exceedsBytes } from "../core/_byte_length.ts";
import { isJsonRpcMessage } from "../core/_jsonrpc.ts";
import type { JSONRPCMessage, Transport, TransportSendOptions } from "../core/_sdk.ts";

/** Variables of the proxy's environment a child inherits (nothing else: the proxy's secret stays with the proxy). */
export const INHERITED_ENV: readonly string[] = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "TERM",
  "LANG",
  "LC_ALL",
  "TZ",
  "TMPDIR",
  "TEMP",
  "TMP",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "NPM_CONFIG_CACHE",
  "npm_config_cache",
  "NODE_PATH",
  "NODE_EXTRA_CA_CERTS",
  "SYSTEMROOT",
  "APPDATA",
  "LOCALAPPDATA",
  "USERPROFILE",
];

/** Longest stderr line logged, in characters (the rest is cut). */
export const STDERR_LINE_MAX = 1_000;
/** Most stderr lines logged per second per process; the excess is counted and reported. */
export const STDERR_LINES_PER_SECOND = 50;
/** Time a process gets to exit after SIGTERM before its group is killed, in ms. */
export const KILL_GRACE_MS = 2_000;

export interface StdioTransportOptions {
  serverId: string;
  endpoint: StdioEndpoint;
  logger: Logger;
  /** Largest message either way, in bytes. */
  maxMessageBytes: number;
  /** Reads the proxy's environment (for `envFrom` and the inherited list). @default {Deno.env.get} */
  env?: ((name: string) => string | undefined) | undefined;
  /** SIGTERM → SIGKILL grace, in ms. @default {KILL_GRACE_MS} */
  killGrace?: number | undefined;
}

/** The child's environment: the inherited list, then `env`, then `envFrom` (an unset reference throws). */
export function childEnv(options: StdioTransportOptions): Record<string, string> {
  const read = options.env ?? ((name: string) => Deno.env.get(name));
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = read(name);
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, options.endpoint.env);
  for (const [name, from] of Object.entries(options.endpoint.envFrom ?? {})) {
    const value = read(from);
    if (value === undefined) {
      throw new ConfigError(
        `Cannot start server '${options.serverId}': environment variable '${from}' (envFrom.${name}) is not set`,
        { field: `endpoints.stdio.envFrom.${name}`, serverId: options.serverId },
      );
    }
    env[name] = value;
  }
  return env;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** An MCP `Transport` over one spawned process. */
export class StdioProcessTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T) => void) | undefined;
  sessionId?: string | undefined;
  #options: StdioTransportOptions;
  #child: Deno.ChildProcess | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #readers: Promise<void>[] = [];
  #status: Promise<Deno.CommandStatus> | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
  #exit: Deno.CommandStatus | undefined;

  constructor(options: StdioTransportOptions) {
    this.#options = options;
  }

  /** The process id, once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How the process ended (exit code or signal), once it has. */
  get exitDescription(): string | undefined {
    const exit = this.#exit;
    if (!exit) return undefined;
    return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  }

  start(): Promise<void> {
    const { serverId, endpoint } = this.#options;
    if (this.#child) throw new Error("StdioProcessTransport already started");
    const env = childEnv(this.#options);
    try {
      this.#child = new Deno.Command(endpoint.command, {
        args: endpoint.args ?? [],
        ...(endpoint.cwd !== undefined ? { cwd: endpoint.cwd } : {}),
        env,
        clearEnv: true,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        detached: Deno.build.os !== "windows",
      }).spawn();
    } catch (error) {
      const why = error instanceof Deno.errors.NotFound
        ? `command '${endpoint.command}' not found`
        : error instanceof Deno.errors.PermissionDenied
        ? `permission denied for '${endpoint.command}'`
        : error instanceof Error
        ? error.message
        : String(error);
      throw new ConnectionError(`Cannot start server '${serverId}': ${why}`, {
        serverId,
        channel: "stdio",
        code: "ERR_CONNECTION_FAILED",
        cause: error,
      });
    }
    const child = this.#child;
    this.#writer = child.stdin.getWriter();
    this.#readers = [this.#readStdout(child.stdout), this.#readStderr(child.stderr)];
    this.#status = child.status;
    void this.#status.then((status) => {
      this.#exit = status;
      // The program is gone: whatever it started goes too, and the transport closes (the channel restarts it).
      void this.#shutdown(false);
    });
    return Promise.resolve();
  }

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    const writer = this.#writer;
    if (!writer || this.#closing) {
      throw new ConnectionError(`Process of server '${this.#options.serverId}' is not running`, {
        serverId: this.#options.serverId,
        channel: "stdio",
        code: "ERR_CONNECTION_CLOSED",
      });
    }
    const line = JSON.stringify(message);
    if (exceedsBytes(line, this.#options.maxMessageBytes)) {
      throw new ProtocolError(
        `Message to server '${this.#options.serverId}' is larger than the limit of ${this.#options.maxMessageBytes} bytes: not sent`,
        { serverId: this.#options.serverId, channel: "stdio", rpcCode: -32600, code: "ERR_MESSAGE_TOO_LARGE" },
      );
    }
    try {
      await writer.write(encoder.encode(line + "\n"));
    } catch (error) {
      // A broken pipe: the process is ending; say how, if it says so soon.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.#status, new Promise((resolve) => timer = setTimeout(resolve, 1_000))]);
      clearTimeout(timer);
      const how = this.exitDescription;
      throw new ConnectionError(`Process of server '${this.#options.serverId}' ended${how ? ` (${how})` : ""}`, {
        serverId: this.#options.serverId,
        channel: "stdio",
        code: "ERR_CONNECTION_CLOSED",
        cause: error,
      });
    }
  }

  close(): Promise<void> {
    return this.#shutdown(true);
  }

  /** Ends the process and its group (`terminate`: SIGTERM first, SIGKILL after the grace; else SIGKILL at once). */
  #shutdown(terminate: boolean): Promise<void> {
    this.#closing ??= (async () => {
      const child = this.#child;
      if (child) {
        // EOF first (a stdio server exits on it), not awaited: a process that stopped reading must not hold us.
        const eof = this.#writer?.close().catch(() => {});
        if (terminate && this.#exit === undefined) {
          this.#signal(child.pid, "SIGTERM");
          let timer: ReturnType<typeof setTimeout> | undefined;
          const exited = await Promise.race([
            this.#status!.then(() => true),
            new Promise<false>((resolve) =>
              timer = setTimeout(() => resolve(false), this.#options.killGrace ?? KILL_GRACE_MS)
            ),
          ]);
          clearTimeout(timer);
          if (!exited) this.#signal(child.pid, "SIGKILL");
        }
        await this.#status;
        await this.#writer?.abort().catch(() => {});
        await eof;
        // Children of the program that outlive it (and hold its pipes) go with the group.
        this.#signal(child.pid, "SIGKILL");
        await Promise.all(this.#readers);
      }
      this.#closed = true;
      this.onclose?.();
    })();
    return this.#closing;
  }

  #signal(pid: number, signal: Deno.Signal): void {
    try {
      if (Deno.build.os === "windows") this.#child?.kill(signal);
      else Deno.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }

  async #readStdout(stream: ReadableStream<Uint8Array>): Promise<void> {
    const { serverId, maxMessageBytes } = this.#options;
    let buffer = "";
    const reader = stream.getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, "");
          buffer = buffer.slice(newline + 1);
          this.#receive(line);
          // One message at a time, as a WebSocket delivers them: the SDK handles a notification in a microtask but a
          // response at once, so a call's last progress and its result read in one chunk would otherwise lose the
          // progress (its handler is gone when the microtask runs).
          await Promise.resolve();
        }
        if (exceedsBytes(buffer, maxMessageBytes)) {
          this.onerror?.(
            new ProtocolError(
              `Server '${serverId}' sent a message larger than the limit of ${maxMessageBytes} bytes: process stopped`,
              { serverId, channel: "stdio", rpcCode: -32600, code: "ERR_MESSAGE_TOO_LARGE" },
            ),
          );
          buffer = "";
          void this.#shutdown(false);
          if (this.#child) this.#signal(this.#child.pid, "SIGKILL");
        }
      }
    } catch {
      // The pipe broke: the process is ending, its status closes the transport.
    } finally {
      await reader.cancel().catch(() => {});
    }
  }

  #receive(line: string): void {
    if (line.trim() === "" || this.#closed) return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      message = undefined;
    }
    if (!isJsonRpcMessage(message)) {
      // A program that prints to stdout: the line is not ours to interpret (not logged: it may hold anything).
      this.onerror?.(
        new ProtocolError(`Server '${this.#options.serverId}' wrote a line to stdout that is not a JSON-RPC message`, {
          serverId: this.#options.serverId,
          channel: "stdio",
          rpcCode: -32700,
        }),
      );
      return;
    }
    this.onmessage?.(message);
  }

  async #readStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
    const { serverId, logger } = this.#options;
    let buffer = "";
    let windowStart = performance.now();
    let logged = 0;
    let dropped = 0;
    let skipping = false;
    const log = (line: string) => {
      const now = performance.now();
      if (now - windowStart >= 1_000) {
        if (dropped > 0) logger.warn("Dropped stderr lines of a stdio server", { serverId, dropped });
        windowStart = now;
        logged = 0;
        dropped = 0;
      }
      if (logged >= STDERR_LINES_PER_SECOND) {
        dropped++;
        return;
      }
      logged++;
      const text = line.length > STDERR_LINE_MAX ? `${line.slice(0, STDERR_LINE_MAX)}…` : line;
      logger.info("stderr", { serverId, channel: "stdio", line: text });
    };
    const reader = stream.getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, "");
          buffer = buffer.slice(newline + 1);
          if (!skipping) log(line);
          skipping = false;
        }
        if (buffer.length > STDERR_LINE_MAX) {
          // A line without end: log its start once, skip the rest of it.
          if (!skipping) log(buffer);
          skipping = true;
          buffer = "";
        }
      }
      if (buffer !== "" && !skipping) log(buffer);
      if (dropped > 0) logger.warn("Dropped stderr lines of a stdio server", { serverId, dropped });
    } catch {
      // The pipe broke: the process is ending.
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
}
