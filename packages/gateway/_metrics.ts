// Internal: where the gateway counts its metrics: member states and eras, requests to members by member, method and outcome
// (from the catalog's `request` events), errors by code, a latency histogram, sessions, and catalog failures. They
// are written through the one Prometheus writer (core/_prometheus.ts) by the probes (`/metrics`).
import type { MetricLabels, PrometheusWriter } from "../core/_prometheus.ts";
import type { CatalogRequestEvent, FederatedCatalog } from "../proxy/catalog.ts";
import type { MemberState } from "../proxy/events.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { type ConfiguredMember, configuredMembersOf } from "./_register_members.ts";

const STATES: MemberState[] = ["connecting", "connected", "degraded", "reconnecting", "disconnected", "closed"];
/** Histogram buckets, in seconds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Outcome label of a request: `ok`, `timeout`, `cancelled` or `error`. */
function outcomeOf(event: CatalogRequestEvent): string {
  if (event.outcome === "ok") return "ok";
  if (event.error?.code === "ERR_TIMEOUT") return "timeout";
  if (event.error?.code === "ERR_CANCELLED") return "cancelled";
  return "error";
}

interface Histogram {
  serverId: string;
  method: string;
  counts: number[];
  sum: number;
  count: number;
}

// A configured member the proxy does not have yet (first attempt, retrying, refused) has its series from start-up,
// so that `federation_member_up == 0` fires for a member that was never reachable.
const WAITING_STATES = ["retrying", "refused"] as const;

function waitingUp(waiting: ConfiguredMember[]): [MetricLabels, number][] {
  return waiting.map((m) => [{ server_id: m.serverId }, 0]);
}

function waitingStates(waiting: ConfiguredMember[]): [MetricLabels, number][] {
  return waiting.flatMap((m) =>
    [...STATES, ...WAITING_STATES].map((state): [MetricLabels, number] => [
      { server_id: m.serverId, state },
      m.state === state ? 1 : 0,
    ])
  );
}

// Times each member entered `reconnecting` (it was usable, then lost its last channel), from the proxy's events.
class ReconnectCounter {
  #counts = new Map<string, number>();
  #proxy: FederationProxy | undefined;
  #onReconnecting = (event: Event) => {
    const serverId = (event as Event & { serverId?: string }).serverId;
    if (typeof serverId === "string") this.#counts.set(serverId, (this.#counts.get(serverId) ?? 0) + 1);
  };

  follow(proxy: FederationProxy): void {
    this.#proxy = proxy;
    proxy.addEventListener("reconnecting", this.#onReconnecting);
  }

  close(): void {
    this.#proxy?.removeEventListener("reconnecting", this.#onReconnecting);
  }

  write(out: PrometheusWriter): void {
    out.counter(
      "federation_member_reconnects_total",
      "Times a member started reconnecting after losing its connection.",
      [...this.#counts].map(([serverId, value]) => [{ server_id: serverId }, value]),
    );
  }
}

/** Collects metrics from a catalog's `request` events and renders them with the proxy's current state. */
export class GatewayMetrics {
  #proxy: FederationProxy;
  #catalog: FederatedCatalog;
  #sessions: () => number;
  #requests = new Map<string, { serverId: string; method: string; outcome: string; value: number }>();
  #errors = new Map<string, { serverId: string; method: string; code: string; value: number }>();
  #histograms = new Map<string, Histogram>();
  #onRequest = (event: CatalogRequestEvent) => this.#record(event);
  #reconnects = new ReconnectCounter();

  constructor(proxy: FederationProxy, sessions: () => number) {
    this.#proxy = proxy;
    this.#catalog = proxy.catalog;
    this.#sessions = sessions;
    this.#catalog.addEventListener("request", this.#onRequest);
    this.#reconnects.follow(proxy);
  }

  /** Stops collecting. */
  close(): void {
    this.#catalog.removeEventListener("request", this.#onRequest);
    this.#reconnects.close();
  }

  #record(event: CatalogRequestEvent): void {
    const serverId = event.serverId;
    const method = event.method;
    const outcome = outcomeOf(event);
    const key = `${serverId}\u0000${method}`;
    const requestKey = `${key}\u0000${outcome}`;
    const counter = this.#requests.get(requestKey) ?? { serverId, method, outcome, value: 0 };
    counter.value++;
    this.#requests.set(requestKey, counter);
    if (event.error) {
      const code = event.error.code;
      const errorKey = `${key}\u0000${code}`;
      const errors = this.#errors.get(errorKey) ?? { serverId, method, code, value: 0 };
      errors.value++;
      this.#errors.set(errorKey, errors);
    }
    let histogram = this.#histograms.get(key);
    if (!histogram) {
      histogram = { serverId, method, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#histograms.set(key, histogram);
    }
    const seconds = event.durationMs / 1000;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) histogram.counts[i]!++;
    histogram.sum += seconds;
    histogram.count++;
  }

  /** Writes the metrics as Prometheus families. */
  write(out: PrometheusWriter): void {
    const status = this.#proxy.getStatus();
    const waiting = configuredMembersOf(this.#proxy).waiting(this.#proxy);
    out.gauge(
      "federation_member_up",
      "Whether the member is usable (1) or not (0).",
      [
        ...status.map((s): [MetricLabels, number] => [
          { server_id: s.serverId },
          s.state === "connected" || s.state === "degraded" ? 1 : 0,
        ]),
        ...waitingUp(waiting),
      ],
    );
    out.gauge(
      "federation_member_state",
      "The member's state (1 for the current one).",
      [
        ...status.flatMap((s) =>
          STATES.map((state): [MetricLabels, number] => [{ server_id: s.serverId, state }, s.state === state ? 1 : 0])
        ),
        ...waitingStates(waiting),
      ],
    );
    out.gauge(
      "federation_member_era",
      "The member's protocol era (modern: 2026-07-28, legacy: 2025-11-25), 1 for the one its latest connection found.",
      status.flatMap((s): [MetricLabels, number][] => s.era ? [[{ server_id: s.serverId, era: s.era }, 1]] : []),
    );
    out.gauge(
      "federation_member_requests_in_flight",
      "Requests in progress on the member.",
      status.map((s) => [{ server_id: s.serverId }, s.inFlight]),
    );
    out.counter(
      "federation_requests_total",
      "Requests to members, by member, MCP method and outcome.",
      [...this.#requests.values()].map((
        r,
      ) => [{ server_id: r.serverId, method: r.method, outcome: r.outcome }, r.value]),
    );
    out.counter(
      "federation_request_errors_total",
      "Failed requests to members, by member, method and error code.",
      [...this.#errors.values()].map((e) => [{ server_id: e.serverId, method: e.method, code: e.code }, e.value]),
    );
    out.family("federation_request_duration_seconds", "histogram", "Latency of requests to members.");
    for (const h of this.#histograms.values()) {
      out.histogram("federation_request_duration_seconds", {
        labels: { server_id: h.serverId, method: h.method },
        buckets: BUCKETS,
        counts: h.counts,
        sum: h.sum,
        count: h.count,
      });
    }
    out.gauge(
      "federation_catalog_failures",
      "Member lists the catalog could not fetch lately.",
      this.#catalog.failures().map((f) => [{ server_id: f.serverId, list: f.list, code: f.error.code }, 1]),
    );
    out.gauge("federation_gateway_sessions", "Client sessions open on the gateway.", [[undefined, this.#sessions()]]);
    this.#reconnects.write(out);
  }
}
