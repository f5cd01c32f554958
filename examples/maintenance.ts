/**
 * Regular maintenance (usage guide, "Maintenance"): a health check that reports real results (each channel's state,
 * a ping with a deadline, reconnection attempts), removal of the members that failed it, and a final cleanup of
 * every connection. One of three members is stopped first, so the check has something to find.
 *
 * ```sh
 * deno run -A examples/maintenance.ts
 * ```
 *
 * @module
 */

import { type Channel, consoleLogger, FederationError, FederationProxy } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, startMembers, waitForState } from "./_support.ts";

const flags = exampleFlags({ summary: "Health check, removal of unhealthy members, and cleanup." });
const SECRET_KEY = exampleSecret(flags);
await using members = await startMembers(flags, SECRET_KEY, ["server-1", "server-2", "server-3"]);
await using proxy = new FederationProxy(SECRET_KEY, { logger: consoleLogger("error") });
for (const { serverId, endpoints } of members.list) await proxy.registerServer({ serverId, endpoints });

const server3 = members.get("server-3");
if (server3.local) {
  await server3.stop();
  await waitForState(proxy, "server-3", ["degraded", "reconnecting"]);
  console.log("(server-3 stopped)");
}

// #region health-check
type Health = { healthy: boolean; detail: string };

async function performHealthCheck(): Promise<Map<string, Health>> {
  const results = new Map<string, Health>();

  // Every registered member, connected or not
  for (const status of proxy.getStatus()) {
    const problems: string[] = [];
    const latencies: string[] = [];
    for (const channel of ["control", "data"] as Channel[]) {
      const info = status.channels[channel];
      if (!info) continue;
      if (info.state !== "up") {
        problems.push(`${channel} ${info.state} after ${info.reconnectAttempts} reconnection attempt(s)`);
        continue;
      }
      try {
        latencies.push(`${channel} ${(await proxy.ping(status.serverId, { channel, timeout: 2_000 })).toFixed(1)}ms`);
      } catch (error) {
        problems.push(`${channel} ping failed: ${error instanceof FederationError ? error.code : error}`);
      }
    }
    results.set(status.serverId, {
      healthy: problems.length === 0,
      detail: problems.length === 0 ? `ping ${latencies.join(", ")}` : problems.join("; "),
    });
  }

  return results;
}
// #endregion health-check

// #region cleanup
async function cleanupConnections() {
  const servers = proxy.getStatus().map((s) => s.serverId); // connected or not
  for (const serverId of servers) {
    await proxy.removeServer(serverId); // lets in-flight calls finish, then closes both channels
  }
}
// #endregion cleanup

function report(results: Map<string, Health>): number {
  for (const [serverId, { healthy, detail }] of results) {
    console.log(`  ${serverId}: ${healthy ? "healthy" : "UNHEALTHY"} (${detail})`);
  }
  return [...results.values()].filter((r) => !r.healthy).length;
}

console.log("Health check:");
const first = await performHealthCheck();
const unhealthy = report(first);

// #region remove-unhealthy
for (const [serverId, { healthy }] of first) {
  if (!healthy && await proxy.removeServer(serverId)) console.log(`Removed unhealthy member ${serverId}`);
}
// #endregion remove-unhealthy

console.log("Health check after removal:");
const second = report(await performHealthCheck());

await cleanupConnections();
console.log(`Cleanup: ${proxy.getStatus().length} members registered, ${proxy.getConnectedServers().length} connected`);
const expectedUnhealthy = server3.local ? 1 : 0;
if (unhealthy !== expectedUnhealthy || second !== 0 || proxy.getStatus().length !== 0) Deno.exit(1);
