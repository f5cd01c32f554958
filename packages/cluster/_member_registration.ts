// Internal: one stored member's registration on a replica's proxy, as {@link MemberSync} applies it: registered once
// its predecessor (a replaced record) is removed, retried with backoff while unreachable (probing its `/healthz`
// between attempts, `_probe.ts`), refused when its config is invalid here, a `conflict` when other code registered
// its serverId; removed (only when this sync registered it) when the store no longer lists it.
import { backoffDelay, type BackoffPolicy, DEFAULT_BACKOFF } from "../core/backoff.ts";
import { ConfigError, FederationError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { foundNothingListening, memberProbeUrls, sleepUntilAnswered } from "../proxy/_probe.ts";
import { type MemberSecretsOptions, resolveMember } from "./member_records.ts";
import type { StoredMember } from "./registry_store.ts";
import { errorMessage } from "../core/_error_message.ts";

/** What became of a stored member on this replica. */
export type SyncedMemberState = "registering" | "registered" | "retrying" | "refused" | "conflict";

/** A stored member as this replica applied it. */
export interface SyncedMember {
  /** The member. */
  serverId: string;
  /** The store revision of its record. */
  revision: number;
  /** Where its registration stands here. */
  state: SyncedMemberState;
  /** The last failure, when `retrying`, `refused` or `conflict`. */
  error?: string | undefined;
  /** Failed attempts so far. */
  attempts: number;
}

/** A stored member applied here, with the task registering it. */
export interface Entry {
  stored: StoredMember;
  synced: SyncedMember;
  abort: AbortController;
  /** Whether this sync registered the member on the proxy (and so must remove it). */
  registered: boolean;
  task: Promise<void>;
}

/** What registrations need from their sync. */
export interface RegistrationSettings {
  proxy: FederationProxy;
  logger: Logger;
  secrets: MemberSecretsOptions;
  backoff: BackoffPolicy;
}

/**
 * Retries of an unreachable stored member: 250 ms doubling to 30 s, full jitter, never below 10 ms, never giving up
 * while the member is stored. `retryDelay` and `maxRetryDelay` set the first and largest caps.
 */
export const SYNC_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  ...DEFAULT_BACKOFF,
  initialDelay: 250,
  maxDelay: 30_000,
  minDelay: 10,
});

/** Starts registering a stored member (after `predecessor`, the removal of the record it replaces). */
export function startEntry(
  serverId: string,
  stored: StoredMember,
  predecessor: Promise<void> | undefined,
  settings: RegistrationSettings,
): Entry {
  const synced: SyncedMember = { serverId, revision: stored.revision, state: "registering", attempts: 0 };
  const entry: Entry = { stored, synced, abort: new AbortController(), registered: false, task: Promise.resolve() };
  entry.task = register(entry, predecessor, settings);
  return entry;
}

/** Stops a member's registration and removes it from the proxy when this sync registered it. */
export async function stopEntry(entry: Entry, why: string, settings: RegistrationSettings): Promise<void> {
  entry.abort.abort();
  await entry.task;
  if (entry.registered) {
    entry.registered = false;
    await settings.proxy.removeServer(entry.synced.serverId);
    settings.logger.info("Member removed (registry store)", { serverId: entry.synced.serverId, why });
  }
}

async function register(
  entry: Entry,
  predecessor: Promise<void> | undefined,
  settings: RegistrationSettings,
): Promise<void> {
  const { serverId } = entry.synced;
  const signal = entry.abort.signal;
  // A replacement starts once its predecessor is removed.
  await predecessor?.catch(() => {});
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      if (settings.proxy.hasServer(serverId)) {
        entry.synced.state = "conflict";
        entry.synced.error = "a member with this serverId is registered by other means (a config file)";
        settings.logger.warn("Stored member not applied: its serverId is taken here", { serverId });
        return;
      }
      const config = await resolveMember(entry.stored.config, settings.secrets);
      await settings.proxy.registerServer(config, { signal });
      if (signal.aborted) {
        await settings.proxy.removeServer(serverId);
        return;
      }
      entry.registered = true;
      entry.synced.state = "registered";
      entry.synced.error = undefined;
      settings.logger.info("Member registered (registry store)", { serverId, attempts: attempt + 1 });
      return;
    } catch (error) {
      if (signal.aborted) return;
      entry.synced.attempts = attempt + 1;
      entry.synced.error = errorMessage(error);
      if (error instanceof ConfigError && error.code !== "ERR_SERVER_EXISTS") {
        entry.synced.state = "refused";
        settings.logger.warn("Stored member refused on this replica", { serverId, error: errorMessage(error) });
        return;
      }
      if (error instanceof ConfigError) {
        entry.synced.state = "conflict";
        return;
      }
      entry.synced.state = "retrying";
      settings.logger.debug("Stored member unavailable; retrying", { serverId, error: errorMessage(error) });
      // While nothing listens there, `/healthz` is probed (`backoff.probeInterval`): the first answer ends the wait.
      const listening = error instanceof FederationError && foundNothingListening(error);
      const urls = listening ? memberProbeUrls(entry.stored.config.endpoints ?? {}) : [];
      const { backoff } = settings;
      await sleepUntilAnswered(backoffDelay(backoff, attempt), urls, backoff.probeInterval ?? 0, signal);
    }
  }
}
