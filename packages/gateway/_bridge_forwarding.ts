// Internal: a bridged exchange's retry reaching a replica that does not hold it. The replica hands the retry to the
// holder over the registry store's bus, on the replica channel legacy sessions already use to forward answers
// (`SharedSessions`, messages tagged `b`), and waits for the holder's step:
//   ask    {b:"ask", r, from, x, call, responses}   → the holder's replica channel
//   step   {b:"step", r, step} | {b:"error", r, error:{code, message, data}}   → the asking replica's channel
//   cancel {b:"cancel", r, from}   → the holder (the client gave up its retry: the exchange is dropped there)
// With the in-process store of a lone replica (or a replica gone), nobody receives the ask: the retry is refused
// with `exchange_unreachable`, naming the holding replica.
import { isRecord } from "../core/_json.ts";
import { ServerProtocolError } from "../core/_sdk.ts";
import { toMcpError } from "./_errors.ts";
import {
  type BridgedCall,
  type BridgeRemote,
  type BridgeStep,
  EXCHANGE_REFUSED,
  ExchangeError,
  type ExchangeRefusal,
  type InputBridge,
  unreachable,
} from "./_input_bridge.ts";
import { InvalidRequestStateError } from "./_sealed_state.ts";

/** What the forwarder needs from the replica's bus. */
export interface BridgeBus {
  /** This replica's id. */
  readonly replicaId: string;
  /** Publishes `envelope` on a replica's channel; resolves with how many received it. */
  toReplica(replica: string, envelope: Record<string, unknown>): Promise<number>;
  /** Receives the bridge messages published on this replica's channel. */
  onBridgeMessage: ((envelope: Record<string, unknown>) => void) | undefined;
}

interface Waiting {
  resolve: (step: BridgeStep) => void;
  reject: (error: Error) => void;
}

/** The error a holder's refusal becomes on the asking replica (the same class and code as on the holder). */
function revive(error: unknown): Error {
  if (!isRecord(error) || typeof error.code !== "number" || typeof error.message !== "string") {
    return new ServerProtocolError(-32603, "The replica holding the input exchange answered malformed data");
  }
  const data = isRecord(error.data) ? error.data : undefined;
  if (error.code === -32602 && data?.reason === "invalid_request_state") return new InvalidRequestStateError("call");
  if (error.code === EXCHANGE_REFUSED && typeof data?.reason === "string") {
    const { reason, ...extra } = data;
    return new ExchangeError(reason as ExchangeRefusal, error.message, extra);
  }
  return new ServerProtocolError(error.code, error.message, data);
}

/**
 * How long a retry forwarded to the replica holding its exchange waits for the answer: longer than a call's default
 * timeout (60 s), so a slow member is not cut short; a holder that died without a word is reported unreachable then.
 */
export const FORWARD_TIMEOUT_MS = 120_000;

/**
 * Forwards retries of other replicas' exchanges to them, and serves the retries they forward here.
 *
 * @example Wire a bridge to a replica's bus
 * ```ts ignore
 * const bridge = new InputBridge({ replicaId: shared.replicaId, ttlMs: sealer.ttlMs });
 * bridge.remote = new BridgeForwarder(bridge, shared);
 * ```
 */
export class BridgeForwarder implements BridgeRemote {
  #bridge: InputBridge;
  #bus: BridgeBus;
  #waiting = new Map<string, Waiting>();
  /** Retries forwarded here and still running, by `<from>/<r>`. */
  #serving = new Map<string, AbortController>();
  #next = 0;
  #timeoutMs: number;

  /** @param timeoutMs How long a forwarded retry may wait for the holder's answer (a dead holder never answers). */
  constructor(bridge: InputBridge, bus: BridgeBus, timeoutMs = FORWARD_TIMEOUT_MS) {
    this.#bridge = bridge;
    this.#bus = bus;
    this.#timeoutMs = timeoutMs;
    bus.onBridgeMessage = (envelope) => this.#receive(envelope);
  }

  async continue(
    replica: string,
    id: string,
    call: BridgedCall,
    inputResponses: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<BridgeStep> {
    const r = `${++this.#next}`;
    const answer = new Promise<BridgeStep>((resolve, reject) => this.#waiting.set(r, { resolve, reject }));
    const from = this.#bus.replicaId;
    let received: number;
    try {
      received = await this.#bus.toReplica(replica, { b: "ask", r, from, x: id, call, responses: inputResponses });
    } catch {
      received = 0;
    }
    if (received === 0) {
      this.#waiting.delete(r);
      throw unreachable(replica);
    }
    const onAbort = () => {
      const waiting = this.#waiting.get(r);
      if (waiting === undefined) return;
      this.#waiting.delete(r);
      this.#bus.toReplica(replica, { b: "cancel", r, from }).catch(() => {});
      waiting.reject(signal.reason ?? new DOMException("Aborted", "AbortError"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
    const timer = setTimeout(() => {
      const waiting = this.#waiting.get(r);
      if (waiting === undefined) return;
      this.#waiting.delete(r);
      this.#bus.toReplica(replica, { b: "cancel", r, from }).catch(() => {});
      waiting.reject(unreachable(replica));
    }, this.#timeoutMs);
    try {
      return await answer;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Drops the waits of forwarded retries (the replica stops). */
  close(): void {
    for (const waiting of this.#waiting.values()) {
      waiting.reject(new ExchangeError("exchange_gone", "The federation gateway closed"));
    }
    this.#waiting.clear();
    for (const controller of this.#serving.values()) controller.abort();
    this.#serving.clear();
  }

  #receive(envelope: Record<string, unknown>): void {
    const { b, r } = envelope;
    if (typeof r !== "string") return;
    if (b === "step" || b === "error") {
      const waiting = this.#waiting.get(r);
      if (waiting === undefined) return;
      this.#waiting.delete(r);
      if (b === "step" && isRecord(envelope.step)) waiting.resolve(envelope.step as unknown as BridgeStep);
      else waiting.reject(revive(envelope.error));
      return;
    }
    if (typeof envelope.from !== "string") return;
    const key = `${envelope.from}/${r}`;
    if (b === "cancel") {
      this.#serving.get(key)?.abort();
      return;
    }
    if (b === "ask") void this.#serve(key, envelope.from, r, envelope);
  }

  /** Runs a retry another replica forwarded, and sends its step back. */
  async #serve(key: string, from: string, r: string, envelope: Record<string, unknown>): Promise<void> {
    const call = envelope.call;
    if (
      typeof envelope.x !== "string" || !isRecord(call) || typeof call.member !== "string" ||
      typeof call.method !== "string" || typeof call.name !== "string" ||
      (call.sub !== undefined && typeof call.sub !== "string")
    ) {
      return;
    }
    const responses = isRecord(envelope.responses) ? envelope.responses : undefined;
    const controller = new AbortController();
    this.#serving.set(key, controller);
    let reply: Record<string, unknown>;
    try {
      const step = await this.#bridge.resume(envelope.x, call as unknown as BridgedCall, responses, controller.signal);
      reply = { b: "step", r, step };
    } catch (error) {
      const mapped = toMcpError(error);
      reply = { b: "error", r, error: { code: mapped.code, message: mapped.message, data: mapped.data } };
    } finally {
      this.#serving.delete(key);
    }
    await this.#bus.toReplica(from, reply).catch(() => 0);
  }
}
