/**
 * The demo MCP server of the examples: tools `echo`, `add` and `time`, the resource `info://server` and the
 * prompt `greet`. Shared by `member_server.ts`, other examples and the tests.
 *
 * @example
 * ```ts
 * import { createDemoServer } from "./_demo_server.ts";
 *
 * const server = createDemoServer("server-1");
 * await server.close();
 * ```
 * @module
 */

import { z } from "zod";
import { McpServer } from "../packages/core/_sdk.ts";

/** The schemas, built once: a 2026-07-28 request gets a server of its own, and these need not be built again. */
const SCHEMAS = {
  echo: z.object({ text: z.string().describe("Text to echo") }),
  add: z.object({ a: z.number().describe("First addend"), b: z.number().describe("Second addend") }),
  sum: z.object({ sum: z.number() }),
  greet: z.object({ name: z.string().describe("Who to greet") }),
};

/**
 * Builds a new demo server (one per session).
 *
 * @param serverId Named in the server's `info://server` resource and its implementation name.
 * @returns The server, not yet connected.
 * @example
 * ```ts
 * import { createDemoServer } from "./_demo_server.ts";
 *
 * console.log(createDemoServer("server-1").isConnected()); // false
 * ```
 */
export function createDemoServer(serverId: string): McpServer {
  const server = new McpServer({ name: `demo-${serverId}`, version: "1.0.0" });
  server.registerTool("echo", {
    title: "Echo",
    description: "Returns the text it is given",
    inputSchema: SCHEMAS.echo,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  }, ({ text }) => ({ content: [{ type: "text", text }] }));
  server.registerTool("add", {
    title: "Add",
    description: "Adds two numbers",
    inputSchema: SCHEMAS.add,
    outputSchema: SCHEMAS.sum,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  }, ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }], structuredContent: { sum: a + b } }));
  server.registerTool("time", {
    title: "Current time",
    description: "Returns the server's current time as an ISO 8601 string",
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, () => ({ content: [{ type: "text", text: new Date().toISOString() }] }));
  server.registerResource("server-info", "info://server", {
    title: "Server info",
    description: "Which member this is",
    mimeType: "text/plain",
  }, (uri) => ({ contents: [{ uri: uri.href, mimeType: "text/plain", text: `serverId: ${serverId}` }] }));
  server.registerPrompt("greet", {
    title: "Greet",
    description: "Asks for a friendly greeting",
    argsSchema: SCHEMAS.greet,
  }, ({ name }) => ({
    messages: [{ role: "user", content: { type: "text", text: `Write a short, friendly greeting for ${name}.` } }],
  }));
  return server;
}
