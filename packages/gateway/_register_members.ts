// Internal: registers the config file's members at start-up. A member that cannot be reached does not stop the
// gateway: it is reported, and registration is retried in the background (REGISTER_BACKOFF: full jitter, 1 s to
// 30 s, never below 100 ms) until it succeeds or the gateway stops. While nothing listens at the member's endpoints,
// their `/healthz` is probed every 200 ms between attempts (`_probe.ts`, as registered members do), so a member is
// picked up within about a second of listening whatever the backoff delay.
//
// Until then the proxy does not know the member, so the attempts are kept in a ConfiguredMembers record tied to
// the proxy (as the session hub is): the probes, the metrics, the membership API and the status page read it, so
// that a configured member is visible from start-up (`federation_member_up 0`, state `retrying`).
import { backoffDelay, type BackoffPolicy, DEFAULT_BACKOFF } from "../core/backoff.ts";
import { redactUrl, redactUrls } from "../core/_redact.ts";
import { ConfigError, FederationError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { FederationConfig } from "../core/types.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { foundNothingListening, memberProbeUrls, sleepUntilAnswered } from "../proxy/_probe.ts";

/** Where a configured member's registration stands: first attempt, retrying in the background, refused, done. */
export type ConfiguredState = "connecting" | "retrying" | "refused" | "registered";

/** One configured member's registration. */
export interface ConfiguredMember {
  serverId: string;
  state: ConfiguredState;
  /** Attempts made so far. */
  attempts: number;
  /** When the state was entered (ms since the epoch). */
  since: number;
  /** The last failure: its code and message (URLs redacted). */
  lastError: { code: string; message: string } | undefined;
}

/** The registrations of a gateway's configured members, in config order. */
export class ConfiguredMembers {
  #members = new Map<string, ConfiguredMember>();
  #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Records a member's state (and failure). */
  set(serverId: string, state: ConfiguredState, attempts: number, error?: unknown): void {
    const previous = this.#members.get(serverId);
    this.#members.set(serverId, {
      serverId,
      state,
      attempts,
      since: previous?.state === state ? previous.since : this.#now(),
      lastError: error === undefined ? previous?.lastError : {
        code: error instanceof FederationError ? error.code : "ERR_INTERNAL",
        message: redactUrls(error instanceof Error ? error.message : String(error)),
      },
    });
  }

  /** Every configured member. */
  list(): ConfiguredMember[] {
    return [...this.#members.values()];
  }

  /** The configured members the proxy does not have (first attempt, retrying, or refused). */
  waiting(proxy: FederationProxy): ConfiguredMember[] {
    return this.list().filter((m) => m.state !== "registered" && !proxy.hasServer(m.serverId));
  }
}

const configured = new WeakMap<FederationProxy, ConfiguredMembers>();

/** The record of `proxy`'s configured members (created empty on first use). */
export function configuredMembersOf(proxy: FederationProxy): ConfiguredMembers {
  let record = configured.get(proxy);
  if (!record) configured.set(proxy, record = new ConfiguredMembers());
  return record;
}

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
  const record = configuredMembersOf(proxy);
  for (const config of members) record.set(config.serverId, "connecting", 0);
  const firsts: Promise<void>[] = [];
  const loops = members.map(async (config) => {
    let settleFirst!: () => void;
    firsts.push(new Promise<void>((resolve) => settleFirst = resolve));
    const probeUrls = config.endpoints.stdio ? [] : memberProbeUrls(config.endpoints);
    for (let attempt = 0; !signal.aborted; attempt++) {
      const started = performance.now();
      try {
        const status = await proxy.registerServer(config, { signal });
        record.set(config.serverId, "registered", attempt + 1);
        const ms = Math.round(performance.now() - started);
        const after = attempt === 0 ? "" : `, attempt ${attempt + 1}`;
        report(`member ${config.serverId}  ${status.state}  ${describe(config)}  (${ms} ms${after})`);
        break;
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof ConfigError) {
          record.set(config.serverId, "refused", attempt + 1, error);
          report(`member ${config.serverId}  refused  ${reason(error)}`);
          break;
        }
        record.set(config.serverId, "retrying", attempt + 1, error);
        if (attempt === 0) {
          report(`member ${config.serverId}  unavailable  ${reason(error)}  (retrying in the background)`);
        } else {
          options.logger.debug("Member still unavailable", { serverId: config.serverId, reason: reason(error) });
        }
        settleFirst();
        // While nothing listens there, `/healthz` is probed (`backoff.probeInterval`): the first answer ends the wait.
        const urls = error instanceof FederationError && foundNothingListening(error) ? probeUrls : [];
        await sleepUntilAnswered(backoffDelay(backoff, attempt), urls, backoff.probeInterval ?? 0, signal);
      } finally {
        settleFirst();
      }
    }
    settleFirst();
  });
  return { initial: Promise.all(firsts).then(() => {}), done: Promise.all(loops).then(() => {}) };
}
