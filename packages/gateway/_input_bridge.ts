// Internal: the bridge from a 2025-11-25 member's server-to-client requests to a 2026-07-28 client's Multi
// Round-Trip Requests. A modern client has no session to be asked on: when the member sends `elicitation/create`,
// `sampling/createMessage` or `roots/list` during the client's call, the gateway ends the client's request with an
// `input_required` result listing the member's pending requests (one round: every request the member sent before
// the round was handed out), and keeps the upstream call open, parked in a bounded table under an exchange id. The
// client's retry (its sealed `requestState` names the exchange and the replica holding it) answers the pending
// requests with its `inputResponses`, and gets either the final result or the next round.
//
// Each exchange belongs to one call of one subject: a retry must name the same member, method, name and subject
// (the relation rule). A parked exchange lives as long as the sealed state handed out with its round (the sealer's
// lifetime); dropped (expired, over the caps, the gateway closing, the client cancelling its retry), its pending
// requests are answered with an error and the upstream call is cancelled.
import { ProtocolErrorCode, ServerProtocolError } from "../core/_sdk.ts";
import { isRecord } from "../core/_json.ts";
import type { ServerRequest } from "../proxy/server_requests.ts";
import { InvalidRequestStateError, type RequestStateSealer } from "./_sealed_state.ts";

/** The call an exchange belongs to. */
export interface BridgedCall {
  /** The member (serverId) the call runs on. */
  member: string;
  /** `tools/call`, `prompts/get` or `resources/read`. */
  method: string;
  /** The federated name (or URI) the client addressed. */
  name: string;
  /** The subject of the client's token (`undefined` for an anonymous client). */
  sub: string | undefined;
}

/** One input request of a round, as the client receives it. */
export interface BridgedInputRequest {
  method: string;
  params: Record<string, unknown>;
}

/** Where a bridged call stands after a step: finished, or waiting for the client's answers to a round. */
export type BridgeStep =
  | { done: true; result: unknown }
  | {
    done: false;
    /** The exchange id (goes into the sealed state). */
    exchange: string;
    /** The replica holding the exchange. */
    replica: string;
    /** This round's requests, by key (the keys of the client's `inputResponses`). */
    inputRequests: Record<string, BridgedInputRequest>;
  };

/** What the upstream call gets from the bridge. */
export interface BridgeHandlers {
  /** Answers the member's requests of this call (through the client's rounds). */
  onrequest: (request: ServerRequest) => Promise<Record<string, unknown>>;
  /** Aborted when the exchange is dropped. */
  signal: AbortSignal;
}

/** Continues exchanges held by other replicas (through the store's bus). */
export interface BridgeRemote {
  /**
   * Hands a retry to the replica holding its exchange and returns that replica's step.
   *
   * @throws {ExchangeError} `exchange_unreachable` when no replica of that id listens.
   */
  continue(
    replica: string,
    id: string,
    call: BridgedCall,
    inputResponses: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<BridgeStep>;
  /** Stops waiting for other replicas (the bridge closes). */
  close?(): void;
}

/** Options of {@link InputBridge}. */
export interface InputBridgeOptions {
  /** This replica's id (named in every sealed state of its exchanges). */
  replicaId: string;
  /** How long a parked exchange waits for the client's retry, in ms (the sealed state's lifetime). */
  ttlMs: number;
  /**
   * Most exchanges one subject may have parked at once.
   * @default {16}
   */
  maxPerSubject?: number;
  /**
   * Most exchanges parked at once on this replica.
   * @default {1000}
   */
  maxTotal?: number;
  /**
   * How long a round stays open for more requests once the member sent one, in ms (requests sent together form
   * one round).
   * @default {20}
   */
  gatherMs?: number;
  /**
   * Whether the client may answer a request: `undefined` when it may, else the reason it may not (the member then
   * gets a JSON-RPC error at once and the client never sees the request).
   */
  refuse?: (request: BridgedInputRequest) => string | undefined;
  /** Continues exchanges of other replicas; without it, a retry for another replica's exchange is refused. */
  remote?: BridgeRemote | undefined;
}

/** The methods a 2025-11-25 member may ask a client during a call, and the key prefix of each. */
const BRIDGED_METHODS: Record<string, string> = {
  "elicitation/create": "elicitation",
  "sampling/createMessage": "sampling",
  "roots/list": "roots",
};

/** The project's reserved `_meta` namespace: never handed to a client. */
const RESERVED_META_PREFIX = "io.github.federated-mcp/";

/** The code of a refused exchange (over a cap, held elsewhere, no longer pending). */
export const EXCHANGE_REFUSED = -32000;

/** Why an exchange is no longer pending (the `reason` of the error data). */
export type ExchangeRefusal = "exchange_gone" | "exchange_busy" | "exchange_limit" | "exchange_unreachable";

/**
 * An exchange the retry cannot continue: no longer pending on this replica (expired, dropped, ended), being
 * continued by another retry at this moment, over a limit, or held by a replica this one cannot reach.
 *
 * @example Tell a retry its exchange is gone
 * ```ts
 * import { ExchangeError } from "./_input_bridge.ts";
 *
 * const error = new ExchangeError("exchange_gone", "The input exchange is no longer pending");
 * console.log(error.code, error.data); // -32000 { reason: "exchange_gone" }
 * ```
 */
export class ExchangeError extends ServerProtocolError {
  /** Why (also in the error data). */
  readonly reason: ExchangeRefusal;

  /**
   * @param reason Why the exchange cannot continue.
   * @param message The client-facing message.
   * @param extra More error data (such as the holding replica).
   */
  constructor(reason: ExchangeRefusal, message: string, extra: Record<string, unknown> = {}) {
    super(EXCHANGE_REFUSED, message, { reason, ...extra });
    this.name = "ExchangeError";
    this.reason = reason;
  }
}

/** One of the member's requests waiting for the client's answer. */
interface Pending {
  request: BridgedInputRequest;
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

/** One bridged call. */
class Exchange {
  readonly id = crypto.randomUUID();
  readonly call: BridgedCall;
  readonly controller = new AbortController();
  readonly pending = new Map<string, Pending>();
  outcome: { ok: true; result: unknown } | { ok: false; error: unknown } | undefined;
  /** Whether a retry is continuing it now. */
  busy = false;
  timer: ReturnType<typeof setTimeout> | undefined;
  #count = 0;
  #wake: (() => void) | undefined;

  constructor(call: BridgedCall) {
    this.call = call;
  }

  nextKey(method: string): string {
    return `${BRIDGED_METHODS[method] ?? "input"}-${++this.#count}`;
  }

  /** Something changed (a request arrived, one was withdrawn, the call ended). */
  changed(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Resolves on the next change, or after `ms` when given, or when `signal` aborts. */
  until(signal: AbortSignal, ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.#wake = done;
      if (signal.aborted) done();
    });
  }
}

/** A request's params for the client: the reserved `_meta` keys left out. */
function clientParams(params: Record<string, unknown> | undefined): Record<string, unknown> {
  if (params === undefined) return {};
  if (!isRecord(params._meta)) return params;
  const meta = Object.fromEntries(
    Object.entries(params._meta).filter(([key]) => !key.startsWith(RESERVED_META_PREFIX)),
  );
  const { _meta: _old, ...rest } = params;
  return Object.keys(meta).length === 0 ? rest : { ...rest, _meta: meta };
}

/**
 * The parked exchanges of one replica, and the steps of bridged calls.
 *
 * @example Bridge a member's elicitation to a client's retry
 * ```ts
 * import { InputBridge } from "./_input_bridge.ts";
 *
 * const bridge = new InputBridge({ replicaId: "r1", ttlMs: 60_000 });
 * const call = { member: "docs", method: "tools/call", name: "docs__ask", sub: "alice" };
 * const first = await bridge.start(call, async ({ onrequest }) => {
 *   const answer = await onrequest({
 *     serverId: "docs",
 *     method: "elicitation/create",
 *     params: { message: "Name?", requestedSchema: { type: "object" } },
 *     signal: new AbortController().signal,
 *   });
 *   return { content: [{ type: "text", text: JSON.stringify(answer) }] };
 * }, new AbortController().signal);
 * if (!first.done) {
 *   const [key] = Object.keys(first.inputRequests);
 *   const last = await bridge.resume(first.exchange, call, { [key!]: { action: "decline" } }, new AbortController().signal);
 *   console.log(last.done); // true
 * }
 * bridge.close();
 * ```
 */
export class InputBridge {
  readonly replicaId: string;
  #ttlMs: number;
  #maxPerSubject: number;
  #maxTotal: number;
  #gatherMs: number;
  #refuse: InputBridgeOptions["refuse"];
  /** Continues other replicas' exchanges (set once the replica's bus is known). */
  remote: BridgeRemote | undefined;
  #parked = new Map<string, Exchange>();
  #perSubject = new Map<string, number>();
  #closed = false;

  constructor(options: InputBridgeOptions) {
    this.replicaId = options.replicaId;
    this.#ttlMs = options.ttlMs;
    this.#maxPerSubject = options.maxPerSubject ?? 16;
    this.#maxTotal = options.maxTotal ?? 1_000;
    this.#gatherMs = options.gatherMs ?? 20;
    this.#refuse = options.refuse;
    this.remote = options.remote;
  }

  /** How many exchanges are parked here. */
  get size(): number {
    return this.#parked.size;
  }

  /**
   * Runs a call whose member may ask the client: resolves with its result, or with the first round once the member
   * asked (the call stays open, parked).
   *
   * @param call The call and its caller.
   * @param run Starts the upstream call with the bridge's handlers.
   * @param signal The client's request: aborted before a step is ready, the call is cancelled.
   * @param refuse Whether this client may answer a request (its declared capabilities).
   * @returns The first step.
   * @throws What the upstream call throws; {@link ExchangeError} `exchange_limit` when the exchange cannot be parked.
   */
  async start(
    call: BridgedCall,
    run: (handlers: BridgeHandlers) => Promise<unknown>,
    signal: AbortSignal,
    refuse?: (request: BridgedInputRequest) => string | undefined,
  ): Promise<BridgeStep> {
    if (this.#closed) throw new ExchangeError("exchange_gone", "The federation gateway is closing");
    const exchange = new Exchange(call);
    exchange.busy = true;
    const onrequest = (request: ServerRequest) => this.#ask(exchange, request, refuse ?? this.#refuse);
    run({ onrequest, signal: exchange.controller.signal }).then(
      (result) => exchange.outcome = { ok: true, result },
      (error) => exchange.outcome = { ok: false, error },
    ).finally(() => exchange.changed());
    return await this.#step(exchange, signal);
  }

  /**
   * Continues a parked exchange with the client's answers: resolves with the final result or the next round.
   *
   * @param id The exchange id (from the opened sealed state).
   * @param call The retry's call and caller (must be the exchange's).
   * @param inputResponses The client's answers by key; an unanswered request is asked again in the next round.
   * @param signal The retry: aborted before a step is ready, the exchange is dropped and the call cancelled.
   * @returns The next step.
   * @throws {ExchangeError} `exchange_gone` (not parked here), `exchange_busy` (another retry continues it).
   * @throws {InvalidRequestStateError} When the retry is for another call or caller.
   */
  async resume(
    id: string,
    call: BridgedCall,
    inputResponses: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<BridgeStep> {
    const exchange = this.#parked.get(id);
    if (exchange === undefined) {
      throw new ExchangeError(
        "exchange_gone",
        "The input exchange of this requestState is no longer pending (expired or ended): call again without it",
      );
    }
    const own = exchange.call;
    if (own.member !== call.member || own.method !== call.method || own.name !== call.name || own.sub !== call.sub) {
      throw new InvalidRequestStateError("call");
    }
    if (exchange.busy) {
      throw new ExchangeError("exchange_busy", "Another retry is continuing this input exchange");
    }
    exchange.busy = true;
    clearTimeout(exchange.timer);
    for (const [key, answer] of Object.entries(inputResponses ?? {})) {
      const pending = exchange.pending.get(key);
      if (pending === undefined || !isRecord(answer)) continue;
      exchange.pending.delete(key);
      pending.resolve(answer);
    }
    return await this.#step(exchange, signal);
  }

  /**
   * Continues an exchange wherever it is held: here ({@link resume}), or on the replica the sealed state names.
   *
   * @param exchange The exchange id and its replica (from the opened sealed state).
   * @param call The retry's call and caller.
   * @param inputResponses The client's answers.
   * @param signal The retry.
   * @returns The next step.
   * @throws {ExchangeError} `exchange_unreachable` when another replica holds it and none can be reached.
   */
  async continue(
    exchange: { id: string; replica: string },
    call: BridgedCall,
    inputResponses: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<BridgeStep> {
    if (exchange.replica === this.replicaId) return await this.resume(exchange.id, call, inputResponses, signal);
    if (this.remote === undefined) throw unreachable(exchange.replica);
    return await this.remote.continue(exchange.replica, exchange.id, call, inputResponses, signal);
  }

  /** Drops every parked exchange (their calls are cancelled); later starts are refused. */
  close(): void {
    this.#closed = true;
    this.remote?.close?.();
    for (const exchange of [...this.#parked.values()]) this.#drop(exchange, "The federation gateway closed");
  }

  /** A request of the member during the call: refused at once, or pending until the client answers it. */
  #ask(
    exchange: Exchange,
    request: ServerRequest,
    refuse: InputBridgeOptions["refuse"],
  ): Promise<Record<string, unknown>> {
    if (exchange.outcome !== undefined || exchange.controller.signal.aborted) {
      return Promise.reject(new ServerProtocolError(ProtocolErrorCode.InvalidRequest, "The call has ended"));
    }
    if (!(request.method in BRIDGED_METHODS)) {
      return Promise.reject(
        new ServerProtocolError(
          ProtocolErrorCode.MethodNotFound,
          `The federation gateway does not forward '${request.method}'`,
        ),
      );
    }
    const entry: BridgedInputRequest = { method: request.method, params: clientParams(request.params) };
    const refusal = refuse?.(entry);
    if (refusal !== undefined) {
      return Promise.reject(new ServerProtocolError(ProtocolErrorCode.MethodNotFound, refusal));
    }
    const key = exchange.nextKey(request.method);
    return new Promise((resolve, reject) => {
      const withdraw = () => {
        if (exchange.pending.delete(key)) {
          reject(new ServerProtocolError(ProtocolErrorCode.InvalidRequest, "The request was cancelled"));
          exchange.changed();
        }
      };
      request.signal.addEventListener("abort", withdraw, { once: true });
      exchange.pending.set(key, {
        request: entry,
        resolve: (result) => {
          request.signal.removeEventListener("abort", withdraw);
          resolve(result);
        },
        reject: (error) => {
          request.signal.removeEventListener("abort", withdraw);
          reject(error);
        },
      });
      exchange.changed();
    });
  }

  /** Waits for the call to end or the member to ask, then hands out the result or the round. */
  async #step(exchange: Exchange, signal: AbortSignal): Promise<BridgeStep> {
    try {
      while (exchange.outcome === undefined && exchange.pending.size === 0 && !signal.aborted) {
        await exchange.until(signal);
      }
      if (exchange.outcome === undefined && !signal.aborted) {
        // Requests sent together form one round: wait a moment for the rest (or for the call's end).
        await exchange.until(signal, this.#gatherMs);
        while (exchange.outcome === undefined && exchange.pending.size === 0 && !signal.aborted) {
          await exchange.until(signal);
        }
      }
    } finally {
      exchange.busy = false;
    }
    const outcome = exchange.outcome;
    if (outcome !== undefined) {
      this.#forget(exchange);
      if (outcome.ok) return { done: true, result: outcome.result };
      throw outcome.error;
    }
    if (signal.aborted) {
      this.#drop(exchange, "The client cancelled the call");
      throw signal.reason ?? new DOMException("Aborted", "AbortError");
    }
    this.#park(exchange);
    const inputRequests: Record<string, BridgedInputRequest> = {};
    for (const [key, pending] of exchange.pending) inputRequests[key] = pending.request;
    return { done: false, exchange: exchange.id, replica: this.replicaId, inputRequests };
  }

  /** Keeps the exchange for the client's retry, within the caps, for one state's lifetime. */
  #park(exchange: Exchange): void {
    if (!this.#parked.has(exchange.id)) {
      const subject = exchange.call.sub ?? "";
      const held = this.#perSubject.get(subject) ?? 0;
      if (this.#closed || held >= this.#maxPerSubject || this.#parked.size >= this.#maxTotal) {
        const limit = this.#closed
          ? "The federation gateway is closing"
          : held >= this.#maxPerSubject
          ? `Too many input exchanges pending for this client (at most ${this.#maxPerSubject})`
          : `Too many input exchanges pending on this gateway (at most ${this.#maxTotal})`;
        this.#drop(exchange, limit);
        throw new ExchangeError("exchange_limit", limit);
      }
      this.#parked.set(exchange.id, exchange);
      this.#perSubject.set(subject, held + 1);
    }
    clearTimeout(exchange.timer);
    exchange.timer = setTimeout(
      () => this.#drop(exchange, "The client did not answer the input requests in time"),
      this.#ttlMs,
    );
  }

  /** Removes an exchange from the table (its call has ended or is being dropped). */
  #forget(exchange: Exchange): void {
    clearTimeout(exchange.timer);
    if (!this.#parked.delete(exchange.id)) return;
    const subject = exchange.call.sub ?? "";
    const held = (this.#perSubject.get(subject) ?? 1) - 1;
    if (held <= 0) this.#perSubject.delete(subject);
    else this.#perSubject.set(subject, held);
  }

  /** Ends an exchange: its pending requests get an error, its call is cancelled. */
  #drop(exchange: Exchange, why: string): void {
    this.#forget(exchange);
    for (const pending of exchange.pending.values()) {
      pending.reject(new ServerProtocolError(ProtocolErrorCode.InternalError, why));
    }
    exchange.pending.clear();
    exchange.controller.abort(new ExchangeError("exchange_gone", why));
  }
}

/** The refusal of a retry whose exchange another replica holds, out of reach. */
export function unreachable(replica: string): ExchangeError {
  return new ExchangeError(
    "exchange_unreachable",
    `The input exchange of this requestState is held by gateway replica '${replica}', which this replica cannot reach: without a shared store (cluster.store), a retry must reach the replica that answered input_required`,
    { replica },
  );
}

/**
 * The `input_required` result a client gets for a round: the member's pending requests, and a sealed state naming
 * the call, the caller, the exchange and the replica holding it.
 *
 * @param step The round.
 * @param call The call and its caller.
 * @param sealer Seals the state.
 * @returns The result for the client.
 */
export async function roundResult(
  step: Extract<BridgeStep, { done: false }>,
  call: BridgedCall,
  sealer: RequestStateSealer,
): Promise<Record<string, unknown>> {
  const requestState = await sealer.seal({
    member: call.member,
    memberState: undefined,
    sub: call.sub,
    method: call.method,
    name: call.name,
    exchange: { id: step.exchange, replica: step.replica },
  });
  return { resultType: "input_required", inputRequests: step.inputRequests, requestState };
}
