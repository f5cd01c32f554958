/**
 * The official MCP conformance suite through the gateway CLI, once per protocol revision the gateway serves
 * (`--requirements 2026-07-28` and `2025-11-25`), in front of the project's fixture member
 * (tests/fixtures/conformance_member.ts). Every scenario must pass but those listed in _conformance.ts with the
 * reason (the fixture does not implement them, or the suite does not score them).
 *
 * @module
 */
import { SECRET } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { serveConformanceMember } from "../fixtures/conformance_member.ts";
import { assertConformance, startGatewayCli } from "./_conformance.ts";

for (const revision of ["2026-07-28", "2025-11-25"]) {
  Deno.test(`The official MCP conformance suite (--requirements ${revision}) passes through the gateway CLI`, async () => {
    await using member = await serveConformanceMember("conformance", SECRET, quiet);
    await using gateway = await startGatewayCli([{
      serverId: "conformance",
      endpoints: { control: member.controlUrl!, data: member.dataUrl! },
      auth: { type: "jwt", config: {} },
    }]);
    await assertConformance(gateway.url, revision);
  });
}
