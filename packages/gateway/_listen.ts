// Internal: the gateway's own `subscriptions/listen` (2026-07-28). One SSE stream per listen request: the
// acknowledgement first, carrying only what the federation agreed to honour (list-changed flags, which the catalog
// reports for every member, and the resource URIs whose member accepted the subscription), then the matching
// catalog notifications, every one tagged with the listen request's id. Resource subscriptions go through the
// catalog (`catalog.subscribe`, counted per member and URI), and are released when the stream ends however it ends:
// the client goes away (the body is cancelled) or the gateway ends it (`signal`, answered with the final result).
import type { RequestId } from "../core/_sdk.ts";
import { isRecord } from "../core/_json.ts";
import type { CatalogListChangedEvent, ResourceUpdatedEvent } from "../proxy/catalog.ts";
import type { SessionHub } from "./_hub.ts";

/** `_meta` key of the subscription id on every message of a listen stream (the listen request's JSON-RPC id). */
const SUBSCRIPTION_ID_KEY = "io.modelcontextprotocol/subscriptionId";
/** The most resource URIs one listen request may name. */
export const MAX_LISTEN_URIS = 256;
/** The most listen streams open at once on one hub. */
export const MAX_LISTENS_PER_HUB = 1_024;
/** The most messages a stream holds for a client that does not read; one more ends the stream. */
export const MAX_UNREAD_MESSAGES = 1_000;
/** The most distinct changes kept while a listen request is being acknowledged. */
const MAX_EARLY_CHANGES = 64;
/** How often a comment keeps an idle stream alive, in ms. */
const DEFAULT_KEEP_ALIVE_MS = 15_000;

/** The filter of a listen request (and of its acknowledgement). */
export interface ListenFilter {
  toolsListChanged?: true;
  promptsListChanged?: true;
  resourcesListChanged?: true;
  resourceSubscriptions?: string[];
}

/** What {@link serveListen} serves a listen request with. */
export interface ListenContext {
  /** The gateway's hub (its catalog is the federation's). */
  hub: SessionHub;
  /**
   * Aborting it ends the stream gracefully: the final (empty) result, then the end of the body. Pass the gateway's
   * shutdown signal; a client that disconnects cancels the body, which releases everything too (no need for
   * `request.signal`, which Deno aborts when a response ends).
   */
  signal: AbortSignal;
  /**
   * How often a comment line keeps an idle stream alive, in ms (0: never).
   * @default {15000}
   */
  keepAliveMs?: number;
  /**
   * `_meta` entries for the final result (the gateway's server info, for instance).
   * @default {{}}
   */
  resultMeta?: Record<string, unknown>;
  /**
   * The most resource URIs one request may name.
   * @default {MAX_LISTEN_URIS}
   */
  maxUris?: number;
  /**
   * The most listen streams open at once on the hub.
   * @default {MAX_LISTENS_PER_HUB}
   */
  maxListens?: number;
}

/** Open listen streams per hub. */
const openListens = new WeakMap<SessionHub, number>();

const LIST_CHANGES = {
  toolsChanged: { flag: "toolsListChanged", method: "notifications/tools/list_changed" },
  promptsChanged: { flag: "promptsListChanged", method: "notifications/prompts/list_changed" },
  resourcesChanged: { flag: "resourcesListChanged", method: "notifications/resources/list_changed" },
} as const;

function errorAnswer(status: number, id: RequestId | null, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/** The requested filter, or a message saying what is wrong with it. */
function parseFilter(params: Record<string, unknown>, maxUris: number): ListenFilter | string {
  const notifications = params.notifications ?? {};
  if (!isRecord(notifications)) return "Invalid subscriptions/listen params: notifications must be an object";
  const filter: ListenFilter = {};
  for (const flag of ["toolsListChanged", "promptsListChanged", "resourcesListChanged"] as const) {
    const value = notifications[flag];
    if (value !== undefined && typeof value !== "boolean") {
      return `Invalid subscriptions/listen params: notifications.${flag} must be a boolean`;
    }
    if (value === true) filter[flag] = true;
  }
  const uris = notifications.resourceSubscriptions;
  if (uris !== undefined) {
    if (!Array.isArray(uris) || !uris.every((uri) => typeof uri === "string")) {
      return "Invalid subscriptions/listen params: notifications.resourceSubscriptions must be an array of strings";
    }
    const unique = [...new Set(uris as string[])];
    if (unique.length > maxUris) {
      return `Invalid subscriptions/listen params: at most ${maxUris} resourceSubscriptions per request (got ${unique.length})`;
    }
    if (unique.length > 0) filter.resourceSubscriptions = unique;
  }
  return filter;
}

/**
 * Serves one `subscriptions/listen` request as an SSE stream over the federation's catalog.
 *
 * @param request The listen request's id and params.
 * @param ctx The hub, the signal that ends the stream gracefully, and limits.
 * @returns The response: an SSE stream, or a JSON-RPC error (400 `-32602` for a bad filter, 503 `-32000` when the
 *   hub has too many open streams).
 *
 * @example Answer a modern `subscriptions/listen` POST
 * ```ts ignore
 * const response = serveListen(
 *   { id: message.id, params: message.params ?? {} },
 *   { hub, signal: shutdown.signal },
 * );
 * ```
 */
export function serveListen(
  request: { id: RequestId; params: Record<string, unknown> },
  ctx: ListenContext,
): Response {
  const { id } = request;
  const parsed = parseFilter(request.params, ctx.maxUris ?? MAX_LISTEN_URIS);
  if (typeof parsed === "string") return errorAnswer(400, id, -32602, parsed);
  const filter: ListenFilter = parsed;
  const hub = ctx.hub;
  const open = openListens.get(hub) ?? 0;
  if (open >= (ctx.maxListens ?? MAX_LISTENS_PER_HUB)) {
    return errorAnswer(503, id, -32000, "Too many open subscriptions/listen streams on this gateway");
  }
  openListens.set(hub, open + 1);
  const catalog = hub.catalog;
  const encoder = new TextEncoder();
  const tag = { [SUBSCRIPTION_ID_KEY]: id };
  const keepAliveMs = ctx.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
  /** Federated URIs subscribed through the catalog (released at the end). */
  const subscribed = new Set<string>();
  let acknowledged: ListenFilter | undefined;
  let ended = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  let releasing: Promise<void> | undefined;

  function write(text: string): void {
    if (ended) return;
    if (-(controller.desiredSize ?? 0) >= MAX_UNREAD_MESSAGES) {
      // The client has stopped reading: end the stream rather than hold its backlog.
      try {
        controller.close();
      } catch {
        // Already closed.
      }
      void release();
      return;
    }
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      // The body is closed or cancelled: the cancel path releases everything.
    }
  }

  function send(message: Record<string, unknown>): void {
    write(`event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", ...message })}\n\n`);
  }

  function notify(method: string, params: Record<string, unknown> = {}): void {
    send({ method, params: { ...params, _meta: tag } });
  }

  /** Changes seen while the subscriptions were being made, delivered right after the acknowledgement (bounded). */
  const early = new Set<CatalogListChangedEvent["type"] | `uri:${string}`>();

  function onListChanged(event: CatalogListChangedEvent): void {
    if (acknowledged === undefined) {
      if (early.size < MAX_EARLY_CHANGES) early.add(event.type);
      return;
    }
    const change = LIST_CHANGES[event.type];
    if (acknowledged[change.flag]) notify(change.method);
  }

  function onResourceUpdated(event: ResourceUpdatedEvent): void {
    if (acknowledged === undefined) {
      if (early.size < MAX_EARLY_CHANGES) early.add(`uri:${event.uri}`);
      return;
    }
    if (subscribed.has(event.uri)) notify("notifications/resources/updated", { uri: event.uri });
  }

  /** Delivers what changed during the acknowledgement, as the filter allows. */
  function deliverEarly(): void {
    for (const change of early) {
      if (change.startsWith("uri:")) {
        const uri = change.slice(4);
        if (subscribed.has(uri)) notify("notifications/resources/updated", { uri });
      } else {
        const list = LIST_CHANGES[change as CatalogListChangedEvent["type"]];
        if (acknowledged?.[list.flag]) notify(list.method);
      }
    }
    early.clear();
  }

  /** Ends the stream once: listeners off, keep-alive off, member subscriptions released, the slot given back. */
  function release(): Promise<void> {
    if (releasing) return releasing;
    ended = true;
    if (keepAlive !== undefined) clearInterval(keepAlive);
    ctx.signal.removeEventListener("abort", finish);
    for (const type of ["toolsChanged", "promptsChanged", "resourcesChanged"] as const) {
      catalog.removeEventListener(type, onListChanged);
    }
    catalog.removeEventListener("resourceUpdated", onResourceUpdated);
    openListens.set(hub, Math.max(0, (openListens.get(hub) ?? 1) - 1));
    const uris = [...subscribed];
    subscribed.clear();
    releasing = Promise.all(uris.map((uri) => catalog.unsubscribe(uri).catch(() => {}))).then(() => {});
    return releasing;
  }

  /** The gateway ends the stream: the final result, then the end of the body. */
  function finish(): void {
    if (ended) return;
    send({ id, result: { resultType: "complete", _meta: { ...ctx.resultMeta, ...tag } } });
    try {
      controller.close();
    } catch {
      // Already cancelled.
    }
    void release();
  }

  /**
   * Lists what the client wants list changes of (the catalog announces changes of the lists someone listed), and
   * subscribes the requested URIs (those that fail are left out); then acknowledges.
   */
  async function acknowledge(): Promise<void> {
    const accepted: string[] = [];
    const warm: Promise<unknown>[] = [];
    if (filter.toolsListChanged) warm.push(catalog.listTools());
    if (filter.promptsListChanged) warm.push(catalog.listPrompts());
    if (filter.resourcesListChanged) warm.push(catalog.listResources(), catalog.listResourceTemplates());
    await Promise.all(warm.map((listed) => listed.catch(() => {})));
    await Promise.all(
      filter.resourceSubscriptions?.map(async (uri) => {
        try {
          await catalog.subscribe(uri, { signal: ctx.signal });
        } catch {
          return;
        }
        if (ended) {
          await catalog.unsubscribe(uri).catch(() => {});
          return;
        }
        subscribed.add(uri);
        accepted.push(uri);
      }) ?? [],
    );
    if (ended) return;
    const ack: ListenFilter = { ...filter };
    delete ack.resourceSubscriptions;
    const requested = filter.resourceSubscriptions ?? [];
    const inOrder = requested.filter((uri) => accepted.includes(uri));
    if (inOrder.length > 0) ack.resourceSubscriptions = inOrder;
    notify("notifications/subscriptions/acknowledged", { notifications: ack });
    acknowledged = ack;
    deliverEarly();
  }

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      for (const type of ["toolsChanged", "promptsChanged", "resourcesChanged"] as const) {
        catalog.addEventListener(type, onListChanged);
      }
      catalog.addEventListener("resourceUpdated", onResourceUpdated);
      if (keepAliveMs > 0) keepAlive = setInterval(() => write(": keep-alive\n\n"), keepAliveMs);
      if (ctx.signal.aborted) {
        queueMicrotask(finish);
        return;
      }
      ctx.signal.addEventListener("abort", finish, { once: true });
      acknowledge().catch(() => finish());
    },
    cancel() {
      return release();
    },
  }, new CountQueuingStrategy({ highWaterMark: 0 })); // desiredSize = -(messages the client has not read)
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}
