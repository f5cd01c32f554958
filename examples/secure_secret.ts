/**
 * Secure secret management (usage guide, "Best Practices" 1): the secret comes from `MCP_SECRET_KEY` and nowhere
 * else. Without it this example refuses to start (exit 1). With it, the secret must be at least 32 bytes
 * (`strictSecrets`), and the proxy and a member started here share it. The secret is never printed or logged.
 *
 * ```sh
 * MCP_SECRET_KEY="$(openssl rand -base64 32)" deno run -A examples/secure_secret.ts
 * ```
 *
 * @module
 */

import { checkSecretStrength, ConfigError, FederationProxy } from "@federated-mcp/federation";
import { exampleFlags, startMembers } from "./_support.ts";

const flags = exampleFlags({ summary: "Loads the shared secret from MCP_SECRET_KEY only, and refuses weak secrets." });

// #region load-secret
// Load secret from environment variable
const SECRET_KEY = Deno.env.get("MCP_SECRET_KEY");
if (!SECRET_KEY) {
  console.error("MCP_SECRET_KEY environment variable not set: export a secret of at least 32 bytes, e.g.");
  console.error('  export MCP_SECRET_KEY="$(openssl rand -base64 32)"');
  Deno.exit(1);
}
// #endregion load-secret

// #region strict
try {
  // Refuse secrets shorter than 32 bytes instead of only warning about them
  checkSecretStrength(SECRET_KEY, "MCP_SECRET_KEY", { strictSecrets: true });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message); // names the rule, never the secret
  Deno.exit(1);
}
await using proxy = new FederationProxy(SECRET_KEY, { strictSecrets: true });
// #endregion strict
console.log(`Secret: MCP_SECRET_KEY (${new TextEncoder().encode(SECRET_KEY).byteLength} bytes, not shown)`);

await using members = await startMembers(flags, SECRET_KEY, ["server-1"]);
const { serverId, endpoints } = members.list[0]!;
await proxy.registerServer({ serverId, endpoints, auth: { type: "jwt", config: { expiresIn: "1h" } } });
console.log(`${serverId} registered with a token signed by the secret from MCP_SECRET_KEY`);
