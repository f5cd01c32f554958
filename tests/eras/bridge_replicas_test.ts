/**
 * Bridged exchanges across replicas without a shared store: two gateways (two proxies, one client-token secret, so
 * each opens what the other sealed) in front of the same 2025-11-25 member. The replica holding the parked call
 * finishes it; the other refuses the retry with a JSON-RPC error naming the holder.
 *
 * @module
 */
import assert from "node:assert/strict";
import { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import { GATEWAY_SECRET, SECRET } from "../_support/members.ts";
import { quiet, textOf } from "../_support/catalog_members.ts";
import { startAskingMember } from "../_support/asking_member.ts";
import { callTool, roundOf } from "./bridge_support.ts";

Deno.test("Without a store, a retry at another replica gets -32000 exchange_unreachable naming the holder; the holder finishes it", async () => {
  await using member = await startAskingMember("old");
  const replicas = await Promise.all([0, 1].map(async () => {
    const proxy = new FederationProxy(SECRET, { logger: quiet });
    await proxy.registerServer(member.config);
    const gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
    return { proxy, gateway };
  }));
  try {
    const [holder, other] = replicas as [typeof replicas[0], typeof replicas[0]];
    const round = roundOf(await callTool(holder.gateway.url, "old__ask_name"));
    const [key] = Object.keys(round.inputRequests);
    const answer = { [key!]: { action: "accept", content: { value: "Ada" } } };
    const elsewhere = await callTool(other.gateway.url, "old__ask_name", {
      requestState: round.requestState,
      inputResponses: answer,
    });
    const error = elsewhere.error as { code: number; message: string; data: { reason: string; replica: string } };
    assert.equal(error.code, -32000, JSON.stringify(elsewhere));
    assert.equal(error.data.reason, "exchange_unreachable");
    assert.match(error.message, /held by gateway replica '[^']+'.*without a shared store/);
    // The holder still has it: the same retry there completes the call.
    const done = await callTool(holder.gateway.url, "old__ask_name", {
      requestState: round.requestState,
      inputResponses: answer,
    });
    assert.equal(textOf(done.result), "Hello Ada");
  } finally {
    for (const { proxy, gateway } of replicas) {
      await gateway.close();
      await proxy.close();
    }
  }
});
