/**
 * An MCP client of the gateway (what Claude Desktop, the MCP Inspector or any SDK client does): connects to the
 * gateway over Streamable HTTP with a bearer token, lists the federation's tools (`serverId__tool`) and calls one.
 * Start a gateway first, e.g. with `deno task demo --gateway`, which prints the URL and a token.
 *
 * ```sh
 * GATEWAY_TOKEN=… deno run -A examples/gateway_client.ts --url http://127.0.0.1:8080/mcp
 * ```
 *
 * @module
 */

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { exampleFlags } from "./_support.ts";

const flags = exampleFlags({
  summary: "Lists the federated tools of a gateway and calls one (the token comes from GATEWAY_TOKEN).",
  strings: ["url", "tool"],
  usage: "[--url http://127.0.0.1:8080/mcp] [--tool server-1__echo]",
  runningMembers: false,
});
const url = flags.string("url") ?? "http://127.0.0.1:8080/mcp";
const token = Deno.env.get("GATEWAY_TOKEN");
if (!token) {
  console.error("GATEWAY_TOKEN is not set: export the token the gateway's operator gave you");
  Deno.exit(1);
}

// #region client
const client = new Client({ name: "gateway-client-example", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
try {
  await client.connect(transport);
} catch (error) {
  console.error(`Cannot connect to the gateway at ${url}: ${error instanceof Error ? error.message : error}`);
  Deno.exit(1);
}
const { tools } = await client.listTools();
console.log(`Connected to ${client.getServerVersion()?.name}: ${tools.length} tools`);
console.log(tools.map((tool) => `  ${tool.name}`).join("\n"));

const name = flags.string("tool") ?? tools.find((tool) => tool.name.endsWith("__echo"))?.name ?? "server-1__echo";
const result = await client.callTool({ name, arguments: { text: "hello through the gateway" } });
console.log(`${name} ->`, JSON.stringify(result.content));
// End the session on the gateway (HTTP DELETE) before closing: it frees the session at once, and ends the stream
// the gateway keeps open for server-initiated messages
await transport.terminateSession();
await client.close();
// #endregion client
