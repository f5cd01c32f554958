/**
 * A gateway process for the benchmarks: a {@link FederationProxy} that registers the members given in `--members`
 * (JSON, as a member process writes them) on the channels given in `--channels`, served by `serveGateway` on a
 * free loopback port without inbound authentication (loopback only). Writes one JSON line, `{ "url": … }`, when
 * ready, and runs until killed. Started by `startGateway` of `_clients.ts`.
 *
 * ```sh
 * deno run -A tests/bench/bench_gateway.ts --members '[{"serverId":"m-0000",…}]' --channels control,data
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Channel } from "../../packages/core/errors.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import type { EraPreference, RoutingPolicy } from "../../packages/proxy/options.ts";
import type { ServedMember } from "./bench_member.ts";
import { memberConfig, newProxy, QUIET } from "./_clients.ts";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      members: { type: "string" },
      channels: { type: "string", default: "control,data" },
      routing: { type: "string", default: "auto" },
      "era-preference": { type: "string", default: "modern" },
    },
  });
  const members = JSON.parse(values.members ?? "[]") as ServedMember[];
  const channels = values.channels.split(",") as Channel[];
  const proxy = newProxy({
    routing: values.routing as RoutingPolicy,
    eraPreference: values["era-preference"] as EraPreference,
  });
  await Promise.all(members.map((m) => proxy.registerServer(memberConfig(m, channels))));
  // Room for the sessions case (1,000 sessions and its warm-up one).
  const gateway = await serveGateway(proxy, { auth: false, port: 0, logger: QUIET, maxSessions: 5_000 });
  console.log(JSON.stringify({ url: gateway.url }));
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}

if (import.meta.main) await main();
