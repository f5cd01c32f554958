/**
 * Real members for integration tests: {@link serveMember} around {@link createTestServer} on 127.0.0.1, on ports from
 * below the ephemeral range ({@link freePort}) so that they are still free when the member restarts on them.
 *
 * @module
 */

import { type MemberHandle, serveMember, type ServeMemberOptions } from "../../packages/member/mod.ts";
import type { FederationConfig } from "../../packages/core/types.ts";
import { createTestServer, newStats, type ServerStats } from "./test_server.ts";
import { freePort } from "./ports.ts";

/** The shared secret of test members and proxies (40 bytes). */
export const SECRET = "test-secret-of-at-least-thirty-two-bytes!";
/** The secret test gateways verify client tokens with: never one the proxy signs member tokens with. */
export const GATEWAY_SECRET = "test-gateway-client-secret-of-32-bytes!!";

/** Options of {@link startMember}. */
export interface StartMemberOptions {
  /** Verifier secret. @default {SECRET} */
  secret?: string;
  /** Offer a control endpoint. @default {true} */
  control?: boolean;
  /** Offer a data endpoint. @default {true} */
  data?: boolean;
  /** Extra serveMember options. */
  extra?: Partial<ServeMemberOptions>;
  /** The `era` of its registration (what the proxy tries first). @default {none: the proxy's preference} */
  era?: "modern" | "legacy";
}

/** A running test member. */
export class TestMember implements AsyncDisposable {
  readonly serverId: string;
  readonly stats: ServerStats = newStats();
  handle!: MemberHandle;
  #options: StartMemberOptions;
  #ports: { control?: number; data?: number } = {};

  private constructor(serverId: string, options: StartMemberOptions) {
    this.serverId = serverId;
    this.#options = options;
  }

  /** Starts a member on free ports. */
  static async start(serverId: string, options: StartMemberOptions = {}): Promise<TestMember> {
    const member = new TestMember(serverId, options);
    await member.#serve();
    return member;
  }

  /** Listens on its ports; a first start that lost a port race tries new ones. */
  async #serve(): Promise<void> {
    const { control = true, data = true } = this.#options;
    const first = this.#ports.control === undefined && this.#ports.data === undefined;
    for (let attempt = 1;; attempt++) {
      if (first) this.#ports = { ...(control ? { control: freePort() } : {}), ...(data ? { data: freePort() } : {}) };
      try {
        this.handle = await serveMember({
          serverId: this.serverId,
          server: () => createTestServer(this.serverId, this.stats),
          verifier: this.#options.secret ?? SECRET,
          control: control ? { port: this.#ports.control } : false,
          data: data ? { port: this.#ports.data } : false,
          logger: { debug() {}, info() {}, warn() {}, error() {} },
          ...this.#options.extra,
        });
        // As listening (`extra` may have chosen other ports): a restart listens there again.
        if (this.handle.controlUrl) this.#ports.control = Number(new URL(this.handle.controlUrl).port);
        if (this.handle.dataUrl) this.#ports.data = Number(new URL(this.handle.dataUrl).port);
        return;
      } catch (error) {
        if (!first || attempt === 3 || !(error instanceof Error && error.cause instanceof Deno.errors.AddrInUse)) {
          throw error;
        }
      }
    }
  }

  /** The registration a proxy needs for this member. */
  get config(): FederationConfig {
    return {
      serverId: this.serverId,
      endpoints: {
        ...(this.handle.controlUrl ? { control: this.handle.controlUrl } : {}),
        ...(this.handle.dataUrl ? { data: this.handle.dataUrl } : {}),
      },
      auth: { type: "jwt", config: {} },
      ...(this.#options.era ? { era: this.#options.era } : {}),
    };
  }

  /** Stops the member (every session is closed). */
  async stop(): Promise<void> {
    await this.handle.close();
    await this.handle.closed();
  }

  /** Starts it again on the same ports, with new sessions. */
  async restart(): Promise<void> {
    await this.#serve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** A logger that records lines, for asserting on what was (not) logged. */
export function recordingLogger(): { lines: string[]; logger: import("../../packages/core/logger.ts").Logger } {
  const lines: string[] = [];
  const record = (level: string) => (message: string, data?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${data ? JSON.stringify(data) : ""}`);
  };
  return {
    lines,
    logger: { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") },
  };
}

/** Resolves when `predicate` holds, polling every 10 ms; rejects after `timeout` ms. */
export async function waitFor(predicate: () => boolean, timeout = 5_000, what = "condition"): Promise<void> {
  const deadline = performance.now() + timeout;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeout}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
