// Internal: the status page. `GET /status` serves a self-contained HTML page (_status_html.ts) that polls
// `GET /status.json`: every member (configured ones not registered yet included) with its state, era, channels and
// their latency, tool count, request count, last failure; the gateway's sessions and request totals (the page turns
// them into rates); the last member events (state changes and failures).
//
// Protection is the membership API's: `/status.json` needs a bearer token with the admin scope. With gateway
// authentication off (the config file allows that on a loopback interface only), it is served when the gateway
// listens on a loopback interface, as the MCP endpoint is, and refused (403) otherwise. The HTML itself holds no data and is served to anyone who passes the
// Host/Origin checks; a strict Content-Security-Policy (the script's hash, `connect-src 'self'`) keeps it inert.
import { STATUS_TYPES } from "../proxy/_emit.ts";
import { errorResponse, jsonResponse } from "../core/_http.ts";
import { redactUrl, redactUrls } from "../core/_redact.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import type { AccessLog } from "./_access_log.ts";
import type { ClusterRuntime } from "./_cluster_runtime.ts";
import { hasScope, type HttpGuard, isLoopback } from "./_http_guard.ts";
import type { HttpCounters } from "./_http_counters.ts";
import { configuredMembersOf } from "./_register_members.ts";
import { STATUS_HTML, STATUS_SCRIPT } from "./_status_html.ts";

/** Paths of the status page. */
export const STATUS_PATHS: ReadonlySet<string> = new Set(["/status", "/status.json"]);

/** Member events kept for the page. */
const MAX_EVENTS = 50;
/** Longest message kept per event or error, in characters. */
const MAX_MESSAGE = 300;
/** Longest wait for the catalog's tool list while answering `/status.json`, in ms. */
const TOOLS_WAIT = 1_000;
const ORIGIN_META = "io.github.federated-mcp/origin";

/** What the status page reads. */
export interface StatusSources {
  proxy: FederationProxy;
  guard: HttpGuard;
  runtime: ClusterRuntime;
  http: HttpCounters;
  access: AccessLog;
  sessions: () => number;
  /** The interface the gateway listens on (for the loopback rule without authentication). */
  hostname: string;
  now?: () => number;
}

interface MemberEvent {
  at: string;
  serverId: string;
  type: string;
  channel?: string;
  message?: string;
  /** Times it happened (identical failures are counted in one entry, at the time of the latest). */
  count: number;
}

function bounded(text: string): string {
  const line = redactUrls(text.split("\n", 1)[0] ?? "");
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
}

async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return new Uint8Array(digest).toBase64();
}

/** Serves `/status` and `/status.json`, and keeps the recent member events. */
export class StatusPage {
  #sources: StatusSources;
  #now: () => number;
  #events: MemberEvent[] = [];
  #requests = new Map<string, { requests: number; lastMs: number | undefined }>();
  #csp: Promise<string> | undefined;
  #onEvent = (event: Event) => this.#remember(event);
  #onRequest = (event: Event) => this.#count(event);

  constructor(sources: StatusSources) {
    this.#sources = sources;
    this.#now = sources.now ?? Date.now;
    for (const type of STATUS_TYPES) sources.proxy.addEventListener(type, this.#onEvent);
    sources.proxy.catalog.addEventListener("request", this.#onRequest);
  }

  /** Stops following the proxy. */
  close(): void {
    for (const type of STATUS_TYPES) this.#sources.proxy.removeEventListener(type, this.#onEvent);
    this.#sources.proxy.catalog.removeEventListener("request", this.#onRequest);
  }

  #remember(event: Event): void {
    const e = event as Event & { serverId?: string; channel?: string; cause?: unknown };
    if (typeof e.serverId !== "string") return;
    const cause = e.cause instanceof Error ? e.cause : undefined;
    const code = (cause as { code?: unknown } | undefined)?.code;
    const entry: MemberEvent = {
      at: new Date(this.#now()).toISOString(),
      serverId: e.serverId,
      type: event.type,
      ...(e.channel === undefined ? {} : { channel: e.channel }),
      ...(cause === undefined
        ? {}
        : { message: bounded(`${typeof code === "string" ? `${code}: ` : ""}${cause.message}`) }),
      count: 1,
    };
    // A failure repeated by every reconnection attempt is one entry with a count (moved to the end), so that state
    // changes are not pushed out of the list.
    if (entry.type === "error") {
      const same = this.#events.findIndex((old) =>
        old.type === "error" && old.serverId === entry.serverId && old.channel === entry.channel &&
        old.message === entry.message
      );
      if (same >= 0) entry.count += this.#events.splice(same, 1)[0]!.count;
    }
    this.#events.push(entry);
    if (this.#events.length > MAX_EVENTS) this.#events.splice(0, this.#events.length - MAX_EVENTS);
  }

  #count(event: Event): void {
    const e = event as Event & { serverId?: string; durationMs?: number };
    if (typeof e.serverId !== "string") return;
    const entry = this.#requests.get(e.serverId) ?? { requests: 0, lastMs: undefined };
    entry.requests++;
    entry.lastMs = e.durationMs;
    this.#requests.set(e.serverId, entry);
  }

  /** Answers a status path (the caller checked the path is one of {@link STATUS_PATHS}). */
  async handle(request: Request, pathname: string): Promise<Response> {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return errorResponse(405, "ERR_METHOD_NOT_ALLOWED", "Method not allowed", { headers: { allow: "GET, HEAD" } });
    }
    if (pathname === "/status") {
      this.#csp ??= sha256Base64(STATUS_SCRIPT).then((hash) =>
        `default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; connect-src 'self'; ` +
        "img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
      );
      return new Response(STATUS_HTML, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-store",
          "content-security-policy": await this.#csp,
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
        },
      });
    }
    const { guard, runtime, hostname } = this.#sources;
    if (!guard.authenticates) {
      if (!isLoopback(hostname)) {
        return errorResponse(
          403,
          "ERR_FORBIDDEN",
          "The status feed needs gateway authentication, or a gateway listening on a loopback interface",
        );
      }
    } else {
      const claims = await guard.authenticate(request);
      if (claims instanceof Response) return claims;
      if (!hasScope(claims, runtime.adminScope)) return guard.insufficientScope(request, "api", runtime.adminScope);
    }
    return jsonResponse(200, await this.feed());
  }

  /** The document `/status.json` answers. */
  async feed(): Promise<Record<string, unknown>> {
    const { proxy, http, access, sessions } = this.#sources;
    const tools = await this.#toolCounts();
    const members: Record<string, unknown>[] = proxy.getStatus().map((status) => {
      const era = (status as { era?: string }).era;
      const last = status.lastError;
      const counted = this.#requests.get(status.serverId);
      const since = [...this.#events].reverse().find((e) => e.serverId === status.serverId && e.type !== "error");
      return {
        serverId: status.serverId,
        source: "proxy",
        state: status.state,
        up: status.state === "connected" || status.state === "degraded",
        ...(era === undefined ? {} : { era }),
        since: since?.at ?? new Date(this.#now()).toISOString(),
        channels: Object.fromEntries(
          Object.entries(status.channels).map(([name, channel]) => [name, {
            url: redactUrl(channel.url),
            state: channel.state,
            // Up, its MCP connection opened on first use (registration verified the endpoint).
            ...(channel.deferred ? { deferred: true } : {}),
            latencyMs: channel.latencyMs ?? null,
            reconnectAttempts: channel.reconnectAttempts,
          }]),
        ),
        tools: tools === undefined ? null : tools.get(status.serverId) ?? 0,
        requests: counted?.requests ?? 0,
        lastMs: counted?.lastMs ?? null,
        inFlight: status.inFlight,
        ...(last === undefined ? {} : { lastError: { code: last.code, message: bounded(last.message) } }),
      };
    });
    for (const waiting of configuredMembersOf(proxy).waiting(proxy)) {
      members.push({
        serverId: waiting.serverId,
        source: "config",
        state: waiting.state,
        up: false,
        since: new Date(waiting.since).toISOString(),
        channels: {},
        tools: null,
        requests: 0,
        lastMs: null,
        inFlight: 0,
        attempts: waiting.attempts,
        ...(waiting.lastError === undefined
          ? {}
          : { lastError: { code: waiting.lastError.code, message: bounded(waiting.lastError.message) } }),
      });
    }
    return {
      time: new Date(this.#now()).toISOString(),
      gateway: {
        sessions: sessions(),
        http: { total: http.total, byClass: http.byClass(), authFailures: http.authFailures },
        mcp: { requests: access.totals.requests, failed: access.totals.failed },
      },
      members,
      events: this.#events,
    };
  }

  // Tools per member from the catalog's cached list (no request when warm); undefined when it takes too long.
  async #toolCounts(): Promise<Map<string, number> | undefined> {
    const { proxy } = this.#sources;
    if (proxy.getConnectedServers().length === 0) return new Map();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), TOOLS_WAIT));
    try {
      const tools = await Promise.race([proxy.catalog.listTools().catch(() => undefined), late]);
      if (tools === undefined) return undefined;
      const counts = new Map<string, number>();
      for (const tool of tools) {
        const origin = (tool._meta as Record<string, unknown> | undefined)?.[ORIGIN_META] as
          | { serverId?: unknown }
          | undefined;
        if (typeof origin?.serverId === "string") counts.set(origin.serverId, (counts.get(origin.serverId) ?? 0) + 1);
      }
      return counts;
    } finally {
      clearTimeout(timer);
    }
  }
}
