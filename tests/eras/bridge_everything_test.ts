/**
 * `server-everything@2026.8.31` (a 2025-11-25 server) behind the gateway, called by a 2026-07-28 client: its
 * elicitation and sampling tools ask during the call, and the client answers through `input_required` rounds.
 *
 * @module
 */
import assert from "node:assert/strict";
import { textOf } from "../_support/catalog_members.ts";
import { Federation } from "../interop/_support.ts";
import { registerEverything, startEverything } from "../_support/everything.ts";
import { callTool, roundOf } from "./bridge_support.ts";

Deno.test("server-everything's elicitation and sampling tools reach a 2026-07-28 client as input_required rounds", async () => {
  const everything = startEverything();
  await using _server = everything.process;
  await using federation = await Federation.start({ proxy: { connectTimeout: 2_000 } });
  const status = await registerEverything(federation.proxy, everything.url);
  assert.equal(status.era, "legacy");
  const url = federation.gateway.url;

  const elicit = roundOf(await callTool(url, "everything__trigger-elicitation-request"));
  const [eKey, eRequest] = Object.entries(elicit.inputRequests)[0]!;
  assert.equal(eRequest.method, "elicitation/create");
  assert.ok(eRequest.params.requestedSchema, "the member's form schema reaches the client");
  const elicited = await callTool(url, "everything__trigger-elicitation-request", {
    requestState: elicit.requestState,
    inputResponses: { [eKey]: { action: "accept", content: { name: "Ada Lovelace" } } },
  });
  assert.match(JSON.stringify(elicited.result), /Ada Lovelace/);

  const sample = roundOf(
    await callTool(url, "everything__trigger-sampling-request", { arguments: { prompt: "Hi?", maxTokens: 20 } }),
  );
  const [sKey, sRequest] = Object.entries(sample.inputRequests)[0]!;
  assert.equal(sRequest.method, "sampling/createMessage");
  const sampled = await callTool(url, "everything__trigger-sampling-request", {
    arguments: { prompt: "Hi?", maxTokens: 20 },
    requestState: sample.requestState,
    inputResponses: {
      [sKey]: { role: "assistant", content: { type: "text", text: "Hello from the client" }, model: "m" },
    },
  });
  assert.match(textOf(sampled.result), /Hello from the client/);
});
