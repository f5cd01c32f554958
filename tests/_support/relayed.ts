/**
 * Members behind fault relays, and small helpers for fault tests: every wait bounded, every outcome classified.
 *
 * @module
 */

import { FaultRelay } from "./fault_relay.ts";
import { type StartMemberOptions, TestMember } from "./members.ts";
import type { FederationConfig } from "../../packages/core/types.ts";
import { FederationError } from "../../packages/core/errors.ts";

/** A test member whose control and data traffic each pass through a {@link FaultRelay}. */
export interface RelayedMember extends AsyncDisposable {
  member: TestMember;
  /** Relay of the control channel (absent for a data-only member). */
  control: FaultRelay;
  /** Relay of the data channel. */
  data: FaultRelay;
  /** The registration that goes through the relays. */
  config: FederationConfig;
  /** Both relays. */
  relays: FaultRelay[];
}

/** Starts a member and a relay in front of each of its endpoints. */
export async function relayedMember(serverId: string, options: StartMemberOptions = {}): Promise<RelayedMember> {
  const member = await TestMember.start(serverId, options);
  const relays: FaultRelay[] = [];
  const endpoints: FederationConfig["endpoints"] = {};
  let control: FaultRelay | undefined;
  let data: FaultRelay | undefined;
  if (member.handle.controlUrl) {
    control = new FaultRelay(Number(new URL(member.handle.controlUrl).port));
    relays.push(control);
    endpoints.control = `ws://127.0.0.1:${control.port}/`;
  }
  if (member.handle.dataUrl) {
    data = new FaultRelay(Number(new URL(member.handle.dataUrl).port));
    relays.push(data);
    endpoints.data = `http://127.0.0.1:${data.port}/`;
  }
  return {
    member,
    control: control!,
    data: data!,
    relays,
    config: { serverId, endpoints, ...(options.era ? { era: options.era } : {}) },
    async [Symbol.asyncDispose]() {
      await Promise.all(relays.map((r) => r.close()));
      await member.stop();
    },
  };
}

/** How one call ended. */
export type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number };

/**
 * Waits for a call and classifies how it ended; fails (rejects) when it has not settled within `limit` ms: a hang.
 * Leaves no timer behind.
 */
export async function settle<T>(call: Promise<T>, limit: number, what = "call"): Promise<Outcome<T>> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${limit}ms`)), limit);
  });
  try {
    return await Promise.race([
      call.then(
        (value): Outcome<T> => ({ ok: true, value, ms: performance.now() - started }),
        (error): Outcome<T> => ({ ok: false, error, ms: performance.now() - started }),
      ),
      hang,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `Class:code` of an error, for tallies and messages. */
export function describe(error: unknown): string {
  if (error instanceof FederationError) return `${error.name}:${error.code}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Counts the values of a list. */
export function tally(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** The first text block of a tool result. */
export function text(result: { content: unknown }): string {
  return (result.content as { text: string }[])[0]!.text;
}
