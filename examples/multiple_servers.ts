/**
 * Managing multiple servers (usage guide, "Common Use Cases" 1): register several members in a loop, each with its
 * own JWT (audience = its serverId), then call a tool on each.
 *
 * ```sh
 * deno run -A examples/multiple_servers.ts
 * ```
 *
 * @module
 */

import { type FederationConfig, FederationProxy } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, startMembers } from "./_support.ts";

const flags = exampleFlags({ summary: "Registers two members in a loop and calls the add tool on each." });
const SECRET_KEY = exampleSecret(flags);
await using members = await startMembers(flags, SECRET_KEY, ["server-1", "server-2"]);
await using proxy = new FederationProxy(SECRET_KEY);

// #region register-many
// Register multiple servers: [{ serverId: "server-1", endpoints: { control, data } }, { serverId: "server-2", … }]
const servers = members.list.map(({ serverId, endpoints }) => ({ serverId, endpoints }));

let failures = 0;
for (const server of servers) {
  const config: FederationConfig = {
    ...server,
    auth: {
      type: "jwt",
      config: { secret: SECRET_KEY },
    },
  };

  try {
    await proxy.registerServer(config);
    console.log(`${server.serverId} registered successfully`);
  } catch (error) {
    failures++;
    console.error(`Failed to register ${server.serverId}:`, error);
  }
}
// #endregion register-many

const connected = proxy.getConnectedServers();
console.log("Connected servers:", connected);
for (const serverId of connected) {
  const result = await proxy.callTool(serverId, "add", { a: 2, b: 3 });
  console.log(`${serverId} add(2, 3) =`, (result.structuredContent as { sum?: number } | undefined)?.sum);
}

// #region catalog
// Every member's tools in one catalog, named <serverId>__<tool>
const tools = await proxy.catalog.listTools();
console.log("Federated tools:", tools.map((tool) => tool.name).join(", "));
const sum = await proxy.catalog.callTool(`${connected.at(-1)}__add`, { a: 40, b: 2 });
console.log(`${connected.at(-1)}__add(40, 2) =`, (sum.structuredContent as { sum?: number } | undefined)?.sum);
// #endregion catalog
if (failures > 0) Deno.exit(1);
