// Internal: building one federated list (a "view") from the members' lists: federated names (`_naming.ts`) or
// URIs (`_uris.ts`), the origin in `_meta`, and the tables that map a federated key back to its member and the
// member's key to its federated form.
import { UriTemplate } from "../../core/_sdk.ts";
import type { Prompt, Resource, ResourceTemplate, Tool } from "../../core/mcp_types.ts";
import { assignNames, type PrefixMode } from "../_naming.ts";
import { assignUris, parseRewrittenUri } from "../_uris.ts";
import { type CatalogList, type NameOrigin, ORIGIN_META_KEY, type UriOrigin } from "./types.ts";

/** One entry of any federated list. */
export type Item = Tool | Resource | ResourceTemplate | Prompt;

/** Where a federated key lives: the member and its key there. */
export interface Owner {
  serverId: string;
  key: string;
}

/** The federated form of one list, rebuilt when a member's part of it changes. */
export interface View {
  /** Fingerprint of the member lists it was built from. */
  fingerprint: string;
  /** Fingerprint last announced with a change event (or built). */
  announced: string;
  items: Item[];
  /** Federated name or URI → origin. */
  owners: Map<string, Owner>;
  /** `serverId \0 original` → federated name or URI. */
  reverse: Map<string, string>;
  /** For templates: matchers of the templates kept unchanged. */
  matchers: { template: UriTemplate; serverId: string }[];
  /** For resources and templates: the mode their URIs were assigned in (`_uris.ts`). */
  uriPrefix: PrefixMode;
}

/** One member's part of a list. */
export interface ViewSource {
  serverId: string;
  items: readonly Item[];
}

/** The key of an item in its list: a tool's or prompt's name, a resource's URI, a template's URI template. */
export function keyOf(list: CatalogList, item: Item): string {
  if (list === "resources") return (item as Resource).uri;
  if (list === "resourceTemplates") return (item as ResourceTemplate).uriTemplate;
  return (item as Tool | Prompt).name;
}

function withKey(list: CatalogList, item: Item, key: string, origin: NameOrigin | UriOrigin): Item {
  const meta = { ...item._meta, [ORIGIN_META_KEY]: origin };
  if (list === "resources") return { ...item, uri: key, _meta: meta } as Resource;
  if (list === "resourceTemplates") return { ...item, uriTemplate: key, _meta: meta } as ResourceTemplate;
  return { ...item, name: key, _meta: meta } as Tool | Prompt;
}

/** The key of a (member, member's key) pair in {@link View.reverse}. */
export function pairKey(serverId: string, key: string): string {
  return `${serverId}\u0000${key}`;
}

/** Builds a list's view from the members' parts (taken in serverId order, so the result is deterministic). */
export function buildView(
  list: CatalogList,
  parts: readonly ViewSource[],
  modes: { prefix: PrefixMode; resourcePrefix: PrefixMode },
  fingerprint: string,
): View {
  const sources: { serverId: string; item: Item; key: string }[] = [];
  for (const part of [...parts].sort((a, b) => a.serverId < b.serverId ? -1 : a.serverId > b.serverId ? 1 : 0)) {
    for (const item of part.items) sources.push({ serverId: part.serverId, item, key: keyOf(list, item) });
  }
  const isUri = list === "resources" || list === "resourceTemplates";
  const keys = isUri
    ? assignUris(sources.map((s) => ({ serverId: s.serverId, uri: s.key })), modes.resourcePrefix)
    : assignNames(sources.map((s) => ({ serverId: s.serverId, name: s.key })), modes.prefix);
  const view: View = {
    fingerprint,
    announced: fingerprint,
    items: [],
    owners: new Map(),
    reverse: new Map(),
    matchers: [],
    uriPrefix: modes.resourcePrefix,
  };
  sources.forEach((source, i) => {
    const key = keys[i]!;
    const origin = isUri
      ? { serverId: source.serverId, uri: source.key }
      : { serverId: source.serverId, name: source.key };
    view.items.push(withKey(list, source.item, key, origin));
    view.owners.set(key, { serverId: source.serverId, key: source.key });
    view.reverse.set(pairKey(source.serverId, source.key), key);
    if (list === "resourceTemplates" && key === source.key) {
      try {
        view.matchers.push({ template: new UriTemplate(key), serverId: source.serverId });
      } catch {
        // a template the SDK cannot parse is listed, but only matched by its exact text
      }
    }
  });
  if (isUri && modes.resourcePrefix === "always") addOriginalAliases(list, view, sources);
  Object.freeze(view.items);
  return view;
}

/**
 * With URIs always prefixed, a member's own URI (or template) still resolves while exactly one member offers it, so a
 * client that kept a raw URI reaches the same member; it is never listed, and stops resolving once a second member
 * offers the same URI (then only the federated form names one).
 */
function addOriginalAliases(
  list: CatalogList,
  view: View,
  sources: readonly { serverId: string; key: string }[],
): void {
  const offeredBy = new Map<string, Set<string>>();
  for (const { serverId, key } of sources) {
    let set = offeredBy.get(key);
    if (!set) offeredBy.set(key, set = new Set());
    set.add(serverId);
  }
  for (const { serverId, key } of sources) {
    if (offeredBy.get(key)!.size !== 1 || parseRewrittenUri(key) || view.owners.has(key)) continue;
    view.owners.set(key, { serverId, key });
    if (list !== "resourceTemplates") continue;
    try {
      view.matchers.push({ template: new UriTemplate(key), serverId });
    } catch {
      // matched by its exact text only
    }
  }
}
