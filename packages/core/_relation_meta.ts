// Internal: the relation mark of a message (DESIGN.md "Many clients, one member"): what a member sends during a call
// names that call's request under `_meta[RELATED_REQUEST_META_KEY]`. Read and written here for both sides: the proxy
// (proxy/_relation.ts, proxy/_stdio_relation.ts) and the member sidecar (member/_sidecar_link.ts).
import { isRecord } from "./_json.ts";
import type { RequestId } from "./_sdk.ts";
import { RELATED_REQUEST_META_KEY } from "./websocket_transport.ts";

/** The relation a message's params name: whether the key is there, its value, and the params without it. */
export interface TakenRelation {
  named: boolean;
  related: unknown;
  params: Record<string, unknown> | undefined;
}

/** Splits the relation off `params` (it is ours: it is never forwarded to a client). */
export function takeRelation(params: unknown): TakenRelation {
  if (!isRecord(params)) return { named: false, related: undefined, params: undefined };
  const meta = params._meta;
  if (!isRecord(meta) || !(RELATED_REQUEST_META_KEY in meta)) return { named: false, related: undefined, params };
  const { [RELATED_REQUEST_META_KEY]: related, ...restMeta } = meta;
  const { _meta: _dropped, ...rest } = params;
  return { named: true, related, params: Object.keys(restMeta).length > 0 ? { ...rest, _meta: restMeta } : rest };
}

/**
 * A request or notification with its relation set to `related` (or removed when undefined); others unchanged, and
 * progress too (routed by its token; its params reach the caller's `onprogress` as they are).
 */
export function relateMessage(message: unknown, related: RequestId | undefined): unknown {
  if (!isRecord(message) || typeof message.method !== "string") return message;
  if (message.method === "notifications/progress") return message;
  const params = isRecord(message.params) ? message.params : undefined;
  const meta = params && isRecord(params._meta) ? params._meta : undefined;
  if (related === undefined && (meta === undefined || !(RELATED_REQUEST_META_KEY in meta))) return message;
  const { [RELATED_REQUEST_META_KEY]: _old, ...restMeta } = meta ?? {};
  if (related !== undefined) restMeta[RELATED_REQUEST_META_KEY] = related;
  const { _meta: _dropped, ...restParams } = params ?? {};
  const nextParams = Object.keys(restMeta).length > 0 ? { ...restParams, _meta: restMeta } : restParams;
  return { ...message, params: nextParams };
}
