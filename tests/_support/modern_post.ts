/**
 * One MCP 2026-07-28 request as a raw POST, for tests that speak the wire directly (task extension, input rounds):
 * the routing headers, the `_meta` envelope, and the answer read as JSON or as the last event of an SSE stream.
 *
 * @module
 */

/** The revision these requests speak. */
export const MODERN = "2026-07-28";

/** What a raw request declares. */
export interface ModernPostOptions {
  /** The envelope's client capabilities. @default {{}} */
  capabilities?: Record<string, unknown>;
  /** The `Mcp-Name` header. @default {params.name, else params.taskId} */
  name?: string;
  /** The envelope's client name. @default {"raw"} */
  clientName?: string;
}

/** POSTs one 2026-07-28 request; returns the JSON-RPC message of the answer. */
export async function modernPost(
  url: string,
  token: string,
  method: string,
  params: Record<string, unknown>,
  options: ModernPostOptions = {},
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    authorization: `Bearer ${token}`,
    "mcp-protocol-version": MODERN,
    "mcp-method": method,
  };
  const name = options.name ?? params.name ?? params.taskId;
  if (typeof name === "string") headers["mcp-name"] = name;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method,
      params: {
        ...params,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": MODERN,
          "io.modelcontextprotocol/clientCapabilities": options.capabilities ?? {},
          "io.modelcontextprotocol/clientInfo": { name: options.clientName ?? "raw", version: "1.0.0" },
        },
      },
    }),
  });
  const text = await response.text();
  const json = response.headers.get("content-type")?.includes("text/event-stream")
    ? text.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5)).at(-1)!
    : text;
  return JSON.parse(json) as Record<string, unknown>;
}
