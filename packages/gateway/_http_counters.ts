// Internal: the gateway's HTTP answers counted by route and status, and its refused credentials by route and reason,
// for `/metrics` (`federation_gateway_http_responses_total`, `federation_gateway_auth_failures_total`) and the status
// page. Labels are bounded: the route is one of a few kinds, the status a three-digit code, the reason one of the
// RFC 6750 error values read from `WWW-Authenticate`.
import type { PrometheusWriter } from "../core/_prometheus.ts";

/** What kind of path a request was for. */
export type RouteKind = "mcp" | "admin" | "status" | "probe" | "well_known" | "other";

/** Why a credential was refused: none sent, invalid, or without the needed scope. */
export type AuthFailureReason = "missing_token" | "invalid_token" | "insufficient_scope";

function authFailure(request: Request, response: Response): AuthFailureReason | undefined {
  if (response.status !== 401 && response.status !== 403) return undefined;
  const challenge = response.headers.get("www-authenticate");
  if (challenge === null || !/^Bearer\b/i.test(challenge)) return undefined;
  if (/\berror="insufficient_scope"/.test(challenge)) return "insufficient_scope";
  if (response.status !== 401) return undefined;
  // Without an OAuth setup the challenge says invalid_token either way: the request tells whether one was sent.
  return /^Bearer\s+\S/i.test(request.headers.get("authorization") ?? "") ? "invalid_token" : "missing_token";
}

/** Counts the gateway's HTTP answers. */
export class HttpCounters {
  #responses = new Map<string, { route: RouteKind; status: number; value: number }>();
  #auth = new Map<string, { route: RouteKind; reason: AuthFailureReason; value: number }>();
  #total = 0;

  /** Counts one answer. */
  record(route: RouteKind, request: Request, response: Response): void {
    this.#total++;
    const key = `${route} ${response.status}`;
    const counter = this.#responses.get(key) ?? { route, status: response.status, value: 0 };
    counter.value++;
    this.#responses.set(key, counter);
    const reason = authFailure(request, response);
    if (reason === undefined) return;
    const authKey = `${route} ${reason}`;
    const failures = this.#auth.get(authKey) ?? { route, reason, value: 0 };
    failures.value++;
    this.#auth.set(authKey, failures);
  }

  /** Answers counted so far. */
  get total(): number {
    return this.#total;
  }

  /** Refused credentials counted so far. */
  get authFailures(): number {
    let sum = 0;
    for (const failure of this.#auth.values()) sum += failure.value;
    return sum;
  }

  /** Answers so far by status class (`2xx`, `4xx`, …). */
  byClass(): Record<string, number> {
    const classes: Record<string, number> = {};
    for (const { status, value } of this.#responses.values()) {
      const name = `${Math.floor(status / 100)}xx`;
      classes[name] = (classes[name] ?? 0) + value;
    }
    return classes;
  }

  /** Writes the two counter families. */
  write(out: PrometheusWriter): void {
    out.counter(
      "federation_gateway_http_responses_total",
      "HTTP answers of the gateway, by route (mcp, admin, status, probe, well_known, other) and status code.",
      [...this.#responses.values()].map((r) => [{ route: r.route, status: String(r.status) }, r.value]),
    );
    out.counter(
      "federation_gateway_auth_failures_total",
      "Requests refused for their credentials, by route and reason (missing_token, invalid_token, insufficient_scope).",
      [...this.#auth.values()].map((a) => [{ route: a.route, reason: a.reason }, a.value]),
    );
  }
}
