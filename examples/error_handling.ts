/**
 * Comprehensive error handling (usage guide, "Error Handling"): every failure is a typed error. The guide's
 * `WebSocket.Error` check becomes `instanceof` on the library's classes, and `error.message.includes("timeout")`
 * becomes `instanceof TimeoutError` (or `switch (error.code)`). Each operation below fails in its own way on
 * purpose, and the handler names the class it caught.
 *
 * ```sh
 * deno run -A examples/error_handling.ts
 * ```
 *
 * @module
 */

import {
  AuthenticationError,
  ConfigError,
  ConnectionError,
  type FederationError,
  FederationProxy,
  ProtocolError,
  ServerNotFoundError,
  TimeoutError,
} from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, freePort, LocalMember } from "./_support.ts";

const flags = exampleFlags({ summary: "Triggers each kind of failure on purpose and handles it by its class." });
const SECRET_KEY = exampleSecret(flags);
await using member = await LocalMember.start("server-1", SECRET_KEY);
await using stranger = await LocalMember.start("server-2", "another-secret-that-the-proxy-does-not-know!");
// A listener that accepts TCP connections and never answers: connecting to it can only time out.
using blackHole = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const held: Deno.Conn[] = [];
(async () => {
  for await (const conn of blackHole) held.push(conn);
})().catch(() => {});
await using proxy = new FederationProxy(SECRET_KEY, { connectTimeout: 1_000, requestTimeout: 5_000 });
await proxy.registerServer({ serverId: "server-1", endpoints: member.endpoints });

// #region handle
async function handleServerOperation(operation: () => Promise<unknown>): Promise<string> {
  try {
    await operation();
    return "ok";
  } catch (error) {
    if (error instanceof ConnectionError) {
      console.error(`Connection error (${error.code}) on ${error.serverId}/${error.channel}:`, error.message);
      // Unreachable, refused or lost: retry later, or let the proxy reconnect
    } else if (error instanceof TimeoutError) {
      console.error(`Operation timed out after ${error.timeoutMs}ms:`, error.message);
      // Slow or frozen member: retry with a longer timeout, or alert
    } else if (error instanceof AuthenticationError) {
      console.error(`Authentication failed (${error.code}):`, error.message);
      // Wrong secret or key: fix the configuration, retrying will not help
    } else if (error instanceof ProtocolError) {
      console.error(`The member answered with JSON-RPC error ${error.rpcCode}:`, error.message);
    } else if (error instanceof ConfigError) {
      console.error(`Invalid configuration (field ${error.field}):`, error.message);
    } else if (error instanceof ServerNotFoundError) {
      console.error("No such server:", error.message);
    } else {
      console.error("Unknown error:", error);
      throw error;
    }
    return (error as FederationError).name;
  }
}
// #endregion handle

const cases: [expected: string, what: string, operation: () => Promise<unknown>][] = [
  ["ok", "call a tool", () => proxy.callTool("server-1", "echo", { text: "hi" })],
  ["ConnectionError", "register a member where nothing listens", () =>
    proxy.registerServer({
      serverId: "nowhere",
      endpoints: { control: `ws://127.0.0.1:${freePort()}/`, data: `http://127.0.0.1:${freePort()}/` },
    })],
  [
    "AuthenticationError",
    "register a member that has another secret",
    () => proxy.registerServer({ serverId: "server-2", endpoints: stranger.endpoints }),
  ],
  ["TimeoutError", "register a member that never answers", () =>
    proxy.registerServer({
      serverId: "frozen",
      endpoints: {
        control: `ws://127.0.0.1:${blackHole.addr.port}/`,
        data: `http://127.0.0.1:${blackHole.addr.port}/`,
      },
    })],
  [
    "ProtocolError",
    "read a resource the member does not have",
    () => proxy.readResource("server-1", "info://no-such-resource"),
  ],
  [
    "ConfigError",
    "register an invalid serverId",
    () => proxy.registerServer({ serverId: "not valid!", endpoints: member.endpoints }),
  ],
  ["ServerNotFoundError", "call a server that is not registered", () => proxy.callTool("server-9", "echo", {})],
];

let mismatches = 0;
for (const [expected, what, operation] of cases) {
  const outcome = await handleServerOperation(operation);
  console.log(`${what}: ${outcome}${outcome === expected ? "" : ` (expected ${expected})`}`);
  if (outcome !== expected) mismatches++;
}
for (const conn of held) conn.close();
console.log(mismatches === 0 ? "Every failure was caught by its class" : `${mismatches} unexpected outcome(s)`);
if (mismatches > 0) Deno.exit(1);
