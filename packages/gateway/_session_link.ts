// Internal: the transport a client session's MCP server talks through on one replica. It sits in front of the SDK's
// Streamable HTTP transport (which it owns and drives only through its public API) and makes the session work
// across replicas:
// - requests the server sends to the client get ids that name this replica (`<replica>~<n>`), so that the client's
//   answer, whichever replica it reaches, is forwarded here;
// - a message for the client's GET stream that this replica does not hold goes to the replica that does (a
//   notification every replica emits anyway, like `list_changed`, is not forwarded: the holder sends its own);
// - a GET stream resumed with another replica's `Last-Event-ID` opens a fresh stream here instead of failing, and
//   starts with `list_changed` for tools, resources and prompts: what the client missed while it had no stream
//   cannot be replayed from here, so it is told to list again.
// Each SSE stream's flow control (a client that reads slowly or not at all) is in `_stream_flow.ts`. A call served
// outside the SDK transport (`_legacy_plain_call.ts`) gets what the server sends related to it here (`openPlain`),
// and its stream, when it has one, resumes here on GET (`_plain_answer.ts`).
import type { SessionClaims } from "../cluster/session_tokens.ts";
import type {
  JSONRPCMessage,
  Transport,
  TransportSendOptions,
  WebStandardStreamableHTTPServerTransport,
} from "../core/_sdk.ts";
import { isRequest, isResponse } from "../core/_jsonrpc.ts";
import { rpcError } from "./_http_guard.ts";
import { isEventStream } from "../core/_http.ts";
import type { ReplicaEventStore } from "./_replica_event_store.ts";
import { type HeldStream, holdingEvents } from "./_event_store.ts";
import { type Message, parseTaggedId } from "./_session_wire.ts";
import { type RequestId, STANDALONE, StreamFlow } from "./_stream_flow.ts";
import { PlainAnswer, type PlainAnswerOptions } from "./_plain_answer.ts";

/** What a link needs from its replica's shared-session layer. */
export interface SessionBus {
  /** This replica's id. */
  readonly replicaId: string;
  /**
   * Sends messages of a client's POST that belong elsewhere (answers to another replica's requests, cancellations)
   * and returns those this replica handles.
   */
  route(link: SessionLink, messages: JSONRPCMessage[]): Promise<JSONRPCMessage[]>;
  /** Hands a message to the replica holding the session's GET stream; whether one took it. */
  toStream(sessionId: string, message: JSONRPCMessage): Promise<boolean>;
  /** Starts receiving messages for this session's GET stream; returns the end of it. */
  holdStream(link: SessionLink): () => void;
  /** Records that the client ended the session (DELETE). */
  revoke(claims: SessionClaims): Promise<void>;
  /** Forgets a closed link. */
  forget(link: SessionLink): void;
  /**
   * The id a request this replica sends to the client carries: `<replica>~<n>~<tag>`, where the tag (a MAC under
   * the cluster key, bound to the session) lets any replica check that this replica sent it before forwarding an
   * answer here.
   */
  tagRequest(sessionId: string, id: string | number): Promise<string>;
  /** A progress notification replaced an older one of the same token that the client had not read yet. */
  coalesced(): void;
  /** A stream was ended because its client did not read it (logged by the bus). */
  overrun(detail: { stream: "request" | "standalone"; waiting: number }): void;
}

/** Most messages a POST body (a JSON-RPC batch) may hold; larger batches get 400 before anything is forwarded. */
export const MAX_BATCH = 100;

/**
 * How long a POST's answer may wait to be plain JSON (nothing but the response on its stream) before it is sent as
 * the SSE stream, resumable, in ms.
 */
export const JSON_WINDOW_MS = 1_000;

/** The stream id the SDK transport stores its GET stream's events under. */
const GET_STREAM_ID = "_GET_stream";

/** Most requests to the client one session keeps waiting for an answer; the oldest is forgotten beyond it. */
const MAX_OUTSTANDING = 1_000;

/** Sent at the start of a stream that moved here from another replica: the client lists again. */
const CATCH_UP: JSONRPCMessage[] = [
  { jsonrpc: "2.0", method: "notifications/tools/list_changed" },
  { jsonrpc: "2.0", method: "notifications/resources/list_changed" },
  { jsonrpc: "2.0", method: "notifications/prompts/list_changed" },
];

/** Notifications every replica sends by itself: a replica without the GET stream keeps them local. */
const EVERY_REPLICA = new Set([
  "notifications/tools/list_changed",
  "notifications/resources/list_changed",
  "notifications/prompts/list_changed",
]);

/** A successful answer that is an SSE stream still being written. */
function isOkEventStream(response: Response): boolean {
  return response.ok && isEventStream(response);
}

/** One client session's transport on this replica. */
export class SessionLink implements Transport {
  onmessage?: ((message: JSONRPCMessage, extra?: unknown) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  /** The session id the client sends (the token). */
  readonly token: string;
  /** What the token carries. */
  readonly claims: SessionClaims;
  #inner: WebStandardStreamableHTTPServerTransport;
  #events: ReplicaEventStore | undefined;
  #bus: SessionBus;
  #streams = new Set<() => void>();
  #flow: StreamFlow;
  /** Requests sent to the client and not answered yet: tagged id → the server's own id, and back. */
  #outstanding = new Map<string, string | number>();
  #tagged = new Map<string | number, string>();
  /** Requests answered outside the SDK transport (`_legacy_plain_call.ts`): what the server sends related to them. */
  #plain = new Map<RequestId, PlainAnswer>();

  constructor(
    inner: WebStandardStreamableHTTPServerTransport,
    session: { token: string; claims: SessionClaims; events: ReplicaEventStore | undefined },
    bus: SessionBus,
  ) {
    this.#inner = inner;
    this.token = session.token;
    this.claims = session.claims;
    this.#events = session.events;
    this.#bus = bus;
    this.#flow = new StreamFlow((message, options) => this.#inner.send(message, options), bus);
  }

  /** The SDK transport's session id (the token, once initialized). */
  get sessionId(): string | undefined {
    return this.#inner.sessionId;
  }

  /** Whether this replica holds one of the session's GET streams now. */
  get holdsStream(): boolean {
    return this.#streams.size > 0;
  }

  start(): Promise<void> {
    this.#inner.onmessage = (message, extra) => {
      const inbound = this.#inbound(message);
      if (inbound) this.onmessage?.(inbound, extra);
    };
    this.#inner.onerror = (error) => this.onerror?.(error);
    this.#inner.onclose = () => {
      for (const end of [...this.#streams]) end();
      for (const answer of this.#plain.values()) answer.cancel();
      this.#plain.clear();
      this.#bus.forget(this);
      this.onclose?.();
    };
    return this.#inner.start();
  }

  /**
   * A client's answer to a request this replica sent carries a tagged id: the server gets its own id back, once.
   * An answer to a tagged id this replica is not waiting for (answered already, forged, another replica's) is
   * dropped.
   */
  #inbound(message: JSONRPCMessage): JSONRPCMessage | undefined {
    const m = message as Message;
    if (!isResponse(message) || parseTaggedId(m.id) === undefined) return message;
    const own = this.#outstanding.get(m.id as string);
    if (own === undefined) return undefined;
    this.#outstanding.delete(m.id as string);
    this.#tagged.delete(own);
    return { ...message, id: own } as JSONRPCMessage;
  }

  /** Tags a request to the client, and the cancellation of one, with the id the client sees. */
  async #outbound(message: JSONRPCMessage): Promise<JSONRPCMessage> {
    const m = message as Message & { params?: { requestId?: unknown } };
    if (isRequest(message)) {
      const own = m.id as string | number;
      const id = await this.#bus.tagRequest(this.claims.id, own);
      this.#outstanding.set(id, own);
      this.#tagged.set(own, id);
      if (this.#outstanding.size > MAX_OUTSTANDING) {
        const [oldest, of] = this.#outstanding.entries().next().value!;
        this.#outstanding.delete(oldest);
        this.#tagged.delete(of);
      }
      return { ...message, id } as JSONRPCMessage;
    }
    if (m.method === "notifications/cancelled" && m.params?.requestId !== undefined) {
      const id = this.#tagged.get(m.params.requestId as string | number);
      if (id === undefined) return message;
      this.#tagged.delete(m.params.requestId as string | number);
      this.#outstanding.delete(id);
      return { ...message, params: { ...m.params, requestId: id } } as JSONRPCMessage;
    }
    return message;
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    message = await this.#outbound(message);
    const related = options?.relatedRequestId;
    const inner = related === undefined ? undefined : { relatedRequestId: related };
    const standalone = related === undefined && !isResponse(message);
    if (!standalone || this.holdsStream || EVERY_REPLICA.has((message as Message).method as string)) {
      return await this.#toClient(message, inner);
    }
    if (await this.#bus.toStream(this.claims.id, message)) return;
    await this.#toClient(message, inner);
  }

  /**
   * Hands a message to the SDK stream it belongs to, through that stream's flow control, or to the answer of a
   * request served outside the SDK transport.
   */
  async #toClient(message: JSONRPCMessage, options: { relatedRequestId: RequestId } | undefined): Promise<void> {
    const key = isResponse(message) ? (message as Message).id as RequestId : options?.relatedRequestId ?? STANDALONE;
    // A plain call's own response never comes this way (it is answered directly): only what relates to it does.
    const plain = isResponse(message) || key === STANDALONE ? undefined : this.#plain.get(key);
    if (plain) return plain.push(message);
    await this.#flow.send(message, options, key);
  }

  /**
   * The answer of request `id` served outside the SDK transport: what the server sends related to it goes there
   * until `closePlain`, and its stream is resumable from the session's event store. Undefined when a request with
   * that id is in progress already (the SDK transport then decides).
   */
  openPlain(id: RequestId, options: Omit<PlainAnswerOptions, "store">): PlainAnswer | undefined {
    if (this.#plain.has(id) || this.#flow.has(id)) return undefined;
    const answer = new PlainAnswer({ ...options, store: this.#events });
    this.#plain.set(id, answer);
    return answer;
  }

  /** Cancels the request `id` served outside the SDK transport, if one is in progress. */
  cancelPlain(id: RequestId, reason: unknown): void {
    this.#plain.get(id)?.cancel(reason);
  }

  /** Ends what `openPlain` began. */
  closePlain(id: RequestId, answer: PlainAnswer): void {
    if (this.#plain.get(id) === answer) this.#plain.delete(id);
  }

  /** A message from another replica for this session (an answer, a cancellation): as if the client sent it here. */
  deliver(message: JSONRPCMessage): void {
    const inbound = this.#inbound(message);
    if (inbound) this.onmessage?.(inbound);
  }

  /** A message from another replica for the client's GET stream held here. */
  async push(message: JSONRPCMessage): Promise<void> {
    await this.#toClient(message, undefined);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /**
   * Serves one HTTP request of this session: a POST's messages are routed (answers to other replicas' requests
   * forwarded there), a GET stream is recorded as held here, a DELETE revokes the session on every replica.
   */
  async handleRequest(request: Request, options: { parsedBody?: unknown } = {}): Promise<Response> {
    switch (request.method) {
      case "POST":
        return await this.#post(request, options.parsedBody);
      case "GET":
        return await this.#get(request);
      case "DELETE": {
        const response = await this.#inner.handleRequest(request);
        if (response.ok) await this.#bus.revoke(this.claims);
        return response;
      }
      default:
        return await this.#inner.handleRequest(request);
    }
  }

  async #post(request: Request, parsedBody: unknown): Promise<Response> {
    let body = parsedBody;
    if (body === undefined) {
      // Anything but JSON is left to the SDK transport, which answers with the right status.
      if (!/^application\/json\b/i.test(request.headers.get("content-type") ?? "")) {
        return await this.#inner.handleRequest(request);
      }
      try {
        body = await request.json();
      } catch {
        return rpcError(400, -32700, "Parse error: invalid JSON");
      }
    }
    if (typeof body !== "object" || body === null) {
      return await this.#inner.handleRequest(request, { parsedBody: body });
    }
    const batch = Array.isArray(body);
    const messages = (batch ? body : [body]) as JSONRPCMessage[];
    if (messages.length > MAX_BATCH) {
      return rpcError(400, -32600, `Invalid Request: a batch holds at most ${MAX_BATCH} messages`);
    }
    let local: JSONRPCMessage[];
    try {
      local = await this.#bus.route(this, messages);
    } catch {
      return rpcError(503, -32000, "Cannot forward the message to the replica waiting for it", { "retry-after": "1" });
    }
    if (local.length === 0) return new Response(null, { status: 202 });
    const parsed = batch ? local : local[0];
    const ids = local.filter(isRequest).map((m) => (m as Message).id as RequestId);
    if (ids.length === 0 || ids.some((id) => this.#flow.has(id))) {
      return await this.#inner.handleRequest(request, { parsedBody: parsed });
    }
    const box = this.#flow.open("request", ids);
    // A single request's answer may turn out to be plain JSON: its stream's events are held back until it is known.
    const held: HeldStream = {};
    let keep = true;
    try {
      const handle = () => this.#inner.handleRequest(request, { parsedBody: parsed });
      let response: Response;
      try {
        response = await (batch ? handle() : holdingEvents(held, handle));
      } catch (error) {
        this.#flow.drop(box);
        throw error;
      }
      if (!isOkEventStream(response)) {
        this.#flow.drop(box);
        return response;
      }
      if (batch) return this.#flow.metered(response, box);
      const answer = await this.#flow.answer(response, box, JSON_WINDOW_MS, request.signal);
      keep = isOkEventStream(answer);
      return answer;
    } finally {
      if (held.stream !== undefined) this.#events?.settle(held.stream, keep);
    }
  }

  async #get(request: Request): Promise<Response> {
    const lastEventId = request.headers.get("last-event-id");
    const moved = lastEventId !== null && !this.#events?.owns(lastEventId);
    const resumed = lastEventId === null || moved ? undefined : await this.#events?.getStreamIdForEventId(lastEventId);
    if (resumed !== undefined && (request.headers.get("accept") ?? "").includes("text/event-stream")) {
      // The stream of a request answered outside the SDK transport, still in progress: it resumes itself.
      for (const answer of this.#plain.values()) {
        if (answer.streamId === resumed) return answer.resume(this.#events!, lastEventId!);
      }
    }
    if (moved) {
      // Issued by another replica (or unknown): what it missed is not here; open a fresh stream.
      const headers = new Headers(request.headers);
      headers.delete("last-event-id");
      request = new Request(request.url, { method: "GET", headers });
    }
    const response = await this.#inner.handleRequest(request);
    // A POST's stream replayed (its events, then nothing more here) is not the session's GET stream.
    if (!isOkEventStream(response) || (resumed !== undefined && resumed !== GET_STREAM_ID)) return response;
    const box = this.#flow.open("standalone", [STANDALONE]);
    if (moved) { for (const message of CATCH_UP) await this.#toClient(message, undefined); }
    const release = this.#bus.holdStream(this);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.#streams.delete(end);
      release();
    };
    this.#streams.add(end);
    return this.#flow.metered(response, box, end);
  }
}
