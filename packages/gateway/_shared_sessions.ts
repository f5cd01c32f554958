// Internal: client sessions any replica can serve. A session id is a sealed token (SessionTokens) carrying the
// client's `initialize` parameters, so a replica that sees it for the first time rebuilds the session by replaying
// that `initialize` into a fresh SDK server and transport. Replicas exchange, over the registry store's bus:
// answers to server-to-client requests (to the replica that sent the request), messages for a client's GET stream
// (to the replica holding it), client cancellations, and revocations (a DELETE ends the session everywhere).
// The messages and request tags are in `_session_wire.ts`, the per-subject quota in `_session_quota.ts`.
import { CHANNELS } from "../cluster/registry_store.ts";
import type { SessionClaims, SessionInit } from "../cluster/session_tokens.ts";
import { isRecord } from "../core/_json.ts";
import type { Logger } from "../core/logger.ts";
import type { FederatedCatalog } from "../proxy/catalog.ts";
import type { EventStore, JSONRPCMessage, WebStandardStreamableHTTPServerTransport } from "../core/_sdk.ts";
import type { ClusterRuntime } from "./_cluster_runtime.ts";
import { ReplicaEventStore } from "./_replica_event_store.ts";
import { type SessionBus, SessionLink } from "./_session_link.ts";
import { sessionMetricLines, type SharedSessionCounters } from "./_session_metrics.ts";
import { type SessionReservation, SubjectQuota } from "./_session_quota.ts";
import {
  isForwardableResponse,
  type Message,
  messagesOf,
  parseEnvelope,
  parseTaggedId,
  RequestTags,
  type SessionNotice,
} from "./_session_wire.ts";

export { DEFAULT_MAX_SESSIONS_PER_SUBJECT } from "./_session_quota.ts";
export type { SharedSessionCounters } from "./_session_metrics.ts";

/** The shared-session layer of one replica. */
export class SharedSessions implements SessionBus {
  readonly replicaId: string;
  readonly counters: SharedSessionCounters = {
    restored: 0,
    forwarded: 0,
    streamed: 0,
    revoked: 0,
    quotaRefused: 0,
    refused: 0,
    coalesced: 0,
    overruns: 0,
    eventsStored: 0,
    eventsSkipped: 0,
    plainCalls: 0,
  };
  #runtime: ClusterRuntime;
  #logger: Logger;
  #links = new Map<string, SessionLink>();
  /** Session id → when its revocation can be forgotten (ms since the epoch). */
  #revoked = new Map<string, number>();
  /** Revocations the store has not acknowledged yet, retried until it does. */
  #pending = new Map<string, SessionClaims>();
  #unsubscribe: (() => Promise<void>)[] = [];
  #subscribing: Promise<void> | undefined;
  #streams = new Map<string, { holders: number; unsubscribe: Promise<(() => Promise<void>) | undefined> }>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #catalog: FederatedCatalog;
  #quota: SubjectQuota;
  #tags: RequestTags;
  #warm: Promise<void> | undefined;
  #closed = false;
  #onHealth = (event: Event) => {
    if ((event as CustomEvent).detail?.state === "ok") void this.#maintain();
  };

  constructor(
    runtime: ClusterRuntime,
    settings: { logger: Logger; catalog: FederatedCatalog; maxSessionsPerSubject?: number | undefined },
  ) {
    this.#runtime = runtime;
    this.replicaId = runtime.replicaId;
    this.#logger = settings.logger;
    this.#catalog = settings.catalog;
    this.#quota = new SubjectQuota(settings.maxSessionsPerSubject, (limit) => {
      this.counters.quotaRefused++;
      this.#logger.warn("Session refused: the subject holds its most sessions", { limit });
    });
    this.#tags = new RequestTags(runtime.replicaId, () => runtime.routeKeys);
  }

  /**
   * Whether `subject` may open (or rebuild here) one more session: a 429 answer naming the limit when it may not,
   * else a reservation, opened by {@link link} or released when the session fails to open. See
   * {@link SubjectQuota.admit}.
   */
  admit(subject: string | undefined): Response | SessionReservation {
    return this.#quota.admit(subject);
  }

  /** Subscribes to this replica's channel and the session notices (retried while the store is unreachable). */
  start(): void {
    this.#runtime.store.addEventListener("health", this.#onHealth);
    this.#timer = setInterval(() => void this.#maintain(), 1_000);
    void this.#maintain();
  }

  async #maintain(): Promise<void> {
    if (this.#closed) return;
    if (this.#unsubscribe.length === 0) {
      await (this.#subscribing ??= this.#subscribe().finally(() => this.#subscribing = undefined));
    }
    for (const claims of [...this.#pending.values()]) await this.#record(claims);
    const now = Date.now();
    for (const [id, until] of this.#revoked) if (until <= now) this.#revoked.delete(id);
  }

  async #subscribe(): Promise<void> {
    const store = this.#runtime.store;
    try {
      const own = await store.subscribe(CHANNELS.replica(this.replicaId), (text) => this.#onReplicaMessage(text));
      try {
        const notices = await store.subscribe(CHANNELS.sessions, (text) => this.#onNotice(text));
        this.#unsubscribe = [own, notices];
      } catch (error) {
        await own();
        throw error;
      }
      if (this.#closed) await this.#dropSubscriptions();
    } catch (error) {
      this.#logger.debug("Cannot subscribe to session messages yet", { error: String(error) });
    }
  }

  async #dropSubscriptions(): Promise<void> {
    const all = this.#unsubscribe.splice(0);
    await Promise.all(all.map((u) => u().catch(() => {})));
  }

  /** Receives the input bridge's messages on this replica's channel (`_bridge_forwarding.ts`, tagged `b`). */
  onBridgeMessage: ((envelope: Record<string, unknown>) => void) | undefined;

  /** Publishes an input-bridge message on a replica's channel; resolves with how many received it. */
  toReplica(replica: string, envelope: Record<string, unknown>): Promise<number> {
    return this.#runtime.store.publish(CHANNELS.replica(replica), JSON.stringify(envelope));
  }

  #onReplicaMessage(text: string): void {
    const envelope = parseEnvelope(text);
    if (envelope?.b !== undefined) return void this.onBridgeMessage?.(envelope);
    if (typeof envelope?.s !== "string") return;
    const link = this.#links.get(envelope.s);
    // The link delivers only answers to requests it sent and still waits for.
    for (const message of messagesOf(envelope)) link?.deliver(message);
  }

  #onNotice(text: string): void {
    const notice = parseEnvelope(text) as SessionNotice | undefined;
    if (typeof notice?.s !== "string" || notice.from === this.replicaId) return;
    const link = this.#links.get(notice.s);
    if (notice.t === "revoke") {
      this.#revoked.set(notice.s, Date.now() + this.#runtime.tokens.maxAge);
      if (link) void link.close();
    } else if (notice.t === "cancel") {
      for (const message of messagesOf(notice as unknown as Record<string, unknown>)) link?.deliver(message);
    }
  }

  /** Issues the session id of a new session, from its initialize request. */
  async issue(init: SessionInit, subject: string | undefined): Promise<{ token: string; claims: SessionClaims }> {
    const token = await this.#runtime.tokens.issue({ subject, init });
    const claims = await this.#runtime.tokens.open(token);
    return { token, claims: claims! };
  }

  /**
   * Opens a session id seen for the first time on this replica.
   *
   * @returns Its claims, or `undefined` when it is forged, altered, expired or revoked. When the store cannot say
   *   whether it was revoked, it is accepted (availability first; revocations are also broadcast).
   */
  async open(token: string): Promise<SessionClaims | undefined> {
    const claims = await this.#runtime.tokens.open(token);
    if (!claims) return undefined;
    const until = this.#revoked.get(claims.id);
    if (until !== undefined) {
      if (until > Date.now()) return undefined;
      this.#revoked.delete(claims.id);
    }
    try {
      if (await this.#runtime.store.isRevoked(claims.id)) return undefined;
    } catch (error) {
      this.#logger.debug("Cannot check a session's revocation; accepting it", { error: String(error) });
    }
    return claims;
  }

  /** The two requests that rebuild a session here: its `initialize`, then `notifications/initialized`. */
  restoreRequests(url: string, token: string, claims: SessionClaims): [Request, Request] {
    const headers = {
      accept: "application/json, text/event-stream",
      "content-type": "application/json",
    };
    const initialize = new Request(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: "restore", method: "initialize", params: claims.init }),
    });
    const initialized = new Request(url, {
      method: "POST",
      headers: { ...headers, "mcp-session-id": token, "mcp-protocol-version": claims.init.protocolVersion },
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    });
    this.counters.restored++;
    return [initialize, initialized];
  }

  /** An event store whose ids name this replica. */
  eventStore(inner: EventStore): ReplicaEventStore {
    return new ReplicaEventStore(inner, this.replicaId);
  }

  /** The transport of a session on this replica; its quota reservation becomes its count. */
  link(
    transport: WebStandardStreamableHTTPServerTransport,
    session: { token: string; claims: SessionClaims; events: ReplicaEventStore | undefined },
    reservation: SessionReservation,
  ): SessionLink {
    const link = new SessionLink(transport, session, this);
    const previous = this.#links.get(session.claims.id);
    if (previous) this.#quota.count(previous.claims.subject, -1);
    this.#links.set(session.claims.id, link);
    reservation.open();
    return link;
  }

  forget(link: SessionLink): void {
    if (this.#links.get(link.claims.id) !== link) return;
    this.#links.delete(link.claims.id);
    this.#quota.count(link.claims.subject, -1);
  }

  coalesced(): void {
    this.counters.coalesced++;
  }

  overrun(detail: { stream: "request" | "standalone"; waiting: number }): void {
    this.counters.overruns++;
    this.#logger.warn("Client does not read its stream: stream ended, waiting messages dropped", detail);
  }

  async tagRequest(sessionId: string, id: string | number): Promise<string> {
    return await this.#tags.tag(sessionId, id);
  }

  /**
   * Splits a client's POST: answers to requests another replica sent go there (one publish per replica, and only
   * answers whose tag shows that replica sent the request, in this session); cancellations are announced once for
   * the whole POST; the rest is handled here. Answers with a forged or foreign tag are dropped.
   */
  async route(link: SessionLink, messages: JSONRPCMessage[]): Promise<JSONRPCMessage[]> {
    const local: JSONRPCMessage[] = [];
    const elsewhere = new Map<string, Map<string, JSONRPCMessage>>();
    const cancels: JSONRPCMessage[] = [];
    const store = this.#runtime.store;
    const sessionId = link.claims.id;
    for (const message of messages) {
      if (!isRecord(message)) {
        local.push(message); // not JSON-RPC: the SDK transport answers it
        continue;
      }
      const m = message as Message;
      const tagged = isForwardableResponse(m) ? parseTaggedId(m.id) : undefined;
      if (tagged !== undefined && tagged.replica !== this.replicaId) {
        if (!await this.#tags.issued(sessionId, tagged)) {
          this.counters.refused++;
          continue;
        }
        let answers = elsewhere.get(tagged.replica);
        if (!answers) elsewhere.set(tagged.replica, answers = new Map());
        answers.set(m.id as string, message); // one answer per request
        continue;
      }
      if (m.method === "notifications/cancelled") cancels.push(message);
      local.push(message);
    }
    if (cancels.length > 0) {
      const notice: SessionNotice = { t: "cancel", s: sessionId, from: this.replicaId, ms: cancels };
      store.publish(CHANNELS.sessions, JSON.stringify(notice)).catch(() => {});
    }
    // An answer for a replica that is gone has no one waiting for it: it is dropped there.
    await Promise.all([...elsewhere].map(([owner, answers]) => {
      this.counters.forwarded += answers.size;
      return store.publish(CHANNELS.replica(owner), JSON.stringify({ s: sessionId, ms: [...answers.values()] }));
    }));
    return local;
  }

  async toStream(sessionId: string, message: JSONRPCMessage): Promise<boolean> {
    try {
      const receivers = await this.#runtime.store.publish(CHANNELS.stream(sessionId), JSON.stringify({ m: message }));
      if (receivers > 0) this.counters.streamed++;
      return receivers > 0;
    } catch {
      return false;
    }
  }

  holdStream(link: SessionLink): () => void {
    // The catalog announces changes only of lists it serves; a replica holding a client's stream must announce
    // them even when the client listed tools through another replica.
    this.#warm ??= Promise.all([this.#catalog.listTools(), this.#catalog.listResources(), this.#catalog.listPrompts()])
      .then(() => {}, () => void (this.#warm = undefined));
    const id = link.claims.id;
    let entry = this.#streams.get(id);
    if (!entry) {
      const unsubscribe = this.#runtime.store.subscribe(CHANNELS.stream(id), (text) => {
        const envelope = parseEnvelope(text);
        if (isRecord(envelope?.m)) void this.#links.get(id)?.push(envelope.m as JSONRPCMessage).catch(() => {});
      }).catch((error) => {
        this.#logger.debug("Cannot receive other replicas' messages for a stream", { error: String(error) });
        return undefined;
      });
      entry = { holders: 0, unsubscribe };
      this.#streams.set(id, entry);
    }
    entry.holders++;
    const held = entry;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--held.holders > 0 || this.#streams.get(id) !== held) return;
      this.#streams.delete(id);
      void held.unsubscribe.then((u) => u?.()).catch(() => {});
    };
  }

  async revoke(claims: SessionClaims): Promise<void> {
    this.counters.revoked++;
    this.#revoked.set(claims.id, claims.issuedAt + this.#runtime.tokens.maxAge);
    await this.#record(claims);
  }

  /** Writes a revocation to the store and tells every replica; kept for a retry when the store does not answer. */
  async #record(claims: SessionClaims): Promise<void> {
    const ttl = claims.issuedAt + this.#runtime.tokens.maxAge - Date.now();
    if (ttl <= 0) {
      this.#pending.delete(claims.id);
      return;
    }
    try {
      await this.#runtime.store.revokeSession(claims.id, ttl);
      const notice: SessionNotice = { t: "revoke", s: claims.id, from: this.replicaId };
      await this.#runtime.store.publish(CHANNELS.sessions, JSON.stringify(notice));
      this.#pending.delete(claims.id);
    } catch (error) {
      if (!this.#pending.has(claims.id)) {
        this.#logger.warn("Session revocation not recorded yet; retrying", { error: String(error) });
      }
      this.#pending.set(claims.id, claims);
    }
  }

  /** Prometheus lines about shared sessions (through the one writer). */
  metricLines(): string[] {
    return sessionMetricLines(this.counters);
  }

  /** Drops subscriptions and timers; sessions are closed by the gateway. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#runtime.store.removeEventListener("health", this.#onHealth);
    await this.#subscribing;
    await this.#dropSubscriptions();
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    await Promise.all(streams.map((s) => s.unsubscribe.then((u) => u?.()).catch(() => {})));
  }
}
