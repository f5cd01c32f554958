/**
 * Calls per second through 1, 2 and 3 gateway replicas sharing one Redis: a member in its own process, the
 * replicas in theirs (the CLI with `--store`), and `--clients` SDK clients in this process, each with one session
 * whose requests rotate over the replicas. Prints one line per replica count and a JSON summary.
 *
 * ```sh
 * deno task bench:scaleout                      # 16 clients, 5 s per measurement
 * deno run -A tests/scaleout/bench_replicas.ts --clients 32 --seconds 10
 * ```
 *
 * All processes share this machine's cores: the numbers say what one machine does, not how far replicas on
 * separate machines would scale.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath as fromFileUrl } from "node:url";
import { Client, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { gatewayToken } from "../_support/catalog_members.ts";
import { SECRET } from "../_support/members.ts";
import {
  admin,
  eventually,
  redisAvailable,
  RedisServer,
  Replica,
  roundRobinFetch,
  writeReplicaConfig,
} from "./_support.ts";
import { freePort } from "../_support/ports.ts";

const MEMBER = fromFileUrl(new URL("../../examples/member_server.ts", import.meta.url));

const { values } = parseArgs({
  args: Deno.args,
  options: {
    clients: { type: "string", default: "16" },
    seconds: { type: "string", default: "5" },
    replicas: { type: "string", default: "1,2,3" },
  },
});
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const COUNTS = values.replicas.split(",").map(Number);

if (!redisAvailable()) Deno.exit(0);

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function measure(replicas: Replica[]): Promise<{ callsPerSecond: number; p50: number; p99: number }> {
  const clients: Client[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const { fetch } = roundRobinFetch(() => replicas);
      const client = new Client({ name: `bench-${i}`, version: "1.0.0" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(replicas[i % replicas.length]!.url), {
          fetch,
          requestInit: { headers: { authorization: `Bearer ${await gatewayToken()}` } },
        }),
      );
      clients.push(client);
    }
    // Warm-up: every replica rebuilds every session and lists the catalog once.
    await Promise.all(clients.map(async (client) => {
      for (let i = 0; i < replicas.length * 3; i++) {
        await client.callTool({ name: "bench__echo", arguments: { text: "w" } });
      }
    }));
    const latencies: number[] = [];
    const deadline = performance.now() + SECONDS * 1_000;
    const started = performance.now();
    await Promise.all(clients.map(async (client) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await client.callTool({ name: "bench__echo", arguments: { text: "x" } });
        latencies.push(performance.now() - t0);
      }
    }));
    const elapsed = (performance.now() - started) / 1_000;
    latencies.sort((a, b) => a - b);
    return {
      callsPerSecond: Math.round(latencies.length / elapsed),
      p50: Number(percentile(latencies, 0.5).toFixed(2)),
      p99: Number(percentile(latencies, 0.99).toFixed(2)),
    };
  } finally {
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
  }
}

await using redis = await RedisServer.start();
const controlPort = freePort();
const dataPort = freePort();
const member = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    "--quiet",
    MEMBER,
    "--server-id",
    "bench",
    "--control-port",
    String(controlPort),
    "--data-port",
    String(dataPort),
  ],
  env: { RUST_BACKTRACE: "0", MCP_SECRET_KEY: SECRET },
  stdout: "null",
  stderr: "null",
}).spawn();
const dir = await Deno.makeTempDir();
const results: { replicas: number; callsPerSecond: number; p50: number; p99: number }[] = [];
try {
  await eventually(
    async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: dataPort });
      conn.close();
      return true;
    },
    30_000,
    "the member",
  );
  const config = await writeReplicaConfig(dir, redis.url);
  for (const count of COUNTS) {
    const replicas: Replica[] = [];
    try {
      for (let i = 0; i < count; i++) replicas.push(await Replica.start(`r${i + 1}`, config, redis.url));
      if (results.length === 0) {
        const registration = {
          serverId: "bench",
          endpoints: { control: `ws://127.0.0.1:${controlPort}`, data: `http://127.0.0.1:${dataPort}/mcp` },
          auth: { type: "jwt", config: { secretEnv: "MCP_MEMBER_SECRET" } },
        };
        const created = await admin(replicas[0]!, "POST", "members", registration);
        if (created.status !== 201) throw new Error(`Cannot register the member: ${JSON.stringify(created.body)}`);
      }
      for (const replica of replicas) {
        await eventually(
          async () => {
            const ready = await fetch(`${replica.base}/readyz`);
            const body = await ready.json();
            return body.members?.usable === 1 ? true : undefined;
          },
          10_000,
          `${replica.name} to connect the member`,
        );
      }
      const result = { replicas: count, ...await measure(replicas) };
      results.push(result);
      console.log(
        `${count} replica(s): ${result.callsPerSecond} calls/s  p50 ${result.p50} ms  p99 ${result.p99} ms  ` +
          `(${CLIENTS} clients, ${SECONDS} s)`,
      );
    } finally {
      await Promise.all(replicas.map((replica) => replica.kill()));
    }
  }
  console.log(JSON.stringify({ cores: navigator.hardwareConcurrency, clients: CLIENTS, seconds: SECONDS, results }));
} finally {
  member.kill("SIGKILL");
  await member.status;
  await Deno.remove(dir, { recursive: true });
}
