/**
 * CPU per call, per process: a member process, a gateway process and SDK clients (in this process) making `--calls`
 * echo calls with `--inflight` in flight through the gateway (or straight to the member with `--direct`). Prints
 * calls/s and, for each process, the CPU ms it spent per call (user + system, from `/proc`, Linux only). With
 * `--prof DIR` the gateway and the member write V8 CPU profiles there, sampled every 100 µs (summarize them with
 * `profile_summary.ts`).
 *
 * ```sh
 * deno run -A tests/bench/cpu_per_call.ts --era 2026 --channels data --calls 3000 --inflight 50
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Channel } from "../../packages/core/errors.ts";
import type { Client } from "../../packages/core/_sdk.ts";
import { bearer, closeClient, ECHO_TEXT, httpClient, modernClient } from "./_clients.ts";
import { memberArgs, type MemberProcessInfo } from "./bench_member.ts";
import { ChildProcess } from "./_process.ts";

/** CPU time of a process so far, in ms (Linux `/proc/<pid>/stat`: utime + stime). */
export function cpuMs(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat (1-based), i.e. 11 and 12 after the command name and state.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      era: { type: "string", default: "2025" },
      channels: { type: "string", default: "control,data" },
      routing: { type: "string", default: "auto" },
      calls: { type: "string", default: "2000" },
      inflight: { type: "string", default: "50" },
      direct: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      prof: { type: "string" },
    },
  });
  const flags = (name: string) =>
    values.prof ? ["--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${values.prof}/${name}`] : [];
  const memberScript = new URL("./bench_member.ts", import.meta.url);
  const members = await ChildProcess.denoReady<MemberProcessInfo>(
    memberScript,
    memberArgs({ echo: true, jsonResponse: values.json }),
    30_000,
    flags("member"),
  );
  const member = members.ready.members[0]!;
  let gateway: ChildProcess | undefined;
  let client: Client;
  const modern = values.era === "2026";
  let tool = "echo";
  if (values.direct) {
    const authorization = await bearer(member.serverId);
    client = modern ? await modernClient(member.data, authorization) : await httpClient(member.data, authorization);
  } else {
    const started = await ChildProcess.denoReady<{ url: string }>(
      new URL("./bench_gateway.ts", import.meta.url),
      [
        "--members",
        JSON.stringify([member]),
        "--channels",
        (values.channels.split(",") as Channel[]).join(","),
        "--routing",
        values.routing,
      ],
      30_000,
      flags("gateway"),
    );
    gateway = started.child;
    client = modern ? await modernClient(started.ready.url) : await httpClient(started.ready.url);
    tool = `${member.serverId}__echo`;
  }
  const calls = Number(values.calls);
  const inflight = Number(values.inflight);
  const call = () => client.callTool({ name: tool, arguments: { text: ECHO_TEXT } });
  for (let i = 0; i < 200; i++) await call();
  const pids = { member: members.child.pid, gateway: gateway?.pid };
  const before = { client: cpuMs("self"), member: cpuMs(pids.member), gateway: pids.gateway ? cpuMs(pids.gateway) : 0 };
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next++ < calls) await call();
  }));
  const wall = performance.now() - started;
  const per = (after: number, was: number) => ((after - was) / calls).toFixed(3);
  console.log(JSON.stringify({
    era: values.era,
    channels: values.channels,
    direct: values.direct,
    callsPerSecond: Math.round(calls / wall * 1000),
    cpuMsPerCall: {
      client: per(cpuMs("self"), before.client),
      member: per(cpuMs(pids.member), before.member),
      gateway: pids.gateway ? per(cpuMs(pids.gateway), before.gateway) : "—",
    },
  }));
  await closeClient(client);
  if (gateway) await gateway.kill("SIGTERM");
  await members.child.kill("SIGTERM");
}

if (import.meta.main) await main();
