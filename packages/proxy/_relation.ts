// Internal: the relation rule (DESIGN.md "Many clients, one member"). Every call the proxy makes is bound to the
// JSON-RPC ids its requests got on the channel's connection, and whatever the member sends during the call names
// one of them under `_meta[RELATED_REQUEST_META_KEY]`: the member side of this library puts it there on the control
// channel; on the data channel the proxy itself sets it from the POST whose response stream carried the message
// (and removes any the member wrote), so a third-party Streamable HTTP member gets the same routing.
//
// Ids are assigned by the SDK client (`Protocol.request`, `_requestMessageId++`) after our code hands it the call:
// the call travels to the transport as `relatedRequestId` (a token of this module), which the SDK passes to
// `Transport.send` together with the request it numbered; RelatedTransport binds that id to the call there.
import { isRequest, isRequestId, isResponse } from "../core/_jsonrpc.ts";
import { TransportDecorator } from "../core/_transport_decorator.ts";
import type { JSONRPCMessage, MessageExtraInfo, RequestId, Transport, TransportSendOptions } from "../core/_sdk.ts";
import type { ServerLogHandler, ServerRequestHandler } from "./server_requests.ts";
import type { CallIdentity } from "./call_options.ts";

/** What a call does with the member's requests and log messages during it. */
export interface CallHandlers {
  onrequest?: ServerRequestHandler | undefined;
  onlog?: ServerLogHandler | undefined;
  /** The user the call is made for (its data-channel requests carry that user's token). */
  onBehalfOf?: CallIdentity | undefined;
  /** Told each time the member answers one of the call's requests (each round of a modern member's input, say). */
  onanswer?: (() => void) | undefined;
}

const TOKEN_PREFIX = "io.github.federated-mcp/call#";

/** A connection's calls by the JSON-RPC id their requests got on it. */
export type CallTable = Map<RequestId, CallRelation>;

/** One attempt of one call: its handlers, and the ids its requests got on the connection(s) it used. */
export class CallRelation {
  readonly token: string;
  readonly handlers: CallHandlers;
  /** Whether the member answered one of the call's requests with a JSON-RPC error (a remote error, not a close). */
  remoteError = false;
  #registry: CallRegistry;
  #bindings: [CallTable, RequestId][] = [];

  constructor(registry: CallRegistry, token: string, handlers: CallHandlers) {
    this.#registry = registry;
    this.token = token;
    this.handlers = handlers;
  }

  bind(table: CallTable, id: RequestId): void {
    table.set(id, this);
    this.#bindings.push([table, id]);
  }

  /** The call is over: nothing the member sends later can name it. */
  end(): void {
    for (const [table, id] of this.#bindings) if (table.get(id) === this) table.delete(id);
    this.#bindings = [];
    this.#registry.forget(this.token);
  }
}

/** The calls of one member in progress, by the token they travel under to the transport. */
export class CallRegistry {
  #calls = new Map<string, CallRelation>();
  #next = 0;

  open(handlers: CallHandlers): CallRelation {
    const token = `${TOKEN_PREFIX}${this.#next++}`;
    const relation = new CallRelation(this, token, handlers);
    this.#calls.set(token, relation);
    return relation;
  }

  get(token: unknown): CallRelation | undefined {
    return typeof token === "string" ? this.#calls.get(token) : undefined;
  }

  forget(token: string): void {
    this.#calls.delete(token);
  }
}

/**
 * A decorator of a channel's transport: binds each request the SDK client sends for a call to that call, notes error
 * responses to them (so a remote `-32000` is told apart from the SDK's local "connection closed"), and hands the
 * rest through unchanged.
 */
export class RelatedTransport extends TransportDecorator {
  /** This connection's calls in progress by request id. */
  readonly calls: CallTable = new Map();
  #registry: CallRegistry;

  constructor(inner: Transport, registry: CallRegistry) {
    super(inner);
    this.#registry = registry;
  }

  protected override receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    if (isResponse(message) && isRequestId(message.id)) {
      const call = this.calls.get(message.id);
      if (call && "error" in message) call.remoteError = true;
      call?.handlers.onanswer?.();
    }
    this.onmessage?.(message, extra);
  }

  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const token = options?.relatedRequestId;
    if (typeof token !== "string" || !token.startsWith(TOKEN_PREFIX)) return this.inner.send(message, options);
    const call = this.#registry.get(token);
    if (call && isRequest(message)) call.bind(this.calls, message.id);
    // The token means nothing to the member (also once its call ended, e.g. on a late cancellation): never sent.
    const { relatedRequestId: _token, ...rest } = options!;
    return this.inner.send(message, rest);
  }
}
