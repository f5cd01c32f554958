// Internal: the gateway's Prometheus metrics (text exposition format 0.0.4): member states, requests to members by
// member, method and outcome, errors by code, a latency histogram, sessions, and catalog failures.
import type { CatalogRequestEvent, FederatedCatalog } from "../proxy/catalog.ts";
import type { MemberState } from "../proxy/events.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";

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

function escape(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs).map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}`;
}

interface Histogram {
  serverId: string;
  method: string;
  counts: number[];
  sum: number;
  count: number;
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

  constructor(proxy: FederationProxy, sessions: () => number) {
    this.#proxy = proxy;
    this.#catalog = proxy.catalog;
    this.#sessions = sessions;
    this.#catalog.addEventListener("request", this.#onRequest);
  }

  /** Stops collecting. */
  close(): void {
    this.#catalog.removeEventListener("request", this.#onRequest);
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

  /** The metrics in Prometheus text format. */
  render(): string {
    const lines: string[] = [];
    const status = this.#proxy.getStatus();
    lines.push("# HELP federation_member_up Whether the member is usable (1) or not (0).");
    lines.push("# TYPE federation_member_up gauge");
    for (const s of status) {
      const up = s.state === "connected" || s.state === "degraded" ? 1 : 0;
      lines.push(`federation_member_up${labels({ server_id: s.serverId })} ${up}`);
    }
    lines.push("# HELP federation_member_state The member's state (1 for the current one).");
    lines.push("# TYPE federation_member_state gauge");
    for (const s of status) {
      for (const state of STATES) {
        lines.push(`federation_member_state${labels({ server_id: s.serverId, state })} ${s.state === state ? 1 : 0}`);
      }
    }
    lines.push("# HELP federation_member_requests_in_flight Requests in progress on the member.");
    lines.push("# TYPE federation_member_requests_in_flight gauge");
    for (const s of status) {
      lines.push(`federation_member_requests_in_flight${labels({ server_id: s.serverId })} ${s.inFlight}`);
    }
    lines.push("# HELP federation_requests_total Requests to members, by member, MCP method and outcome.");
    lines.push("# TYPE federation_requests_total counter");
    for (const r of this.#requests.values()) {
      lines.push(
        `federation_requests_total${
          labels({ server_id: r.serverId, method: r.method, outcome: r.outcome })
        } ${r.value}`,
      );
    }
    lines.push("# HELP federation_request_errors_total Failed requests to members, by member, method and error code.");
    lines.push("# TYPE federation_request_errors_total counter");
    for (const e of this.#errors.values()) {
      lines.push(
        `federation_request_errors_total${
          labels({ server_id: e.serverId, method: e.method, code: e.code })
        } ${e.value}`,
      );
    }
    lines.push("# HELP federation_request_duration_seconds Latency of requests to members.");
    lines.push("# TYPE federation_request_duration_seconds histogram");
    for (const h of this.#histograms.values()) {
      const base = { server_id: h.serverId, method: h.method };
      BUCKETS.forEach((le, i) => {
        lines.push(`federation_request_duration_seconds_bucket${labels({ ...base, le: String(le) })} ${h.counts[i]}`);
      });
      lines.push(`federation_request_duration_seconds_bucket${labels({ ...base, le: "+Inf" })} ${h.count}`);
      lines.push(`federation_request_duration_seconds_sum${labels(base)} ${h.sum}`);
      lines.push(`federation_request_duration_seconds_count${labels(base)} ${h.count}`);
    }
    lines.push("# HELP federation_catalog_failures Member lists the catalog could not fetch lately.");
    lines.push("# TYPE federation_catalog_failures gauge");
    for (const f of this.#catalog.failures()) {
      lines.push(`federation_catalog_failures${labels({ server_id: f.serverId, list: f.list, code: f.error.code })} 1`);
    }
    lines.push("# HELP federation_gateway_sessions Client sessions open on the gateway.");
    lines.push("# TYPE federation_gateway_sessions gauge");
    lines.push(`federation_gateway_sessions ${this.#sessions()}`);
    return lines.join("\n") + "\n";
  }
}
