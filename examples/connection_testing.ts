/**
 * Connection testing (usage guide, "Testing" 1): register a member, check that it is connected, remove it. Run
 * against each member, and against two that must fail (nothing listening; a member with another secret).
 *
 * ```sh
 * deno run -A examples/connection_testing.ts
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import { type FederationConfig, FederationProxy } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, explain, freePort, LocalMember, startMembers } from "./_support.ts";

const flags = exampleFlags({ summary: "Tests the connection to each member, and two connections that must fail." });
const SECRET_KEY = exampleSecret(flags);
await using members = await startMembers(flags, SECRET_KEY, ["server-1", "server-2"]);
await using stranger = await LocalMember.start("stranger", "another-secret-that-the-proxy-does-not-know!");
await using proxy = new FederationProxy(SECRET_KEY);

// #region test-connection
async function testConnection(config: FederationConfig): Promise<boolean> {
  try {
    await proxy.registerServer(config);
    const servers = proxy.getConnectedServers();
    assert(servers.includes(config.serverId), "Server not connected");
    await proxy.removeServer(config.serverId);
    assert(!proxy.getConnectedServers().includes(config.serverId), "Server still connected after removal");
    return true;
  } catch (error) {
    console.error(`Connection test of ${config.serverId} failed: ${explain(error)}`);
    await proxy.removeServer(config.serverId); // in case an assertion failed after registering
    return false;
  }
}
// #endregion test-connection

const nowhere = { control: `ws://127.0.0.1:${freePort()}/`, data: `http://127.0.0.1:${freePort()}/` };
const cases: [config: FederationConfig, shouldPass: boolean][] = [
  ...members.list.map(({ serverId, endpoints }): [FederationConfig, boolean] => [{ serverId, endpoints }, true]),
  [{ serverId: "nowhere", endpoints: nowhere }, false],
  [{ serverId: "stranger", endpoints: stranger.endpoints }, false],
];
let unexpected = 0;
for (const [config, shouldPass] of cases) {
  const passed = await testConnection(config);
  const expectation = passed === shouldPass ? "as expected" : "UNEXPECTED";
  console.log(`${config.serverId}: connection test ${passed ? "passed" : "failed"}, ${expectation}`);
  if (passed !== shouldPass) unexpected++;
}
if (unexpected > 0) Deno.exit(1);
