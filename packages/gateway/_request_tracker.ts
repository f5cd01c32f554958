// Internal: counts client requests in progress across sessions, from the moment a request arrives until its
// response has been handed to the transport (or the client cancelled it), so that drain() closes nothing that still
// owes an answer.
import type { JSONRPCMessage, Transport } from "../core/_sdk.ts";
import { isRecord } from "../core/_json.ts";
import { isNotification, isRequest, isRequestId, isResponse } from "../core/_jsonrpc.ts";

type Id = string | number;

function requestId(message: JSONRPCMessage): Id | undefined {
  return isRequest(message) ? message.id : undefined;
}

function responseId(message: JSONRPCMessage): Id | undefined {
  return isResponse(message) && isRequestId(message.id) ? message.id : undefined;
}

function cancelledId(message: JSONRPCMessage): Id | undefined {
  if (!isNotification(message) || message.method !== "notifications/cancelled") return undefined;
  const requestId = isRecord(message.params) ? message.params.requestId : undefined;
  return isRequestId(requestId) ? requestId : undefined;
}

/** Requests in progress, per transport (and those held without one: 2026-07-28 requests). */
export class RequestTracker {
  #pending = new Map<Transport, Set<Id>>();
  #held = new Set<object>();
  #waiters: (() => void)[] = [];

  /** Requests in progress across every transport. */
  get size(): number {
    let n = this.#held.size;
    for (const ids of this.#pending.values()) n += ids.size;
    return n;
  }

  /** Watches a connected transport's incoming requests and outgoing responses. */
  watch(transport: Transport): void {
    const ids = new Set<Id>();
    this.#pending.set(transport, ids);
    const onmessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const id = requestId(message);
      if (id !== undefined) ids.add(id);
      const cancelled = cancelledId(message);
      if (cancelled !== undefined) this.#done(ids, cancelled);
      onmessage?.(message, extra);
    };
    const send = transport.send.bind(transport);
    transport.send = async (message, options) => {
      try {
        return await send(message, options);
      } finally {
        const id = responseId(message);
        if (id !== undefined) this.#done(ids, id);
      }
    };
  }

  /** Records one request served without a session transport; returns its end (idempotent). */
  hold(): () => void {
    const request = {};
    this.#held.add(request);
    return () => {
      if (this.#held.delete(request)) this.#wake();
    };
  }

  /** Forgets a closed transport. */
  forget(transport: Transport): void {
    this.#pending.delete(transport);
    this.#wake();
  }

  /**
   * Resolves when no request is in progress, or after `timeoutMs`.
   *
   * @returns Whether every request ended in time.
   */
  async idle(timeoutMs: number): Promise<boolean> {
    if (this.size === 0) return true;
    if (timeoutMs <= 0) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      new Promise<boolean>((resolve) => this.#waiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs)),
    ]);
    clearTimeout(timer);
    return ended;
  }

  #done(ids: Set<Id>, id: Id): void {
    if (ids.delete(id)) this.#wake();
  }

  #wake(): void {
    if (this.size > 0) return;
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
