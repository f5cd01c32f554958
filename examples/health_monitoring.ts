/**
 * Server health monitoring (usage guide, "Common Use Cases" 2), with real health: every interval, each member's
 * state, each channel's state and heartbeat latency (from `getServerStatus`) and a fresh `ping` per channel that is
 * up. Halfway through, one member is stopped and restarted, so the report shows it fail and recover.
 *
 * ```sh
 * deno run -A examples/health_monitoring.ts --interval 1000 --rounds 3
 * ```
 *
 * @module
 */

import { type Channel, consoleLogger, FederationError, FederationProxy } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, startMembers, waitForState } from "./_support.ts";

const flags = exampleFlags({
  summary: "Checks the health of two members every interval; stops and restarts one of them in between.",
  strings: ["interval", "rounds"],
  usage: "[--interval 1000] [--rounds 3]",
});
const interval = flags.number("interval", 1_000);
const rounds = flags.number("rounds", 3);
const SECRET_KEY = exampleSecret(flags);
await using members = await startMembers(flags, SECRET_KEY, ["server-1", "server-2"]);
// Heartbeats every second so that latency and failures show up quickly (the default is 15 s). This example reports
// failures itself, so the proxy's own log is limited to errors.
await using proxy = new FederationProxy(SECRET_KEY, {
  heartbeatInterval: 1_000,
  heartbeatTimeout: 1_000,
  logger: consoleLogger("error"),
});
for (const { serverId, endpoints } of members.list) await proxy.registerServer({ serverId, endpoints });

// #region check-health
// A member is healthy when every channel it offers is up and answers a ping now.
async function checkServerHealth(serverId: string): Promise<boolean> {
  const status = proxy.getServerStatus(serverId);
  if (!status) {
    console.log(`  ${serverId}: not registered`);
    return false;
  }
  let healthy = status.state === "connected";
  const report: string[] = [];
  for (const channel of ["control", "data"] as Channel[]) {
    const info = status.channels[channel];
    if (!info) continue;
    if (info.state !== "up") {
      healthy = false;
      report.push(`${channel} ${info.state} (${info.lastError?.code ?? "no error yet"})`);
      continue;
    }
    try {
      const ms = await proxy.ping(serverId, { channel, timeout: 2_000 });
      report.push(`${channel} up, heartbeat avg ${info.latencyMs?.toFixed(1)}ms, ping ${ms.toFixed(1)}ms`);
    } catch (error) {
      healthy = false;
      report.push(`${channel} ping failed (${error instanceof FederationError ? error.code : error})`);
    }
  }
  console.log(`  ${serverId}: ${healthy ? "healthy" : "UNHEALTHY"}, ${status.state}; ${report.join("; ")}`);
  return healthy;
}
// #endregion check-health

let round = 0;
let busy = false;
const done = Promise.withResolvers<void>();
// #region monitor
// Check every registered server periodically (the guide checks every minute; this example every second)
const timer = setInterval(async () => {
  if (busy) return; // a slow round is still running
  busy = true;
  round++;
  const connectedServers = proxy.getConnectedServers();
  console.log(`Round ${round}: connected servers:`, connectedServers);

  // Every registered member, so that the unhealthy ones are reported too
  for (const { serverId } of proxy.getStatus()) {
    await checkServerHealth(serverId);
  }
  await afterRound(round);
  busy = false;
}, interval);
// #endregion monitor

// Between rounds: stop server-2 after the first, bring it back after the second, stop after the last.
async function afterRound(n: number): Promise<void> {
  const member = members.get("server-2");
  if (n === 1 && member.local && rounds > 2) {
    await member.stop();
    await waitForState(proxy, "server-2", ["degraded", "reconnecting"]);
    console.log("(server-2 stopped)");
  } else if (n === 2 && member.local && rounds > 2) {
    await member.start();
    await waitForState(proxy, "server-2", ["connected"]);
    console.log("(server-2 restarted on the same ports)");
  }
  if (n >= rounds) {
    clearInterval(timer);
    done.resolve();
  }
}
await done.promise;
