// Internal: how the proxy makes a member at registration: the stdio-member limit, the member's token source and the
// `Member` with the proxy's options resolved to their defaults. `FederationProxy.registerServer` does the rest
// (validation, outbound guard, duplicate id, start, events).
import type { AuthManager } from "../core/auth.ts";
import { ConfigError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { FederationConfig, SecretProvider } from "../core/types.ts";
import { guardEndpoint } from "../core/outbound_guard.ts";
import { Member, type MemberEventInit } from "./_member.ts";
import { type AuthManagerCache, TokenSource } from "./_token_source.ts";
import type { FederationEventType } from "./events.ts";
import { DEFAULT_BACKOFF, type FederationProxyOptions } from "./options.ts";
import type { ServerRequestHandler } from "./server_requests.ts";

/** What of the proxy a new member needs. */
export interface MemberSettings {
  options: FederationProxyOptions;
  secret: SecretProvider | AuthManager;
  managers: AuthManagerCache;
  now: () => number;
  logger: Logger;
  serverRequestHandler: () => ServerRequestHandler | undefined;
  emit: (type: FederationEventType, init: MemberEventInit) => void;
}

/** Throws when `config` is a stdio member and `max` of them are registered already. */
export function checkStdioLimit(config: FederationConfig, members: Iterable<Member>, max: number): void {
  if (config.endpoints.stdio === undefined) return;
  const running = [...members].filter((m) => m.config.endpoints.stdio !== undefined).length;
  if (running >= max) {
    throw new ConfigError(
      `Cannot register server '${config.serverId}': ${running} stdio members are registered, the limit (maxStdioMembers) is ${max}`,
      { field: "endpoints.stdio", serverId: config.serverId },
    );
  }
}

/** A new (not yet started) member for `config`. */
export function createMember(config: FederationConfig, settings: MemberSettings): Member {
  const { options, now, logger } = settings;
  const proxyId = options.proxyId ?? "federation-proxy";
  const tokens = new TokenSource(config, {
    proxySecret: settings.secret,
    issuer: proxyId,
    subject: options.subject ?? proxyId,
    defaultLifetime: options.tokenLifetime ?? "1h",
    renewAt: options.renewAt ?? 0.75,
    managers: settings.managers,
    now,
  });
  return new Member(config, tokens, {
    clientInfo: options.clientInfo ?? { name: "federated-mcp", version: "0.1.0" },
    connectTimeout: options.connectTimeout ?? 10_000,
    requestTimeout: options.requestTimeout ?? 60_000,
    heartbeatInterval: options.heartbeatInterval ?? 15_000,
    heartbeatTimeout: options.heartbeatTimeout ?? 5_000,
    maxMessageBytes: options.maxMessageBytes,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    routing: options.routing ?? "auto",
    eraPreference: options.eraPreference ?? "legacy",
    logger,
    serverRequestHandler: settings.serverRequestHandler,
    emit: settings.emit,
    beforeConnect: (url, signal) => guardEndpoint(config, url, options.outboundGuard, signal),
    random: options.random ?? Math.random,
  });
}
