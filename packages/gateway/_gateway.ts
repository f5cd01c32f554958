// Internal: the HTTP gateway as a class, built the member's way: this file owns the lifecycle and the router; the
// MCP endpoint (_mcp_endpoint.ts), the probes (_probes.ts), the admin API (_admin_api.ts), the listener
// (_listener.ts), the inbound checks (_http_guard.ts) and the option plan (_options.ts) each live in their own file.
//
// One request's way: listener (bounded concurrency) → router: Host must be a bare authority (400), the path is the
// request target's → Host/Origin allow-lists on every path (403) → body limit on the MCP endpoint and the admin API
// (413) → the endpoint (which verifies the token through the guard).
//
// A single replica runs the cluster path too: the same ClusterRuntime and SharedSessions over an in-process
// MemoryRegistryStore and a random key. There is one code path for one replica and for many (sealed session ids,
// the admin API, revocation), so what a single-replica test exercises is what a deployment runs; the cost is a
// few timers and an AEAD seal per session.
import { ConfigError, ConnectionError } from "../core/errors.ts";
import { errorResponse } from "../core/_http.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { ADMIN_PREFIX, AdminApi } from "./_admin_api.ts";
import { bodyTooLargeMessage, limitBody } from "./_body_limit.ts";
import { ClusterRuntime } from "./_cluster_runtime.ts";
import { HttpGuard, isBareAuthority, isLoopback, rpcError } from "./_http_guard.ts";
import { hubFor, type SessionHub } from "./_hub.ts";
import { ResilientListener } from "./_listener.ts";
import { McpEndpoint } from "./_mcp_endpoint.ts";
import { ModernEndpoint } from "./_modern_endpoint.ts";
import { RequestStateSealer } from "./_sealed_state.ts";
import { InputBridge } from "./_input_bridge.ts";
import { BridgeForwarder } from "./_bridge_forwarding.ts";
import { GatewayMetrics } from "./_metrics.ts";
import { RELISTEN_BACKOFF, type ResolvedGatewayOptions } from "./_options.ts";
import { PROBE_PATHS, Probes, type ServerCounters } from "./_probes.ts";
import { RequestTracker } from "./_request_tracker.ts";
import { SharedSessions } from "./_shared_sessions.ts";
import type { GatewayHandle, GatewayOptions } from "./options.ts";
import { errorMessage } from "../core/_error_message.ts";
import { AccessLog } from "./_access_log.ts";
import { HttpCounters, type RouteKind } from "./_http_counters.ts";
import { STATUS_PATHS, StatusPage } from "./_status_page.ts";
import { Pathnames } from "./_request_path.ts";

/** Keep-alive comment interval of the SSE streams the gateway writes itself (2026-07-28, plain calls), in ms. */
const SSE_KEEP_ALIVE_MS = 15_000;

/**
 * The sealer of 2026-07-28 `requestState`s: its key is derived from one every replica has, so that any replica opens
 * what another sealed: `cluster.key` (and its `previousKeys`), else the client-token secret, else a random key (a
 * single process: retries must come back to it).
 */
function requestStateSealer(options: GatewayOptions): Promise<RequestStateSealer> {
  const cluster = options.cluster;
  if (cluster?.key !== undefined) {
    return RequestStateSealer.fromSecret(cluster.key, { previousSecrets: cluster.previousKeys ?? [] });
  }
  const auth = options.auth;
  if (auth && typeof auth === "object" && "secret" in auth) return RequestStateSealer.fromSecret(auth.secret);
  return RequestStateSealer.fromSecret(crypto.getRandomValues(new Uint8Array(32)));
}

/** The input bridge of a replica: its exchanges live as long as a sealed state; other replicas' go over the bus. */
function inputBridge(shared: SharedSessions, sealer: RequestStateSealer): InputBridge {
  const bridge = new InputBridge({ replicaId: shared.replicaId, ttlMs: sealer.ttlMs });
  bridge.remote = new BridgeForwarder(bridge, shared);
  return bridge;
}

/** A running HTTP gateway. */
export class Gateway implements GatewayHandle {
  #url = "";
  #options: ResolvedGatewayOptions;
  #guard: HttpGuard;
  #hub: SessionHub;
  #cluster: ClusterRuntime;
  #shared: SharedSessions;
  #metrics: GatewayMetrics;
  #requests = new RequestTracker();
  #mcp: McpEndpoint;
  #admin: AdminApi;
  #probes: Probes;
  #http = new HttpCounters();
  /** The pathnames of the URLs requests come to, parsed once each. */
  #pathnames = new Pathnames();
  #access: AccessLog;
  #status: StatusPage;
  #listener!: ResilientListener;
  #counters: ServerCounters;
  #draining = false;
  #closing: Promise<void> | undefined;
  #drainPromise: Promise<void> | undefined;
  #closed = Promise.withResolvers<void>();
  #onAbort = () => void this.close();

  /**
   * Builds the gateway and starts listening; on failure releases what it took and throws.
   *
   * @throws {ConfigError} For a client secret the proxy signs member tokens with, or a bad cluster option.
   * @throws {ConnectionError} When it cannot listen.
   */
  static async start(
    proxy: FederationProxy,
    options: GatewayOptions,
    resolved: ResolvedGatewayOptions,
  ): Promise<Gateway> {
    const { logger } = resolved;
    const guard = new HttpGuard({
      auth: options.auth,
      hostname: resolved.hostname,
      allowedOrigins: options.allowedOrigins ?? [],
      allowedHosts: options.allowedHosts ?? [],
      logger,
      isMember: (serverId) => proxy.hasServer(serverId),
      mcpPath: resolved.path,
      adminScope: options.cluster?.adminScope,
    });
    const auth = options.auth;
    if (auth && "secret" in auth && await proxy.signsWithSecret(auth.secret)) {
      throw new ConfigError(
        "Invalid auth.secret: it is a secret the proxy signs member tokens with; a member could mint client tokens. Use a separate secret for client tokens",
        { field: "auth.secret" },
      );
    }
    if (guard.audience !== undefined && proxy.hasServer(guard.audience)) {
      throw new ConfigError(
        `Invalid auth.audience '${guard.audience}': it is a member's serverId; client tokens need the gateway's own audience`,
        { field: "auth.audience" },
      );
    }
    if (!guard.authenticates && !isLoopback(resolved.hostname)) {
      logger.warn("Gateway authentication is off on a non-loopback interface", { hostname: resolved.hostname });
    }
    const hub = hubFor(proxy);
    hub.acquire(resolved.serverRequestTimeout);
    let sessions = () => 0;
    let cluster: ClusterRuntime;
    try {
      cluster = await ClusterRuntime.create(proxy, options.cluster ?? {}, {
        logger,
        sessions: () => sessions(),
        memberSecretEnv: options.memberSecretEnv,
      });
    } catch (error) {
      hub.release();
      throw error;
    }
    const sealer = await requestStateSealer(options);
    const gateway = new Gateway(proxy, { resolved, guard, hub, cluster, sealer });
    sessions = () => gateway.sessionCount();
    try {
      gateway.#listener = new ResilientListener({
        hostname: resolved.hostname,
        port: resolved.port,
        tls: resolved.tls,
        logger,
        maxConcurrentRequests: resolved.maxConcurrentRequests,
        overloaded: () => {
          gateway.#counters.overloaded++;
          return errorResponse(503, "ERR_OVERLOADED", "Too many requests in progress", {
            headers: { "retry-after": "1" },
          });
        },
        failed: () => rpcError(500, -32603, "Internal error"),
        relisten: RELISTEN_BACKOFF,
      }, (request) => gateway.#counted(request));
    } catch (error) {
      gateway.#metrics.close();
      gateway.#status.close();
      hub.release();
      await cluster.close();
      const reason = errorMessage(error);
      throw new ConnectionError(`Cannot listen on ${resolved.hostname}:${resolved.port}: ${reason}`, { cause: error });
    }
    cluster.start();
    gateway.#shared.start();
    gateway.#mcp.start();
    const addr = gateway.#listener.addr;
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    gateway.#url = `${resolved.tls ? "https" : "http"}://${host}:${addr.port}${resolved.path}`;
    resolved.signal?.addEventListener("abort", gateway.#onAbort, { once: true });
    if (resolved.signal?.aborted) void gateway.close();
    logger.info("Gateway listening", { url: gateway.url, auth: guard.authenticates });
    return gateway;
  }

  private constructor(
    proxy: FederationProxy,
    parts: {
      resolved: ResolvedGatewayOptions;
      guard: HttpGuard;
      hub: SessionHub;
      cluster: ClusterRuntime;
      sealer: RequestStateSealer;
    },
  ) {
    const { resolved, guard, hub, cluster, sealer } = parts;
    this.#options = resolved;
    this.#guard = guard;
    this.#hub = hub;
    this.#cluster = cluster;
    const logger = resolved.logger;
    this.#shared = new SharedSessions(cluster, {
      logger,
      catalog: proxy.catalog,
      maxSessionsPerSubject: resolved.maxSessionsPerSubject,
    });
    this.#metrics = new GatewayMetrics(proxy, () => this.sessionCount());
    this.#admin = new AdminApi({ guard, proxy, runtime: cluster, logger });
    this.#mcp = new McpEndpoint({
      options: resolved,
      proxy,
      hub,
      guard,
      shared: this.#shared,
      requests: this.#requests,
      keepAliveMs: SSE_KEEP_ALIVE_MS,
      modern: new ModernEndpoint({
        hub,
        serverInfo: resolved.serverInfo,
        instructions: resolved.instructions,
        callTimeout: resolved.callTimeout,
        issuer: guard.issuer,
        sealer,
        bridge: inputBridge(this.#shared, sealer),
        keepAliveMs: SSE_KEEP_ALIVE_MS,
        requests: this.#requests,
        counters: this.#shared.counters,
        logger,
      }),
      logger,
      draining: () => this.#draining,
    });
    this.#counters = {
      active: () => this.#listener?.active ?? 0,
      restarts: () => this.#listener?.restarts ?? 0,
      bodiesRefused: 0,
      badHosts: 0,
      overloaded: 0,
    };
    this.#access = new AccessLog(logger);
    this.#probes = new Probes({
      proxy,
      cluster,
      shared: this.#shared,
      metrics: this.#metrics,
      server: this.#counters,
      http: this.#http,
      access: this.#access,
      stopping: () => this.#draining || this.#closing !== undefined,
    });
    this.#status = new StatusPage({
      proxy,
      guard,
      runtime: cluster,
      http: this.#http,
      access: this.#access,
      sessions: () => this.sessionCount(),
      hostname: resolved.hostname,
    });
  }

  /** Routes one request and counts its answer by route and status (`/metrics`, the status page). */
  async #counted(request: Request): Promise<Response> {
    // A malformed Host can leave `request.url` unparsable (the router answers 400 without a path).
    const pathname = this.#pathnames.of(request);
    const response = await this.#route(request, pathname);
    this.#http.record(this.#routeKind(pathname), request, response);
    return response;
  }

  #routeKind(pathname: string | undefined): RouteKind {
    if (pathname === undefined) return "other";
    if (pathname === this.#options.path) return "mcp";
    if (pathname.startsWith(ADMIN_PREFIX)) return "admin";
    if (STATUS_PATHS.has(pathname)) return "status";
    if (PROBE_PATHS.has(pathname)) return "probe";
    return pathname.startsWith("/.well-known/") ? "well_known" : "other";
  }

  /** Routes one request on its request target (never on `Host`), after the checks every path passes. */
  async #route(request: Request, pathname: string | undefined): Promise<Response> {
    const host = request.headers.get("host");
    if (host !== null && !isBareAuthority(host)) {
      this.#counters.badHosts++;
      return this.#guard.checkRequest(request, "api")!;
    }
    if (pathname === undefined) return errorResponse(400, "ERR_BAD_REQUEST", "Bad Request: unparsable request target");
    const mcp = pathname === this.#options.path;
    const refused = this.#guard.checkOrigin(request, mcp ? "mcp" : "api");
    if (refused) return refused;
    if (pathname.startsWith("/.well-known/")) {
      const known = await this.#guard.wellKnown(request, pathname, this.#hub.proxy);
      if (known) return known;
    }
    if (mcp) {
      const limited = await limitBody(request, this.#options.maxBodyBytes, (max) => {
        this.#counters.bodiesRefused++;
        return rpcError(413, -32600, bodyTooLargeMessage(max));
      }, { rebuild: false });
      return limited instanceof Response
        ? limited
        : await this.#access.observe(limited, (request) => this.#mcp.handle(request));
    }
    if (pathname.startsWith(ADMIN_PREFIX)) {
      const limited = await limitBody(request, this.#options.maxBodyBytes, (max) => {
        this.#counters.bodiesRefused++;
        return errorResponse(413, "ERR_BODY_TOO_LARGE", bodyTooLargeMessage(max));
      });
      return limited instanceof Response ? limited : await this.#admin.handle(limited, pathname);
    }
    if (PROBE_PATHS.has(pathname)) return this.#probes.handle(request, pathname);
    if (STATUS_PATHS.has(pathname)) return await this.#status.handle(request, pathname);
    return errorResponse(404, "ERR_NOT_FOUND", `Not found: ${pathname.slice(0, 200)}`);
  }

  get url(): string {
    return this.#url;
  }

  sessionCount(): number {
    return this.#mcp.size;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#draining = true;
      this.#options.signal?.removeEventListener("abort", this.#onAbort);
      await this.#mcp.closeAll();
      await this.#shared.close();
      await this.#cluster.close();
      this.#metrics.close();
      this.#status.close();
      this.#hub.release();
      await this.#listener.shutdown();
      this.#options.logger.info("Gateway stopped", {});
      this.#closed.resolve();
    })();
    return this.#closing;
  }

  drain(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#drainPromise ??= (async () => {
      this.#draining = true;
      if (!await this.#requests.idle(this.#options.drainTimeout)) {
        this.#options.logger.warn("Drain timed out: closing sessions with requests in progress", {
          requests: this.#requests.size,
        });
      }
      await this.close();
    })();
    return this.#drainPromise;
  }

  closed(): Promise<void> {
    return this.#closed.promise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.drain();
  }
}
