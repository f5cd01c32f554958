// Internal: the one shape of every JSON response our HTTP surfaces send (member, gateway, admin API, probes).
// Non-MCP routes answer errors as `{ "error": { "code", "message", … } }`; MCP endpoints answer JSON-RPC errors
// without an id, as the SDK's Streamable HTTP transport does. And the one test of an answer still being written.

/** A JSON response that no cache keeps. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/** The error body of every non-MCP route: a stable `code`, a readable `message`, and optional details. */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  options: { details?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Response {
  return jsonResponse(status, { error: { code, message, ...options.details } }, options.headers);
}

/** A JSON-RPC error response without an id (what MCP endpoints answer before a request is parsed). */
export function rpcErrorResponse(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return jsonResponse(status, { jsonrpc: "2.0", error: { code, message }, id: null }, headers);
}

/**
 * Whether `response` is an SSE stream still being written. The content type is read first: reading `body` makes a
 * stream of a complete body, which Deno then writes through its streaming path instead of at once.
 */
export function isEventStream(response: Response): response is Response & { body: ReadableStream<Uint8Array> } {
  return (response.headers.get("content-type") ?? "").startsWith("text/event-stream") && response.body !== null;
}
