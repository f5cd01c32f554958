/**
 * Your own MCP server as a member: build it with the MCP TypeScript SDK as usual, and serve it with `serveMember`
 * on a WebSocket control endpoint and a Streamable HTTP data endpoint, both checking the federation's tokens. Then
 * a proxy registers it and calls its tool.
 *
 * ```sh
 * deno run -A examples/custom_member.ts
 * ```
 *
 * @module
 */

// #region imports
import { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { serveMember } from "@federated-mcp/federation/member";
// #endregion imports
import { FederationProxy } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret } from "./_support.ts";

const flags = exampleFlags({
  summary: "Serves a small MCP server of its own as a member, registers it and calls its tool.",
  runningMembers: false,
});
const SECRET_KEY = exampleSecret(flags);

// #region serve
// A new MCP server per session (2025-11-25) or per request (2026-07-28), built with the SDK as usual. Schemas are
// built once, outside: building them again for every request would cost more than most requests.
const CITY = z.object({ city: z.string() });

function createServer(): McpServer {
  const server = new McpServer({ name: "weather", version: "1.0.0" });
  server.registerTool("forecast", {
    description: "Tomorrow's weather for a city",
    inputSchema: CITY,
    annotations: { readOnlyHint: true },
  }, ({ city }) => ({ content: [{ type: "text", text: `Sunny in ${city}, 21°C` }] }));
  return server;
}

await using member = await serveMember({
  serverId: "weather",
  server: createServer,
  verifier: SECRET_KEY, // tokens must be signed with this secret and addressed to "weather"
  control: { port: 0 }, // 0: any free port
  data: { port: 0 },
});
console.log(`Member weather: control ${member.controlUrl}, data ${member.dataUrl}, health ${member.healthUrl}`);
// #endregion serve

await using proxy = new FederationProxy(SECRET_KEY);
await proxy.registerServer({
  serverId: "weather",
  endpoints: { control: member.controlUrl, data: member.dataUrl },
});
const result = await proxy.callTool("weather", "forecast", { city: "Lisbon" });
console.log("weather forecast:", result.content[0]?.type === "text" ? result.content[0].text : result);
