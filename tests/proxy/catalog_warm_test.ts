// A warm listing of the federated catalog does not go over the members (O(1) however many there are), and is not
// served stale: a member's list change, a member leaving, and a member joining each show in the next listing.
import assert from "node:assert/strict";
import { type CatalogSource, FederatedCatalog, FederationProxy } from "../../mod.ts";
import { SECRET, waitFor } from "../_support/members.ts";
import { quiet } from "../_support/catalog_members.ts";
import { startModernMember } from "../fixtures/modern_member.ts";

function config(serverId: string, member: { url: string; controlUrl: string | undefined }) {
  return {
    serverId,
    endpoints: { control: member.controlUrl!, data: member.url },
    auth: { type: "jwt" as const, config: {} },
  };
}

/** The proxy as a catalog source that counts how often the catalog asks which members are usable. */
function counted(proxy: FederationProxy): { source: CatalogSource; asked: () => number } {
  let asked = 0;
  const source = new Proxy(proxy, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      if (key === "getConnectedServers") {
        return () => {
          asked++;
          return target.getConnectedServers();
        };
      }
      return value.bind(target);
    },
  }) as unknown as CatalogSource;
  return { source, asked: () => asked };
}

Deno.test("FederatedCatalog.listTools() warm does not go over the members, and shows a change, a leave and a join", async () => {
  await using a = await startModernMember({ serverId: "a", secret: SECRET, control: true });
  await using b = await startModernMember({ serverId: "b", secret: SECRET, control: true });
  await using c = await startModernMember({ serverId: "c", secret: SECRET, control: true });
  await using proxy = new FederationProxy(SECRET, { logger: quiet, heartbeatInterval: 60_000 });
  await proxy.registerServer(config("a", a));
  await proxy.registerServer(config("b", b));
  const { source, asked } = counted(proxy);
  const catalog = new FederatedCatalog(source);
  let changed = 0;
  catalog.addEventListener("toolsChanged", () => changed++);

  const first = await catalog.listTools();
  const before = asked();
  for (let i = 0; i < 50; i++) assert.equal(await catalog.listTools(), first, "the same array, cached");
  assert.equal(asked(), before, "a warm listing asks nothing of the federation");

  a.addTool("fresh");
  await waitFor(() => changed > 0, 5_000, "toolsChanged after a's list change");
  assert.ok((await catalog.listTools()).some((t) => t.name === "a__fresh"));

  await proxy.removeServer("b");
  assert.ok(!(await catalog.listTools()).some((t) => t.name.startsWith("b__")));

  await proxy.registerServer(config("c", c));
  await waitFor(() => proxy.getConnectedServers().includes("c"), 5_000, "c connected");
  assert.ok((await catalog.listTools()).some((t) => t.name === "c__echo"));
});
