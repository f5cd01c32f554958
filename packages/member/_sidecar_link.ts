// Internal: one proxy's connection to the sidecar's upstream MCP server. Every member session of the same proxy
// (same token `sub` and `iss`: its control socket, its data sessions, the sockets of a token renewal) shares ONE
// upstream transport (one process for a stdio upstream, one MCP session for an HTTP one); another proxy gets its
// own link, so nothing of one proxy's upstream state reaches another.
//
// The link relays raw JSON-RPC:
// - ids: each request a session sends gets a fresh upstream id; the answer goes back to that session under its own
//   id. Progress tokens are rewritten the same way, and `notifications/cancelled` follows its request.
// - `initialize`: the first session's is sent upstream (with `notifications/initialized`); every session gets that
//   result. After a restart the link replays it before anything else.
// - what the upstream sends on its own: progress goes to the call that owns the token. A request (sampling,
//   elicitation, roots) or a log line is related by the relation rule (DESIGN.md, fail closed). An HTTP upstream
//   relates exactly: what comes on a POST's response stream belongs to that POST's request (the transport marks it,
//   see `relatesByStream`), what comes on the GET stream to no call. A stdio stream names no call, so a message is
//   related to a call only when exactly one call of this proxy is in progress upstream (pings aside). A request
//   related to no call goes, unrelated, to the proxy's newest control session (else data session), whose own rule
//   decides; one that cannot be related (several calls in progress on stdio, or a call that has ended) is refused
//   with a JSON-RPC error; such a log line is sent unrelated. Other notifications (list changes, resource updates)
//   go unrelated to that newest session.
// - the upstream exits: calls in progress fail (`-32000`), and it is restarted with the backoff policy while the
//   proxy has a session; requests wait for it (at most `readyTimeout`).
//
// Over 400 lines for a reason: one relay, whose maps (pending ids, progress tokens, forwarded requests) both
// directions read and write; split in two, each half would reach into the other's state.

import { backoffDelay } from "../core/backoff.ts";
import type { BackoffPolicy } from "../core/backoff.ts";
import { isRecord } from "../core/_json.ts";
import { isNotification, isRequest, isRequestId, isResponse } from "../core/_jsonrpc.ts";
import { sleep } from "../core/_sleep.ts";
import type { JSONRPCMessage, RequestId, Transport } from "../core/_sdk.ts";
import type { Logger } from "../core/logger.ts";
import { takeRelation } from "../core/_relation_meta.ts";
import { soleCall } from "../core/_sole_call.ts";
import type { RelaySession } from "./_sidecar_session.ts";

/** JSON-RPC error code of a call that the upstream could not answer (it exited, or could not be started). */
export const UPSTREAM_UNAVAILABLE = -32000;
/** JSON-RPC error code the upstream gets for a request that cannot be related to one call. */
export const UNRELATED_REFUSED = -32600;

/** Longest wait for the upstream's answer to `initialize`, in ms (a first `npx -y` may download the server). */
const INITIALIZE_TIMEOUT = 120_000;

/** Settings of a link. */
export interface LinkOptions {
  /** Builds a new, unstarted transport to the upstream. */
  connect: () => Transport;
  /**
   * Whether the transport marks each message with the request of the stream it came on (`_meta` key
   * `RELATED_REQUEST_META_KEY`, an HTTP upstream's POST streams); otherwise any such mark is the upstream's own and is
   * dropped, and the single-call rule applies.
   */
  relatesByStream: boolean;
  /** Restart policy. */
  backoff: BackoffPolicy;
  /** How long a request waits for the upstream to be (re)started and initialized, in ms. */
  readyTimeout: number;
  /** How long the link outlives its proxy's last session, in ms. */
  linger: number;
  logger: Logger;
  /** Added to log lines. */
  label: Record<string, unknown>;
  /** The link closed itself (no session for `linger`). */
  onclose: () => void;
  now: () => number;
}

interface Pending {
  session: RelaySession;
  /** The session's id of the request. */
  id: RequestId;
  method: string;
  /** The upstream progress token given to it, if any. */
  progress: string | undefined;
}

interface Internal {
  resolve: (message: JSONRPCMessage) => void;
}

interface InitializeResult {
  result: Record<string, unknown>;
}

function errorReply(id: RequestId, code: number, message: string): JSONRPCMessage {
  return { jsonrpc: "2.0", id, error: { code, message } };
}

function paramsOf(message: Record<string, unknown>): Record<string, unknown> | undefined {
  return isRecord(message.params) ? message.params : undefined;
}

function withParams(message: Record<string, unknown>, params: Record<string, unknown>): JSONRPCMessage {
  return { ...message, params } as JSONRPCMessage;
}

/** One proxy's share of the upstream. */
export class UpstreamLink {
  #options: LinkOptions;
  #sessions = new Set<RelaySession>();
  #transport: Transport | undefined;
  #ready: Promise<InitializeResult> | undefined;
  #initParams: Record<string, unknown> | undefined;
  #pending = new Map<number, Pending>();
  #internal = new Map<string, Internal>();
  #progress = new Map<string, { pending: Pending; token: string | number }>();
  /** Upstream requests forwarded to a session: the upstream id's key → session and the id there. */
  #forwarded = new Map<string, { session: RelaySession; id: string }>();
  #nextId = 1;
  #attempt = 0;
  #notBefore = 0;
  #startedAt = 0;
  #closed = false;
  /** Whether the current transport is initialized (a loss before that is #start's to handle). */
  #live = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: LinkOptions) {
    this.#options = options;
  }

  /** Sessions of this proxy. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Whether the link is closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  attach(session: RelaySession): void {
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
    this.#sessions.add(session);
  }

  detach(session: RelaySession): void {
    if (!this.#sessions.delete(session)) return;
    for (const [id, upstreamId] of session.upstreamIds) {
      session.upstreamIds.delete(id);
      if (!this.#pending.delete(upstreamId)) continue; // still waiting for the upstream: never sent
      this.#dropProgress(upstreamId);
      void this.#sendUpstream({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId: upstreamId, reason: "The proxy's session closed" },
      });
    }
    for (const [id, upstreamId] of session.outgoing) {
      this.#forwarded.delete(JSON.stringify(upstreamId));
      void this.#sendUpstream(errorReply(upstreamId, UPSTREAM_UNAVAILABLE, "The proxy's session closed"));
      session.outgoing.delete(id);
    }
    if (this.#sessions.size === 0 && !this.#closed) {
      this.#lingerTimer = setTimeout(() => {
        this.#lingerTimer = undefined;
        if (this.#sessions.size === 0) void this.close().then(() => this.#options.onclose());
      }, this.#options.linger);
    }
  }

  /** Stops the upstream (a stdio process is ended) and fails what is in progress. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
      const transport = this.#transport;
      this.#transport = undefined;
      this.#failAll("The sidecar is shutting down");
      // An HTTP upstream's session is ended (DELETE), a process is ended.
      const http = transport as (Transport & { terminateSession?: () => Promise<void> }) | undefined;
      await http?.terminateSession?.().catch(() => {});
      await transport?.close().catch(() => {});
    })();
    return this.#closing;
  }

  /** A message from one of the proxy's sessions. */
  fromSession(session: RelaySession, message: JSONRPCMessage): void {
    const m = message as Record<string, unknown>;
    if (isRequest(m)) {
      if (m.method === "initialize") void this.#initialize(session, m.id, paramsOf(m) ?? {});
      else void this.#forwardRequest(session, m);
      return;
    }
    if (isNotification(m)) {
      if (m.method === "notifications/initialized") return; // sent once by the link itself
      if (m.method === "notifications/cancelled") {
        const params = paramsOf(m);
        const upstreamId = isRequestId(params?.requestId) ? session.upstreamIds.get(params.requestId) : undefined;
        if (upstreamId === undefined || !params) return;
        // The call is over for the proxy, which expects no answer (and the upstream sends none): forget it now, or
        // it would count as in progress for the relation rule. One still waiting for the upstream to be ready is
        // never sent (#forwardRequest sees it gone); one sent is cancelled upstream.
        session.upstreamIds.delete(params.requestId as RequestId);
        if (!this.#pending.delete(upstreamId)) return;
        this.#dropProgress(upstreamId);
        void this.#sendUpstream(withParams(m, { ...params, requestId: upstreamId }));
        return;
      }
      void this.#sendUpstream(message);
      return;
    }
    if (isResponse(m) && typeof m.id === "string") {
      // The proxy's answer to a request the upstream sent through this session.
      const upstreamId = session.outgoing.get(m.id);
      if (upstreamId === undefined) return;
      session.outgoing.delete(m.id);
      this.#forwarded.delete(JSON.stringify(upstreamId));
      void this.#sendUpstream({ ...m, id: upstreamId } as JSONRPCMessage);
    }
  }

  async #initialize(session: RelaySession, id: RequestId, params: Record<string, unknown>): Promise<void> {
    this.#initParams ??= params;
    try {
      const { result } = await this.#whenReady();
      session.send({ jsonrpc: "2.0", id, result } as JSONRPCMessage);
    } catch (error) {
      session.send(errorReply(id, UPSTREAM_UNAVAILABLE, `Upstream unavailable: ${(error as Error).message}`));
    }
  }

  async #forwardRequest(session: RelaySession, m: Record<string, unknown> & { method: string; id: RequestId }) {
    // Registered before the wait, so that a cancellation or the session's end meanwhile is seen after it.
    const upstreamId = this.#nextId++;
    session.upstreamIds.set(m.id, upstreamId);
    try {
      await this.#whenReady();
    } catch (error) {
      if (session.upstreamIds.get(m.id) !== upstreamId) return;
      session.upstreamIds.delete(m.id);
      session.send(errorReply(m.id, UPSTREAM_UNAVAILABLE, `Upstream unavailable: ${(error as Error).message}`));
      return;
    }
    // Cancelled (or its session closed) while waiting: never sent.
    if (session.isClosed || session.upstreamIds.get(m.id) !== upstreamId) return;
    const pending: Pending = { session, id: m.id, method: m.method, progress: undefined };
    let params = paramsOf(m);
    const meta = params && isRecord(params._meta) ? params._meta : undefined;
    const token = meta?.progressToken;
    if (params && meta && (typeof token === "string" || typeof token === "number")) {
      pending.progress = `p${upstreamId}`;
      this.#progress.set(pending.progress, { pending, token });
      params = { ...params, _meta: { ...meta, progressToken: pending.progress } };
    }
    this.#pending.set(upstreamId, pending);
    const sent = await this.#sendUpstream(
      params ? { ...withParams(m, params), id: upstreamId } : { ...m, id: upstreamId } as JSONRPCMessage,
    );
    if (!sent) this.#settle(upstreamId, undefined, "Upstream unavailable: the message could not be sent");
  }

  // Resolves with the initialize result once the upstream is running and initialized, (re)starting it if needed.
  #whenReady(): Promise<InitializeResult> {
    if (this.#closed) return Promise.reject(new Error("the sidecar is shutting down"));
    if (this.#initParams === undefined) return Promise.reject(new Error("no initialize request yet"));
    this.#ready ??= this.#start();
    const ready = this.#ready;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not ready within ${this.#options.readyTimeout} ms`)),
        this.#options.readyTimeout,
      );
    });
    return Promise.race([ready, timeout]).finally(() => clearTimeout(timer));
  }

  async #start(): Promise<InitializeResult> {
    const { logger, label, now } = this.#options;
    const wait = this.#notBefore - now();
    if (wait > 0) await sleep(wait);
    if (this.#closed) throw new Error("the sidecar is shutting down");
    const transport = this.#options.connect();
    this.#transport = transport;
    this.#live = false;
    transport.onmessage = (message) => {
      if (this.#transport === transport) this.#fromUpstream(message);
    };
    transport.onerror = (error) => logger.debug("Upstream transport error", { ...label, error: error.message });
    transport.onclose = () => this.#lost(transport);
    try {
      await transport.start();
      this.#startedAt = now();
      const initialize = await this.#request(transport, "initialize", this.#initParams!);
      if ("error" in initialize) {
        throw new Error(`initialize failed: ${JSON.stringify((initialize as { error: unknown }).error)}`);
      }
      const result = (initialize as { result: Record<string, unknown> }).result;
      const version = result.protocolVersion;
      const versioned = transport as Transport & { setProtocolVersion?: (version: string) => void };
      if (typeof version === "string") versioned.setProtocolVersion?.(version);
      await transport.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      if (this.#transport !== transport) throw new Error("the upstream closed during initialize");
      this.#live = true;
      logger.info("Upstream ready", { ...label, protocolVersion: version });
      return { result };
    } catch (error) {
      logger.warn("Upstream failed to start", { ...label, error: (error as Error).message });
      if (this.#transport === transport) this.#transport = undefined;
      this.#ready = undefined;
      this.#backoff();
      await transport.close().catch(() => {});
      if (this.#sessions.size > 0) queueMicrotask(() => this.#retryLater());
      throw error;
    }
  }

  // An internal request of the link (initialize), answered through #internal; rejects when the transport closes.
  #request(transport: Transport, method: string, params: Record<string, unknown>): Promise<JSONRPCMessage> {
    const id = `sidecar-init-${this.#nextId++}`;
    const { promise, resolve, reject } = Promise.withResolvers<JSONRPCMessage>();
    this.#internal.set(id, { resolve });
    const timer = setTimeout(
      () => reject(new Error(`no answer to ${method} within ${INITIALIZE_TIMEOUT} ms`)),
      INITIALIZE_TIMEOUT,
    );
    const previous = transport.onclose;
    transport.onclose = () => {
      reject(new Error("the upstream closed during initialize"));
      previous?.();
    };
    transport.send({ jsonrpc: "2.0", id, method, params } as JSONRPCMessage).catch(reject);
    return promise.finally(() => {
      clearTimeout(timer);
      this.#internal.delete(id);
      transport.onclose = previous;
    });
  }

  #backoff(): void {
    const { backoff, now } = this.#options;
    if (this.#startedAt > 0 && now() - this.#startedAt >= backoff.resetAfter) this.#attempt = 0;
    this.#notBefore = now() + backoffDelay(backoff, this.#attempt++);
  }

  // The upstream transport closed (process exited, or closed by close()).
  #lost(transport: Transport): void {
    if (this.#transport !== transport) return;
    this.#transport = undefined;
    if (!this.#live) return;
    this.#live = false;
    this.#ready = undefined;
    this.#failAll("Upstream exited");
    if (this.#closed) return;
    this.#backoff();
    this.#options.logger.warn("Upstream lost: restarting", { ...this.#options.label, attempt: this.#attempt });
    if (this.#sessions.size > 0) this.#whenReady().catch(() => this.#retryLater());
  }

  #retryLater(): void {
    if (this.#closed || this.#sessions.size === 0 || this.#ready) return;
    this.#whenReady().catch(() => this.#retryLater());
  }

  #failAll(reason: string): void {
    for (const upstreamId of [...this.#pending.keys()]) this.#settle(upstreamId, undefined, reason);
    for (const [key, { session, id }] of this.#forwarded) {
      session.outgoing.delete(id);
      this.#forwarded.delete(key);
    }
  }

  async #sendUpstream(message: JSONRPCMessage): Promise<boolean> {
    const transport = this.#transport;
    if (!transport) return false;
    try {
      await transport.send(message);
      return true;
    } catch (error) {
      this.#options.logger.debug("Upstream send failed", { ...this.#options.label, error: (error as Error).message });
      const code = (error as { code?: unknown }).code;
      // An HTTP upstream that lost our session (it restarted): start a new one.
      if (code === 404 && this.#transport === transport) void transport.close().catch(() => {});
      return false;
    }
  }

  // Ends one request: its answer (rewritten to the session's id) or an error.
  #settle(upstreamId: number, answer: Record<string, unknown> | undefined, reason?: string): void {
    const pending = this.#pending.get(upstreamId);
    if (!pending) return;
    this.#pending.delete(upstreamId);
    this.#dropProgress(upstreamId);
    pending.session.upstreamIds.delete(pending.id);
    const reply = answer
      ? { ...answer, id: pending.id } as JSONRPCMessage
      : errorReply(pending.id, UPSTREAM_UNAVAILABLE, reason ?? "Upstream unavailable");
    pending.session.send(reply);
  }

  #dropProgress(upstreamId: number): void {
    this.#progress.delete(`p${upstreamId}`);
  }

  #fromUpstream(message: JSONRPCMessage): void {
    const m = message as Record<string, unknown>;
    if (isResponse(m)) {
      if (typeof m.id === "string") {
        this.#internal.get(m.id)?.resolve(message);
        return;
      }
      if (typeof m.id === "number") this.#settle(m.id, m);
      return;
    }
    if (isRequest(m)) {
      this.#upstreamRequest(m);
      return;
    }
    if (isNotification(m)) this.#upstreamNotification(m);
  }

  // The call a message of the upstream belongs to: a call in progress, "none", or "ambiguous" (it cannot be
  // related: several calls in progress on stdio, or it names a call that has ended). Also returns the message
  // without the transport's relation mark.
  #relation(m: Record<string, unknown>): { relation: Pending | "none" | "ambiguous"; message: JSONRPCMessage } {
    const taken = takeRelation(m.params);
    const message = (taken.named ? { ...m, params: taken.params } : m) as JSONRPCMessage;
    if (this.#options.relatesByStream) {
      if (!taken.named) return { relation: "none", message };
      const pending = typeof taken.related === "number" ? this.#pending.get(taken.related) : undefined;
      return { relation: pending ?? "ambiguous", message };
    }
    const calls = this.#pending.values().filter((pending) => pending.method !== "ping");
    return { relation: soleCall(calls), message };
  }

  // The newest control session, else the newest data session.
  #primary(): RelaySession | undefined {
    let best: RelaySession | undefined;
    for (const session of this.#sessions) {
      if (!best) best = session;
      else if ((session.channel === "control") !== (best.channel === "control")) {
        if (session.channel === "control") best = session;
      } else if (session.openedAt >= best.openedAt) best = session;
    }
    return best;
  }

  #upstreamRequest(m: Record<string, unknown> & { method: string; id: RequestId }): void {
    if (m.method === "ping") {
      void this.#sendUpstream({ jsonrpc: "2.0", id: m.id, result: {} });
      return;
    }
    const { relation, message } = this.#relation(m);
    if (relation === "ambiguous") {
      this.#options.logger.warn("Refused an upstream request that cannot be related to one call", {
        ...this.#options.label,
        method: m.method,
        inProgress: this.#pending.size,
      });
      const why = this.#options.relatesByStream
        ? "the call it was sent for has ended"
        : `${this.#pending.size} calls are in progress`;
      void this.#sendUpstream(errorReply(m.id, UNRELATED_REFUSED, `Cannot relate '${m.method}' to one call: ${why}`));
      return;
    }
    const session = relation === "none" ? this.#primary() : relation.session;
    if (!session) {
      void this.#sendUpstream(errorReply(m.id, UNRELATED_REFUSED, `No client to answer '${m.method}'`));
      return;
    }
    const id = session.nextOutgoingId();
    session.outgoing.set(id, m.id);
    this.#forwarded.set(JSON.stringify(m.id), { session, id });
    session.send({ ...message, id } as JSONRPCMessage, relation === "none" ? undefined : relation.id);
  }

  #upstreamNotification(m: Record<string, unknown> & { method: string }): void {
    const params = paramsOf(m);
    if (m.method === "notifications/progress") {
      const token = params?.progressToken;
      const entry = typeof token === "string" ? this.#progress.get(token) : undefined;
      if (!entry || !params) return; // progress of no call in progress: dropped
      entry.pending.session.send(withParams(m, { ...params, progressToken: entry.token }), entry.pending.id);
      return;
    }
    if (m.method === "notifications/cancelled") {
      // The upstream withdraws a request it sent through a session.
      const forwarded = isRequestId(params?.requestId)
        ? this.#forwarded.get(JSON.stringify(params.requestId))
        : undefined;
      if (!forwarded || !params) return;
      forwarded.session.send(withParams(m, { ...params, requestId: forwarded.id }));
      return;
    }
    const { relation, message } = this.#relation(m);
    if (m.method === "notifications/message" && typeof relation === "object") {
      relation.session.send(message, relation.id);
      return;
    }
    this.#primary()?.send(message);
  }
}
