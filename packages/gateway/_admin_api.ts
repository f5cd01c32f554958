// Internal: the membership API. `GET /admin/members`, `GET /admin/members/:id`, `POST /admin/members`,
// `DELETE /admin/members/:id` and `GET /admin/replicas`, for bearer tokens that carry the admin scope. A member is
// validated like a config-file member, checked by the outbound guard, and acknowledged (201) only once the
// registry store has it; every replica then registers it (within milliseconds, through the store's change notice).
import { redactMember, toStoredMember } from "../cluster/member_records.ts";
import type { StoredMember } from "../cluster/registry_store.ts";
import { ConfigError, ConnectionError, FederationError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { failClosed, guardEndpoints } from "../proxy/outbound_guard.ts";
import type { ClusterRuntime } from "./_cluster_runtime.ts";
import type { HttpGuard } from "./_http_guard.ts";

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

/** Reads at most `limit` bytes of a body: the text, or `undefined` when it is larger (declared or counted). */
async function readBounded(request: Request, limit: number): Promise<string | undefined> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await request.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** Who made a change: the admin token's `sub` (bounded), for `createdBy` and log lines. */
function actorOf(claims: Record<string, unknown>): string {
  return typeof claims.sub === "string" && claims.sub !== "" ? claims.sub.slice(0, MAX_ACTOR_LENGTH) : "(no sub)";
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

function problem(status: number, code: string, message: string, extra: Record<string, unknown> = {}): Response {
  return json(status, { error: { code, message, ...extra } }, status === 503 ? { "retry-after": "1" } : {});
}

/** Whether a token's claims grant `scope` (`scope`: space-separated, or `scp`: a list). */
function hasScope(claims: Record<string, unknown>, scope: string): boolean {
  if (typeof claims.scope === "string" && claims.scope.split(/\s+/).includes(scope)) return true;
  return Array.isArray(claims.scp) && claims.scp.includes(scope);
}

function storeFailure(error: unknown): Response | undefined {
  if (!(error instanceof ConnectionError)) return undefined;
  return problem(503, "ERR_STORE_UNAVAILABLE", `The registry store is unavailable: ${error.message}`);
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
      return problem(403, "ERR_FORBIDDEN", "The membership API needs gateway authentication (gateway auth is off)");
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
      return problem(400, "ERR_BAD_REQUEST", "The path has malformed percent-encoding", { field: "path" });
    }
    try {
      if (parts[0] === "replicas" && parts.length === 1) {
        if (request.method !== "GET") return this.#notAllowed("GET");
        return json(200, { replicas: await runtime.store.listReplicas() });
      }
      if (parts[0] !== "members" || parts.length > 2) return problem(404, "ERR_NOT_FOUND", `Not found: ${pathname}`);
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
      return problem(500, "ERR_INTERNAL", "Internal error");
    }
  }

  #notAllowed(allow: string): Response {
    return json(405, { error: { code: "ERR_METHOD_NOT_ALLOWED", message: "Method not allowed" } }, { allow });
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
    return json(200, {
      revision: snapshot.revision,
      members: [...snapshot.members.map((m) => this.#view(m)), ...local],
    });
  }

  async #get(serverId: string): Promise<Response> {
    const { proxy, runtime } = this.#settings;
    const member = (await runtime.store.listMembers()).members.find((m) => m.config.serverId === serverId);
    if (member) return json(200, this.#view(member));
    const status = proxy.getServerStatus(serverId);
    if (status) {
      return json(200, { serverId, source: "local", here: { replica: runtime.replicaId, state: status.state } });
    }
    return problem(404, "ERR_SERVER_NOT_FOUND", `No member '${serverId}'`);
  }

  async #create(request: Request, actor: string): Promise<Response> {
    const { proxy, runtime, logger } = this.#settings;
    if (!/^application\/json\b/i.test(request.headers.get("content-type") ?? "")) {
      return problem(415, "ERR_UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
    }
    const text = await readBounded(request, MAX_ADMIN_BODY_BYTES);
    if (text === undefined) {
      return problem(413, "ERR_BODY_TOO_LARGE", `The body exceeds ${MAX_ADMIN_BODY_BYTES} bytes`, {
        field: "body",
        limit: MAX_ADMIN_BODY_BYTES,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return problem(400, "ERR_CONFIG_INVALID", "The body is not valid JSON", { field: "body" });
    }
    let stored;
    try {
      stored = await toStoredMember(body, { box: runtime.box, env: runtime.env });
      await guardEndpoints(stored, failClosed(runtime.outboundGuard), undefined);
    } catch (error) {
      if (error instanceof ConfigError) {
        return problem(400, error.code, error.message, error.field === undefined ? {} : { field: error.field });
      }
      if (error instanceof FederationError) return problem(400, error.code, error.message);
      throw error;
    }
    const serverId = stored.serverId;
    if (proxy.hasServer(serverId) && !runtime.sync.owns(serverId)) {
      return problem(409, "ERR_SERVER_EXISTS", `Member '${serverId}' is registered by this replica's config file`, {
        field: "serverId",
      });
    }
    const member = await runtime.store.createMember(stored, actor);
    if (!member) {
      return problem(409, "ERR_SERVER_EXISTS", `Member '${serverId}' exists; delete it first to change it`, {
        field: "serverId",
      });
    }
    logger.info("Member added through the membership API", {
      serverId,
      revision: member.revision,
      by: actor,
      replica: runtime.replicaId,
    });
    await runtime.sync.applyCreated(member);
    return json(201, this.#view(member), { location: `${ADMIN_PREFIX}members/${encodeURIComponent(serverId)}` });
  }

  async #delete(serverId: string, actor: string): Promise<Response> {
    const { proxy, runtime, logger } = this.#settings;
    if (!await runtime.store.deleteMember(serverId)) {
      if (proxy.hasServer(serverId) && !runtime.sync.owns(serverId)) {
        return problem(409, "ERR_SERVER_EXISTS", `Member '${serverId}' comes from this replica's config file`);
      }
      return problem(404, "ERR_SERVER_NOT_FOUND", `No member '${serverId}' in the registry store`);
    }
    logger.info("Member deleted through the membership API", { serverId, by: actor, replica: runtime.replicaId });
    await runtime.sync.reconcile();
    return json(200, { serverId, deleted: true, deletedBy: actor });
  }
}
