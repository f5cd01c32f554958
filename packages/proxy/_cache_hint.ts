// Internal: the cache hints (`ttlMs`, `cacheScope`) of a modern member's list results (MCP 2026-07-28), and their
// merge across members. A member that gave no hint counts as `0`/`private`: the SDK's own default for an absent
// hint, and the only safe reading (its list may change at any time).
import type { CacheHint, CatalogList } from "./catalog/types.ts";

export type { CacheHint };

/** A list a hint is kept for. */
export type CachedList = CatalogList;

/** The hint a result carries (wire-only fields the SDK's types hide), if it carries a valid one. */
export function hintOf(result: unknown): CacheHint | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const { ttlMs, cacheScope } = result as { ttlMs?: unknown; cacheScope?: unknown };
  if (typeof ttlMs !== "number" || !Number.isSafeInteger(ttlMs) || ttlMs < 0) return undefined;
  return { ttlMs, cacheScope: cacheScope === "public" ? "public" : "private" };
}

/** The merge of members' hints: the smallest `ttlMs`, `private` if any is (or gave none); `0`/`private` for none. */
export function mergeHints(hints: readonly (CacheHint | undefined)[]): CacheHint {
  if (hints.length === 0) return { ttlMs: 0, cacheScope: "private" };
  let ttlMs = Infinity;
  let cacheScope: CacheHint["cacheScope"] = "public";
  for (const hint of hints) {
    ttlMs = Math.min(ttlMs, hint?.ttlMs ?? 0);
    if (hint?.cacheScope !== "public") cacheScope = "private";
  }
  return { ttlMs, cacheScope };
}
