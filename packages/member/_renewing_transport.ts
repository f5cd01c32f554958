// Internal: the server-side transport of one control session. It wraps the core WebSocketTransport and adds what
// a member needs around the MCP server: token renewal (`federation/renewToken`, answered here, never seen by the
// MCP server), the token deadline (close 4001), the idle timeout (close 4002), in-flight request accounting for
// drain(), and refusal of new requests while draining.

import type { JSONRPCMessage, MessageExtraInfo, Transport, TransportSendOptions } from "../core/_sdk.ts";
import { isRequest, isRequestId, isResponse } from "../core/_jsonrpc.ts";
import { AuthenticationError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { CloseCode } from "../core/websocket_transport.ts";
import type { WebSocketTransport } from "../core/websocket_transport.ts";
import { type AuthInfo, authInfoOf, sameIdentity, USER_METHODS } from "./_auth_guard.ts";
import type { Grant } from "./_auth_guard.ts";
import { Deadline } from "./_deadline.ts";
import type { InflightCounter } from "./_inflight.ts";
import { MemberRpcErrorCode, RENEW_TOKEN_METHOD, USER_TOKEN_META_KEY } from "./control_protocol.ts";
import { isRecord } from "../core/_json.ts";

/** Options of a {@link RenewingTransport}. */
export interface RenewingTransportOptions {
  /** The verified token of the upgrade request. */
  grant: Grant;
  /** Verifies a renewal token exactly like an upgrade token. */
  verify(token: unknown): Promise<Grant>;
  /** Milliseconds without traffic (and without a request in progress) before the socket is closed. */
  idleTimeout: number;
  /** Clock in milliseconds. */
  now: () => number;
  /** Shared count of requests in progress. */
  inflight: InflightCounter;
  /** Whether the member is draining: new requests are refused. */
  draining: () => boolean;
  /** Where to log. */
  logger: Logger;
  /** The member, for log lines. */
  serverId: string;
  /** Refuse calls that need a user identity and carry no valid user token. @default {false} */
  requireUserIdentity?: boolean | undefined;
}

type RequestId = string | number;

/** The 2026-07-28 request that opens a stream of change notifications; it stays open until cancelled. */
const LISTEN_METHOD = "subscriptions/listen";

/** The request a `notifications/cancelled` names, if any. */
function cancelledIdOf(message: JSONRPCMessage): RequestId | undefined {
  if (!("method" in message) || message.method !== "notifications/cancelled" || "id" in message) return undefined;
  const params = message.params;
  return isRecord(params) && isRequestId(params.requestId) ? params.requestId : undefined;
}

function requestIdOf(message: JSONRPCMessage): RequestId | undefined {
  return isRequest(message) ? message.id : undefined;
}

/** The user token a request carries in `_meta`, and the request without it; `undefined` when it carries none. */
function takeUserToken(message: JSONRPCMessage): { token: unknown; message: JSONRPCMessage } | undefined {
  if (!isRequest(message) || !isRecord(message.params)) return undefined;
  const meta = message.params._meta;
  if (!isRecord(meta) || !(USER_TOKEN_META_KEY in meta)) return undefined;
  const { [USER_TOKEN_META_KEY]: token, ...restMeta } = meta;
  const { _meta: _dropped, ...restParams } = message.params;
  const params = Object.keys(restMeta).length > 0 ? { ...restParams, _meta: restMeta } : restParams;
  return { token, message: { ...message, params } as JSONRPCMessage };
}

function responseIdOf(message: JSONRPCMessage): RequestId | undefined {
  return isResponse(message) && isRequestId(message.id) ? message.id : undefined;
}

/**
 * The transport an MCP server of a control session is connected to. See the module doc of `control_protocol.ts`
 * for the renewal protocol.
 */
export class RenewingTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  sessionId?: string | undefined;

  #inner: WebSocketTransport;
  #options: RenewingTransportOptions;
  #grant: Grant;
  #expiry: Deadline;
  #idle: Deadline;
  #pending = new Set<RequestId>();
  /** Open `subscriptions/listen` streams (2026-07-28): activity, but not requests in progress for drain(). */
  #streams = new Set<RequestId>();
  #closed = false;
  /** Messages behind a user token being verified wait here, so that order is kept. */
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;

  constructor(inner: WebSocketTransport, options: RenewingTransportOptions) {
    this.#inner = inner;
    this.#options = options;
    this.#grant = options.grant;
    inner.onmessage = (message) => this.#enqueue(message);
    inner.onerror = (error) => this.onerror?.(error);
    inner.onclose = () => this.#finish();
    this.#expiry = new Deadline(options.now, () => {
      options.logger.info("Closing a control session: its token expired", { serverId: options.serverId });
      void this.#inner.close(CloseCode.TOKEN_EXPIRED, "Token expired");
    });
    this.#idle = new Deadline(options.now, () => {
      if (this.#pending.size > 0 || this.#streams.size > 0) return this.#touch();
      options.logger.info("Closing an idle control session", { serverId: options.serverId });
      void this.#inner.close(CloseCode.IDLE_TIMEOUT, "Idle timeout");
    });
    this.#expiry.set(this.#grant.exp * 1000);
    this.#touch();
  }

  /** The connection's deadline: `exp` of its current token, in seconds since the epoch. */
  get expiresAt(): number {
    return this.#grant.exp;
  }

  /** Requests received and not yet answered. */
  get pending(): number {
    return this.#pending.size;
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.#touch();
    const id = responseIdOf(message);
    if (id !== undefined && this.#pending.delete(id)) this.#options.inflight.done();
    if (id !== undefined) this.#streams.delete(id);
    // The relation (`relatedRequestId`) travels on: the proxy routes what is sent during a call by it.
    return this.#inner.send(message, options);
  }

  /**
   * Closes the socket.
   *
   * @param code WebSocket close code. @default {1000}
   * @param reason Close reason.
   */
  close(code: number = CloseCode.NORMAL, reason = ""): Promise<void> {
    return this.#inner.close(code, reason);
  }

  #touch(): void {
    if (!this.#closed) this.#idle.set(this.#options.now() + this.#options.idleTimeout);
  }

  /** Delivers a message at once, or after the user tokens of earlier messages (and its own) are verified. */
  #enqueue(message: JSONRPCMessage): void {
    const taken = takeUserToken(message);
    if (taken === undefined && this.#queued === 0) return this.#receive(message, undefined);
    this.#queued++;
    this.#queue = this.#queue.then(async () => {
      if (!taken) return this.#receive(message, undefined);
      let authInfo: AuthInfo | undefined;
      try {
        const grant = await this.#options.verify(taken.token);
        // The user token must be the connection's own proxy acting for a user, not any other holder of a token.
        if (!grant.user || !sameIdentity(grant, this.#grant)) {
          throw new AuthenticationError("ERR_AUTH_CLAIM_INVALID", "User token is not this connection's", {
            claim: "act",
          });
        }
        authInfo = authInfoOf(grant);
      } catch (error) {
        const code = error instanceof AuthenticationError ? error.code : "ERR_AUTH_MALFORMED";
        this.#options.logger.debug("Refused a user token", { serverId: this.#options.serverId, code });
        this.#reply({
          jsonrpc: "2.0",
          id: (taken.message as { id: RequestId }).id,
          error: { code: -32001, message: `User token refused: ${code}` },
        });
        return;
      }
      this.#receive(taken.message, authInfo);
    }).catch((error) => this.onerror?.(error instanceof Error ? error : new Error(String(error))))
      .finally(() => this.#queued--);
  }

  #receive(message: JSONRPCMessage, authInfo: AuthInfo | undefined): void {
    this.#touch();
    // A cancelled request may never be answered (the SDK drops the answer of an aborted handler): it is no longer in
    // progress for drain(), nor is a cancelled listen stream.
    const cancelled = cancelledIdOf(message);
    if (cancelled !== undefined) {
      this.#streams.delete(cancelled);
      if (this.#pending.delete(cancelled)) this.#options.inflight.done();
    }
    const id = requestIdOf(message);
    if (id !== undefined) {
      const method = (message as { method: string }).method;
      if (method === RENEW_TOKEN_METHOD) {
        this.#renew(id, (message as { params?: { token?: unknown } }).params?.token).catch((error) =>
          this.#options.logger.error("Token renewal failed", { serverId: this.#options.serverId, error: String(error) })
        );
        return;
      }
      if (this.#options.requireUserIdentity && !authInfo && USER_METHODS.has(method)) {
        this.#reply({
          jsonrpc: "2.0",
          id,
          error: {
            code: -32001,
            message: "This member requires a user identity: the call must be made on behalf of a user",
          },
        });
        return;
      }
      if (this.#options.draining()) {
        this.#reply({
          jsonrpc: "2.0",
          id,
          error: { code: MemberRpcErrorCode.DRAINING, message: "Server is shutting down: request not accepted" },
        });
        return;
      }
      if (method === LISTEN_METHOD) {
        this.#streams.add(id);
      } else if (!this.#pending.has(id)) {
        this.#pending.add(id);
        this.#options.inflight.add();
      }
    }
    this.onmessage?.(message, authInfo ? { authInfo } : undefined);
  }

  async #renew(id: RequestId, token: unknown): Promise<void> {
    let reply: JSONRPCMessage;
    try {
      const grant = await this.#options.verify(token);
      if (grant.user || !sameIdentity(grant, this.#grant)) {
        throw new AuthenticationError("ERR_AUTH_CLAIM_INVALID", "Token is for another subject", { claim: "sub" });
      }
      if (this.#closed) return;
      this.#grant = grant;
      this.#expiry.set(grant.exp * 1000);
      reply = { jsonrpc: "2.0", id, result: { expiresAt: grant.exp } };
    } catch (error) {
      const code = error instanceof AuthenticationError ? error.code : "ERR_AUTH_MALFORMED";
      this.#options.logger.debug("Refused a token renewal", { serverId: this.#options.serverId, code });
      reply = {
        jsonrpc: "2.0",
        id,
        error: { code: MemberRpcErrorCode.RENEWAL_REFUSED, message: `Token renewal refused: ${code}` },
      };
    }
    this.#reply(reply);
  }

  #reply(message: JSONRPCMessage): void {
    if (this.#closed || !this.#inner.isOpen) return;
    this.#touch();
    this.#inner.send(message).catch(() => {});
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#expiry.clear();
    this.#idle.clear();
    for (const _ of this.#pending) this.#options.inflight.done();
    this.#pending.clear();
    this.#streams.clear();
    this.onclose?.();
  }
}
