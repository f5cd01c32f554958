/**
 * Graceful shutdown (usage guide, "Connection Management"): on SIGINT or SIGTERM, every member is removed (calls
 * in flight finish first), then the proxy closes and the process exits 0. While it runs, it calls a tool on each
 * member twice a second.
 *
 * ```sh
 * deno run -A examples/graceful_shutdown.ts                    # Ctrl-C to stop
 * deno run -A examples/graceful_shutdown.ts --exit-after 1500  # sends itself SIGTERM after 1.5 s
 * ```
 *
 * @module
 */

import { FederationProxy } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, explain, startMembers } from "./_support.ts";

const flags = exampleFlags({
  summary: "Works until SIGINT/SIGTERM, then removes every member and exits cleanly.",
  strings: ["exit-after"],
  usage: "[--exit-after MS]",
});
const SECRET_KEY = exampleSecret(flags);
await using members = await startMembers(flags, SECRET_KEY, ["server-1", "server-2"]);
await using proxy = new FederationProxy(SECRET_KEY);
for (const { serverId, endpoints } of members.list) await proxy.registerServer({ serverId, endpoints });

let calls = 0;
const work = setInterval(() => {
  for (const serverId of proxy.getConnectedServers()) {
    proxy.callTool(serverId, "time").then(() => calls++, (error) => console.error(explain(error)));
  }
}, 500);

const stopped = Promise.withResolvers<void>();
// #region shutdown
// Handle process termination
async function shutdown(signal: Deno.Signal) {
  console.log(`Received ${signal}, shutting down`);
  Deno.removeSignalListener("SIGINT", onSigint);
  Deno.removeSignalListener("SIGTERM", onSigterm);
  clearInterval(work);
  const servers = proxy.getConnectedServers();

  for (const serverId of servers) {
    try {
      await proxy.removeServer(serverId); // in-flight calls finish first (drainTimeout, 5 s by default)
      console.log(`${serverId} disconnected successfully`);
    } catch (error) {
      console.error(`Failed to disconnect ${serverId}:`, error);
    }
  }
  await proxy.close(); // anything left (members that were reconnecting)
  stopped.resolve();
}

// Handle termination signals
const onSigint = () => void shutdown("SIGINT");
const onSigterm = () => void shutdown("SIGTERM");
Deno.addSignalListener("SIGINT", onSigint);
Deno.addSignalListener("SIGTERM", onSigterm);
// #endregion shutdown

const exitAfter = flags.number("exit-after", -1);
if (exitAfter >= 0) {
  setTimeout(() => Deno.kill(Deno.pid, "SIGTERM"), exitAfter);
  console.log(`Running; SIGTERM in ${exitAfter}ms`);
} else {
  console.log("Running; press Ctrl-C to stop");
}
await stopped.promise;
console.log(`Shutdown complete after ${calls} successful calls`);
