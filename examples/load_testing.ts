/**
 * Load testing (usage guide, "Testing" 2): start N members (default 100) in this process, register them all at
 * once, and report the time and the number of successes; then call a tool on every member and remove them all.
 *
 * ```sh
 * deno run -A examples/load_testing.ts --count 100
 * ```
 *
 * @module
 */

import { consoleLogger, type FederationConfig, FederationProxy } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, explain, LocalMember, MemberSet } from "./_support.ts";

const flags = exampleFlags({
  summary: "Registers N members concurrently and reports time and successes.",
  strings: ["count"],
  usage: "[--count 100]",
  runningMembers: false,
});
const count = Math.floor(flags.number("count", 100));
const SECRET_KEY = exampleSecret(flags);

let started = performance.now();
const quiet = { logger: consoleLogger("error") };
await using members = new MemberSet(
  await Promise.all(
    Array.from({ length: count }, (_, i) => LocalMember.start(`test-server-${i}`, SECRET_KEY, { extra: quiet })),
  ),
);
console.log(`Started ${count} members (${2 * count} listeners) in ${Math.round(performance.now() - started)}ms`);
await using proxy = new FederationProxy(SECRET_KEY, quiet);

// #region load-test
async function loadTest(numConnections: number) {
  const results = [];

  for (let i = 0; i < numConnections; i++) {
    const config: FederationConfig = {
      serverId: `test-server-${i}`,
      endpoints: members.get(`test-server-${i}`).endpoints, // ws://localhost:${3000 + i}, http://localhost:${4000 + i}
      auth: {
        type: "jwt",
        config: { secret: SECRET_KEY },
      },
    };

    results.push(proxy.registerServer(config));
  }

  return await Promise.allSettled(results);
}
// #endregion load-test

started = performance.now();
const results = await loadTest(count);
const elapsed = performance.now() - started;
const ok = results.filter((r) => r.status === "fulfilled").length;
console.log(`Registered ${ok}/${count} members in ${Math.round(elapsed)}ms (${(elapsed / count).toFixed(1)}ms each)`);
for (const failure of results.filter((r) => r.status === "rejected").slice(0, 5)) {
  console.error(`  ${explain(failure.reason)}`);
}

started = performance.now();
const calls = await Promise.allSettled(
  proxy.getConnectedServers().map((id) => proxy.callTool(id, "add", { a: 1, b: 2 })),
);
const answered = calls.filter((c) => c.status === "fulfilled").length;
console.log(`Called add on ${answered}/${count} members in ${Math.round(performance.now() - started)}ms`);

started = performance.now();
await Promise.all(proxy.getStatus().map(({ serverId }) => proxy.removeServer(serverId)));
console.log(`Removed all members in ${Math.round(performance.now() - started)}ms`);
if (ok < count || answered < count) Deno.exit(1);
