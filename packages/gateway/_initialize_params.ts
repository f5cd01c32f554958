// Internal: the `initialize` parameters of a client's POST, reduced to what its session id carries.
import { isRecord } from "../core/_json.ts";
import { compactSessionInit, type SessionInit } from "../cluster/_session_init.ts";
import { rpcError } from "./_http_guard.ts";
import type { Message } from "./_session_wire.ts";

/**
 * The `initialize` parameters of a POST body, when it is an initialize request that names them, reduced to what a
 * session id carries (see `compactSessionInit`); the body's params are replaced by that reduction, so that this
 * replica's session sees what a replica rebuilding it from its id will see. A part larger than its limit gets a
 * 400 answer naming the limit (never a 500 later).
 */
export function initializeParams(body: unknown, subject?: string): SessionInit | Response | undefined {
  const messages = Array.isArray(body) ? body : [body];
  const init = messages.find((m) => isRecord(m) && m.method === "initialize") as Message | undefined;
  const params = init?.params;
  if (!isRecord(params) || typeof params.protocolVersion !== "string" || !isRecord(params.capabilities)) {
    return undefined;
  }
  const info = params.clientInfo;
  if (!isRecord(info) || typeof info.name !== "string" || typeof info.version !== "string") return undefined;
  const compact = compactSessionInit(params as unknown as SessionInit, subject);
  if ("problem" in compact) return rpcError(400, -32602, `Invalid params: ${compact.problem}`);
  init!.params = { ...params, ...compact.init };
  return compact.init;
}
