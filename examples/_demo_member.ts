/**
 * Child-process entry of `demo.ts`: one demo member (tools `echo`, `add`, `time`) on the given ports. When it
 * listens it prints one JSON line, `{"control":"ws://…","data":"http://…"}`; SIGINT or SIGTERM stops it. The
 * shared secret comes from `MCP_SECRET_KEY`. To run a member yourself, use `member_server.ts`.
 *
 * @module
 */

import { consoleLogger } from "@federated-mcp/federation";
import { exampleFlags, LocalMember } from "./_support.ts";

const flags = exampleFlags({
  summary: "One member of the demo (started by demo.ts).",
  strings: ["server-id", "control-port", "data-port"],
  booleans: ["data-only"],
  usage: "--server-id ID [--control-port 0] [--data-port 0] [--data-only]",
  runningMembers: false,
});
const secret = Deno.env.get("MCP_SECRET_KEY");
if (!secret) {
  console.error("MCP_SECRET_KEY is not set");
  Deno.exit(1);
}
const member = await LocalMember.start(flags.string("server-id") ?? "server-1", secret, {
  dataOnly: flags.boolean("data-only"),
  ports: { control: flags.number("control-port", 0), data: flags.number("data-port", 0) },
  extra: { logger: consoleLogger("error") },
});
// Signals are handled before the endpoints line, which the demo reads as "ready".
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
console.log(JSON.stringify(member.endpoints));

function stop(): void {
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  // Exits once stopped, as member_server.ts does: what the runtime still holds after the member closed (seen: about
  // 15 s after a 2026-07-28 control connection served a list) must not hold the demo's shutdown.
  member.stop().then(() => Deno.exit(0), (error: unknown) => {
    console.error(`Member stop failed: ${error}`);
    Deno.exit(1);
  });
}
