import assert from "node:assert/strict";
import { Pathnames } from "./_request_path.ts";

Deno.test("Pathnames routes as URL parsing does, remembered or not, and stays bounded under a flood of URLs", () => {
  const pathnames = new Pathnames();
  const cases: [string, string | undefined][] = [
    ["http://127.0.0.1:8080/mcp", "/mcp"],
    ["http://127.0.0.1:8080/a/../mcp?x=1", "/mcp"],
    ["http://127.0.0.1:8080/mcp?token=secret#frag", "/mcp"],
    ["http://127.0.0.1:8080?a/mcp", "/"],
    ["http://127.0.0.1:8080/%6Dcp", "/%6Dcp"],
    ["http://127.0.0.1:8080/a b", "/a%20b"],
    ["http://bad host/mcp", undefined],
  ];
  for (let round = 0; round < 2; round++) {
    for (const [url, pathname] of cases) assert.equal(pathnames.of({ url }), pathname, url);
  }
  for (let i = 0; i < 1000; i++) assert.equal(pathnames.of({ url: `http://h/${i}?q=${i}` }), `/${i}`);
  assert.ok(pathnames.size <= 64, String(pathnames.size));
  assert.equal(pathnames.of({ url: `http://h/${"x".repeat(600)}` }), `/${"x".repeat(600)}`);
  // After the flood, the clients' URLs route as before.
  for (const [url, pathname] of cases) assert.equal(pathnames.of({ url }), pathname, url);
  assert.ok(pathnames.size <= 64);
});
