// Internal: the relation rule (DESIGN.md "Many clients, one member") for a stdio member (the rule: core/_sole_call.ts). One process serves every
// client of the federation, and a stdio stream cannot say which call a server-to-client request or a log line
// belongs to (a third-party server writes no relation; one it writes is not trusted and removed). The choice:
//
//   Fail closed. What the process sends is related to a call only when exactly one request of ours is outstanding
//   on it (sent, not answered; pings excepted: they cause nothing). Then it is unambiguous. With two or more, a
//   server-to-client request (sampling, elicitation, roots) is refused here with a JSON-RPC error, and a log line
//   reaches no caller (a proxy event only). With none, it is unsolicited, as on any channel: the proxy's
//   `onServerRequest` decides (the gateway refuses). The process's own `ping` asks no caller: it is always let
//   through, unrelated (the client answers it).
//
// A request we cancelled (or that timed out: the SDK then sends `notifications/cancelled`) stays outstanding until
// the process answers it, or for `cancelledGrace` ms after the cancellation (the server may still be working on it
// and asking on its behalf; an MCP server need not answer a cancelled request). While it counts, nothing is related
// to a newer call. Progress is not concerned: its token names its request.
//
// Rejected alternative: one process per subject (client). It isolates fully but multiplies processes and start-up
// time by the number of clients, and needs the subject inside the proxy; the fail-closed rule serves the common
// case (one call at a time) and never guesses.
import type { Logger } from "../core/logger.ts";
import { isNotification, isRequest, isRequestId, isResponse } from "../core/_jsonrpc.ts";
import type { JSONRPCMessage, RequestId, Transport, TransportSendOptions } from "../core/_sdk.ts";
import { relateMessage } from "../core/_relation_meta.ts";
import { soleCall } from "../core/_sole_call.ts";
import { TransportDecorator } from "../core/_transport_decorator.ts";

export interface SoleCallOptions {
  serverId: string;
  logger: Logger;
  /** How long a cancelled, unanswered request still counts as outstanding, in ms. */
  cancelledGrace: number;
  /** Clock in ms. @default {performance.now} */
  now?: () => number;
}

/** A decorator of a stdio process's transport that relates what the process sends by the rule above. */
export class SoleCallTransport extends TransportDecorator {
  #options: SoleCallOptions;
  /** Our requests the process has not answered: id → when it was cancelled (undefined: live). */
  #outstanding = new Map<RequestId, number | undefined>();

  constructor(inner: Transport, options: SoleCallOptions) {
    super(inner);
    this.#options = options;
  }

  /** How many of our requests are outstanding on the process (for tests and status). */
  get outstanding(): number {
    this.#prune();
    return this.#outstanding.size;
  }

  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (isRequest(message) && message.method !== "ping") {
      const id = message.id;
      this.#outstanding.set(id, undefined);
      // A send that fails (too large, broken pipe) wrote nothing the process could answer: it is not outstanding.
      return this.inner.send(message, options).catch((error: unknown) => {
        this.#outstanding.delete(id);
        throw error;
      });
    } else if (isNotification(message) && message.method === "notifications/cancelled") {
      const params = message.params as { requestId?: unknown } | undefined;
      const id = params?.requestId;
      if (isRequestId(id) && this.#outstanding.has(id)) this.#outstanding.set(id, this.#now());
    }
    return this.inner.send(message, options);
  }

  #now(): number {
    return this.#options.now ? this.#options.now() : performance.now();
  }

  #prune(): void {
    const limit = this.#now() - this.#options.cancelledGrace;
    for (const [id, cancelledAt] of this.#outstanding) {
      if (cancelledAt !== undefined && cancelledAt <= limit) this.#outstanding.delete(id);
    }
  }

  protected override receive(message: JSONRPCMessage): void {
    if (isResponse(message)) {
      if (isRequestId(message.id)) this.#outstanding.delete(message.id);
      this.onmessage?.(message);
      return;
    }
    this.#prune();
    const call = soleCall(this.#outstanding.keys());
    if (isRequest(message) && message.method === "ping") {
      // A liveness check causes nothing and asks no caller: answered (by the client) whatever is in progress.
      this.onmessage?.(relateMessage(message, undefined) as JSONRPCMessage);
      return;
    }
    if (isRequest(message) && call === "ambiguous") {
      const { serverId, logger } = this.#options;
      logger.warn("Refused a stdio server's request: several calls in progress, its call cannot be told", {
        serverId,
        channel: "stdio",
        method: message.method,
        inProgress: this.#outstanding.size,
      });
      const error = {
        code: -32600,
        message:
          `Refused '${message.method}' from server '${serverId}': ${this.#outstanding.size} calls are in progress on its stdio process, so the call it belongs to cannot be established`,
      };
      this.inner.send({ jsonrpc: "2.0", id: message.id, error }).catch(() => {});
      return;
    }
    // With one outstanding request, related to it; otherwise to nothing (a relation the process wrote is removed).
    this.onmessage?.(
      relateMessage(message, call === "none" || call === "ambiguous" ? undefined : call) as JSONRPCMessage,
    );
  }
}
