// Internal: registers the config file's members at start-up. A member that cannot be reached does not stop the
// gateway: it is reported, and registration is retried in the background (backoff with full jitter, 1 s to 30 s)
// until it succeeds or the gateway stops.
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
}

const FIRST_DELAY = 1_000;
const MAX_DELAY = 30_000;

function describe(config: FederationConfig): string {
  const { control, data } = config.endpoints;
  return [control ? `control ${control}` : "", data ? `data ${data}` : ""].filter(Boolean).join("  ");
}

function reason(error: unknown): string {
  return error instanceof FederationError ? `${error.code}: ${error.message}` : String(error);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
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
        await sleep(Math.max(100, Math.random() * Math.min(MAX_DELAY, FIRST_DELAY * 2 ** attempt)), signal);
      } finally {
        settleFirst();
      }
    }
    settleFirst();
  });
  return { initial: Promise.all(firsts).then(() => {}), done: Promise.all(loops).then(() => {}) };
}
