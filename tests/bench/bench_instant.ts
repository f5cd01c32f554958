/**
 * The least an HTTP hop can cost: a process answering MCP 2025-11-25 over Streamable HTTP at once, with no MCP
 * server and no member behind it (`initialize` with a session id, notifications with 202, a `tools/call` with its
 * `text` argument echoed, anything else with an empty result), each as one plain JSON answer. A gateway in its place
 * would still have its own work and a member's to add; the benchmarks set it beside the gateways as their floor.
 * Writes one JSON line, `{ "url": … }`, when ready, and runs until killed.
 *
 * ```sh
 * deno run -A tests/bench/bench_instant.ts
 * ```
 *
 * @module
 */

const SESSION = "instant-session";

function answer(message: { id?: unknown; method?: unknown; params?: { arguments?: { text?: unknown } } }): unknown {
  switch (message.method) {
    case "initialize":
      return {
        protocolVersion: "2025-11-25",
        capabilities: { tools: {} },
        serverInfo: { name: "instant", version: "1.0.0" },
      };
    case "tools/list":
      return { tools: [{ name: "echo", inputSchema: { type: "object", properties: { text: { type: "string" } } } }] };
    case "tools/call":
      return { content: [{ type: "text", text: String(message.params?.arguments?.text ?? "") }] };
    default:
      return {};
  }
}

if (import.meta.main) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    if (request.method !== "POST") return new Response(null, { status: 405 });
    const message = await request.json();
    if (message.id === undefined) return new Response(null, { status: 202 });
    return new Response(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: answer(message) }), {
      headers: { "content-type": "application/json", "mcp-session-id": SESSION },
    });
  });
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.addr.port}/mcp` }));
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}
