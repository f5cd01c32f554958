// Internal: the gateway's probes. `GET /healthz` (the process answers: always 200), `GET /readyz` (200 when at
// least one member is usable and the gateway is not closing, else 503; with the registry store's state) and
// `GET /metrics` (Prometheus text, written through the one writer in core/_prometheus.ts by each place that counts:
// gateway/_metrics.ts, the cluster runtime, shared sessions, and the HTTP server's own counters here).
//
// The probes need no token: orchestrators and Prometheus scrape them without one. They pass the same Host and
// Origin checks as every other path (a DNS-rebinding page cannot read them), and they reveal member ids, states
// and counts, never a secret or a session id. Expose them to untrusted networks only behind a proxy that filters
// them (docs/security.md).
import { errorResponse, jsonResponse } from "../core/_http.ts";
import { PROMETHEUS_CONTENT_TYPE, PrometheusWriter } from "../core/_prometheus.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import type { ClusterRuntime } from "./_cluster_runtime.ts";
import type { GatewayMetrics } from "./_metrics.ts";
import { configuredMembersOf } from "./_register_members.ts";
import type { HttpCounters } from "./_http_counters.ts";
import type { AccessLog } from "./_access_log.ts";
import type { SharedSessions } from "./_shared_sessions.ts";

/** Paths of the probes. */
export const PROBE_PATHS: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics"]);

/** Counters of the HTTP server itself. */
export interface ServerCounters {
  /** Requests in progress now. */
  active: () => number;
  /** Times the listener was opened again after its accept loop failed. */
  restarts: () => number;
  /** Bodies refused with 413. */
  bodiesRefused: number;
  /** Requests refused with 400 for a malformed Host. */
  badHosts: number;
  /** Requests refused with 503 because `maxConcurrentRequests` were in progress. */
  overloaded: number;
}

/** What the probes read. */
export interface ProbeSources {
  proxy: FederationProxy;
  cluster: ClusterRuntime;
  shared: SharedSessions;
  metrics: GatewayMetrics;
  server: ServerCounters;
  /** The gateway's answers by route and status, and refused credentials. */
  http?: HttpCounters;
  /** The access log's per-tool call counters. */
  access?: AccessLog;
  /** Whether the gateway is draining or closing. */
  stopping: () => boolean;
}

/** Serves the probes. */
export class Probes {
  #sources: ProbeSources;

  constructor(sources: ProbeSources) {
    this.#sources = sources;
  }

  /** Answers a probe path (the caller checked the path is one of {@link PROBE_PATHS}). */
  handle(request: Request, pathname: string): Response {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return errorResponse(405, "ERR_METHOD_NOT_ALLOWED", "Method not allowed", { headers: { allow: "GET, HEAD" } });
    }
    switch (pathname) {
      case "/healthz":
        return jsonResponse(200, { status: "ok" });
      case "/readyz":
        return this.#ready();
      default:
        return new Response(this.metricsText(), {
          headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" },
        });
    }
  }

  #ready(): Response {
    const { proxy, cluster, stopping } = this.#sources;
    const usable = proxy.getConnectedServers().length;
    const ready = usable > 0 && !stopping();
    const registered = proxy.getStatus().length;
    // With a config file (the CLI), members the proxy does not have yet (unreachable at start, retrying in the
    // background, refused) count as configured: `configured` = registered + `waiting`.
    const record = configuredMembersOf(proxy);
    const waiting = record.waiting(proxy).length;
    const members = record.list().length === 0
      ? { usable, registered }
      : { usable, registered, configured: registered + waiting, waiting };
    return jsonResponse(ready ? 200 : 503, {
      status: ready ? "ready" : "not ready",
      members,
      store: cluster.readiness(),
    });
  }

  /** The `/metrics` document. */
  metricsText(): string {
    const { metrics, cluster, shared, server } = this.#sources;
    const out = new PrometheusWriter();
    metrics.write(out);
    out
      .gauge("federation_gateway_http_requests_in_progress", "HTTP requests the gateway is serving now.", [
        [undefined, server.active()],
      ])
      .counter(
        "federation_gateway_http_refused_total",
        "HTTP requests refused before routing, by reason.",
        [
          [{ reason: "body_too_large" }, server.bodiesRefused],
          [{ reason: "bad_host" }, server.badHosts],
          [{ reason: "overloaded" }, server.overloaded],
        ],
      )
      .counter(
        "federation_gateway_listener_restarts_total",
        "Times the listener was opened again after its accept loop failed (e.g. out of file descriptors).",
        [[undefined, server.restarts()]],
      );
    this.#sources.http?.write(out);
    this.#sources.access?.write(out);
    const lines = [...out.lines(), ...cluster.metricLines(), ...shared.metricLines()];
    return lines.join("\n") + "\n";
  }
}
