// Internal: registers the config file's members at start-up. A member that cannot be reached does not stop the
// gateway: it is reported, and registration is retried in the background ({@link REGISTRATION_BACKOFF}: full
// jitter, 100 ms floor, 1 s first cap, 30 s cap) until it succeeds or the gateway stops.
import { backoffDelay, type BackoffPolicy, DEFAULT_BACKOFF } from "../core/backoff.ts";
import { ConfigError, FederationError } from "../core/errors.ts";
import { sleep } from "../core/_sleep.ts";
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
  /** How retries are paced. @default {REGISTRATION_BACKOFF} */
  backoff?: BackoffPolicy;
}

/** How a member that could not be registered at start-up is retried. */
export const REGISTRATION_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  ...DEFAULT_BACKOFF,
  initialDelay: 1_000,
  maxDelay: 30_000,
  minDelay: 100,
});

function describe(config: FederationConfig): string {
  const { control, data } = config.endpoints;
  return [control ? `control ${control}` : "", data ? `data ${data}` : ""].filter(Boolean).join("  ");
}

function reason(error: unknown): string {
  return error instanceof FederationError ? `${error.code}: ${error.message}` : String(error);
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
        await sleep(backoffDelay(options.backoff ?? REGISTRATION_BACKOFF, attempt), signal);
      } finally {
        settleFirst();
      }
    }
    settleFirst();
  });
  return { initial: Promise.all(firsts).then(() => {}), done: Promise.all(loops).then(() => {}) };
}
