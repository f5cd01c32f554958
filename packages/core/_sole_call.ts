// Internal: the relation rule (DESIGN.md "Many clients, one member") on a stream that names no call, such as a stdio
// process's stdout. Fail closed: what the stream sends belongs to a call only when exactly one call is in progress
// on it (pings excepted by the caller: they cause nothing); with none it is unsolicited; with two or more it cannot
// be related, and a request is refused. The one statement of the rule, used by the proxy's stdio members
// (proxy/_stdio_relation.ts) and by the sidecar's stdio upstream (member/_sidecar_link.ts).

/** The call a message of such a stream belongs to: the only one in progress, `"none"`, or `"ambiguous"`. */
export type SoleCall<T> = T | "none" | "ambiguous";

/**
 * Applies the rule to the calls in progress.
 *
 * @example
 * ```ts ignore
 * soleCall([7]); // 7
 * soleCall([]); // "none"
 * soleCall([7, 8]); // "ambiguous"
 * ```
 */
export function soleCall<T>(inProgress: Iterable<T>): SoleCall<T> {
  let found: { call: T } | undefined;
  for (const call of inProgress) {
    if (found) return "ambiguous";
    found = { call };
  }
  return found ? found.call : "none";
}
