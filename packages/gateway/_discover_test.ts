import assert from "node:assert/strict";
import type { ServerCapabilities } from "../core/_sdk.ts";
import { type DiscoverSource, gatewayCapabilities, mergedCapabilities, mergedInstructions } from "./_discover.ts";

function source(members: Record<string, { instructions?: string; capabilities?: unknown }>): DiscoverSource {
  return {
    getConnectedServers: () => Object.keys(members),
    getServerInstructions: (id) => members[id]?.instructions,
    getServerCapabilities: (id) => members[id]?.capabilities as ServerCapabilities | undefined,
  };
}

Deno.test("mergedCapabilities() adds members' flags to the gateway's groups and nothing else", () => {
  const merged = mergedCapabilities(source({
    a: { capabilities: { tools: { listChanged: false }, experimental: { x: {} }, tasks: { list: {} } } },
    b: { capabilities: { resources: { subscribe: true, templates: true }, extensions: { "io.example/x": {} } } },
    c: {},
  })) as Record<string, unknown>;
  assert.deepEqual(merged, {
    ...gatewayCapabilities(),
    resources: { listChanged: true, subscribe: true, templates: true },
  });
  assert.equal(merged.experimental, undefined);
  assert.equal(merged.tasks, undefined);
  assert.equal(merged.extensions, undefined);
});

Deno.test("mergedInstructions() puts the gateway's first, then each member's under its server id", () => {
  const members = source({
    zeta: { instructions: "Use zeta for z." },
    alpha: { instructions: " Alpha first. " },
    m: {},
  });
  assert.equal(
    mergedInstructions("The federation.", members),
    "The federation.\n\n## alpha\n\nAlpha first.\n\n## zeta\n\nUse zeta for z.",
  );
  assert.equal(mergedInstructions(undefined, source({ m: {} })), undefined);
  assert.equal(mergedInstructions(undefined, source({ a: { instructions: "A" } })), "## a\n\nA");
});
