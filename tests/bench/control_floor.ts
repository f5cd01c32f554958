/**
 * Case 2: the control channel against its floor. MCP `ping` over our control channel (through the proxy, and
 * through a plain SDK client on our WebSocket transport) against a raw Deno WebSocket echo of a frame of the same
 * size, between the same two processes.
 *
 * @module
 */

import { closeClient, memberConfig, newProxy, sdkClient, startMembers } from "./_clients.ts";
import { type BenchCase, type BenchContext, type BenchRow, formatLatency, formatRatio } from "./_report.ts";
import { interleave, type Operation } from "./_stats.ts";

/** A ping request frame as the SDK sends it, so the echo moves as many bytes. */
const PING_FRAME = JSON.stringify({ method: "ping", jsonrpc: "2.0", id: 1000 });

/**
 * A raw WebSocket echo client: one frame out, one back (the floor of the control channel).
 *
 * @param url The echo endpoint.
 * @returns One round trip, and the close.
 */
export async function rawEcho(url: string): Promise<{ op: Operation; close(): void }> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let answer: (() => void) | undefined;
  socket.onmessage = () => answer?.();
  return {
    op: () =>
      new Promise<void>((resolve) => {
        answer = resolve;
        socket.send(PING_FRAME);
      }),
    close: () => socket.close(),
  };
}

async function run(context: BenchContext): Promise<BenchRow[]> {
  const counts = context.quick
    ? { rounds: 6, perRound: 100, warmup: 500 }
    : { rounds: 20, perRound: 500, warmup: 5_000 };
  await using members = await startMembers({ echo: true });
  const member = members.info.members[0]!;
  await using proxy = newProxy();
  await proxy.registerServer(memberConfig(member));
  const client = await sdkClient(member, "control");
  const echo = await rawEcho(members.info.echo!);
  try {
    context.log("control_floor: proxy.ping, SDK ping and raw echo, interleaved");
    const { summaries, ratios, ratiosP99 } = await interleave([
      () => proxy.ping(member.serverId, { channel: "control" }),
      () => client.ping(),
      echo.op,
    ], counts);
    const floor = summaries[2]!;
    const row = (measure: string, index: number): BenchRow => ({
      measure,
      ours: formatLatency(summaries[index]!),
      baseline: formatLatency(floor),
      throughput: "—",
      ratio: formatRatio(ratios[index]!),
      goal: "report",
      met: undefined,
      note: `raw echo of ${PING_FRAME.length} B; member in another process; p99 ratio ${
        formatRatio(ratiosP99[index]!)
      }`,
      data: { ours: summaries[index], floor, ratio: ratios[index], ratioP99: ratiosP99[index] },
    });
    return [
      row("proxy.ping (control) vs raw WebSocket echo", 0),
      row("SDK Client.ping on WebSocketTransport vs raw WebSocket echo", 1),
    ];
  } finally {
    echo.close();
    await closeClient(client);
  }
}

/** Case 2. */
export const controlFloor: BenchCase = { id: "control_floor", title: "2 Control channel vs the floor", run };
