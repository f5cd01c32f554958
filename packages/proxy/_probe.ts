// Internal: the cheap liveness probe of a channel waiting to reconnect. While a member's listener is gone (the last
// attempt found nothing listening), the proxy asks `GET /healthz` at the origin of the channel's endpoint every
// `backoff.probeInterval` ms, and makes its next real attempt as soon as something answers there, instead of waiting
// out the rest of its backoff delay. `serveMember` answers `/healthz` on every listener without authentication; any
// other HTTP answer below 500 counts too (a server without that path still shows it listens), a 5xx does not (a
// reverse proxy in front of a stopped member answers 502 or 503). The probe carries no token and follows no redirect.
import { AuthenticationError, CancelledError, ConnectionError, FederationError, TimeoutError } from "../core/errors.ts";
import { sleep } from "../core/_sleep.ts";

/** The path probed, the one `serveMember` serves on each listener. */
export const PROBE_PATH = "/healthz";

/** The probe URL of a channel endpoint (`ws:` → `http:`, `wss:` → `https:`), or `undefined` for one without. */
export function probeUrl(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  const protocol = { "ws:": "http:", "wss:": "https:", "http:": "http:", "https:": "https:" }[url.protocol];
  return protocol === undefined ? undefined : `${protocol}//${url.host}${PROBE_PATH}`;
}

/** Whether a failed attempt found nothing listening (refused, reset, timed out): the case the probe is for. */
export function foundNothingListening(error: FederationError | undefined): boolean {
  return error instanceof TimeoutError || failedFast(error);
}

/**
 * Whether a channel failed by a refused or closed connection rather than by a timeout: a new attempt answers at once
 * either way (connected or refused), so a call may wait for one. A channel that timed out (a frozen or unreachable
 * host) fails calls at once instead.
 */
export function failedFast(error: FederationError | undefined): boolean {
  return error instanceof ConnectionError && error.code !== "ERR_CLOSED";
}

/** What a probe needs. */
export interface ProbeSettings {
  /** The URL to ask ({@link probeUrl}). */
  url: string;
  /** Time between two probes, in ms. */
  interval: number;
  /** How long one probe may take, in ms. */
  timeout: number;
  /** The outbound guard, run before each probe; a rejection counts as no answer. */
  beforeConnect?: ((url: string, signal: AbortSignal | undefined) => Promise<void>) | undefined;
}

/**
 * Probes `settings.url` every `settings.interval` ms until it answers (then calls `answered` once and stops) or
 * `signal` aborts. Never rejects.
 */
export async function probeUntilAnswered(
  settings: ProbeSettings,
  signal: AbortSignal,
  answered: () => void,
): Promise<void> {
  while (!signal.aborted) {
    await sleep(settings.interval, signal);
    if (signal.aborted) return;
    if (await answers(settings, signal)) {
      if (!signal.aborted) answered();
      return;
    }
  }
}

/** One probe: whether an HTTP server answers below 500 within the timeout. */
async function answers(settings: ProbeSettings, signal: AbortSignal): Promise<boolean> {
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(settings.timeout)]);
  try {
    await settings.beforeConnect?.(settings.url, deadline);
    const response = await fetch(settings.url, { redirect: "manual", signal: deadline });
    await response.body?.cancel().catch(() => {});
    return response.status < 500;
  } catch {
    return false;
  }
}

/** The probe URLs of a member's endpoints (none for a stdio member). */
export function memberProbeUrls(endpoints: { control?: string | undefined; data?: string | undefined }): string[] {
  const urls = [endpoints.control, endpoints.data].map((endpoint) => endpoint && probeUrl(endpoint));
  return [...new Set(urls.filter((url): url is string => url !== undefined && url !== ""))];
}

/**
 * Waits `delay` ms, or less: meanwhile probes each of `urls` every `interval` ms (none when `interval` is 0 or not
 * below `delay`) and resolves as soon as one answers, or when `signal` aborts. The registration loops (the gateway's
 * start-up and the cluster's member sync) wait so between attempts. Never rejects.
 */
export async function sleepUntilAnswered(
  delay: number,
  urls: readonly string[],
  interval: number,
  signal: AbortSignal,
): Promise<void> {
  if (urls.length === 0 || interval <= 0 || delay <= interval) return await sleep(delay, signal);
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  const timeout = Math.min(interval * 5, 1_000);
  try {
    await Promise.race([
      sleep(delay, both),
      ...urls.map((url) => probeUntilAnswered({ url, interval, timeout }, both, () => {})),
    ]);
  } finally {
    stop.abort();
  }
}

/** What {@link verifyEndpoint} needs. */
export interface VerifySettings {
  serverId: string;
  /** The data endpoint (MCP Streamable HTTP). */
  url: string;
  /** The `Authorization` header value, if the member takes a token. */
  authorization: string | undefined;
  /** How long the request may take, in ms. */
  timeout: number;
  /** The outbound guard, run before the request; a rejection fails the verification. */
  beforeConnect?: ((url: string, signal: AbortSignal | undefined) => Promise<void>) | undefined;
}

/**
 * The body of the verification: a cancellation of a request that was never made. The specification lets a receiver
 * ignore a cancellation of an unknown request, and it asks nothing back.
 */
const VERIFY_BODY = JSON.stringify({
  jsonrpc: "2.0",
  method: "notifications/cancelled",
  params: { requestId: "federated-mcp/verify", reason: "Endpoint verification: no request is in progress" },
});

/**
 * Verifies, without opening an MCP session, that a Streamable HTTP endpoint answers and accepts our token: one
 * authenticated POST without `Mcp-Session-Id` carrying only a cancellation of a request never made ({@link
 * VERIFY_BODY}). A sessionful server refuses it for the missing session after authentication (400: `serveMember`, the
 * SDK's `WebStandardStreamableHTTPServerTransport` and `NodeStreamableHTTPServerTransport`, server-everything); a
 * stateless one accepts and ignores it (202); nothing is opened either way. A 401 or 403 rejects with the
 * `AuthenticationError` a connect would give (`ERR_AUTH_REJECTED`); a 404 (no MCP endpoint at that path), a redirect,
 * a 5xx or no answer with a `ConnectionError`; the timeout (or `signal`) with a `TimeoutError` (or `CancelledError`).
 * A server that refuses the request before it looks at the token passes; its token is then checked on first use.
 * Resolves the status answered.
 */
export async function verifyEndpoint(settings: VerifySettings, signal?: AbortSignal): Promise<number> {
  const { serverId, url, authorization, timeout } = settings;
  const deadline = AbortSignal.timeout(timeout);
  const both = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const base = { serverId, channel: "data" as const };
  let response: Response;
  try {
    await settings.beforeConnect?.(url, both);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      // No idle connection is kept for a channel that may stay unused: about 15 KiB of memory and a socket per
      // member (measured with 1,000 members).
      connection: "close",
    };
    if (authorization) headers.authorization = authorization;
    response = await fetch(url, { method: "POST", headers, body: VERIFY_BODY, redirect: "manual", signal: both });
  } catch (error) {
    if (error instanceof FederationError) throw error;
    if (signal?.aborted) {
      throw new CancelledError(`Verifying server '${serverId}' (data) was cancelled`, { ...base, cause: error });
    }
    if (deadline.aborted) {
      throw new TimeoutError(`Connecting to server '${serverId}' (data) timed out (timeout: ${timeout}ms)`, {
        ...base,
        timeoutMs: timeout,
        cause: error,
      });
    }
    throw new ConnectionError(`Cannot reach server '${serverId}' (data)`, {
      ...base,
      code: "ERR_CONNECTION_FAILED",
      cause: error,
    });
  }
  // Nothing of the answer is needed.
  await response.body?.cancel().catch(() => {});
  const status = response.status;
  if (status === 401 || status === 403) {
    throw new AuthenticationError(
      "ERR_AUTH_REJECTED",
      `Server '${serverId}' rejected the token (HTTP ${status})`,
      base,
    );
  }
  if (status === 404 || status >= 500 || (status >= 300 && status < 400)) {
    throw new ConnectionError(`Server '${serverId}' (data) failed its verification: HTTP ${status}`, {
      ...base,
      code: "ERR_CONNECTION_FAILED",
    });
  }
  return status;
}
