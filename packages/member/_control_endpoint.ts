// Internal: the control endpoint. One MCP connection per WebSocket (subprotocol `mcp`), on a RenewingTransport
// around the core WebSocketTransport. A v2 SDK server from the factory serves the connection in the era its first
// message picks (_control_connection.ts); any other server is connected directly and serves 2025-11-25 only.

import { CloseCode, MCP_SUBPROTOCOL, WebSocketTransport } from "../core/websocket_transport.ts";
import type { Grant } from "./_auth_guard.ts";
import { errorResponse } from "../core/_http.ts";
import { within } from "./_context.ts";
import type { EndpointContext } from "./_context.ts";
import type { SessionServer } from "./types.ts";
import { RenewingTransport } from "./_renewing_transport.ts";
import { serveControlConnection } from "./_control_connection.ts";
import type { ControlConnection } from "./_control_connection.ts";
import { advertiseControlChannel, announce, isDualEraServer } from "./_dual_era.ts";
import type { DualEraServer, MemberChange } from "./_dual_era.ts";

interface Closable {
  close(code: number, reason: string): Promise<void>;
  closed: Promise<void>;
}

function offersMcp(req: Request): boolean {
  const offered = req.headers.get("sec-websocket-protocol") ?? "";
  return offered.split(",").some((p) => p.trim() === MCP_SUBPROTOCOL);
}

/** Serves MCP sessions over WebSocket upgrades that passed authentication. */
export class ControlEndpoint {
  #ctx: EndpointContext;
  #sessions = new Set<Closable>();
  #refused = new Set<Closable>();
  #dualEra = new Set<ControlConnection>();

  constructor(ctx: EndpointContext) {
    this.#ctx = ctx;
  }

  /** Open sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Upgrades an authenticated request and starts a session on it. */
  handle(req: Request, grant: Grant): Response {
    const ctx = this.#ctx;
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(426, "upgrade_required", "This endpoint only accepts WebSocket upgrades", {
        headers: { upgrade: "websocket", connection: "Upgrade" },
      });
    }
    if (!offersMcp(req)) {
      return errorResponse(400, "subprotocol_required", "The WebSocket subprotocol 'mcp' is required");
    }
    const full = this.#sessions.size >= ctx.maxSessions;
    let server: SessionServer | undefined;
    if (!full) {
      try {
        server = ctx.factory({ channel: "control", subject: grant.sub, issuer: grant.iss });
      } catch (error) {
        ctx.logger.error("The server factory threw", { serverId: ctx.serverId, error: String(error) });
        return errorResponse(500, "internal_error", "Internal error");
      }
    }
    let upgrade: { socket: WebSocket; response: Response };
    try {
      upgrade = Deno.upgradeWebSocket(req, { protocol: MCP_SUBPROTOCOL });
    } catch {
      return errorResponse(400, "invalid_upgrade", "Invalid WebSocket upgrade");
    }
    const socket = new WebSocketTransport(upgrade.socket, { maxMessageBytes: ctx.maxMessageBytes });
    if (server === undefined) {
      this.#refuse(socket);
      return upgrade.response;
    }
    const transport = new RenewingTransport(socket, {
      grant,
      verify: (token) => ctx.guard.verify(token),
      idleTimeout: ctx.idleTimeout,
      now: ctx.now,
      inflight: ctx.inflight,
      draining: ctx.draining,
      logger: ctx.logger,
      serverId: ctx.serverId,
      requireUserIdentity: ctx.requireUserIdentity,
    });
    const { promise: closed, resolve } = Promise.withResolvers<void>();
    const session: Closable = { close: (code, reason) => transport.close(code, reason), closed };
    let connection: ControlConnection | undefined;
    const onclose = () => {
      this.#sessions.delete(session);
      if (connection) this.#dualEra.delete(connection);
      resolve();
      ctx.logger.debug("Control session closed", { serverId: ctx.serverId, sessions: this.#sessions.size });
    };
    this.#sessions.add(session);
    ctx.logger.debug("Control session opened", { serverId: ctx.serverId, sessions: this.#sessions.size });
    if (isDualEraServer(server)) {
      advertiseControlChannel(server);
      connection = serveControlConnection(transport, server, {
        build: () => this.#build(grant),
        onclose,
        logger: ctx.logger,
        serverId: ctx.serverId,
      });
      this.#dualEra.add(connection);
      return upgrade.response;
    }
    transport.onclose = onclose;
    server.connect(transport).catch((error) => {
      ctx.logger.warn("Control session failed to start", { serverId: ctx.serverId, error: String(error) });
      void transport.close(1011, "Internal error");
    });
    return upgrade.response;
  }

  /**
   * Announces a change on every connection served by a v2 SDK server: a notification on a 2025-11-25 connection,
   * an event on the listen streams that asked for it on a 2026-07-28 one.
   */
  announce(change: MemberChange): void {
    for (const connection of this.#dualEra) {
      const server = connection.server;
      if (!server) continue;
      announce(server, change).catch((error) =>
        this.#ctx.logger.debug("Could not announce a change", { serverId: this.#ctx.serverId, error: String(error) })
      );
    }
  }

  // A further server for a dual-era connection (after a discarded `server/discover` probe).
  #build(grant: Grant): DualEraServer {
    const server = this.#ctx.factory({ channel: "control", subject: grant.sub, issuer: grant.iss });
    if (!isDualEraServer(server)) throw new TypeError("The server factory returned a server of another kind");
    advertiseControlChannel(server);
    return server;
  }

  /** Closes every socket with `code` and waits (at most `timeoutMs`) for the closing handshakes. */
  async closeAll(code: number, reason: string, timeoutMs: number): Promise<void> {
    const all = [...this.#sessions, ...this.#refused];
    for (const session of all) session.close(code, reason).catch(() => {});
    await within(Promise.all(all.map((s) => s.closed)), timeoutMs);
  }

  // Over maxSessions: accept the upgrade (a WebSocket client cannot read an HTTP error body) and close at once
  // with 1013 "Try again later".
  #refuse(socket: WebSocketTransport): void {
    const { promise: closed, resolve } = Promise.withResolvers<void>();
    const entry: Closable = { close: (code, reason) => socket.close(code, reason), closed };
    socket.onclose = () => {
      this.#refused.delete(entry);
      resolve();
    };
    this.#refused.add(entry);
    this.#ctx.logger.warn("Refused a control session: too many sessions", {
      serverId: this.#ctx.serverId,
      maxSessions: this.#ctx.maxSessions,
    });
    socket.start().then(
      () => socket.close(CloseCode.TRY_AGAIN_LATER, "Too many sessions"),
      () => socket.close(),
    ).catch(() => {});
  }
}
