// Internal: federated names of tools and prompts. Every name matches ^[A-Za-z0-9_-]{1,64}$, distinct
// (serverId, name) pairs always get distinct names, and the assignment is deterministic: it depends only on the
// set of entries, never on the order members answered in. The mapping back is kept by the caller (a Map).

/** What every federated name matches. */
export const FEDERATED_NAME_PATTERN: RegExp = /^[A-Za-z0-9_-]{1,64}$/;
/** Longest federated name. */
export const MAX_NAME_LENGTH = 64;
/** Separator between a serverId and a name. */
export const NAME_SEPARATOR = "__";

/** How names are prefixed: always with the serverId, or only when two members offer the same name. */
export type PrefixMode = "always" | "on-collision";

/** One member's entry to name. */
export interface NamingEntry {
  serverId: string;
  name: string;
}

const HASH_LENGTH = 8;
const encoder = new TextEncoder();

/** FNV-1a, 32 bits, over UTF-8: small, synchronous and stable across runs and platforms. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Eight hex digits identifying an entry (and an attempt, to step past the rare clash). */
function shortHash(entry: NamingEntry, attempt: number): string {
  return fnv1a(`${entry.serverId}\u0000${entry.name}\u0000${attempt}`).toString(16).padStart(HASH_LENGTH, "0");
}

/** Replaces every character outside [A-Za-z0-9_-] with `_`. */
export function sanitizeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** The readable form of an entry's name, before any shortening. */
function baseName(entry: NamingEntry, prefixed: boolean): string {
  const name = sanitizeName(entry.name);
  return prefixed ? `${entry.serverId}${NAME_SEPARATOR}${name}` : name;
}

/** Whether the base form is the entry's own name, unchanged and short enough to use as is. */
function isExact(entry: NamingEntry, base: string, prefixed: boolean): boolean {
  const own = prefixed ? base.slice(entry.serverId.length + NAME_SEPARATOR.length) : base;
  return entry.name.length > 0 && own === entry.name && base.length <= MAX_NAME_LENGTH;
}

/** The shortened form: as much of the readable name as fits, `_`, and a hash of the (serverId, name) pair. */
function hashedName(base: string, entry: NamingEntry, attempt: number): string {
  const keep = MAX_NAME_LENGTH - HASH_LENGTH - 1;
  return `${base.slice(0, keep)}_${shortHash(entry, attempt)}`;
}

function compareEntries(a: NamingEntry, b: NamingEntry): number {
  if (a.serverId !== b.serverId) return a.serverId < b.serverId ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Assigns every entry its federated name.
 *
 * Names that are valid, short enough and unique are used as they are (`serverId__name`, or `name` when the mode
 * is `on-collision` and no other member offers it). All others (sanitized, too long, or clashing) get the
 * shortened form with a hash; a hash that still clashes is recomputed with the next attempt number, so the
 * result is always injective.
 *
 * @returns The federated name of each entry, in the order of `entries`.
 */
export function assignNames(entries: readonly NamingEntry[], mode: PrefixMode): string[] {
  const owners = new Map<string, Set<string>>();
  for (const entry of entries) {
    let set = owners.get(entry.name);
    if (!set) owners.set(entry.name, set = new Set());
    set.add(entry.serverId);
  }
  const prefixed = entries.map((e) => mode === "always" || owners.get(e.name)!.size > 1);
  const bases = entries.map((e, i) => baseName(e, prefixed[i]!));
  const counts = new Map<string, number>();
  for (const base of bases) counts.set(base, (counts.get(base) ?? 0) + 1);

  const names = new Array<string>(entries.length);
  const taken = new Set<string>();
  const rest: number[] = [];
  entries.forEach((entry, i) => {
    const base = bases[i]!;
    if (counts.get(base) === 1 && isExact(entry, base, prefixed[i]!)) {
      names[i] = base;
      taken.add(base);
    } else {
      rest.push(i);
    }
  });
  // The others in a canonical order, so that a clash resolves the same way whatever order members answered in.
  rest.sort((a, b) => compareEntries(entries[a]!, entries[b]!));
  for (const i of rest) {
    const entry = entries[i]!;
    let attempt = 0;
    let name = hashedName(bases[i]!, entry, attempt);
    while (taken.has(name)) name = hashedName(bases[i]!, entry, ++attempt);
    names[i] = name;
    taken.add(name);
  }
  return names;
}
