/**
 * The load run shared by `load_test.ts` (10,000 calls) and the soak (`deno task soak`, by duration): members
 * restarted at random while calls are in flight, and every call accounted for.
 *
 * @module
 */

import { ConnectionError, FederationError, FederationProxy } from "../../mod.ts";
import { SECRET, TestMember, waitFor } from "../_support/members.ts";
import { describe } from "../_support/relayed.ts";
import { sleep } from "../../packages/core/_sleep.ts";

/** A settled call is checked against its member's executions this long after it settled, then forgotten. */
const VERIFY_AFTER_MS = 5_000;

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** Members to federate. */
  members: number;
  /** Calls to make; the run ends when all have settled (unless `durationMs` is given). */
  calls: number;
  /** Run for this long instead, then let the calls in flight settle. */
  durationMs?: number;
  /** Calls in flight at any time. */
  concurrency: number;
  /** Mean time between two member restarts, in ms. */
  restartEvery: number;
  /** Most members restarting at once. */
  maxRestarting: number;
  /** Fraction of calls that go to the read-only `echo` (retried on the other channel when safe). */
  echoShare: number;
  /** Called about every `sampleEvery` ms with the calls settled so far (the soak prints RSS). */
  onSample?: (settled: number) => void;
  /** @default {10000} */
  sampleEvery?: number;
}

/** What a run did, and what every member executed. */
export interface LoadReport {
  calls: number;
  ok: number;
  errors: Record<string, number>;
  /** Successful `record` calls. */
  recordOk: number;
  /** Failed `record` calls, by error. */
  recordErrors: Record<string, number>;
  /** Member restarts begun. */
  restarts: number;
  /** `record` executions at the members (first runs of an id). */
  executed: number;
  /** Executions of an id beyond its first: must be 0. */
  duplicates: number;
  /** Failed `record` calls that had nonetheless run at the member, by error. */
  ranThoughFailed: Record<string, number>;
  /** Successful `record` calls the member has no execution for: must be 0. */
  okNotExecuted: number;
  /** Ids executed at the member that no call reported (neither result nor error): must be 0. */
  unknownExecuted: number;
  /** Errors that are not a FederationError: must be empty. */
  untyped: string[];
  /** Unhandled promise rejections seen during the run: must be empty. */
  unhandled: string[];
  /** Calls that settled more than once: must be 0. */
  doubleSettled: number;
  ms: number;
}

/** Runs the load and returns the accounting; closes everything it opened. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const unhandled: string[] = [];
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    // With where it came from: a rejection nobody observed is found by its stack, not by its code.
    const stack = event.reason instanceof Error ? event.reason.stack?.split("\n").slice(1, 8).join("\n") : undefined;
    unhandled.push(stack ? `${describe(event.reason)}\n${stack}` : describe(event.reason));
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  const members = await Promise.all(Array.from({ length: options.members }, (_, i) => TestMember.start(`load-${i}`)));
  const proxy = new FederationProxy(SECRET, {
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    heartbeatInterval: 500,
    heartbeatTimeout: 500,
    connectTimeout: 1_000,
    requestTimeout: 10_000,
    drainTimeout: 0,
    backoff: { initialDelay: 20, maxDelay: 200 },
  });
  const started = performance.now();
  const errors: Record<string, number> = {};
  const untyped: string[] = [];
  /** Per member: id → "ok" or the error's `Class:code`, for `record` calls not yet verified. */
  const outcomes = members.map(() => new Map<string, string>());
  /** `record` calls in the order they settled, verified and forgotten after a grace period (bounded memory). */
  const settledQueue: { index: number; id: string; at: number }[] = [];
  let queueHead = 0;
  const tallies = {
    executed: 0,
    okNotExecuted: 0,
    recordOk: 0,
    recordErrors: {} as Record<string, number>,
    ranThoughFailed: {} as Record<string, number>,
  };
  /** Checks one settled `record` call against its member's executions, then forgets both. */
  const verify = (index: number, id: string) => {
    const outcome = outcomes[index]!.get(id)!;
    const ids = members[index]!.stats.ids;
    const ran = ids.has(id);
    if (ran) tallies.executed++;
    if (outcome === "ok") {
      tallies.recordOk++;
      if (!ran) tallies.okNotExecuted++;
    } else {
      tallies.recordErrors[outcome] = (tallies.recordErrors[outcome] ?? 0) + 1;
      if (ran) tallies.ranThoughFailed[outcome] = (tallies.ranThoughFailed[outcome] ?? 0) + 1;
    }
    outcomes[index]!.delete(id);
    ids.delete(id); // a later execution of this id would show as an execution without a call
  };
  const prune = (olderThan: number) => {
    while (queueHead < settledQueue.length && settledQueue[queueHead]!.at < olderThan) {
      const { index, id } = settledQueue[queueHead++]!;
      verify(index, id);
    }
    if (queueHead > 10_000) {
      settledQueue.splice(0, queueHead);
      queueHead = 0;
    }
  };
  let ok = 0;
  let issued = 0;
  let doubleSettled = 0;
  let restarts = 0;
  let running = true;
  try {
    for (const member of members) await proxy.registerServer(member.config);
    await proxy.listTools(members[0]!.serverId); // echo is read-only: safe to retry
    for (const member of members.slice(1)) await proxy.listTools(member.serverId);

    // A restart about every `restartEvery` ms, of a member that is not already restarting; a member counts as
    // restarting until the proxy can use it again, and at most `maxRestarting` are at once.
    const restarting = new Set<TestMember>();
    const restartTasks = new Set<Promise<void>>();
    const restarter = (async () => {
      while (running) {
        await sleep(options.restartEvery * (0.5 + Math.random()));
        if (!running) break;
        if (restarting.size >= options.maxRestarting) continue;
        const idle = members.filter((m) => !restarting.has(m));
        const member = idle[Math.floor(Math.random() * idle.length)];
        if (!member) continue;
        restarting.add(member);
        restarts++;
        const task = (async () => {
          await member.stop();
          await sleep(Math.random() * 100);
          await member.restart();
          await waitFor(() => proxy.getConnectedServers().includes(member.serverId), 5_000, `${member.serverId} back`);
        })().finally(() => {
          restarting.delete(member);
          restartTasks.delete(task);
        });
        restartTasks.add(task);
      }
      await Promise.all([...restartTasks]);
    })();

    const deadline = options.durationMs === undefined ? Infinity : started + options.durationMs;
    const more = () => options.durationMs === undefined ? issued < options.calls : performance.now() < deadline;
    let nextSample = performance.now() + (options.sampleEvery ?? 10_000);
    let settledCount = 0;
    let nextPrune = performance.now() + 1_000;
    const worker = async () => {
      while (more()) {
        const n = issued++;
        const index = n % members.length;
        const serverId = members[index]!.serverId;
        const echo = Math.random() < options.echoShare;
        const id = `call-${n}`;
        let settledTimes = 0;
        const outcome =
          await (echo ? proxy.callTool(serverId, "echo", { text: id }) : proxy.callTool(serverId, "record", { id }))
            .then(
              () => {
                settledTimes++;
                return "ok";
              },
              (error: unknown) => {
                settledTimes++;
                if (!(error instanceof FederationError)) untyped.push(describe(error));
                return describe(error);
              },
            );
        if (settledTimes !== 1) doubleSettled++;
        settledCount++;
        if (outcome === "ok") ok++;
        else errors[outcome] = (errors[outcome] ?? 0) + 1;
        if (!echo) {
          outcomes[index]!.set(id, outcome);
          settledQueue.push({ index, id, at: performance.now() });
        }
        if (performance.now() >= nextPrune) {
          nextPrune = performance.now() + 1_000;
          prune(performance.now() - VERIFY_AFTER_MS);
        }
        if (options.onSample && performance.now() >= nextSample) {
          nextSample += options.sampleEvery ?? 10_000;
          options.onSample(settledCount);
        }
        // A failed call can fail at once (member known down): yield to timers, as a real client's retry would.
        if (outcome !== "ok") await sleep(1);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    running = false;
    await restarter;
    // Every member comes back: the proxy recovers from all of it.
    await waitFor(() => proxy.getConnectedServers().length === members.length, 10_000, "every member usable");
  } finally {
    running = false;
    await proxy.close();
    await Promise.all(members.map((m) => m.stop()));
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }

  prune(Infinity);
  let duplicates = 0;
  let unknownExecuted = 0;
  for (const member of members) {
    duplicates += member.stats.duplicates;
    unknownExecuted += member.stats.ids.size; // executions whose call was verified already, or that had no call
  }
  return {
    calls: issued,
    ok,
    errors,
    recordOk: tallies.recordOk,
    recordErrors: tallies.recordErrors,
    restarts,
    executed: tallies.executed,
    duplicates,
    ranThoughFailed: tallies.ranThoughFailed,
    okNotExecuted: tallies.okNotExecuted,
    unknownExecuted,
    untyped,
    unhandled,
    doubleSettled,
    ms: performance.now() - started,
  };
}

/** The error kinds a `record` call may report although it ran: the connection closed after the request left. */
export const MAY_HAVE_RUN = new Set([`${ConnectionError.name}:ERR_CONNECTION_CLOSED`]);
