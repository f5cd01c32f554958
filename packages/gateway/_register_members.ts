// Internal: registers the config file's members at start-up. A member that cannot be reached does not stop the
// gateway: it is reported, and registration is retried in the background (REGISTER_BACKOFF: full jitter, 1 s to
// 30 s, never below 100 ms) until it succeeds or the gateway stops.
import { backoffDelay, type BackoffPolicy, DEFAULT_BACKOFF } from "../core/backoff.ts";
import { redactUrl, redactUrls } from "../core/_redact.ts";
import { sleep } from "../core/_sleep.ts";
import { ConfigError, FederationError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { FederationConfig } from "../core/types.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";

/** Options of {@link registerMembers}. */
export interface RegisterMembersOptions {
  /** Stops the retries. */
  signal: AbortSignal;
  logger: Logger;
  /** Receives one line per member (and per later success). */
  report: (line: string) => void;
  /** When to retry an unreachable member. @default {REGISTER_BACKOFF} */
  backoff?: BackoffPolicy;
}

/** Retries of an unreachable config-file member: 1 s doubling to 30 s, full jitter, never below 100 ms. */
export const REGISTER_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  ...DEFAULT_BACKOFF,
  initialDelay: 1_000,
  maxDelay: 30_000,
  minDelay: 100,
});

function describe(config: FederationConfig): string {
  const { control, data, stdio } = config.endpoints;
  if (stdio) return `stdio ${stdio.command}`; // its arguments may name private paths
  return [control ? `control ${redactUrl(control)}` : "", data ? `data ${redactUrl(data)}` : ""].filter(Boolean)
    .join("  ");
}

function reason(error: unknown): string {
  return redactUrls(error instanceof FederationError ? `${error.code}: ${error.message}` : String(error));
}

/**
 * Registers every member in parallel.
 *
 * @returns `initial` resolves when every first attempt has ended; `done` when every retry loop has ended.
 */
export function registerMembers(
  proxy: FederationProxy,
  members: readonly FederationConfig[],
  options: RegisterMembersOptions,
): { initial: Promise<void>; done: Promise<void> } {
  const { signal, report } = options;
  const backoff = options.backoff ?? REGISTER_BACKOFF;
  const firsts: Promise<void>[] = [];
  const loops = members.map(async (config) => {
    let settleFirst!: () => void;
    firsts.push(new Promise<void>((resolve) => settleFirst = resolve));
    for (let attempt = 0; !signal.aborted; attempt++) {
      const started = performance.now();
      try {
        const status = await proxy.registerServer(config, { signal });
        const ms = Math.round(performance.now() - started);
        const after = attempt === 0 ? "" : `, attempt ${attempt + 1}`;
        report(`member ${config.serverId}  ${status.state}  ${describe(config)}  (${ms} ms${after})`);
        break;
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof ConfigError) {
          report(`member ${config.serverId}  refused  ${reason(error)}`);
          break;
        }
        if (attempt === 0) {
          report(`member ${config.serverId}  unavailable  ${reason(error)}  (retrying in the background)`);
        } else {
          options.logger.debug("Member still unavailable", { serverId: config.serverId, reason: reason(error) });
        }
        settleFirst();
        await sleep(backoffDelay(backoff, attempt), signal);
      } finally {
        settleFirst();
      }
    }
    settleFirst();
  });
  return { initial: Promise.all(firsts).then(() => {}), done: Promise.all(loops).then(() => {}) };
}
