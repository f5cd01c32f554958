import assert from "node:assert/strict";
import { z } from "zod";
import { CancelledError, FederationProxy } from "../../mod.ts";
import { sleep } from "../../packages/core/_sleep.ts";
import { SECRET } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { startModernMember } from "../fixtures/modern_member.ts";

Deno.test("FederationProxy cancels a 2026-07-28 member's call by closing its response stream: the handler aborts", async () => {
  let aborted = 0;
  let running = 0;
  await using member = await startModernMember({
    serverId: "m",
    secret: SECRET,
    configure: (server) => {
      server.registerTool("wait", { inputSchema: z.object({}) }, async (_args, ctx) => {
        running++;
        ctx.mcpReq.signal.addEventListener("abort", () => aborted++);
        await sleep(30_000, ctx.mcpReq.signal);
        return { content: [{ type: "text", text: "done" }] };
      });
    },
  });
  await using proxy = new FederationProxy(SECRET, { logger: quiet, heartbeatInterval: 60_000 });
  await proxy.registerServer({ serverId: "m", endpoints: { data: member.url }, auth: { type: "jwt", config: {} } });
  const controller = new AbortController();
  const call = proxy.callTool("m", "wait", {}, { signal: controller.signal });
  const settled = call.then(() => undefined, (error: unknown) => error);
  const deadline = performance.now() + 5_000;
  while (running === 0 && performance.now() < deadline) await sleep(10);
  assert.equal(running, 1, "the call reached the member");
  controller.abort();
  const error = await settled;
  assert.ok(error instanceof CancelledError, String(error));
  while ((aborted === 0 || member.openStreams() > 0) && performance.now() < deadline + 5_000) await sleep(10);
  assert.equal(aborted, 1, "the member's handler saw the cancellation");
  assert.equal(member.openStreams(), 0, "no response stream is left open");
  // The member stays usable.
  assert.equal(proxy.getServerStatus("m")?.state, "connected");
});
