// Internal: what a 2026-07-28 member is told of a 2025-11-25 client behind the gateway. A 2026-07-28 client's
// envelope (its capabilities and info) goes on to the member as it came (`_catalog_handlers.ts`); a 2025-11-25 client
// stated the same once, at initialize, and each of its calls tells a 2026-07-28 member in the request's envelope:
// which input the client can be asked for through the federation (sampling, elicitation and roots, as it declared
// them; an empty `elicitation` is its form mode, as 2025-11-25 reads it) and who it is. Without it the member is told
// the proxy's own capabilities (every one), and may ask the client for input it cannot give. What the federation does
// not relay is left out: sampling's `context` (it would ask for the context of the client's whole federation), the
// form mode's `applyDefaults`, `tasks` (the gateway's own business with the client) and `experimental` and
// `extensions` (which an HTTP session does not keep: `compactSessionInit`).
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  type ClientCapabilities,
  type Implementation,
} from "../core/_sdk.ts";

/** The part of a 2025-11-25 client's capabilities the federation relays to a 2026-07-28 member. */
function relayedCapabilities(declared: ClientCapabilities): ClientCapabilities {
  const relayed: ClientCapabilities = {};
  if (declared.sampling) relayed.sampling = declared.sampling.tools ? { tools: {} } : {};
  if (declared.elicitation) {
    const { form, url } = declared.elicitation;
    relayed.elicitation = form === undefined && url === undefined
      ? { form: {} }
      : { ...(form ? { form: {} } : {}), ...(url ? { url: {} } : {}) };
  }
  if (declared.roots) relayed.roots = declared.roots.listChanged ? { listChanged: true } : {};
  return relayed;
}

/**
 * The envelope keys a 2025-11-25 client's calls carry to a 2026-07-28 member: its relayed capabilities and its info,
 * as its initialize stated them.
 *
 * @param capabilities The client's declared capabilities.
 * @param info The client's `clientInfo`, if known.
 */
export function legacyClientEnvelope(
  capabilities: ClientCapabilities,
  info: Implementation | undefined,
): Record<string, unknown> {
  const envelope: Record<string, unknown> = { [CLIENT_CAPABILITIES_META_KEY]: relayedCapabilities(capabilities) };
  // Its name, version and title: what names it (an HTTP session keeps no more), not its icons on every call.
  if (info) {
    envelope[CLIENT_INFO_META_KEY] = {
      name: info.name,
      version: info.version,
      ...(info.title === undefined ? {} : { title: info.title }),
    };
  }
  return envelope;
}
