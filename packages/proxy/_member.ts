// Internal: one registered member: its channels, state machine, routing, failover and reconnection (its heartbeat
// and token renewal: _member_health.ts).
import { ConnectionError, type FederationError, TimeoutError } from "../core/errors.ts";
import type { Channel } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { FederationConfig } from "../core/types.ts";
import type { LoggingLevel } from "../core/mcp_types.ts";
import type {
  Client,
  ClientCapabilities,
  Implementation,
  PriorDiscovery,
  RequestOptions,
  ServerCapabilities,
} from "../core/_sdk.ts";
import { backoffDelay } from "../core/backoff.ts";
import { settledWithin } from "../core/_sleep.ts";
import { timeoutSignal } from "../core/_timeout_signal.ts";
import { failedFast, foundNothingListening, probeUntilAnswered, probeUrl } from "./_probe.ts";
import { endedCallerWait, MemberChannel } from "./_channel.ts";
import { failsChannel, isMemberAnswer, isSessionLost, toFederationError } from "./_errors.ts";
import { CallRegistry, type CallTable } from "./_relation.ts";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../core/websocket_transport.ts";
import type { TokenSource } from "./_token_source.ts";
import type { CallOptions } from "./call_options.ts";
import type { FederationEventType, MemberState } from "./events.ts";
import { ToolSafety } from "./_tool_safety.ts";
import { MemberHealth } from "./_member_health.ts";
import { setupInbound } from "./_member_inbound.ts";
import type { BackoffPolicy, EraPreference, RoutingPolicy } from "./options.ts";
import type { ServerRequestHandler } from "./server_requests.ts";
import type { RequestRunner } from "./request_runner.ts";
import type { ChannelStatus, MemberEra, ServerStatus } from "./status.ts";
import { ListenStream } from "./_listen.ts";
import type { ModernEndpoint } from "./_tasks.ts";
import type { CachedList, CacheHint } from "./_cache_hint.ts";
import { LATENCY_REFRESH_MS, LATENCY_SEED_SAMPLES, REFRESH_CALLS, TAKEOVER_FACTOR } from "./_latency.ts";

export interface MemberSettings {
  clientInfo: Implementation;
  connectTimeout: number;
  requestTimeout: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  backoff: BackoffPolicy;
  routing: RoutingPolicy;
  /** Which era to speak first with a member that serves both. */
  eraPreference: EraPreference;
  logger: Logger;
  /** Largest message sent to a member, in bytes. @default {DEFAULT_MAX_MESSAGE_BYTES} */
  maxMessageBytes?: number | undefined;
  /** The current handler of members' server-to-client requests (it may change after registration). */
  serverRequestHandler: () => ServerRequestHandler | undefined;
  /** Reports a state change, an error or a notification; the proxy builds the typed event of its kind. */
  emit: (type: FederationEventType, init: MemberEventInit) => void;
  /** Uniform numbers in [0, 1) for backoff jitter. */
  random: () => number;
  /** Runs before every connect of a channel (the outbound guard). */
  beforeConnect?: ((url: string, signal: AbortSignal | undefined) => Promise<void>) | undefined;
}

/** What a member reports with an event (which fields apply depends on the type; see `events.ts`). */
export interface MemberEventInit {
  serverId: string;
  channel?: Channel | undefined;
  cause?: Error | undefined;
  method?: string | undefined;
  params?: Record<string, unknown> | undefined;
  /** The member's era when it happened (state events). */
  era?: MemberEra | undefined;
}

/**
 * How long, at most, a channel connecting at registration waits for the era verdict of the channel connecting first,
 * in ms; past it, it probes the member itself.
 */
const PRIOR_WAIT_MS = 1_000;
/** Least time between two reconnection attempts of a channel that calls start, in ms. */
const WAKE_SPACING_MS = 100;
/** Longest a `/healthz` probe may take, in ms (less when `connectTimeout` is shorter). */
const PROBE_TIMEOUT_MS = 1_000;

export class Member {
  readonly serverId: string;
  readonly config: FederationConfig;
  state: MemberState = "connecting";
  serverInfo: Implementation | undefined;
  capabilities: ServerCapabilities | undefined;
  instructions: string | undefined;
  /** The member's era, as its latest connection found it. */
  era: MemberEra | undefined;
  /** The level of log messages asked of it (`logging/setLevel`; a modern member gets it in each request's `_meta`). */
  logLevel: LoggingLevel | undefined;
  /** The cache hints of its last list results (modern members), by list. */
  readonly cacheHints: Partial<Record<CachedList, CacheHint>> = {};
  lastError: FederationError | undefined;
  readonly channels: Partial<Record<Channel, MemberChannel>> = {};
  #settings: MemberSettings;
  #tokens: TokenSource;
  #inFlight = 0;
  /** Calls `auto` routing has routed since the channel not chosen last carried one to refresh its estimate. */
  #sinceRefresh = 0;
  #idle: (() => void)[] = [];
  #closing = false;
  #health: MemberHealth;
  #reinitializing = new Map<Channel, Promise<void>>();
  /** Which of its tools may be retried, as last listed. */
  readonly tools: ToolSafety = new ToolSafety();
  #calls = new CallRegistry();
  /** A modern member's `subscriptions/listen` stream (on its control channel, else its data channel). */
  #listen: ListenStream;
  /** The era verdict of the latest connection that probed, and when it was found (`performance.now()`). */
  #verdict: { prior: PriorDiscovery; at: number } | undefined;

  constructor(config: FederationConfig, tokens: TokenSource, settings: MemberSettings) {
    this.serverId = config.serverId;
    this.config = config;
    this.#settings = settings;
    this.#tokens = tokens;
    this.#health = new MemberHealth({
      serverId: this.serverId,
      tokens,
      heartbeatInterval: settings.heartbeatInterval,
      heartbeatTimeout: settings.heartbeatTimeout,
      logger: settings.logger,
      channels: () => this.#list(),
      control: () => this.channels.control,
      reconnect: (channel) => this.#connect(channel),
      emitError: (cause) => this.#emit("error", { channel: "control", cause: cause as Error }),
    });
    const carrier = config.endpoints.control !== undefined ? "control" : "data";
    this.#listen = new ListenStream({
      serverId: this.serverId,
      logger: settings.logger,
      timeout: settings.requestTimeout,
      carrier,
      emitError: (cause) => this.#emit("error", { channel: carrier, cause }),
    });
    // Declared always: whether a request can be answered depends on the handler (and the client behind it) at the
    // time it arrives, and one that cannot gets a clear JSON-RPC error. (A modern member's call states its own when it
    // knows better: the client's behind the gateway, or none when nobody can answer; _requests.ts modernParams.)
    // Both elicitation modes and sampling with tools are declared explicitly: the SDK's `elicitInput` on a member
    // requires `elicitation.form` (an empty object is not enough), and `createMessage` with tools `sampling.tools`.
    const capabilities: ClientCapabilities = {
      sampling: { tools: {} },
      elicitation: { form: {}, url: {} },
      roots: { listChanged: true },
    };
    const stdio = config.endpoints.stdio;
    for (const kind of ["control", "data", "stdio"] as const) {
      // A stdio channel is shown as its command only: its arguments may name private paths.
      const url = kind === "stdio" ? (stdio ? `stdio:${stdio.command}` : undefined) : config.endpoints[kind];
      if (url === undefined) continue;
      this.channels[kind] = new MemberChannel({
        serverId: this.serverId,
        kind,
        url,
        ...(kind === "stdio" && stdio
          ? {
            stdio: { endpoint: stdio, logger: settings.logger, cancelledGrace: settings.requestTimeout },
          }
          : {}),
        tokens,
        clientInfo: settings.clientInfo,
        capabilities,
        connectTimeout: settings.connectTimeout,
        eraPreference: settings.eraPreference,
        calls: this.#calls,
        maxMessageBytes: settings.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        // Notifications ride the control channel when there is one: the data channel then needs no standing GET
        // stream (it costs about half of a member's memory). A data-only member keeps it.
        serverStream: kind === "control" || config.endpoints.control === undefined,
        setup: (client, channel, calls) => this.#setupClient(client, channel, calls),
        onDown: (channel, cause) => this.#channelDown(channel, cause),
        beforeConnect: settings.beforeConnect,
      });
    }
  }

  /** Where a raw 2026-07-28 request reaches this member (its data endpoint; the tasks extension, `_tasks.ts`). */
  modernEndpoint(): ModernEndpoint | undefined {
    const url = this.config.endpoints.data;
    if (url === undefined) return undefined;
    const tokens = this.#tokens;
    return {
      serverId: this.serverId,
      url,
      authorization: (user) => user ? tokens.authorizationFor(user) : tokens.authorization(),
      guard: this.#settings.beforeConnect,
      clientInfo: this.#settings.clientInfo,
      maxBytes: this.#settings.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      requestTimeout: this.#settings.requestTimeout,
    };
  }

  #list(): MemberChannel[] {
    return [this.channels.control, this.channels.data, this.channels.stdio].filter((c): c is MemberChannel =>
      c !== undefined
    );
  }

  /** Whether calls can be made now. */
  get usable(): boolean {
    return !this.#closing && this.#list().some((c) => c.isUp);
  }

  /** Connects every offered channel; resolves when at least one is up, rejects (and cleans up) when none is. */
  async start(signal?: AbortSignal): Promise<void> {
    this.#emit("connecting", {});
    const channels = this.#list();
    // The first channel finds the member's era; the others connect with its verdict (no second probe), or probe
    // themselves when it takes long or fails.
    let settle!: (prior: PriorDiscovery | undefined) => void;
    const verdict = new Promise<PriorDiscovery | undefined>((resolve) => settle = resolve);
    const lazyData = this.channels.control !== undefined;
    const results = await Promise.allSettled(channels.map(async (channel, i) => {
      if (i > 0 && lazyData && channel.kind === "data") return await this.#defer(channel, verdict, signal);
      if (i === 0) {
        try {
          await this.#connect(channel, signal);
        } finally {
          settle(this.#prior(channel.client));
        }
        return;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const prior = await Promise.race([
        verdict,
        new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), PRIOR_WAIT_MS)),
      ]);
      clearTimeout(timer);
      await this.#connect(channel, signal, prior);
    }));
    if (this.#closing) {
      throw new ConnectionError(`Server '${this.serverId}' was removed while connecting`, {
        serverId: this.serverId,
        code: "ERR_CLOSED",
      });
    }
    const failures = results.flatMap((r) => r.status === "rejected" ? [r.reason as FederationError] : []);
    if (failures.length === channels.length) {
      // The most telling failure: a refused token or a cancellation explains more than a timeout or a refusal.
      const priority = ["AuthenticationError", "CancelledError", "TimeoutError"];
      const rank = (e: FederationError) => priority.includes(e.name) ? priority.indexOf(e.name) : priority.length;
      throw failures.reduce((best, e) => rank(e) < rank(best) ? e : best);
    }
    channels.forEach((channel, i) => {
      const result = results[i]!;
      if (result.status === "rejected") {
        channel.lastError = result.reason as FederationError;
        this.#emit("error", { channel: channel.kind, cause: channel.lastError });
        this.#scheduleReconnect(channel);
      }
    });
    this.#updateState(undefined, undefined);
    this.#health.startHeartbeat();
  }

  /**
   * Registers a data channel beside a control channel without opening its MCP connection: one authenticated request
   * verifies the endpoint (while the control channel connects), and with the control channel's era verdict the channel
   * is up, deferred: a 2025-11-25 member's session opens on the first call it carries, a 2026-07-28 member has none
   * to open. When the control channel finds no verdict (it failed, or took longer than {@link PRIOR_WAIT_MS}), the data
   * channel connects in full itself.
   */
  async #defer(
    channel: MemberChannel,
    verdict: Promise<PriorDiscovery | undefined>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    channel.state = "connecting";
    const verified = channel.verify(signal);
    // Observed at once: its failure matters only when the control channel gives a verdict.
    verified.catch(() => {});
    // A control channel without a verdict PRIOR_WAIT_MS after the verification settled (a member slow to answer its
    // upgrade) must not hold the data channel up to its connectTimeout. Counted from the verification, not from the
    // start: when many members register at once, both requests wait in the same queues, and the verdict comes late.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const prior = await Promise.race([
      verdict,
      verified.then(() => {}, () => {}).then(() =>
        new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), PRIOR_WAIT_MS))
      ),
    ]);
    clearTimeout(timer);
    if (prior === undefined) return await this.#connect(channel, signal);
    let verifiedMs: number;
    try {
      verifiedMs = await verified;
    } catch (error) {
      channel.state = "down";
      channel.lastError = error as FederationError;
      throw error;
    }
    if (this.#closing) return;
    channel.markDeferred(prior, verifiedMs);
  }

  /** The era verdict of a connection, for a sibling's connect. */
  #prior(client: Client | undefined): PriorDiscovery | undefined {
    if (!client) return undefined;
    const era = client.getProtocolEra();
    const discover = client.getDiscoverResult();
    if (era === "modern" && discover) return { kind: "modern", discover };
    return era === "legacy" ? { kind: "legacy" } : undefined;
  }

  /**
   * Connects a channel with `prior` (the sibling's verdict at registration), else with a verdict a sibling found after
   * this channel went down (the member as it is since), else probing the member's era afresh: a member restarted as
   * the other era is seen as it is now.
   */
  async #connect(channel: MemberChannel, signal?: AbortSignal, prior?: PriorDiscovery): Promise<void> {
    if (!channel.isUp) channel.state = "connecting";
    const control = this.channels.control;
    const found =
      channel.kind === "data" && channel.client === undefined && channel.mayDefer && control?.client && control.isUp
        ? this.#prior(control.client)
        : undefined;
    if (found) {
      // A data channel reconnecting while the control channel is up: verified, its connection opened on first use,
      // as at registration (#defer); after a deferred opening failed, it connects in full until that succeeds.
      try {
        const verifiedMs = await channel.verify(signal);
        if (!this.#closing) channel.markDeferred(found, verifiedMs);
        return;
      } catch (error) {
        if (!channel.isUp) channel.state = "down";
        channel.lastError = error as FederationError;
        throw error;
      }
    }
    const verdict = this.#verdict;
    if (prior === undefined && verdict && channel.downSince !== undefined && verdict.at > channel.downSince) {
      prior = verdict.prior;
    }
    try {
      const client = await channel.open(signal, prior);
      if (prior === undefined) {
        const found = this.#prior(client);
        if (found) this.#verdict = { prior: found, at: performance.now() };
      }
      if (this.#closing) {
        await client.close().catch(() => {});
        return;
      }
      // A member restarted with another version, capabilities or era is described as it is now.
      this.serverInfo = client.getServerVersion();
      this.capabilities = client.getServerCapabilities();
      this.instructions = client.getInstructions();
      const era = client.getProtocolEra();
      if (era !== this.era) {
        // Hints of the other era's lists say nothing now.
        for (const list of Object.keys(this.cacheHints) as CachedList[]) delete this.cacheHints[list];
      }
      this.era = era;
      const previous = channel.adopt(client);
      previous?.close().catch(() => {});
      if (channel.kind === "control") this.#health.scheduleRenewal();
      this.#listen.connected(channel.kind, client);
    } catch (error) {
      if (!channel.isUp) channel.state = "down";
      channel.lastError = error as FederationError;
      throw error;
    }
  }

  /** Handlers of what the member sends (_member_inbound.ts). */
  #setupClient(client: Client, channel: MemberChannel, calls: CallTable): void {
    setupInbound(client, channel, calls, {
      serverId: this.serverId,
      logger: this.#settings.logger,
      serverRequestHandler: this.#settings.serverRequestHandler,
      toolsChanged: () => this.tools.forget(),
      notify: (method, params) => this.#emit("notification", { channel: channel.kind, method, params }),
    });
  }

  #route(preferred: Channel | undefined, exclude?: MemberChannel): MemberChannel | undefined {
    const up = this.#list().filter((c) => c.isUp && c !== exclude);
    if (up.length <= 1) return up[0];
    const want = preferred ?? (this.#settings.routing === "auto" ? undefined : this.#settings.routing);
    if (want) return up.find((c) => c.kind === want) ?? up[0];
    const [a, b] = up as [MemberChannel, MemberChannel];
    // Measured from the first call: a channel with too few samples for an estimate, counting the calls on their way,
    // carries the next call (under load, the seed's calls are a seed's worth, not every call until the first answers).
    const pending = (c: MemberChannel) => c.callSamples + c.callsInFlight;
    const unsure = pending(a) <= pending(b) ? a : b;
    if (pending(unsure) < LATENCY_SEED_SAMPLES) return unsure;
    const [fast, slow] = (b.callLatency ?? Infinity) < (a.callLatency ?? Infinity) ? [b, a] : [a, b];
    // Only the chosen channel gets fresh samples: now and then the other one carries one call (see _latency.ts for how
    // often), so that its estimate cannot go stale and lock routing onto the slower channel; and while the control
    // channel's latest sample is well under the data channel's estimate, it keeps carrying them until its own estimate
    // says which is faster (a WebSocket measured while cold takes over in a few calls, not after a window of refreshes).
    // Not the other way round: under load, the WebSocket's calls wait in line at the member, a lone HTTP call beside
    // them now and then skips the line, and each costs about three times the CPU (on 2 cores, CPU is calls/s): the data
    // channel takes the calls on its estimate only (after up to five refreshes). Measuring calls go one at a time:
    // under load, latencies swing with the queue, and one lucky sample would otherwise send every call routed before
    // the next answer onto the other channel (a check on its way for over LATENCY_REFRESH_MS, a long tool call, no
    // longer holds the next one back; calls sent there for other reasons never do).
    const now = performance.now();
    if (slow.checkingSince !== undefined && now - slow.checkingSince < LATENCY_REFRESH_MS) return fast;
    const refresh = ++this.#sinceRefresh >= REFRESH_CALLS && now - slow.lastCallAt > LATENCY_REFRESH_MS;
    if (refresh) this.#sinceRefresh = 0;
    if (
      !refresh &&
      (slow.kind !== "control" ||
        (slow.latestCallLatency ?? Infinity) >= (fast.callLatency ?? Infinity) * TAKEOVER_FACTOR)
    ) {
      return fast;
    }
    slow.checkingSince = now;
    return slow;
  }

  /** Runs one request on the routed channel with failover; always ends in a result or a FederationError. */
  async request<T>(what: string, run: RequestRunner<T>, options: CallOptions & { safe: boolean }): Promise<T> {
    if (this.#closing) {
      throw new ConnectionError(`Server '${this.serverId}' is being removed`, {
        serverId: this.serverId,
        code: "ERR_CLOSED",
      });
    }
    const timeout = options.timeout ?? this.#settings.requestTimeout;
    const budget: CallBudget = { timeout, deadline: performance.now() + timeout, late: false };
    let first = this.#route(options.channel);
    if (!first) {
      // Waking the member comes out of the call's time too.
      budget.late = true;
      if (await this.#wake(options.signal, remaining(budget))) first = this.#route(options.channel);
    }
    if (!first) {
      throw new ConnectionError(`Server '${this.serverId}' has no usable channel (${this.state})`, {
        serverId: this.serverId,
        ...(this.lastError ? { cause: this.lastError } : {}),
      });
    }
    this.#inFlight++;
    try {
      return await this.#attempt(what, run, options, first, true, budget);
    } finally {
      if (--this.#inFlight === 0) { for (const resolve of this.#idle.splice(0)) resolve(); }
    }
  }

  async #attempt<T>(
    what: string,
    run: RequestRunner<T>,
    options: CallOptions & { safe: boolean },
    channel: MemberChannel,
    mayRetry: boolean,
    budget: CallBudget,
  ): Promise<T> {
    const { timeout } = budget;
    // Whether waking the member, an opening or an earlier attempt may have taken some of the call's time.
    const late = budget.late || !mayRetry || channel.client === undefined;
    let client: Client;
    // The call is on its way over this channel from now, its opening included (for routing: see #route).
    channel.callsInFlight++;
    try {
      // A deferred channel opens its connection now (_channel.ts `session`), within the call's timeout and signal.
      client = channel.client ?? await channel.session(timeout, options.signal, remaining(budget));
    } catch (error) {
      channel.callsInFlight--;
      // The request never reached the member: the other channel may carry it (not once the call's time is up or it
      // was cancelled; the opening's own failure, its connectTimeout included, is not the call's).
      const other = this.#route(undefined, channel);
      if (mayRetry && other && !endedCallerWait(error)) {
        return await this.#attempt(what, run, options, other, false, budget);
      }
      throw error;
    }
    // An opening or an earlier attempt took all of the call's time: the request is not sent.
    if (performance.now() >= budget.deadline) {
      channel.callsInFlight--;
      throw this.#timedOut(what, channel, timeout, " before it was sent");
    }
    // What waking the member, an opening or an earlier attempt took comes off the call's timeout: a call never waits
    // beyond it in all. A late request runs first within what is left; the member's first answer or progress gives the
    // call its whole timeout again (the SDK's own timer, which each progress restarts, and each round of input has).
    const firstWindow = late ? timeoutSignal(remaining(budget), options.signal) : undefined;
    const alive = () => {
      firstWindow?.disarm();
      budget.deadline = Math.max(budget.deadline, performance.now() + timeout);
    };
    // The call travels to the transport as `relatedRequestId` (see _relation.ts), which binds its request ids to it.
    const relation = this.#calls.open({
      onrequest: options.onrequest,
      onlog: options.onlog,
      onBehalfOf: options.onBehalfOf,
      ...(firstWindow ? { onanswer: alive } : {}),
    });
    const requestOptions: RequestOptions = { timeout, resetTimeoutOnProgress: true, relatedRequestId: relation.token };
    const signal = firstWindow?.signal ?? options.signal;
    if (signal) requestOptions.signal = signal;
    const onprogress = options.onprogress;
    if (onprogress) {
      requestOptions.onprogress = (progress) => {
        alive();
        onprogress(progress);
      };
    }
    const started = performance.now();
    try {
      let result: T;
      try {
        result = await run(client, requestOptions);
      } finally {
        channel.callsInFlight--;
        channel.checkingSince = undefined;
      }
      channel.recordCallLatency(performance.now() - started);
      return result;
    } catch (raw) {
      // A JSON-RPC error the member answered with took a round trip like a result: without it, a channel whose calls
      // all end in errors would stay unmeasured, and take every call as the seed's.
      if (isMemberAnswer(raw)) channel.recordCallLatency(performance.now() - started);
      relation.end();
      // Stopped now: a retry below runs under a window of its own.
      firstWindow?.clear();
      if (firstWindow?.expired && !options.signal?.aborted) throw this.#timedOut(what, channel, timeout, "", raw);
      const context = {
        serverId: this.serverId,
        channel: channel.kind,
        what,
        signal: options.signal,
        timeoutMs: timeout,
        remote: relation.remoteError,
      };
      if (mayRetry && isSessionLost(raw)) {
        // The member forgot our HTTP session (it restarted): the request never ran, so re-initialize (within what is
        // left of the call's time) and retry.
        await settledWithin(this.#reinitialize(channel), remaining(budget), options.signal);
        if (channel.isUp) return await this.#attempt(what, run, options, channel, false, budget);
      }
      const error = toFederationError(raw, context);
      // One request's failure fails that request only; the channel fails when its connection did.
      if (failsChannel(raw, error, relation.remoteError) && channel.client === client) channel.fail(error);
      const other = this.#route(undefined, channel);
      if (mayRetry && other && error instanceof ConnectionError && options.safe) {
        this.#settings.logger.debug("Retrying on the other channel", {
          serverId: this.serverId,
          what,
          channel: other.kind,
        });
        return await this.#attempt(what, run, options, other, false, budget);
      }
      throw error;
    } finally {
      firstWindow?.clear();
      relation.end();
    }
  }

  /** The `TimeoutError` of a call whose whole time ran out (`when` completes the message). */
  #timedOut(what: string, channel: MemberChannel, timeout: number, when: string, cause?: unknown): TimeoutError {
    return new TimeoutError(`${what} on server '${this.serverId}' timed out (timeout: ${timeout}ms)${when}`, {
      serverId: this.serverId,
      channel: channel.kind,
      timeoutMs: timeout,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  #reinitialize(channel: MemberChannel): Promise<void> {
    let pending = this.#reinitializing.get(channel.kind);
    if (!pending) {
      pending = this.#connect(channel).catch((error) => {
        channel.lastError = error;
        this.#scheduleReconnect(channel);
      }).finally(() => this.#reinitializing.delete(channel.kind));
      this.#reinitializing.set(channel.kind, pending);
    }
    return pending;
  }

  #channelDown(channel: MemberChannel, cause: FederationError): void {
    this.lastError = cause;
    if (this.#closing) return;
    const stableFor = channel.upSince === undefined ? 0 : performance.now() - channel.upSince;
    if (stableFor >= this.#settings.backoff.resetAfter) channel.attempts = 0;
    if (channel.kind === "control") this.#health.cancelRenewal();
    this.#scheduleReconnect(channel);
    this.#updateState(channel.kind, cause);
  }

  /**
   * Schedules the channel's next reconnection attempt after its backoff delay. While it waits for a member that was
   * not listening, a `/healthz` probe runs (`_probe.ts`) and the first answer starts the attempt at once; a call that
   * finds no channel up starts it at once too (`#wake`).
   */
  #scheduleReconnect(channel: MemberChannel, delay?: number): void {
    if (this.#closing || channel.reconnectTimer !== undefined) return;
    const policy = this.#settings.backoff;
    if (channel.attempts >= policy.maxAttempts) {
      channel.state = "down";
      this.#updateState(channel.kind, channel.lastError);
      return;
    }
    delay ??= backoffDelay(policy, channel.attempts, this.#settings.random);
    channel.attempts++;
    channel.state = "connecting";
    channel.reconnectTimer = setTimeout(() => this.#reconnectNow(channel), delay);
    const interval = policy.probeInterval ?? 0;
    const url = channel.kind === "stdio" ? undefined : probeUrl(channel.url);
    if (url !== undefined && interval > 0 && delay > interval && foundNothingListening(channel.lastError)) {
      const probe = new AbortController();
      channel.probe = probe;
      const timeout = Math.min(this.#settings.connectTimeout, PROBE_TIMEOUT_MS);
      probeUntilAnswered(
        { url, interval, timeout, beforeConnect: this.#settings.beforeConnect },
        probe.signal,
        () => void this.#reconnectNow(channel),
      );
    }
  }

  /** Starts the channel's scheduled attempt now (or joins the one in progress); never rejects. */
  #reconnectNow(channel: MemberChannel): Promise<void> {
    if (channel.attempt !== undefined) return channel.attempt;
    if (this.#closing || channel.reconnectTimer === undefined) return Promise.resolve();
    channel.stopWaiting();
    channel.attemptedAt = performance.now();
    const attempt: Promise<void> = this.#reconnect(channel).finally(() => {
      if (channel.attempt === attempt) channel.attempt = undefined;
    });
    channel.attempt = attempt;
    return attempt;
  }

  async #reconnect(channel: MemberChannel): Promise<void> {
    try {
      await this.#connect(channel);
      if (this.#closing) return;
      this.#updateState(channel.kind, undefined);
      // The member is back: a sibling channel still waiting out its backoff tries again now.
      for (const sibling of this.#list()) {
        if (sibling === channel || sibling.reconnectTimer === undefined) continue;
        sibling.stopWaiting();
        this.#scheduleReconnect(sibling, 0);
      }
    } catch (error) {
      if (this.#closing) return;
      this.#emit("error", { channel: channel.kind, cause: error as Error });
      this.#scheduleReconnect(channel);
    }
  }

  /**
   * A call found no channel up: the channels waiting to reconnect after a refused or closed connection try now (not
   * one that timed out, whose attempt could hold the call up to `connectTimeout`; not a stdio channel, whose every
   * attempt is a new process; at most one call-started attempt per channel every {@link WAKE_SPACING_MS}), and the
   * call waits for the first to come up, at most `connectTimeout` and at most `wait` ms (what is left of its time).
   * Resolves whether a channel is up.
   */
  async #wake(signal: AbortSignal | undefined, wait: number): Promise<boolean> {
    const now = performance.now();
    const waking = this.#list().filter((c) =>
      c.kind !== "stdio" && failedFast(c.lastError) &&
      (c.attempt !== undefined || (c.reconnectTimer !== undefined && now - c.attemptedAt >= WAKE_SPACING_MS))
    );
    if (waking.length === 0) return false;
    let up!: () => void;
    const anyUp = new Promise<void>((resolve) => up = resolve);
    const reconnected = Promise.all(waking.map((c) => this.#reconnectNow(c).then(() => c.isUp && up())));
    await settledWithin(Promise.race([reconnected, anyUp]), Math.min(this.#settings.connectTimeout, wait), signal);
    return this.usable;
  }

  #updateState(channel: Channel | undefined, cause: Error | undefined): void {
    if (this.#closing) return;
    const channels = this.#list();
    const up = channels.filter((c) => c.isUp).length;
    let next: MemberState;
    if (up === channels.length) next = "connected";
    else if (up > 0) next = "degraded";
    else if (channels.some((c) => c.reconnectTimer !== undefined || c.state === "connecting")) next = "reconnecting";
    else next = "disconnected";
    if (next === this.state) return;
    this.state = next;
    this.#emit(next, { channel, cause });
  }

  #emit(type: FederationEventType, init: Omit<MemberEventInit, "serverId">): void {
    this.#settings.emit(type, { serverId: this.serverId, era: this.era, ...init });
  }

  /** A modern member's `subscriptions/listen` stream (list changes, resource updates; see `_listen.ts`). */
  get listen(): ListenStream {
    return this.#listen;
  }

  status(): ServerStatus {
    const channels: ServerStatus["channels"] = {};
    for (const channel of this.#list()) {
      const status: ChannelStatus = {
        url: channel.url,
        state: channel.isUp ? "up" : channel.state,
        latencyMs: channel.latency,
        ...(channel.deferred ? { deferred: true } : {}),
        reconnectAttempts: channel.attempts,
        lastError: channel.lastError,
      };
      if (channel.kind === "stdio") status.pid = channel.pid;
      channels[channel.kind] = status;
    }
    return {
      serverId: this.serverId,
      state: this.state,
      era: this.era,
      channels,
      serverInfo: this.serverInfo,
      capabilities: this.capabilities,
      lastError: this.lastError,
      inFlight: this.#inFlight,
    };
  }

  /** Stops new calls, waits up to `drainTimeout` for in-flight ones, then closes both channels. */
  async close(drainTimeout: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#health.stop();
    this.#listen.close();
    for (const channel of this.#list()) channel.stopWaiting();
    if (this.#inFlight > 0 && drainTimeout > 0) {
      await settledWithin(new Promise<void>((resolve) => this.#idle.push(resolve)), drainTimeout);
    }
    await Promise.all(this.#list().map((channel) => channel.close()));
    this.state = "closed";
    this.#emit("closed", {});
  }
}

/** A call's timeout and the moment it runs out, shared by its attempts (an opening, a retry on the other channel). */
interface CallBudget {
  /** The call's timeout in ms, as the caller gave it (what its `TimeoutError` reports). */
  timeout: number;
  /** When it runs out (`performance.now()` clock). */
  deadline: number;
  /** Whether waking the member took some of it before the first attempt. */
  late: boolean;
}

/** The ms left of a call's timeout, at least 1 (an exhausted budget times out the next wait at once). */
function remaining(budget: CallBudget): number {
  return Math.max(1, Math.ceil(budget.deadline - performance.now()));
}
