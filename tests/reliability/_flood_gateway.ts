// A gateway process for the slow-reader test: a proxy with one member (`--control URL`) served by serveGateway on a
// free loopback port, auth off. It prints `url <gateway url>`, then answers each stdin line `measure` with one line
// `memory <json>`: Deno.memoryUsage() after a full garbage collection (run with --v8-flags=--expose-gc), so that
// what the gateway retains is told apart from garbage not yet collected.
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { SECRET } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";

const control = Deno.args[Deno.args.indexOf("--control") + 1]!;
const proxy = new FederationProxy(SECRET, { logger: quiet });
await proxy.registerServer({ serverId: "flood", endpoints: { control } });
const gateway = await serveGateway(proxy, { auth: false, port: 0, logger: quiet });
console.log(`url ${gateway.url}`);
const gc = (globalThis as { gc?: () => void }).gc;
for await (const line of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  if (!line.includes("measure")) continue;
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc?.();
  console.log(`memory ${JSON.stringify(Deno.memoryUsage())}`);
}
await gateway.close();
await proxy.close();
