/**
 * Helpers of the interop tests: free ports, third-party programs run from npm with `deno run -A npm:…`, and a
 * federation (proxy + gateway) to point them at.
 *
 * @module
 */

import { FederationProxy, type FederationProxyOptions } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import type { GatewayHandle, GatewayOptions } from "../../packages/gateway/mod.ts";
import { GATEWAY_SECRET, SECRET } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";

/** Environment of every third-party program: readable errors, no colours. */
export const PROGRAM_ENV: Record<string, string> = { RUST_BACKTRACE: "0", NO_COLOR: "1" };

/** Runs a program to completion, returning its exit code and output. */
export async function runProgram(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { ...PROGRAM_ENV, ...options.env },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeoutMs ?? 180_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    ms: performance.now() - started,
  };
}

/** A long-running third-party server process; disposing it stops it (SIGTERM, then SIGKILL after 3 s). */
export class ServerProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #output: Promise<string>;

  constructor(args: string[], env: Record<string, string>) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args,
      env: { ...PROGRAM_ENV, ...env },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const decoder = new TextDecoder();
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      let text = "";
      for await (const chunk of stream) text += decoder.decode(chunk);
      return text;
    };
    this.#output = Promise.all([collect(this.#child.stdout), collect(this.#child.stderr)]).then((parts) =>
      parts.join("")
    );
  }

  /** Everything the process wrote, once it has exited. */
  output(): Promise<string> {
    return this.#output;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already exited */ }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* already exited */ }
    }, 3_000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#output;
  }
}

/** A proxy and a gateway on 127.0.0.1:0, disposed together (gateway first). */
export class Federation implements AsyncDisposable {
  readonly proxy: FederationProxy;
  gateway!: GatewayHandle;

  private constructor(proxy: FederationProxy) {
    this.proxy = proxy;
  }

  static async start(
    options: { proxy?: FederationProxyOptions; gateway?: Partial<GatewayOptions> } = {},
  ): Promise<Federation> {
    const federation = new Federation(new FederationProxy(SECRET, { logger: quiet, ...options.proxy }));
    federation.gateway = await serveGateway(federation.proxy, {
      auth: { secret: GATEWAY_SECRET },
      port: 0,
      logger: quiet,
      ...options.gateway,
    });
    return federation;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.gateway.close();
    await this.proxy.close();
  }
}

/** Retries `attempt` every 250 ms until it resolves, or rethrows its last error after `timeoutMs`. */
export async function retry<T>(attempt: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    try {
      return await attempt();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
