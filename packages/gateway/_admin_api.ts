// Internal: the membership API. `GET /admin/members`, `GET /admin/members/:id`, `POST /admin/members`,
// `DELETE /admin/members/:id` and `GET /admin/replicas`, for bearer tokens that carry the admin scope. A member is
// validated like a config-file member, checked by the outbound guard, and acknowledged (201) only once the
// registry store has it; every replica then registers it (within milliseconds, through the store's change notice).
import { redactMember, toStoredMember } from "../cluster/member_records.ts";
import type { StoredMember } from "../cluster/registry_store.ts";
import { errorResponse, jsonResponse } from "../core/_http.ts";
import { readLimitedBody } from "../core/_limited_body.ts";
import { ConfigError, ConnectionError, FederationError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { failClosed, guardEndpoints } from "../core/outbound_guard.ts";
import type { ClusterRuntime } from "./_cluster_runtime.ts";
import { hasScope, type HttpGuard } from "./_http_guard.ts";
import { type ConfiguredMember, configuredMembersOf } from "./_register_members.ts";

/** What the membership API works with. */
export interface AdminApiSettings {
  guard: HttpGuard;
  proxy: FederationProxy;
  runtime: ClusterRuntime;
  logger: Logger;
}

/** Path prefix of the membership API. */
export const ADMIN_PREFIX = "/admin/";

/** Largest body the membership API reads, in bytes (a registration is well under 8 KiB). */
export const MAX_ADMIN_BODY_BYTES = 64 * 1024;

/** Longest `sub` recorded as `createdBy`, in characters. */
const MAX_ACTOR_LENGTH = 256;

/** Who made a change: the admin token's `sub` (bounded), for `createdBy` and log lines. */
function actorOf(claims: Record<string, unknown>): string {
  return typeof claims.sub === "string" && claims.sub !== "" ? claims.sub.slice(0, MAX_ACTOR_LENGTH) : "(no sub)";
}

function storeFailure(error: unknown): Response | undefined {
  if (!(error instanceof ConnectionError)) return undefined;
  return errorResponse(503, "ERR_STORE_UNAVAILABLE", `The registry store is unavailable: ${error.message}`, {
    headers: { "retry-after": "1" },
  });
}

/** A config-file member the proxy does not have yet, as the membership API shows it. */
function waitingView(member: ConfiguredMember, replica: string): Record<string, unknown> {
  return {
    serverId: member.serverId,
    source: "config",
    here: {
      replica,
      state: member.state,
      attempts: member.attempts,
      since: new Date(member.since).toISOString(),
      ...(member.lastError === undefined ? {} : { error: member.lastError }),
    },
  };
}

/** The membership API of one gateway replica. */
export class AdminApi {
  #settings: AdminApiSettings;

  constructor(settings: AdminApiSettings) {
    this.#settings = settings;
  }

  /** Serves a request under {@link ADMIN_PREFIX}. */
  async handle(request: Request, pathname: string): Promise<Response> {
    const { guard, runtime } = this.#settings;
    const refused = guard.checkOrigin(request);
    if (refused) return refused;
    if (!guard.authenticates) {
      return errorResponse(
        403,
        "ERR_FORBIDDEN",
        "The membership API needs gateway authentication (gateway auth is off)",
      );
    }
    const claims = await guard.authenticate(request);
    if (claims instanceof Response) return claims;
    if (!hasScope(claims, runtime.adminScope)) {
      return guard.insufficientScope(request, "api", runtime.adminScope);
    }
    const parts = pathname.slice(ADMIN_PREFIX.length).split("/");
    const actor = actorOf(claims);
    let id: string | undefined;
    try {
      id = parts.length === 2 ? decodeURIComponent(parts[1]!) : undefined;
    } catch {
      return errorResponse(400, "ERR_BAD_REQUEST", "The path has malformed percent-encoding", {
        details: { field: "path" },
      });
    }
    try {
      if (parts[0] === "replicas" && parts.length === 1) {
        if (request.method !== "GET") return this.#notAllowed("GET");
        return jsonResponse(200, { replicas: await runtime.store.listReplicas() });
      }
      if (parts[0] !== "members" || parts.length > 2) {
        return errorResponse(404, "ERR_NOT_FOUND", `Not found: ${pathname}`);
      }
      switch (`${request.method} ${id === undefined ? "collection" : "item"}`) {
        case "GET collection":
          return await this.#list();
        case "POST collection":
          return await this.#create(request, actor);
        case "GET item":
          return await this.#get(id!);
        case "DELETE item":
          return await this.#delete(id!, actor);
        default:
          return this.#notAllowed(id === undefined ? "GET, POST" : "GET, DELETE");
      }
    } catch (error) {
      const failure = storeFailure(error);
      if (failure) return failure;
      this.#settings.logger.error("Membership API request failed", { error: String(error) });
      return errorResponse(500, "ERR_INTERNAL", "Internal error");
    }
  }

  #notAllowed(allow: string): Response {
    return errorResponse(405, "ERR_METHOD_NOT_ALLOWED", "Method not allowed", { headers: { allow } });
  }

  #view(member: StoredMember): Record<string, unknown> {
    const { proxy, runtime } = this.#settings;
    const serverId = member.config.serverId;
    const synced = runtime.sync.member(serverId);
    return {
      serverId,
      source: "store",
      config: redactMember(member.config),
      revision: member.revision,
      createdAt: new Date(member.createdAt).toISOString(),
      createdBy: member.createdBy,
      here: {
        replica: runtime.replicaId,
        sync: synced?.state ?? "pending",
        ...(synced?.error === undefined ? {} : { error: synced.error }),
        state: proxy.getServerStatus(serverId)?.state ?? null,
      },
    };
  }

  async #list(): Promise<Response> {
    const { proxy, runtime } = this.#settings;
    const snapshot = await runtime.store.listMembers();
    const stored = new Set(snapshot.members.map((m) => m.config.serverId));
    const local = proxy.getStatus().filter((s) => !stored.has(s.serverId) && !runtime.sync.owns(s.serverId)).map((
      s,
    ) => ({
      serverId: s.serverId,
      source: "local",
      here: { replica: runtime.replicaId, state: s.state },
    }));
    // Config-file members not registered yet (unreachable at start-up, retrying in the background, or refused).
    const waiting = configuredMembersOf(proxy).waiting(proxy).filter((m) => !stored.has(m.serverId)).map((m) =>
      waitingView(m, runtime.replicaId)
    );
    return jsonResponse(200, {
      revision: snapshot.revision,
      members: [...snapshot.members.map((m) => this.#view(m)), ...local, ...waiting],
    });
  }

  async #get(serverId: string): Promise<Response> {
    const { proxy, runtime } = this.#settings;
    const member = (await runtime.store.listMembers()).members.find((m) => m.config.serverId === serverId);
    if (member) return jsonResponse(200, this.#view(member));
    const status = proxy.getServerStatus(serverId);
    if (status) {
      return jsonResponse(200, {
        serverId,
        source: "local",
        here: { replica: runtime.replicaId, state: status.state },
      });
    }
    const waiting = configuredMembersOf(proxy).waiting(proxy).find((m) => m.serverId === serverId);
    if (waiting) return jsonResponse(200, waitingView(waiting, runtime.replicaId));
    return errorResponse(404, "ERR_SERVER_NOT_FOUND", `No member '${serverId}'`);
  }

  async #create(request: Request, actor: string): Promise<Response> {
    const { proxy, runtime, logger } = this.#settings;
    if (!/^application\/json\b/i.test(request.headers.get("content-type") ?? "")) {
      return errorResponse(415, "ERR_UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
    }
    const read = await readLimitedBody(request, MAX_ADMIN_BODY_BYTES);
    if (read.tooLarge) {
      return errorResponse(413, "ERR_BODY_TOO_LARGE", `The body exceeds ${MAX_ADMIN_BODY_BYTES} bytes`, {
        details: { field: "body", limit: MAX_ADMIN_BODY_BYTES },
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(read.bytes));
    } catch {
      return errorResponse(400, "ERR_CONFIG_INVALID", "The body is not valid JSON", { details: { field: "body" } });
    }
    let stored;
    try {
      stored = await toStoredMember(body, { box: runtime.box, env: runtime.env });
      await guardEndpoints(stored, failClosed(runtime.outboundGuard), undefined);
    } catch (error) {
      if (error instanceof ConfigError) {
        return errorResponse(400, error.code, error.message, {
          details: error.field === undefined ? {} : { field: error.field },
        });
      }
      if (error instanceof FederationError) return errorResponse(400, error.code, error.message);
      throw error;
    }
    const serverId = stored.serverId;
    if (proxy.hasServer(serverId) && !runtime.sync.owns(serverId)) {
      return errorResponse(
        409,
        "ERR_SERVER_EXISTS",
        `Member '${serverId}' is registered by this replica's config file`,
        {
          details: { field: "serverId" },
        },
      );
    }
    const member = await runtime.store.createMember(stored, actor);
    if (!member) {
      return errorResponse(409, "ERR_SERVER_EXISTS", `Member '${serverId}' exists; delete it first to change it`, {
        details: { field: "serverId" },
      });
    }
    logger.info("Member added through the membership API", {
      serverId,
      revision: member.revision,
      by: actor,
      replica: runtime.replicaId,
    });
    await runtime.sync.applyCreated(member);
    return jsonResponse(201, this.#view(member), {
      location: `${ADMIN_PREFIX}members/${encodeURIComponent(serverId)}`,
    });
  }

  async #delete(serverId: string, actor: string): Promise<Response> {
    const { proxy, runtime, logger } = this.#settings;
    if (!await runtime.store.deleteMember(serverId)) {
      if (proxy.hasServer(serverId) && !runtime.sync.owns(serverId)) {
        return errorResponse(409, "ERR_SERVER_EXISTS", `Member '${serverId}' comes from this replica's config file`);
      }
      return errorResponse(404, "ERR_SERVER_NOT_FOUND", `No member '${serverId}' in the registry store`);
    }
    logger.info("Member deleted through the membership API", { serverId, by: actor, replica: runtime.replicaId });
    await runtime.sync.reconcile();
    return jsonResponse(200, { serverId, deleted: true, deletedBy: actor });
  }
}
