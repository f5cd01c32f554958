// Internal: the client side of MCP's stdio transport for a process this library spawns, used by the proxy's stdio
// members and by the member sidecar. One instance is one process's lifetime: `start()` spawns it (`Deno.Command`, its
// own process group), messages are newline-delimited JSON-RPC on its stdin/stdout (one message a line, as the MCP
// stdio transport specifies), its stderr goes to the logger line by line (bounded length and rate), and `close()`
// ends its stdin, sends SIGTERM and, after a grace period, SIGKILL to the whole group. `onclose` fires once, when the
// process has exited (whoever ended it) and what it wrote before has been delivered. Restarting is the owner's
// business: start a new instance. The environment is built by the caller (what to inherit is a policy, not ours).
//
// Process group: the child is spawned `detached` (setsid on Unix: its own session and group), so the group can be
// signalled (`kill(-pid)`), reaching what the program started itself (`npx` → `sh` → `node`); what of the group
// outlives the program is killed when it exits, so a restart leaves no orphan. On Windows there are no groups: only
// the child is killed. If our own process dies without closing, the child's stdin reaches EOF, on which MCP stdio
// servers exit.
import { ConnectionError, ProtocolError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { exceedsBytes } from "./_byte_length.ts";
import { isJsonRpcMessage } from "./_jsonrpc.ts";
import type { JSONRPCMessage, Transport, TransportSendOptions } from "./_sdk.ts";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./websocket_transport.ts";

/** Longest stderr line logged, in characters (the rest is cut). */
export const STDERR_LINE_MAX = 1_000;
/** Most stderr lines logged per second per process; the excess is counted and reported. */
export const STDERR_LINES_PER_SECOND = 50;
/** Time a process gets to exit after SIGTERM before its group is killed, in ms. */
export const KILL_GRACE_MS = 2_000;

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

/** Options of a {@link StdioProcessTransport}. */
export interface StdioProcessOptions {
  /** Names the process in error messages and error details (`server '<serverId>'`). */
  serverId: string;
  /** Where stderr lines, the exit and protocol faults go. */
  logger: Logger;
  /** Added to every log line (e.g. `{ serverId }`). @default {{ serverId }} */
  label?: Record<string, unknown> | undefined;
  /** Largest message either way, in bytes. @default {DEFAULT_MAX_MESSAGE_BYTES} */
  maxMessageBytes?: number | undefined;
  /**
   * A longer message on stdout: `stop` ends the process (the peer is broken), `skip` drops that line and goes on.
   * Either way `onerror` gets a `ProtocolError` `ERR_MESSAGE_TOO_LARGE`. @default {"stop"}
   */
  oversize?: "stop" | "skip" | undefined;
  /** Log message of a stderr line. @default {"stderr"} */
  stderrMessage?: string | undefined;
  /** Longest stderr line logged, in characters (longer ones are cut). @default {STDERR_LINE_MAX} */
  maxStderrLine?: number | undefined;
  /** Most stderr lines logged per second. @default {STDERR_LINES_PER_SECOND} */
  stderrLinesPerSecond?: number | undefined;
  /** SIGTERM → SIGKILL grace, in ms. @default {KILL_GRACE_MS} */
  killGrace?: number | undefined;
}

const encoder = new TextEncoder();

/**
 * Reads `stream` line by line (LF; a CR before it dropped) until it ends or breaks, awaiting `onLine` before the next
 * line. A line for which `tooLong` holds, whether complete or still partial, goes to `onLong` (its start, once)
 * instead of `onLine`, and the rest of it is skipped. A throw of `onLine` goes to `onFault`, and reading goes on.
 */
async function eachLine(
  stream: ReadableStream<Uint8Array>,
  tooLong: (partial: string) => boolean,
  onLine: (line: string) => void | Promise<void>,
  onLong: (start: string) => void,
  onFault: (error: unknown) => void,
): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let skipping = false;
  const line = async (text: string) => {
    if (tooLong(text)) {
      onLong(text);
      return;
    }
    try {
      await onLine(text);
    } catch (error) {
      onFault(error);
    }
  };
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const text = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (skipping) skipping = false;
        else await line(text);
      }
      if (!skipping && tooLong(buffer)) {
        onLong(buffer);
        skipping = true;
      }
      if (skipping) buffer = "";
    }
    if (buffer !== "" && !skipping) await line(buffer);
  } catch {
    // The pipe broke: the process is ending, its status closes the transport.
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** An MCP client `Transport` over one spawned process's stdin/stdout. */
export class StdioProcessTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T) => void) | undefined;
  sessionId?: string | undefined;
  #command: StdioCommand;
  #options: StdioProcessOptions;
  #label: Record<string, unknown>;
  #maxMessageBytes: number;
  #child: Deno.ChildProcess | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #readers: Promise<void>[] = [];
  #status: Promise<Deno.CommandStatus> | undefined;
  #exited = Promise.withResolvers<void>();
  #closing: Promise<void> | undefined;
  #terminating = false;
  /** Stopped for an oversized message: what it wrote after it is not delivered. */
  #stopped = false;
  #closed = false;
  #exit: Deno.CommandStatus | undefined;

  constructor(command: StdioCommand, options: StdioProcessOptions) {
    this.#command = command;
    this.#options = options;
    this.#label = options.label ?? { serverId: options.serverId };
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** The process id, once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Resolves when the process has exited and the transport is closed. Never rejects. */
  get exited(): Promise<void> {
    return this.#exited.promise;
  }

  /** How the process ended (exit code or signal), once it has. */
  get exitDescription(): string | undefined {
    const exit = this.#exit;
    if (!exit) return undefined;
    return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  }

  start(): Promise<void> {
    const { serverId } = this.#options;
    const { command, args, env, clearEnv, cwd } = this.#command;
    if (this.#child) throw new Error("StdioProcessTransport already started");
    try {
      this.#child = new Deno.Command(command, {
        args,
        ...(cwd !== undefined ? { cwd } : {}),
        env,
        clearEnv,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        detached: Deno.build.os !== "windows",
      }).spawn();
    } catch (error) {
      const why = error instanceof Deno.errors.NotFound
        ? `command '${command}' not found`
        : error instanceof Deno.errors.PermissionDenied
        ? `permission denied for '${command}'`
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
    this.#writer.closed.catch(() => {});
    this.#readers = [this.#readStdout(child.stdout), this.#readStderr(child.stderr)];
    this.#status = child.status;
    void this.#status.then((status) => {
      this.#exit = status;
      const { logger } = this.#options;
      const detail = { ...this.#label, pid: child.pid, code: status.code, signal: status.signal ?? undefined };
      if (this.#terminating) logger.debug("Upstream process ended", detail);
      else logger.warn("Upstream process exited", detail);
      // The program is gone: whatever it started goes too, and the transport closes (the owner restarts it).
      void this.#shutdown(false);
    });
    return Promise.resolve();
  }

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    const { serverId } = this.#options;
    const writer = this.#writer;
    if (!writer || this.#closing) {
      throw new ConnectionError(`Process of server '${serverId}' is not running`, {
        serverId,
        channel: "stdio",
        code: "ERR_CONNECTION_CLOSED",
      });
    }
    const line = JSON.stringify(message);
    if (exceedsBytes(line, this.#maxMessageBytes)) {
      throw new ProtocolError(
        `Message to server '${serverId}' is larger than the limit of ${this.#maxMessageBytes} bytes: not sent`,
        { serverId, channel: "stdio", rpcCode: -32600, code: "ERR_MESSAGE_TOO_LARGE" },
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
      throw new ConnectionError(`Process of server '${serverId}' ended${how ? ` (${how})` : ""}`, {
        serverId,
        channel: "stdio",
        code: "ERR_CONNECTION_CLOSED",
        cause: error,
      });
    }
  }

  /** Ends stdin, SIGTERM to the process group, SIGKILL after the grace period; resolves once it has exited. */
  close(): Promise<void> {
    return this.#shutdown(true);
  }

  /** Ends the process and its group (`terminate`: SIGTERM first, SIGKILL after the grace; else SIGKILL at once). */
  #shutdown(terminate: boolean): Promise<void> {
    if (terminate) this.#terminating = true;
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
        // Children of the program that outlive it (and hold its pipes) go with the group; what the program wrote
        // before it exited is still in the pipe and is delivered before onclose.
        this.#signal(child.pid, "SIGKILL");
        await Promise.all(this.#readers);
      }
      this.#closed = true;
      this.#exited.resolve();
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
    const { serverId } = this.#options;
    const maxMessageBytes = this.#maxMessageBytes;
    await eachLine(stream, (partial) => exceedsBytes(partial, maxMessageBytes), async (line) => {
      this.#receive(line);
      // One message at a time, as a WebSocket delivers them: the SDK handles a notification in a microtask but a
      // response at once, so a call's last progress and its result read in one chunk would otherwise lose the
      // progress (its handler is gone when the microtask runs).
      await Promise.resolve();
    }, () => {
      const stop = (this.#options.oversize ?? "stop") === "stop";
      this.#options.logger.warn("Dropped an upstream message over the size limit", { ...this.#label, maxMessageBytes });
      this.onerror?.(
        new ProtocolError(
          `Server '${serverId}' sent a message larger than the limit of ${maxMessageBytes} bytes: ${
            stop ? "process stopped" : "dropped"
          }`,
          { serverId, channel: "stdio", rpcCode: -32600, code: "ERR_MESSAGE_TOO_LARGE" },
        ),
      );
      if (stop) {
        this.#stopped = true;
        void this.#shutdown(false);
        if (this.#child) this.#signal(this.#child.pid, "SIGKILL");
      }
    }, (error) => {
      // A fault of whoever handles a message: that message is lost, the next ones are still read.
      this.#options.logger.warn("A handler of an upstream message failed", {
        ...this.#label,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }

  #receive(line: string): void {
    if (line.trim() === "" || this.#closed || this.#stopped) return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      message = undefined;
    }
    if (!isJsonRpcMessage(message)) {
      // A program that prints to stdout: the line is not ours to interpret (its text is not logged: it may hold
      // anything).
      const what = message === undefined ? "not JSON" : "JSON but not JSON-RPC";
      this.#options.logger.warn(`Ignored a line of the upstream's stdout that is ${what}`, {
        ...this.#label,
        length: line.length,
      });
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
    const { logger } = this.#options;
    const label = this.#label;
    const maxLine = this.#options.maxStderrLine ?? STDERR_LINE_MAX;
    const perSecond = this.#options.stderrLinesPerSecond ?? STDERR_LINES_PER_SECOND;
    const message = this.#options.stderrMessage ?? "stderr";
    let windowStart = performance.now();
    let logged = 0;
    let dropped = 0;
    const log = (line: string) => {
      if (line.trim() === "") return;
      const now = performance.now();
      if (now - windowStart >= 1_000) {
        if (dropped > 0) logger.warn("Dropped stderr lines of a stdio server", { ...label, dropped });
        windowStart = now;
        logged = 0;
        dropped = 0;
      }
      if (logged >= perSecond) {
        dropped++;
        return;
      }
      logged++;
      const text = line.length > maxLine ? `${line.slice(0, maxLine)}…` : line;
      logger.info(message, { ...label, line: text });
    };
    await eachLine(stream, (partial) => partial.length > maxLine, log, log, () => {});
    if (dropped > 0) logger.warn("Dropped stderr lines of a stdio server", { ...label, dropped });
  }
}
