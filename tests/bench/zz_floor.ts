import { bearer } from "./_clients.ts";
import { WebSocketTransport } from "../../packages/core/websocket_transport.ts";
import { Client } from "../../packages/core/_sdk.ts";
import type { MemberProcessInfo } from "./bench_member.ts";
const info = JSON.parse(await Deno.readTextFile("/tmp/m.json")) as MemberProcessInfo;
const gc = (globalThis as { gc?: () => void }).gc!;
const members = info.members.slice(10);
const auths = await Promise.all(members.map((m) => bearer(m.serverId)));
const mode = Deno.args[0];
async function one(m: typeof members[0], i: number) {
  if (mode === "ws") return await WebSocketTransport.connect(m.control, { headers: { Authorization: auths[i]! } });
  if (mode === "sdkws" || mode === "sdkwslegacy") {
    const c = new Client({ name: "x", version: "1" }, mode === "sdkws" ? { versionNegotiation: { mode: "auto" } } : {});
    await c.connect(await WebSocketTransport.connect(m.control, { headers: { Authorization: auths[i]! } }));
    return c;
  }
  if (mode === "client") return new Client({ name: "x", version: "1" }, { versionNegotiation: { mode: "auto" } });
}
const held: unknown[] = [];
for (let i = 0; i < 10; i++) held.push(await one(info.members[i]!, 0).catch(() => undefined));
gc(); await new Promise((r) => setTimeout(r, 50)); gc();
const before = Deno.memoryUsage();
const t0 = performance.now();
held.push(...await Promise.all(members.map((m, i) => one(m, i))));
const wall = performance.now() - t0;
gc(); await new Promise((r) => setTimeout(r, 50)); gc();
const after = Deno.memoryUsage();
const n = members.length;
console.log(mode, "wall", wall.toFixed(0), "rss KiB", ((after.rss - before.rss) / 1024 / n).toFixed(1), "heapUsed", ((after.heapUsed - before.heapUsed) / 1024 / n).toFixed(1), "heapTotal", ((after.heapTotal - before.heapTotal) / 1024 / n).toFixed(1));
Deno.exit(0);
