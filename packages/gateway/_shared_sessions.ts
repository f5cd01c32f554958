// Internal: client sessions any replica can serve. A session id is a sealed token (SessionTokens) carrying the
// client's `initialize` parameters, so a replica that sees it for the first time rebuilds the session by replaying
// that `initialize` into a fresh SDK server and transport. Replicas exchange, over the registry store's bus:
// answers to server-to-client requests (to the replica that sent the request), messages for a client's GET stream
// (to the replica holding it), client cancellations, and revocations (a DELETE ends the session everywhere).
import { CHANNELS } from "../cluster/registry_store.ts";
import { compactSessionInit } from "../cluster/_session_init.ts";
import type { SessionClaims, SessionInit } from "../cluster/session_tokens.ts";
import { ConfigError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { PrometheusWriter } from "../core/_prometheus.ts";
import type { FederatedCatalog } from "../proxy/catalog.ts";
import type { EventStore, JSONRPCMessage, WebStandardStreamableHTTPServerTransport } from "../core/_sdk.ts";
import type { ClusterRuntime } from "./_cluster_runtime.ts";
import { rpcError } from "./_http_guard.ts";
import { ReplicaEventStore } from "./_replica_event_store.ts";
import { parseTaggedId, type SessionBus, SessionLink, type TaggedId } from "./_session_link.ts";

type Message = {
  jsonrpc?: unknown;
  method?: unknown;
  id?: unknown;
  result?: unknown;
  error?: unknown;
  params?: unknown;
};

interface SessionNotice {
  t: "revoke" | "cancel";
  s: string;
  from: string;
  /** One message (older replicas), or several. */
  m?: JSONRPCMessage;
  ms?: JSONRPCMessage[];
}

const encoder = new TextEncoder();

/** The messages of an envelope: `ms` (a list), or `m` (one). */
function messagesOf(envelope: Record<string, unknown>): JSONRPCMessage[] {
  if (Array.isArray(envelope.ms)) return envelope.ms.filter(isRecord) as JSONRPCMessage[];
  return isRecord(envelope.m) ? [envelope.m as JSONRPCMessage] : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The `initialize` parameters of a POST body, when it is an initialize request that names them, reduced to what a
 * session id carries (see `compactSessionInit`); the body's params are replaced by that reduction, so that this
 * replica's session sees what a replica rebuilding it from its id will see. A part larger than its limit gets a
 * 400 answer naming the limit (never a 500 later).
 */
export function initializeParams(body: unknown, subject?: string): SessionInit | Response | undefined {
  const messages = Array.isArray(body) ? body : [body];
  const init = messages.find((m) => isRecord(m) && m.method === "initialize") as Message | undefined;
  const params = init?.params;
  if (!isRecord(params) || typeof params.protocolVersion !== "string" || !isRecord(params.capabilities)) {
    return undefined;
  }
  const info = params.clientInfo;
  if (!isRecord(info) || typeof info.name !== "string" || typeof info.version !== "string") return undefined;
  const compact = compactSessionInit(params as unknown as SessionInit, subject);
  if ("problem" in compact) return rpcError(400, -32602, `Invalid params: ${compact.problem}`);
  init!.params = { ...params, ...compact.init };
  return compact.init;
}

function isForwardableResponse(message: Message): boolean {
  return message.jsonrpc === "2.0" && message.method === undefined &&
    (typeof message.id === "string" || typeof message.id === "number") &&
    (isRecord(message.result) || isRecord(message.error));
}

/** Counters for `/metrics`. */
export interface SharedSessionCounters {
  restored: number;
  forwarded: number;
  streamed: number;
  revoked: number;
  /** Sessions refused because their subject held its most sessions. */
  quotaRefused: number;
  /** Client answers dropped because no replica sent the request they answer (forged or foreign tag). */
  refused: number;
  /** Progress notifications replaced by a later one before a slow client read them. */
  coalesced: number;
  /** Streams ended because their client read nothing while messages piled up. */
  overruns: number;
}

/** Sessions one subject may hold on one replica, by default. */
export const DEFAULT_MAX_SESSIONS_PER_SUBJECT = 100;

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
  /** Sessions open on this replica per subject, and the most one subject may hold. */
  #perSubject = new Map<string, number>();
  /** Sessions of a subject being opened now (admitted, not linked yet). */
  #reserved = new Map<string, number>();
  #maxPerSubject: number;
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
    const max = settings.maxSessionsPerSubject ?? DEFAULT_MAX_SESSIONS_PER_SUBJECT;
    if (!Number.isInteger(max) || max < 1) {
      throw new ConfigError(`Invalid maxSessionsPerSubject ${max}: must be an integer >= 1`, {
        field: "maxSessionsPerSubject",
      });
    }
    this.#maxPerSubject = max;
  }

  /**
   * Whether `subject` may open (or rebuild here) one more session: a 429 answer naming the limit when it may not,
   * else a reservation to release once the session is open (or failed to open), so that concurrent `initialize`
   * requests of one subject cannot overrun the quota. Sessions without a subject (gateway authentication off)
   * count only against `maxSessions`.
   */
  admit(subject: string | undefined): Response | (() => void) {
    if (subject === undefined) return () => {};
    const held = (this.#perSubject.get(subject) ?? 0) + (this.#reserved.get(subject) ?? 0);
    if (held >= this.#maxPerSubject) {
      this.counters.quotaRefused++;
      this.#logger.warn("Session refused: the subject holds its most sessions", { limit: this.#maxPerSubject });
      return rpcError(
        429,
        -32000,
        `Too many sessions for this subject (limit ${this.#maxPerSubject} per subject); close one (DELETE) or wait`,
        { "retry-after": "5" },
      );
    }
    this.#reserved.set(subject, (this.#reserved.get(subject) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#reserved.get(subject) ?? 1) - 1;
      if (left > 0) this.#reserved.set(subject, left);
      else this.#reserved.delete(subject);
    };
  }

  #count(subject: string | undefined, delta: 1 | -1): void {
    if (subject === undefined) return;
    const next = (this.#perSubject.get(subject) ?? 0) + delta;
    if (next > 0) this.#perSubject.set(subject, next);
    else this.#perSubject.delete(subject);
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

  #parse(text: string): Record<string, unknown> | undefined {
    try {
      const value = JSON.parse(text);
      return isRecord(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  #onReplicaMessage(text: string): void {
    const envelope = this.#parse(text);
    if (typeof envelope?.s !== "string") return;
    const link = this.#links.get(envelope.s);
    // The link delivers only answers to requests it sent and still waits for.
    for (const message of messagesOf(envelope)) link?.deliver(message);
  }

  #onNotice(text: string): void {
    const notice = this.#parse(text) as SessionNotice | undefined;
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

  /** The transport of a session on this replica. */
  link(
    transport: WebStandardStreamableHTTPServerTransport,
    session: { token: string; claims: SessionClaims; events: ReplicaEventStore | undefined },
  ): SessionLink {
    const link = new SessionLink(transport, session, this);
    const previous = this.#links.get(session.claims.id);
    if (previous) this.#count(previous.claims.subject, -1);
    this.#links.set(session.claims.id, link);
    this.#count(session.claims.subject, 1);
    return link;
  }

  forget(link: SessionLink): void {
    if (this.#links.get(link.claims.id) !== link) return;
    this.#links.delete(link.claims.id);
    this.#count(link.claims.subject, -1);
  }

  coalesced(): void {
    this.counters.coalesced++;
  }

  overrun(detail: { stream: "request" | "standalone"; waiting: number }): void {
    this.counters.overruns++;
    this.#logger.warn("Client does not read its stream: stream ended, waiting messages dropped", detail);
  }

  async tagRequest(sessionId: string, id: string | number): Promise<string> {
    const base = `${this.replicaId}~${id}`;
    return `${base}~${await this.#mac(this.#runtime.routeKeys[0]!, sessionId, base)}`;
  }

  async #mac(key: CryptoKey, sessionId: string, base: string): Promise<string> {
    const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${sessionId}\n${base}`));
    return new Uint8Array(mac, 0, 16).toBase64({ alphabet: "base64url", omitPadding: true });
  }

  /** Whether a tagged id was issued by the replica it names, for this session (any current or previous key). */
  async #issued(sessionId: string, tagged: TaggedId): Promise<boolean> {
    for (const key of this.#runtime.routeKeys) {
      if (await this.#mac(key, sessionId, tagged.base) === tagged.tag) return true;
    }
    return false;
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
        if (!await this.#issued(sessionId, tagged)) {
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
        const envelope = this.#parse(text);
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
    const c = this.counters;
    return new PrometheusWriter()
      .counter("federation_sessions_restored_total", "Client sessions rebuilt on this replica from their session id.", [
        [undefined, c.restored],
      ])
      .counter(
        "federation_sessions_forwarded_total",
        "Client answers forwarded to the replica that sent the request.",
        [[undefined, c.forwarded]],
      )
      .counter(
        "federation_sessions_streamed_total",
        "Messages handed to the replica holding a client's GET stream.",
        [[undefined, c.streamed]],
      )
      .counter("federation_sessions_revoked_total", "Client sessions ended by DELETE on this replica.", [
        [undefined, c.revoked],
      ])
      .counter(
        "federation_sessions_quota_refused_total",
        "Sessions refused because their subject held its most sessions.",
        [[undefined, c.quotaRefused]],
      )
      .counter(
        "federation_sessions_answers_refused_total",
        "Client answers dropped: no replica sent their request.",
        [[undefined, c.refused]],
      )
      .counter(
        "federation_stream_progress_coalesced_total",
        "Progress notifications replaced before a slow client read them.",
        [[undefined, c.coalesced]],
      )
      .counter("federation_stream_overruns_total", "SSE streams ended because their client did not read them.", [
        [undefined, c.overruns],
      ])
      .lines();
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
