/**
 * Basic setup (usage guide, "Basic Setup"): create a `FederationProxy`, configure one member and register it, then
 * call one of its tools through the federation.
 *
 * ```sh
 * deno run -A examples/basic_setup.ts
 * # or against a member you started yourself (deno run -A examples/member_server.ts):
 * MCP_SECRET_KEY=… deno run -A examples/basic_setup.ts --control ws://localhost:3000 --data http://localhost:3001
 * ```
 *
 * @module
 */

// #region imports
import { type FederationConfig, FederationProxy } from "@federated-mcp/federation";
// #endregion imports
import { exampleFlags, exampleSecret, startMembers } from "./_support.ts";

const flags = exampleFlags({ summary: "Registers one member with a FederationProxy and calls its echo tool." });
const SECRET_KEY = exampleSecret(flags);
await using members = await startMembers(flags, SECRET_KEY, ["server-1"]);
const member = members.list[0]!;

// #region create-proxy
await using proxy = new FederationProxy(SECRET_KEY);
// #endregion create-proxy

// #region configure
const serverConfig: FederationConfig = {
  serverId: member.serverId, // "server-1"
  endpoints: {
    control: member.endpoints.control, // "ws://localhost:3000" for examples/member_server.ts
    data: member.endpoints.data, // "http://localhost:3001"
  },
  auth: {
    type: "jwt",
    config: { secret: SECRET_KEY },
  },
};
// #endregion configure

// #region register
try {
  await proxy.registerServer(serverConfig);
  console.log("Server registered successfully");
} catch (error) {
  console.error("Registration failed:", error);
  Deno.exit(1);
}
// #endregion register

// #region call
const result = await proxy.callTool(serverConfig.serverId, "echo", { text: "hello, federation" });
console.log(`${serverConfig.serverId} echo:`, result.content[0]?.type === "text" ? result.content[0].text : result);
// #endregion call
console.log("Connected servers:", proxy.getConnectedServers());
