/**
 * Scale-out test support: a real `redis-server` (Debian's) on a free loopback port, gateway replicas as separate
 * processes started through the CLI with `--store`, a fetch that spreads one client's requests round-robin over
 * the replicas, and admin calls.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { AuthManager } from "../../packages/core/auth.ts";
import { GATEWAY_SECRET, SECRET } from "../_support/members.ts";
import { DEFAULT_GATEWAY_AUDIENCE } from "../../packages/gateway/options.ts";
import { sleep } from "../../packages/core/_sleep.ts";
import { freePort } from "../_support/ports.ts";

/** The key every replica of the tests shares (`MCP_STORE_KEY`). */
export const STORE_KEY = "scale-out-test-store-key-of-at-least-32-bytes";

const decoder = new TextDecoder();

/** Whether `redis-server` is on PATH; prints a loud notice when it is not. */
export function redisAvailable(): boolean {
  try {
    const { success } = new Deno.Command("redis-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    if (success) return true;
  } catch {
    // not installed
  }
  console.error(
    "\n!!! SKIPPED: redis-server is not on PATH; the scale-out tests need it " +
      "(apt-get install -y redis-server) !!!\n",
  );
  return false;
}

/** Polls `check` every 20 ms until it returns a value other than `undefined`; rejects after `timeout` ms. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeout: number,
  what: string,
): Promise<T> {
  const deadline = performance.now() + timeout;
  let last: unknown;
  while (performance.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(20);
  }
  throw new Error(`Timed out after ${timeout} ms waiting for ${what}${last ? `: ${last}` : ""}`);
}

async function canConnect(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** A `redis-server` child on a free loopback port; restartable on the same port and data directory. */
export class RedisServer implements AsyncDisposable {
  readonly port: number;
  readonly dir: string;
  #appendOnly: boolean;
  #child: Deno.ChildProcess | undefined;

  private constructor(port: number, dir: string, appendOnly: boolean) {
    this.port = port;
    this.dir = dir;
    this.#appendOnly = appendOnly;
  }

  /**
   * Starts a Redis with no snapshots; with `appendOnly`, every write is fsynced before Redis answers.
   */
  static async start(options: { appendOnly?: boolean } = {}): Promise<RedisServer> {
    const server = new RedisServer(freePort(), await Deno.makeTempDir({ prefix: "fmcp-redis-" }), !!options.appendOnly);
    await server.restart();
    return server;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it again (same port, same data). */
  async restart(): Promise<void> {
    const persistence = this.#appendOnly ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
    this.#child = new Deno.Command("redis-server", {
      args: ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--dir", this.dir, ...persistence],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await eventually(async () => await canConnect(this.port) || undefined, 5_000, "redis-server to listen");
  }

  /** Kills it (SIGKILL: no shutdown save) and waits for the exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

const CLI = fromFileUrl(new URL("../../packages/gateway/cli.ts", import.meta.url));

/** Writes the replicas' config file: gateway auth and proxy secret from the environment, a 1 s reconcile. */
export async function writeReplicaConfig(dir: string, storeUrl: string, members: unknown[] = []): Promise<string> {
  const file = `${dir}/federation.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      gateway: { auth: { secretEnv: "MCP_GATEWAY_SECRET" } },
      proxy: { secretEnv: "MCP_SECRET_KEY", heartbeatInterval: 2_000 },
      store: { url: storeUrl, reconcileInterval: 1_000 },
      members,
    }),
  );
  return file;
}

/** A gateway replica: `cli.ts --config … --store redis://… --port N` in its own process. */
export class Replica implements AsyncDisposable {
  readonly name: string;
  readonly port: number;
  #child: Deno.ChildProcess;
  #stderr = "";

  private constructor(name: string, port: number, child: Deno.ChildProcess) {
    this.name = name;
    this.port = port;
    this.#child = child;
    void this.#drain(child.stderr, (text) => this.#stderr = (this.#stderr + text).slice(-4_000));
  }

  async #drain(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): Promise<void> {
    try {
      for await (const chunk of stream) sink(decoder.decode(chunk));
    } catch {
      // closed
    }
  }

  /** Starts a replica and waits for its "gateway http://…" line. */
  static async start(name: string, config: string, storeUrl: string): Promise<Replica> {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        CLI,
        "--config",
        config,
        "--store",
        storeUrl,
        "--port",
        String(port),
        "--log-level",
        "warn",
      ],
      env: {
        RUST_BACKTRACE: "0",
        NO_COLOR: "1",
        MCP_SECRET_KEY: SECRET,
        // What members added through /admin/members name as their secret (the default allowed prefix MCP_MEMBER_).
        MCP_MEMBER_SECRET: SECRET,
        MCP_GATEWAY_SECRET: GATEWAY_SECRET,
        MCP_STORE_KEY: STORE_KEY,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const replica = new Replica(name, port, child);
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    const deadline = setTimeout(() => reader.cancel().catch(() => {}), 30_000);
    try {
      while (!/^gateway http/m.test(out)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`Replica ${name} exited before listening: ${out}\n${replica.#stderr}`);
        out += value;
      }
    } catch (error) {
      await replica.kill();
      throw error;
    } finally {
      clearTimeout(deadline);
    }
    void (async () => {
      try {
        while (!(await reader.read()).done) { /* keep stdout flowing */ }
      } catch {
        // closed
      }
    })();
    return replica;
  }

  /** The MCP endpoint. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  /** The base URL (for /readyz, /metrics, /admin). */
  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the replica wrote to stderr lately. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Kills it (SIGKILL: no drain, no goodbye) and waits for the exit. */
  async kill(): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
    return await this.#child.status;
  }

  /** Whether it is still running. */
  async running(): Promise<boolean> {
    const exited = await Promise.race([this.#child.status.then(() => true), sleep(0).then(() => false)]);
    return !exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}

/** A token with the admin scope. */
export function adminToken(): Promise<string> {
  return new AuthManager(GATEWAY_SECRET).createToken({ scope: "federation:admin" }, {
    subject: "operator",
    expiresIn: "5m",
    audience: DEFAULT_GATEWAY_AUDIENCE,
  });
}

/** Calls the membership API of one replica. */
export async function admin(
  replica: Replica,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${replica.base}/admin/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token ?? await adminToken()}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

/** GET a replica's /readyz body. */
export async function readiness(
  replica: Replica,
): Promise<Record<string, unknown> & { store: Record<string, unknown> }> {
  const response = await fetch(`${replica.base}/readyz`);
  return await response.json();
}

/** GET a replica's /metrics text. */
export async function metrics(replica: Replica): Promise<string> {
  return await (await fetch(`${replica.base}/metrics`)).text();
}

/**
 * A fetch that sends each request to the next replica in turn (the MCP client's own URL is only a key): one client,
 * one session, every replica. `pick` may pin some requests (e.g. GET streams) to a chosen replica.
 */
export function roundRobinFetch(
  replicas: () => Replica[],
  pick?: (init: RequestInit | undefined) => Replica | undefined,
): { fetch: typeof fetch; served: Map<string, number> } {
  let next = 0;
  const served = new Map<string, number>();
  const rotating = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const live = replicas();
    const target = pick?.(init) ?? live[next++ % live.length]!;
    served.set(target.name, (served.get(target.name) ?? 0) + 1);
    const url = new URL(input instanceof Request ? input.url : input);
    return fetch(`${target.base}${url.pathname}${url.search}`, init);
  };
  return { fetch: rotating as typeof fetch, served };
}
