// Internal: what the gateway announces to a 2026-07-28 client in `server/discover`: the federation's capabilities
// (the gateway's own, with the sub-flags any connected member offers on top) and its instructions (the gateway's
// own, then each connected member's under a heading naming its server id, so a model can tell whose they are).
// Computed per request from the proxy's current view: cheap (a walk over the connected members), never cached.
import type { ServerCapabilities } from "../core/_sdk.ts";

/** What the merge reads from the proxy. */
export interface DiscoverSource {
  getConnectedServers(): string[];
  getServerInstructions(serverId: string): string | undefined;
  getServerCapabilities(serverId: string): ServerCapabilities | undefined;
}

/** The capability groups the gateway serves itself; members' flags inside them are merged, nothing else is. */
const MERGED_GROUPS = ["tools", "resources", "prompts", "logging", "completions"] as const;

/** The gateway's own capabilities: what every client session's server handles, whatever the members offer. */
export function gatewayCapabilities(): ServerCapabilities {
  return {
    tools: { listChanged: true },
    resources: { listChanged: true, subscribe: true },
    prompts: { listChanged: true },
    logging: {},
    completions: {},
  };
}

/**
 * The federation's capabilities: the gateway's own, with the boolean sub-flags of the connected members' groups the
 * gateway serves merged in (a flag any member sets is set). Groups the gateway does not serve (tasks, experimental,
 * members' extensions) are not announced: the gateway would not answer them.
 */
export function mergedCapabilities(source: DiscoverSource): ServerCapabilities {
  const merged = gatewayCapabilities() as Record<string, Record<string, unknown>>;
  for (const serverId of source.getConnectedServers()) {
    const capabilities = source.getServerCapabilities(serverId) as Record<string, unknown> | undefined;
    if (!capabilities) continue;
    for (const group of MERGED_GROUPS) {
      const flags = capabilities[group];
      if (typeof flags !== "object" || flags === null) continue;
      const target = merged[group] ??= {};
      for (const [flag, value] of Object.entries(flags)) {
        if (value === true && target[flag] === undefined) target[flag] = true;
      }
    }
  }
  return merged as ServerCapabilities;
}

/**
 * The federation's instructions: the gateway's own, then each connected member's (in server id order) under
 * `## <serverId>`. Undefined when nobody has any.
 */
export function mergedInstructions(own: string | undefined, source: DiscoverSource): string | undefined {
  const parts: string[] = [];
  if (own !== undefined && own.trim() !== "") parts.push(own.trim());
  for (const serverId of [...source.getConnectedServers()].sort()) {
    const instructions = source.getServerInstructions(serverId)?.trim();
    if (instructions) parts.push(`## ${serverId}\n\n${instructions}`);
  }
  return parts.length === 0 ? undefined : parts.join("\n\n");
}
