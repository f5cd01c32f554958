/**
 * Connection monitoring (usage guide, "Connection Management"): a periodic report of active connections, and every
 * state change as it happens from the `status()` event stream. One member is stopped and restarted so that the
 * events show `degraded`/`reconnecting` and then `connected` again.
 *
 * ```sh
 * deno run -A examples/connection_monitoring.ts --interval 1000
 * ```
 *
 * @module
 */

import { consoleLogger, FederationError, FederationProxy } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, sleep, startMembers, statusTable, waitForState } from "./_support.ts";

const flags = exampleFlags({
  summary: "Reports connections periodically and prints every state change; restarts one member meanwhile.",
  strings: ["interval"],
  usage: "[--interval 1000]",
});
const SECRET_KEY = exampleSecret(flags);
await using members = await startMembers(flags, SECRET_KEY, ["server-1", "server-2"]);
await using proxy = new FederationProxy(SECRET_KEY, {
  heartbeatInterval: 500, // notice a stopped member within a second (default 15 s)
  backoff: { initialDelay: 100, maxDelay: 1_000 },
  logger: consoleLogger("error"), // the event stream below reports the rest
});

// #region events
// Every state change, in order, with the channel and the cause
const events = new AbortController();
const printing = (async () => {
  for await (const event of proxy.status({ signal: events.signal })) {
    const cause = event.cause instanceof FederationError ? ` (${event.cause.code})` : "";
    console.log(`event: ${event.serverId} ${event.type}${event.channel ? ` [${event.channel}]` : ""}${cause}`);
  }
})();
// #endregion events

for (const { serverId, endpoints } of members.list) await proxy.registerServer({ serverId, endpoints });

// #region monitor
function monitorConnections() {
  const servers = proxy.getConnectedServers();

  console.log(`Active connections: ${servers.length}`);
  console.log("Connected servers:", servers);

  // Additional monitoring: state, channels and latency of every registered member
  console.log(statusTable(proxy.getStatus()));
}

// Monitor connections periodically (the guide uses 30 s)
const timer = setInterval(monitorConnections, flags.number("interval", 1_000));
// #endregion monitor

// The event printer runs on its own; a short pause lets it catch up before each report.
await sleep(20);
monitorConnections();
const server2 = members.get("server-2");
if (server2.local) {
  console.log("-- stopping server-2");
  await server2.stop();
  await waitForState(proxy, "server-2", ["reconnecting"]);
  await sleep(20);
  monitorConnections();
  console.log("-- restarting server-2 on the same ports");
  await server2.start();
  await waitForState(proxy, "server-2", ["connected"]);
  await sleep(20);
  monitorConnections();
}
clearInterval(timer);
events.abort();
await printing;
