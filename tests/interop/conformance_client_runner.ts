/**
 * The conformance suite's client under test, with `FederationProxy` as the client: the suite runs
 * `deno run -A tests/interop/conformance_client_runner.ts <server-url>` with `MCP_CONFORMANCE_SCENARIO` (and, for
 * some scenarios, `MCP_CONFORMANCE_CONTEXT`) set. The runner registers the suite's server as a data-only member
 * (no authentication) and does what the scenario asks through the proxy's API.
 *
 * Some of the suite's mock servers answer neither `server/discover` nor a usable `initialize` (they only serve the
 * methods their scenario checks). For those, as the SDK's own conformance client does, the runner puts a loopback
 * relay in front of the mock that answers `server/discover` itself and passes every other request on unchanged
 * (headers and body as sent by the proxy), so the checks still see the proxy's own requests.
 *
 * @module
 */

import { FederationProxy } from "../../mod.ts";

const SERVER_ID = "conformance";

/** Scenarios whose mock server cannot be discovered (the relay answers `server/discover`). */
const DISCOVER_RELAY = new Set([
  "http-standard-headers",
  "http-custom-headers",
  "http-invalid-tool-headers",
  "sep-2322-client-request-state",
]);

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A loopback relay to `target` that answers `server/discover` with a 2026-07-28 result itself. */
function discoverRelay(target: string): { url: string; close: () => Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const body = request.method === "POST" ? await request.text() : undefined;
    if (body !== undefined) {
      try {
        const message = JSON.parse(body) as { method?: unknown; id?: unknown };
        if (message.method === "server/discover") {
          return Response.json({
            jsonrpc: "2.0",
            id: message.id,
            result: {
              supportedVersions: ["2026-07-28"],
              capabilities: { tools: { listChanged: true }, resources: {}, prompts: {} },
              _meta: { "io.modelcontextprotocol/serverInfo": { name: "conformance-mock", version: "1.0.0" } },
            },
          });
        }
      } catch { /* not JSON-RPC: passed on */ }
    }
    const headers = new Headers(request.headers);
    headers.delete("host");
    const answer = await fetch(target, {
      method: request.method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: request.signal,
    });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  });
  return { url: `http://127.0.0.1:${server.addr.port}${new URL(target).pathname}`, close: () => server.shutdown() };
}

/** The tool calls a scenario's context asks for. */
function contextToolCalls(): { name: string; arguments: Record<string, unknown> }[] {
  const raw = Deno.env.get("MCP_CONFORMANCE_CONTEXT");
  if (!raw) return [];
  const parsed = JSON.parse(raw) as { toolCalls?: { name: string; arguments: Record<string, unknown> }[] };
  return parsed.toolCalls ?? [];
}

async function run(scenario: string, serverUrl: string): Promise<void> {
  const relay = DISCOVER_RELAY.has(scenario) ? discoverRelay(serverUrl) : undefined;
  const proxy = new FederationProxy(crypto.randomUUID(), {
    logger: quiet,
    connectTimeout: 10_000,
    // The 2026-07-28 requirements: negotiate modern first, as the specification's versioning rules describe.
    eraPreference: "modern",
    heartbeatInterval: 60_000,
  });
  try {
    await proxy.registerServer({
      serverId: SERVER_ID,
      endpoints: { data: relay?.url ?? serverUrl },
      auth: { type: "none" },
    });
    switch (scenario) {
      case "request-metadata":
        // Registration is the scenario: the era probe with its envelope and version header (and the retry with a
        // supported version when the first is refused).
        break;
      case "tools_call": {
        const tools = await proxy.listTools(SERVER_ID);
        if (tools.some((tool) => tool.name === "add_numbers")) {
          await proxy.callTool(SERVER_ID, "add_numbers", { a: 5, b: 3 });
        }
        break;
      }
      case "json-schema-ref-no-deref":
        await proxy.listTools(SERVER_ID);
        break;
      case "http-standard-headers": {
        const [tool] = await proxy.listTools(SERVER_ID);
        if (tool) await proxy.callTool(SERVER_ID, tool.name, {});
        const [resource] = await proxy.listResources(SERVER_ID);
        if (resource) await proxy.readResource(SERVER_ID, resource.uri);
        const [prompt] = await proxy.listPrompts(SERVER_ID);
        if (prompt) await proxy.getPrompt(SERVER_ID, prompt.name, {});
        break;
      }
      case "http-custom-headers":
        await proxy.listTools(SERVER_ID);
        for (const call of contextToolCalls()) await proxy.callTool(SERVER_ID, call.name, call.arguments);
        break;
      case "http-invalid-tool-headers": {
        // The tools whose headers break the rules are left out of the list; only the valid ones are called.
        for (const tool of await proxy.listTools(SERVER_ID)) {
          await proxy.callTool(SERVER_ID, tool.name, { region: "us-west1" }).catch(() => {});
        }
        break;
      }
      case "sep-2322-client-request-state": {
        const onrequest = () => Promise.resolve({ action: "accept", content: { confirmed: true } });
        await proxy.callTool(SERVER_ID, "test_mrtr_echo_state", {}, { onrequest });
        await proxy.callTool(SERVER_ID, "test_mrtr_no_state", {}, { onrequest });
        await proxy.callTool(SERVER_ID, "test_mrtr_unrelated", {}, { onrequest });
        // A result without resultType: it must not be retried (an error here is fine).
        await proxy.callTool(SERVER_ID, "test_mrtr_no_result_type", {}, { onrequest }).catch(() => {});
        break;
      }
      default:
        throw new Error(`Unknown scenario: ${scenario}`);
    }
  } finally {
    await proxy.close();
    await relay?.close();
  }
}

if (import.meta.main) {
  const scenario = Deno.env.get("MCP_CONFORMANCE_SCENARIO");
  const serverUrl = Deno.args.at(-1);
  if (!scenario || !serverUrl) {
    console.error("Usage: MCP_CONFORMANCE_SCENARIO=<scenario> conformance_client_runner.ts <server-url>");
    Deno.exit(2);
  }
  try {
    await run(scenario, serverUrl);
    Deno.exit(0);
  } catch (error) {
    console.error(error);
    Deno.exit(1);
  }
}
