// Internal: one channel to one member: an MCP SDK Client over a WebSocket (control), Streamable HTTP (data), or the
// stdin/stdout of a process the channel spawns (stdio; a new process on every reconnect).
import { z } from "zod";
import type { Channel } from "../core/errors.ts";
import {
  AuthenticationError,
  CancelledError,
  ConfigError,
  ConnectionError,
  type FederationError,
  ProtocolError,
  TimeoutError,
} from "../core/errors.ts";
import { exceedsBytes } from "../core/_byte_length.ts";
import { WebSocketTransport } from "../core/websocket_transport.ts";
import { LazyJsonSchemaValidator } from "../core/_lazy_validator.ts";
import { timeoutSignal } from "../core/_timeout_signal.ts";
import {
  Client,
  type ClientCapabilities,
  type Implementation,
  type PriorDiscovery,
  type RequestOptions,
  StreamableHTTPClientTransport,
  type Transport,
} from "../core/_sdk.ts";
import { RENEW_TOKEN_METHOD } from "../member/control_protocol.ts";
import { toFederationError } from "./_errors.ts";
import { IdentityTransport } from "./_identity_transport.ts";
import { type CallRegistry, type CallTable, RelatedTransport } from "./_relation.ts";
import { StreamRelations } from "../core/_stream_relations.ts";
import type { ChannelState } from "./status.ts";
import type { EraPreference } from "./options.ts";
import type { TokenSource } from "./_token_source.ts";
import type { Logger } from "../core/logger.ts";
import type { StdioEndpoint } from "../core/types.ts";
import { StdioProcessTransport } from "../core/_stdio_process.ts";
import { childEnv } from "./_stdio_env.ts";
import { SoleCallTransport } from "./_stdio_relation.ts";
import { ChannelLatency } from "./_latency.ts";
import { settledWithin } from "../core/_sleep.ts";
import { verifyEndpoint } from "./_probe.ts";
import { shareRequestTimer } from "./_request_timers.ts";

/** What a stdio channel needs to run its process. */
export interface StdioSettings {
  endpoint: StdioEndpoint;
  logger: Logger;
  /** How long a cancelled request still counts as in progress on the process (see `_stdio_relation.ts`), in ms. */
  cancelledGrace: number;
}

export interface ChannelSettings {
  serverId: string;
  kind: Channel;
  url: string;
  tokens: TokenSource;
  clientInfo: Implementation;
  capabilities: ClientCapabilities;
  connectTimeout: number;
  /** Which era to speak first with a member that serves both. */
  eraPreference: EraPreference;
  /** Whether the data channel opens the Streamable HTTP GET stream for server-initiated messages. */
  serverStream: boolean;
  /** The member's calls in progress, which the connection binds to the ids of their requests. */
  calls: CallRegistry;
  /** Largest message sent to the member, in bytes: a larger one is refused before it is sent. */
  maxMessageBytes: number;
  /** Called with the new client before `initialize`, to install handlers; `calls` are the connection's calls. */
  setup: (client: Client, channel: MemberChannel, calls: CallTable) => void;
  /** Called once per connection when it goes down. */
  onDown: (channel: MemberChannel, cause: FederationError) => void;
  /** Runs before every connect (the outbound guard); a rejection fails the connect. */
  beforeConnect?: ((url: string, signal: AbortSignal | undefined) => Promise<void>) | undefined;
  /** For the `stdio` kind: the process to run. */
  stdio?: StdioSettings | undefined;
}

/** The errors of {@link MemberChannel.session}'s own race: the caller's timeout or signal ended its wait. */
const callerLimits = new WeakSet<Error>();

/**
 * Whether `error` ended a caller's wait for a deferred channel's opening ({@link MemberChannel.session}): its own
 * timeout ran out or its signal aborted. Any other error of `session()` is the opening's own failure (the request
 * never reached the member, and the call's time is not up).
 */
export function endedCallerWait(error: unknown): boolean {
  return error instanceof Error && callerLimits.has(error);
}

/** `error`, marked as the end of a caller's wait ({@link endedCallerWait}). */
function callerLimit<E extends Error>(error: E): E {
  callerLimits.add(error);
  return error;
}

/** How long a connect's era probe may take, at most, in ms (within the connect timeout). */
const PROBE_TIMEOUT_MS = 5_000;

const RenewResultSchema = z.object({ expiresAt: z.number() }).loose();

/** One of a member's two channels. The client is replaced on each reconnection. */
export class MemberChannel {
  readonly kind: Channel;
  readonly url: string;
  state: ChannelState = "down";
  client: Client | undefined;
  /** The current connection's latency samples (requests and heartbeats). */
  #latency = new ChannelLatency();
  lastError: FederationError | undefined;
  upSince: number | undefined;
  /** When the channel last went down (`performance.now()`), if it ever did. */
  downSince: number | undefined;
  lastSuccess = 0;
  /**
   * When a call this channel carried last ended in the member's answer, a result or an error (`performance.now()`):
   * `auto` routing's refresh clock.
   */
  lastCallAt = 0;
  /** Calls on their way over this channel now, its opening included: `auto` routing's seed counts them. */
  callsInFlight = 0;
  /**
   * When `auto` routing sent this channel, as the one not chosen, a call that measures it, while no call on it has
   * ended since: the channel not chosen carries one such call at a time.
   */
  checkingSince: number | undefined;
  attempts = 0;
  /** The backoff wait before the next reconnection attempt, while there is one. */
  reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Stops the `/healthz` probe running during that wait (`_probe.ts`), while there is one. */
  probe: AbortController | undefined;
  /** The reconnection attempt in progress, while there is one (never rejects). */
  attempt: Promise<void> | undefined;
  /** When the latest reconnection attempt started (`performance.now()`). */
  attemptedAt = -Infinity;
  #settings: ChannelSettings;
  /** The era to open the deferred connection with, while the channel is up without one ({@link defer}). */
  #deferred: PriorDiscovery | undefined;
  /** The deferred connection being opened, while it is. */
  #opening: Promise<Client> | undefined;
  /** Whether the last deferred opening failed, and no connection opened since ({@link mayDefer}). */
  #deferralFailed = false;

  constructor(settings: ChannelSettings) {
    this.#settings = settings;
    this.kind = settings.kind;
    this.url = settings.url;
  }

  /**
   * Up: connected, or verified and deferred: the endpoint answered an authenticated request and accepted the token
   * ({@link markDeferred}), and the MCP connection opens on first use ({@link session}).
   */
  get isUp(): boolean {
    return this.state === "up" && (this.client !== undefined || this.#deferred !== undefined);
  }

  /**
   * Whether a reconnection may verify the channel and defer its connection again: not after a deferred opening
   * failed (an endpoint that answers the verification and fails `initialize` would go up and down with every call),
   * until a connection opened again.
   */
  get mayDefer(): boolean {
    return !this.#deferralFailed;
  }

  /** Whether the channel is up without its MCP connection: it opens on first use. */
  get deferred(): boolean {
    return this.state === "up" && this.client === undefined && this.#deferred !== undefined;
  }

  /**
   * Marks a data channel up without opening its MCP connection, once {@link verify} showed that the endpoint answers
   * and accepts the token: `prior` is the era its sibling found, the connection opens with it on first use
   * ({@link session}: a 2025-11-25 member's session then, a 2026-07-28 member has none to open). The verification's
   * round trip (`verifiedMs`) is the latency's first sample.
   */
  markDeferred(prior: PriorDiscovery, verifiedMs: number): void {
    this.#deferred = prior;
    this.#latency = new ChannelLatency();
    this.#latency.addProbe(verifiedMs);
    this.state = "up";
    this.upSince = performance.now();
    this.lastSuccess = performance.now();
  }

  /**
   * One authenticated request that opens no session (`verifyEndpoint`); resolves its round trip in ms, rejects with a
   * FederationError.
   */
  async verify(signal?: AbortSignal, timeout: number = this.#settings.connectTimeout): Promise<number> {
    const { url, serverId } = this.#settings;
    // The current token (the one the control channel connected with, moments ago): nothing to mint.
    const authorization = await this.#authorization(false);
    const started = performance.now();
    await verifyEndpoint(
      { serverId, url, authorization, timeout, beforeConnect: this.#settings.beforeConnect },
      signal,
    );
    return performance.now() - started;
  }

  /**
   * The channel's client: a deferred channel's connection is opened now (once, for every call waiting), with the
   * era found at registration, and adopted. A failure marks the channel down (its reconnection starts as after any
   * failure) and rejects with it; the request never reached the member. The end of the caller's own wait (`wait` ms,
   * what is left of its `timeout`; its `signal`) rejects with an error {@link endedCallerWait} recognizes.
   */
  async session(timeout: number, signal?: AbortSignal, wait: number = timeout): Promise<Client> {
    if (this.client) return this.client;
    const opening = this.#session();
    // The caller waits at most its own timeout (and until its signal): the opening goes on for the others, bounded by
    // connectTimeout, and fails the channel if it fails.
    const { serverId } = this.#settings;
    const base = { serverId, channel: this.kind };
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        opening,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() =>
            reject(callerLimit(
              new TimeoutError(`Connecting to server '${serverId}' (${this.kind}) timed out (timeout: ${timeout}ms)`, {
                ...base,
                timeoutMs: timeout,
              }),
            )), wait);
          if (!signal) return;
          onAbort = () =>
            reject(callerLimit(
              new CancelledError(`Call to server '${serverId}' was cancelled while connecting`, {
                ...base,
                cause: signal.reason,
              }),
            ));
          if (signal.aborted) onAbort();
          else signal.addEventListener("abort", onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }

  #session(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    const prior = this.#deferred;
    if (prior === undefined || this.state !== "up") {
      return Promise.reject(
        new ConnectionError(`Server '${this.#settings.serverId}' (${this.kind}) is not connected`, {
          serverId: this.#settings.serverId,
          channel: this.kind,
        }),
      );
    }
    // Not bound to the first caller's signal: every caller waiting shares the connect (bounded by connectTimeout).
    // The samples taken so far (the verification) stay the connection's.
    const latency = this.#latency;
    this.#opening ??= this.#open(undefined, prior).then((client) => {
      this.#opening = undefined;
      if (this.#deferred !== prior || this.state !== "up") {
        void client.close().catch(() => {});
        throw new ConnectionError(`Server '${this.#settings.serverId}' (${this.kind}) closed while connecting`, {
          serverId: this.#settings.serverId,
          channel: this.kind,
          code: "ERR_CONNECTION_CLOSED",
        });
      }
      this.#deferred = undefined;
      // Opening proves nothing by itself (a 2026-07-28 member's is no round trip): the samples and the last success
      // stay those of the verification and heartbeats.
      const lastSuccess = this.lastSuccess;
      this.adopt(client);
      this.#latency = latency;
      this.lastSuccess = lastSuccess;
      return client;
    }, (error: FederationError) => {
      this.#opening = undefined;
      if (this.#deferred === prior) {
        this.#deferralFailed = true;
        this.fail(error);
      }
      throw error;
    });
    return this.#opening;
  }

  /**
   * Opens a new connection in the member's era, the previous client, if any, kept until `adopt`. With `prior` (the
   * verdict of the member's other channel, moments ago) in that era; otherwise by the era preference: `"modern"`
   * probes (`server/discover` first, `initialize` on anything that is not modern evidence), `"legacy"` runs
   * `initialize` and probes only when the member refuses it (a 2026-07-28-only server). A stdio member is spoken to in
   * the legacy era without a probe (see `docs/architecture.md` "Eras").
   */
  async open(signal?: AbortSignal, prior?: PriorDiscovery): Promise<Client> {
    if (prior !== undefined || this.#settings.kind === "stdio" || this.#settings.eraPreference === "modern") {
      return await this.#open(signal, prior);
    }
    try {
      return await this.#open(signal, { kind: "legacy" });
    } catch (error) {
      if (!refusesLegacy(error)) throw error;
      return await this.#open(signal, undefined);
    }
  }

  async #open(signal: AbortSignal | undefined, prior: PriorDiscovery | undefined): Promise<Client> {
    const { kind, url, tokens, connectTimeout, serverId } = this.#settings;
    if (kind !== "stdio") await this.#settings.beforeConnect?.(url, signal);
    // A process gets no token.
    const authorization = kind === "stdio" ? undefined : await this.#authorization();
    const deadline = timeoutSignal(connectTimeout, signal);
    const abort = deadline.signal;
    let transport: RelatedTransport | undefined;
    let process: StdioProcessTransport | undefined;
    let connectSignal: AbortSignal | undefined = abort;
    const client = new Client(this.#settings.clientInfo, {
      capabilities: this.#settings.capabilities,
      jsonSchemaValidator: new LazyJsonSchemaValidator(),
      // The era is chosen per member (a stdio process is legacy: see `open`); a modern member's input requests are
      // fulfilled by the proxy itself, through the call's own handler (_input_required.ts).
      ...(kind === "stdio"
        ? {}
        : { versionNegotiation: { mode: "auto", probe: { timeoutMs: Math.min(connectTimeout, PROBE_TIMEOUT_MS) } } }),
      inputRequired: { autoFulfill: false },
    });
    shareRequestTimer(client);
    try {
      let inner: Transport;
      if (kind === "stdio") {
        const stdio = this.#settings.stdio!;
        const { endpoint } = stdio;
        process = new StdioProcessTransport({
          command: endpoint.command,
          args: endpoint.args ?? [],
          env: childEnv(serverId, endpoint),
          clearEnv: true,
          cwd: endpoint.cwd,
        }, {
          serverId,
          label: { serverId, channel: "stdio" },
          logger: stdio.logger,
          maxMessageBytes: this.#settings.maxMessageBytes,
        });
        inner = new SoleCallTransport(process, {
          serverId,
          logger: stdio.logger,
          cancelledGrace: stdio.cancelledGrace,
        });
      } else if (kind === "control") {
        const socket = await WebSocketTransport.connect(url, {
          headers: authorization ? { Authorization: authorization } : {},
          timeout: connectTimeout,
          signal: abort,
          maxMessageBytes: this.#settings.maxMessageBytes,
        });
        // Calls made for a user carry the user's own token in the request (_identity_transport.ts).
        inner = new IdentityTransport(socket, () => transport?.calls, tokens);
      } else {
        // Requests made while connecting are bound to the connect deadline, later ones are not.
        inner = new StreamableHTTPClientTransport(new URL(url), {
          fetch: this.#authorizedFetch(() => connectSignal, () => transport?.calls),
        });
      }
      transport = new RelatedTransport(inner, this.#settings.calls);
      this.#settings.setup(client, this, transport.calls);
      const adopted = prior !== undefined && kind !== "stdio";
      const connecting = performance.now();
      await client.connect(transport, { timeout: connectTimeout, signal: abort, ...(adopted ? { prior } : {}) });
      this.#latency = new ChannelLatency();
      // A modern connect was one round trip (`server/discover`): it is the status latency's first sample. No round trip
      // is made for a sample otherwise (an `initialize` overstates it): `auto` routing samples a channel on its first
      // calls until it has LATENCY_SEED_SAMPLES (_member.ts).
      if (client.getProtocolEra() === "modern" && !adopted) this.recordRoundTrip(performance.now() - connecting);
    } catch (error) {
      // Taken before closing (which ends the process): whether it ended by itself.
      const ended = process?.exitDescription;
      await client.close().catch(() => {});
      await transport?.close().catch(() => {});
      if (ended !== undefined && !(error instanceof ConfigError)) {
        throw new ConnectionError(
          `Cannot start server '${serverId}': its process ended (${ended}) before initialize completed (its stderr is in the log)`,
          { serverId, channel: kind, code: "ERR_CONNECTION_FAILED", cause: error },
        );
      }
      if (deadline.expired) {
        throw new TimeoutError(
          `Connecting to server '${serverId}' (${kind}) timed out (timeout: ${connectTimeout}ms)`,
          {
            serverId,
            channel: kind,
            timeoutMs: connectTimeout,
            cause: error,
          },
        );
      }
      throw toFederationError(error, { serverId, channel: kind, what: "connect", signal });
    } finally {
      deadline.clear();
    }
    connectSignal = undefined;
    return client;
  }

  /** The proxy's current `Authorization` value (a fresh token when due). */
  async #authorization(fresh = true): Promise<string | undefined> {
    const { tokens, serverId, kind } = this.#settings;
    try {
      return await tokens.authorization(fresh);
    } catch (error) {
      // The provider's own text stays in `cause`: it may quote what it read.
      throw new AuthenticationError("ERR_AUTH_NO_KEY", `Cannot mint a token for server '${serverId}'`, {
        serverId,
        channel: kind,
        cause: error,
      });
    }
  }

  /** Makes `client` the channel's client and watches it for closure. Returns the client it replaced. */
  adopt(client: Client): Client | undefined {
    const previous = this.client;
    this.#deferred = undefined;
    this.#deferralFailed = false;
    this.client = client;
    this.state = "up";
    this.upSince = performance.now();
    this.lastSuccess = performance.now();
    // Taken now: the SDK forgets a client's transport before it calls onclose.
    const socket = innerTransport(client);
    client.onclose = () => {
      if (this.client !== client) return;
      const process = socket instanceof SoleCallTransport ? socket.inner : undefined;
      const detail = socket instanceof WebSocketTransport && socket.closeCode !== undefined
        ? ` (close ${socket.closeCode}${socket.closeReason ? ` ${socket.closeReason}` : ""})`
        : process instanceof StdioProcessTransport && process.exitDescription !== undefined
        ? ` (process ended: ${process.exitDescription})`
        : "";
      this.fail(
        new ConnectionError(`Connection to server '${this.#settings.serverId}' (${this.kind}) closed${detail}`, {
          serverId: this.#settings.serverId,
          channel: this.kind,
          code: "ERR_CONNECTION_CLOSED",
        }),
      );
    };
    return previous;
  }

  /** Marks the channel down (once per connection) and closes its client. */
  fail(cause: FederationError): void {
    if (this.state !== "up") return;
    this.state = "down";
    this.#deferred = undefined;
    this.downSince = performance.now();
    this.lastError = cause;
    const client = this.client;
    this.client = undefined;
    client?.close().catch(() => {});
    this.#settings.onDown(this, cause);
  }

  /** The median of the latest request and heartbeat latencies of the current connection, in ms. */
  get latency(): number | undefined {
    return this.#latency.all.median;
  }

  /** The median of the latest call latencies of the current connection, in ms (what `auto` routing compares). */
  get callLatency(): number | undefined {
    return this.#latency.calls.median;
  }

  /** The latest call latency of the current connection, in ms. */
  get latestCallLatency(): number | undefined {
    return this.#latency.calls.latest;
  }

  /** How many call latencies of the current connection the routing estimate rests on (at most a window's). */
  get callSamples(): number {
    return this.#latency.calls.size;
  }

  /** Records a heartbeat's or a connect's round trip, in ms (not a call's: see {@link recordCallLatency}). */
  recordRoundTrip(ms: number): void {
    this.#latency.addProbe(ms);
    this.lastSuccess = performance.now();
  }

  /** Records a call's latency, in ms: a call that ended in the member's answer, a result or an error. */
  recordCallLatency(ms: number): void {
    this.#latency.addCall(ms);
    this.lastSuccess = this.lastCallAt = performance.now();
  }

  /** The process id of a stdio channel's current process. */
  get pid(): number | undefined {
    const client = this.client;
    const transport = client ? innerTransport(client) : undefined;
    const process = transport instanceof SoleCallTransport ? transport.inner : undefined;
    return process instanceof StdioProcessTransport ? process.pid : undefined;
  }

  /**
   * Sends an MCP ping (to a modern member, which has no `ping`: `server/discover`, which also refreshes what it
   * announced) within `timeout`; marks the channel down on failure.
   */
  async heartbeat(timeout: number): Promise<void> {
    if (this.deferred) {
      // Nothing opened to ping: the endpoint is verified again (no session is opened for a heartbeat).
      const prior = this.#deferred;
      const started = performance.now();
      try {
        this.#latency.addProbe(await this.verify(undefined, timeout));
        // Alive as of the heartbeat's start: the heartbeat's rhythm does not drift by its own round trip (a new
        // connection each time).
        this.lastSuccess = started;
      } catch (error) {
        if (this.#deferred === prior && this.client === undefined) this.fail(error as FederationError);
      }
      return;
    }
    const client = this.client;
    if (!client || this.state !== "up") return;
    const started = performance.now();
    try {
      await roundTrip(client, { timeout });
      this.recordRoundTrip(performance.now() - started);
    } catch (error) {
      if (this.client !== client) return;
      const failure = toFederationError(error, {
        serverId: this.#settings.serverId,
        channel: this.kind,
        what: "heartbeat",
      });
      // A connection that answered another request while the heartbeat waited is alive, only busy (a member
      // answering a burst of requests in order answers the heartbeat last): its heartbeat's timeout fails nothing,
      // failing it would lose those in flight. Any other failure (an error answer, a closed connection) does.
      if (failure instanceof TimeoutError && this.lastSuccess > started) return;
      this.fail(failure);
    }
  }

  /** Asks the member to accept a fresh token for this control connection ({@link RENEW_TOKEN_METHOD}). */
  async renewToken(token: string, options: RequestOptions): Promise<number> {
    const client = this.client;
    if (!client) throw new ConnectionError("Control channel is not up", { channel: "control" });
    const result = await client.request(
      { method: RENEW_TOKEN_METHOD, params: { token } },
      RenewResultSchema,
      options,
    );
    return result.expiresAt;
  }

  /** Closes the channel for good. */
  /** Ends the wait for the next reconnection attempt (its timer and its probe). */
  stopWaiting(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.probe?.abort();
    this.probe = undefined;
  }

  async close(): Promise<void> {
    this.state = "closed";
    this.#deferred = undefined;
    this.stopWaiting();
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    const transport = innerTransport(client);
    // A modern member has no session to end.
    if (transport instanceof StreamableHTTPClientTransport && client.getProtocolEra() !== "modern") {
      // A courtesy DELETE, bounded: a member that accepts and never answers must not hold close() forever.
      // client.close() below aborts it if it is still pending.
      await settledWithin(transport.terminateSession(), Math.min(this.#settings.connectTimeout, 1_000));
    }
    await client.close().catch(() => {});
  }

  #authorizedFetch(
    extraSignal: () => AbortSignal | undefined,
    calls: () => CallTable | undefined,
  ): (url: string | URL, init?: RequestInit) => Promise<Response> {
    const { tokens, serverStream, maxMessageBytes, serverId } = this.#settings;
    const streams = new StreamRelations(maxMessageBytes);
    return async (url, init) => {
      // The SDK treats 405 as "no GET stream offered" and carries on with POSTs alone.
      if (!serverStream && init?.method === "GET") return new Response(null, { status: 405 });
      if (typeof init?.body === "string" && exceedsBytes(init.body, maxMessageBytes)) {
        // An answer to the member's request that is too large becomes an error answer: its request fails at once.
        const id = answerIdOf(init.body);
        if (id !== undefined) {
          const message = `Result is larger than the limit of ${maxMessageBytes} bytes: not sent`;
          init = { ...init, body: JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32603, message } }) };
        } else {
          // The member would answer 413 after reading it all; refuse it here, as on the control channel.
          throw new ProtocolError(
            `Message to server '${serverId}' is larger than the limit of ${maxMessageBytes} bytes: not sent`,
            { serverId, channel: "data", rpcCode: -32600, code: "ERR_MESSAGE_TOO_LARGE" },
          );
        }
      }
      const headers = new Headers(init?.headers);
      // A request of a call made for a user carries that user's own token (minted and cached per user); every
      // other request (initialize, lists, notifications, answers) the proxy's.
      const related = streams.relationOf(init);
      const user = related === undefined || init?.method === "GET"
        ? undefined
        : calls()?.get(related)?.handlers.onBehalfOf;
      const authorization = user ? await tokens.authorizationFor(user) : await tokens.authorization();
      if (authorization) headers.set("Authorization", authorization);
      const signal = extraSignal();
      const requestSignal = signal && init?.signal ? AbortSignal.any([signal, init.signal]) : signal ?? init?.signal;
      const response = await fetch(url, { ...init, headers, ...(requestSignal ? { signal: requestSignal } : {}) });
      // What the member sends on this response's stream belongs to this POST's request (and nothing else does).
      return response.ok ? await streams.relate(response, related) : response;
    };
  }
}

/**
 * Whether a failed `initialize` means the member speaks 2026-07-28 only: it answered with the unsupported-version error
 * (-32022), or did not know the method (-32601).
 */
function refusesLegacy(error: unknown): boolean {
  return error instanceof ProtocolError && (error.rpcCode === -32022 || error.rpcCode === -32601);
}

/** The cheapest truthful round trip in the connection's era: `ping`, or `server/discover` for a modern member. */
async function roundTrip(client: Client, options: RequestOptions): Promise<void> {
  if (client.getProtocolEra() === "modern") await client.discover(options);
  else await client.ping(options);
}

/**
 * Whether `client`'s requests travel as HTTP requests, whose headers a 2026-07-28 member reads (`Mcp-Param-*`): the
 * data channel's do; a WebSocket's or a process's carry none.
 */
export function sendsHttpHeaders(client: Client): boolean {
  return innerTransport(client) instanceof StreamableHTTPClientTransport;
}

/** The transport under the relation (and identity) decorators. */
function innerTransport(client: Client): Transport | undefined {
  const transport = client.transport;
  const inner = transport instanceof RelatedTransport ? transport.inner : transport;
  return inner instanceof IdentityTransport ? inner.inner : inner;
}

/** The id of a JSON-RPC result (an answer to the member's request) serialized by the SDK, if `body` is one. */
function answerIdOf(body: string): string | number | undefined {
  if (!body.startsWith('{"result"')) return undefined;
  try {
    const parsed = JSON.parse(body) as { id?: unknown; method?: unknown };
    return parsed.method === undefined && (typeof parsed.id === "string" || typeof parsed.id === "number")
      ? parsed.id
      : undefined;
  } catch {
    return undefined;
  }
}
