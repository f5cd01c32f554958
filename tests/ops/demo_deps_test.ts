// `deno task demo` fetches what the demo needs only (issue 17 §6): it runs on its own lockfile, which pins no test
// or benchmark package (Deno installs every package a lockfile pins on a first run).
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const TEST_ONLY =
  /fast-check|mcp-hub|server-everything|server-filesystem|server-memory|conformance|inspector|supergateway/;

Deno.test("deno task demo runs on examples/deno.lock, which pins none of the test or benchmark packages", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assert.match(config.tasks.demo, /--lock=examples\/deno\.lock examples\/demo\.ts$/);
  const demo = await Deno.readTextFile(new URL("examples/demo.ts", ROOT));
  assert.match(
    demo,
    /--lock=\$\{new URL\("\.\/deno\.lock", import\.meta\.url\)\.pathname\}/,
    "the members it spawns too",
  );
  const lock = JSON.parse(await Deno.readTextFile(new URL("examples/deno.lock", ROOT)));
  const pinned = [...Object.keys(lock.specifiers ?? {}), ...Object.keys(lock.npm ?? {})];
  assert.ok(pinned.length > 0);
  assert.deepEqual(pinned.filter((name) => TEST_ONLY.test(name)), []);
  // The project's lockfile does pin them: the reason for a separate one.
  const root = JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT)));
  assert.ok(Object.keys(root.specifiers ?? {}).some((name) => TEST_ONLY.test(name)));
});

Deno.test("the demo's module graph resolves from examples/deno.lock alone (--frozen)", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--frozen", "--lock=examples/deno.lock", "examples/demo.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const graph = JSON.parse(new TextDecoder().decode(output.stdout)) as { npmPackages?: Record<string, unknown> };
  const packages = Object.keys(graph.npmPackages ?? {});
  assert.ok(packages.some((name) => name.startsWith("jose@")), packages.join());
  assert.deepEqual(packages.filter((name) => TEST_ONLY.test(name)), []);
});
