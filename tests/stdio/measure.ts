/**
 * Figures of stdio members (not a test: `deno run -A tests/stdio/measure.ts`): start-up time (spawn → registered),
 * resident memory per member (the whole process group's RSS, read from /proc), and what 200 register/remove cycles
 * leave behind (child processes, open descriptors).
 *
 * @module
 */
import { FederationProxy } from "../../packages/proxy/mod.ts";
import type { FederationConfig } from "../../packages/core/types.ts";
import { SECRET } from "../_support/members.ts";
import { fixtureConfig, groupMembers, newMarker, openFds, processesWith, rssKiB } from "./_support.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const runs = Number(Deno.args[0] ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(label: string, config: () => FederationConfig): Promise<void> {
  const times: number[] = [];
  const rss: number[] = [];
  const server: number[] = [];
  for (let i = 0; i < runs; i++) {
    const proxy = new FederationProxy(SECRET, { logger: quiet, connectTimeout: 120_000 });
    const started = performance.now();
    const status = await proxy.registerServer(config());
    times.push(performance.now() - started);
    await proxy.catalog.listTools();
    const pid = status.channels.stdio!.pid!;
    const each = groupMembers(pid).map(rssKiB);
    rss.push(each.reduce((sum, kib) => sum + kib, 0));
    server.push(Math.max(...each));
    await proxy.close();
  }
  console.log(
    `${label.padEnd(28)} start-up p50 ${median(times).toFixed(0).padStart(5)} ms (min ${
      Math.min(...times).toFixed(0)
    })` +
      `   RSS p50 ${(median(rss) / 1024).toFixed(1)} MiB (process group; largest process ${
        (median(server) / 1024).toFixed(1)
      } MiB)`,
  );
}

const dir = await Deno.makeTempDir();
const npx = (pkg: string, ...args: string[]) => (): FederationConfig => ({
  serverId: "m",
  endpoints: { stdio: { command: "npx", args: ["-y", `@modelcontextprotocol/${pkg}@2026.8.31`, ...args] } },
});
await measure("fixture stdio_tiny (deno)", () => fixtureConfig("m", newMarker("m"), "stdio_tiny"));
await measure("fixture stdio_member (SDK)", () => fixtureConfig("m", newMarker("m")));
await measure("server-everything (npx)", npx("server-everything", "stdio"));
await measure("server-filesystem (npx)", npx("server-filesystem", dir));
await measure("server-memory (npx)", () => ({
  ...npx("server-memory")(),
  endpoints: {
    stdio: { ...npx("server-memory")().endpoints.stdio!, env: { MEMORY_FILE_PATH: `${dir}/memory.jsonl` } },
  },
}));

const marker = newMarker("leak");
const fdsBefore = openFds();
const proxy = new FederationProxy(SECRET, { logger: quiet });
const started = performance.now();
for (let i = 0; i < 200; i++) {
  await proxy.registerServer(fixtureConfig("m", marker, "stdio_tiny"));
  await proxy.removeServer("m");
}
const cycleMs = (performance.now() - started) / 200;
const leftAfterCycles = processesWith(marker).length;
for (const id of ["a", "b", "c"]) await proxy.registerServer(fixtureConfig(id, marker, "stdio_tiny"));
await proxy.close();
console.log(
  `200 register/remove cycles (${cycleMs.toFixed(0)} ms each) + close of 3: children left ${leftAfterCycles} / ${
    processesWith(marker).length
  }, open fds before ${fdsBefore} after ${openFds()}`,
);
await Deno.remove(dir, { recursive: true });
