// Internal: federated resource URIs. In the `"always"` mode every member URI (or URI template) becomes
// `federated://<serverId>/<original>`, so a URI stays the same whichever members join or leave. In the
// `"on-collision"` mode a member's URI is kept when no other member offers the same one, and rewritten otherwise
// (so it changes when a second member with the same URI joins, and back when it leaves). A rewritten URI maps back by
// stripping the prefix. Original URIs that already start with the scheme are always rewritten, so a kept URI can
// never be mistaken for a rewritten one, and a rewritten one always names its member.
import type { PrefixMode } from "./_naming.ts";

/** Scheme of rewritten URIs. */
export const FEDERATED_SCHEME = "federated://";

/** The rewritten form of a member's URI or URI template. */
export function rewriteUri(serverId: string, uri: string): string {
  return `${FEDERATED_SCHEME}${serverId}/${uri}`;
}

/** Splits a rewritten URI into its member and original URI, or `undefined` when it is not one. */
export function parseRewrittenUri(uri: string): { serverId: string; uri: string } | undefined {
  if (!uri.startsWith(FEDERATED_SCHEME)) return undefined;
  const rest = uri.slice(FEDERATED_SCHEME.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return undefined;
  return { serverId: rest.slice(0, slash), uri: rest.slice(slash + 1) };
}

/** One member's URI to map. */
export interface UriEntry {
  serverId: string;
  uri: string;
}

/**
 * Assigns every entry its federated URI: rewritten in the `"always"` mode; in the `"on-collision"` mode unchanged
 * when unique among the entries and not in the federated scheme, rewritten otherwise.
 *
 * @returns The federated URI of each entry, in the order of `entries`.
 */
export function assignUris(entries: readonly UriEntry[], mode: PrefixMode = "on-collision"): string[] {
  if (mode === "always") return entries.map((entry) => rewriteUri(entry.serverId, entry.uri));
  const owners = new Map<string, Set<string>>();
  for (const entry of entries) {
    let set = owners.get(entry.uri);
    if (!set) owners.set(entry.uri, set = new Set());
    set.add(entry.serverId);
  }
  return entries.map((entry) =>
    owners.get(entry.uri)!.size > 1 || entry.uri.startsWith(FEDERATED_SCHEME)
      ? rewriteUri(entry.serverId, entry.uri)
      : entry.uri
  );
}
