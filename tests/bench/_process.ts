/**
 * Child processes of the benchmarks: members, gateways and the peer aggregator run in processes of their own, so
 * that each side of a comparison has its own event loop, as in production.
 *
 * @module
 */

const decoder = new TextDecoder();
/** How much of a child's stderr is kept for error messages, in characters. */
const STDERR_TAIL = 4_000;

/** Children still running, killed when the harness exits or is interrupted. */
const live = new Set<Deno.ChildProcess>();

/**
 * Kills (SIGKILL) every child process still running; for exit and interrupt handlers.
 */
export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }
  live.clear();
}

/** A running child process. */
export class ChildProcess implements AsyncDisposable {
  readonly name: string;
  #child: Deno.ChildProcess;
  #lines: string[] = [];
  #waiters: ((line: string | undefined) => void)[] = [];
  #stderr = "";
  #ended = false;
  #status: Promise<Deno.CommandStatus>;

  private constructor(name: string, child: Deno.ChildProcess) {
    this.name = name;
    this.#child = child;
    live.add(child);
    this.#status = child.status.finally(() => live.delete(child));
    void this.#read(child.stdout, (line) => this.#line(line));
    void this.#read(child.stderr, (line) => {
      this.#stderr = (this.#stderr + line + "\n").slice(-STDERR_TAIL);
    });
  }

  /**
   * Starts a process with piped stdout and stderr.
   *
   * @param name A short name for messages.
   * @param command The program.
   * @param args Its arguments.
   * @param env Extra environment variables.
   * @returns The child.
   */
  static spawn(name: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    const child = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { RUST_BACKTRACE: "0", NO_COLOR: "1", ...env },
    }).spawn();
    return new ChildProcess(name, child);
  }

  /**
   * Starts `deno run -A [flags] script [args]` with the running Deno.
   *
   * @param script Path or URL of the script.
   * @param args Script arguments.
   * @param flags Extra `deno run` flags, e.g. `--v8-flags=--expose-gc`.
   * @returns The child.
   */
  static deno(script: string | URL, args: string[] = [], flags: string[] = []): ChildProcess {
    const path = script instanceof URL ? script.pathname : script;
    const name = path.split("/").pop() ?? path;
    return ChildProcess.spawn(name, Deno.execPath(), ["run", "-A", "--quiet", ...flags, path, ...args]);
  }

  /**
   * Starts a Deno script (as {@link ChildProcess.deno}) and waits for its first stdout line, a JSON "ready"
   * message; kills it if that does not come in time.
   *
   * @param script Path or URL of the script.
   * @param args Script arguments.
   * @param timeout Give up after this many ms.
   * @param flags Extra `deno run` flags.
   * @returns The child and its parsed ready message.
   */
  static async denoReady<T>(
    script: string | URL,
    args: string[],
    timeout: number,
    flags: string[] = [],
  ): Promise<{ child: ChildProcess; ready: T }> {
    const child = ChildProcess.deno(script, args, flags);
    try {
      return { child, ready: await child.nextJson<T>(timeout) };
    } catch (error) {
      await child.kill("SIGKILL");
      throw error;
    }
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** The last lines the child wrote to stderr. */
  get stderr(): string {
    return this.#stderr;
  }

  async #read(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
    let buffer = "";
    try {
      for await (const chunk of stream) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          onLine(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
        }
      }
    } catch {
      // the child was killed mid-write
    }
    if (buffer) onLine(buffer);
    if (stream === this.#child.stdout) {
      this.#ended = true;
      for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    }
  }

  #line(line: string): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(line);
    else this.#lines.push(line);
  }

  /**
   * The next line the child writes to stdout.
   *
   * @param timeout Give up after this many ms.
   * @returns The line.
   * @throws {Error} When the child exits or stays silent for `timeout` ms.
   */
  async nextLine(timeout: number): Promise<string> {
    const queued = this.#lines.shift();
    if (queued !== undefined) return queued;
    if (this.#ended) throw new Error(`${this.name} exited before writing a line:\n${this.#stderr}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiter: ((line: string | undefined) => void) | undefined;
    const line = await new Promise<string | undefined>((resolve, reject) => {
      waiter = resolve;
      this.#waiters.push(resolve);
      timer = setTimeout(
        () => reject(new Error(`${this.name} wrote nothing in ${timeout} ms:\n${this.#stderr}`)),
        timeout,
      );
    }).finally(() => {
      clearTimeout(timer);
      const index = this.#waiters.indexOf(waiter!);
      if (index >= 0) this.#waiters.splice(index, 1);
    });
    if (line === undefined) throw new Error(`${this.name} exited before writing a line:\n${this.#stderr}`);
    return line;
  }

  /**
   * The next stdout line, parsed as JSON.
   *
   * @param timeout Give up after this many ms.
   * @returns The parsed value.
   */
  async nextJson<T>(timeout: number): Promise<T> {
    return JSON.parse(await this.nextLine(timeout)) as T;
  }

  /**
   * Kills the child and waits for it to exit.
   *
   * @param signal The signal. @default {"SIGTERM"}
   * @returns When it has exited.
   */
  async kill(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    try {
      this.#child.kill(signal);
    } catch {
      // already exited
    }
    await this.#status;
  }

  /** Kills the child (SIGTERM) and waits for it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.kill();
  }
}
