import assert from "node:assert/strict";
import { requestPathname } from "./_request_path.ts";

Deno.test("requestPathname routes as URL parsing does, remembered or not, and past a flood of distinct URLs", () => {
  const cases: [string, string | undefined][] = [
    ["http://127.0.0.1:8080/mcp", "/mcp"],
    ["http://127.0.0.1:8080/a/../mcp?x=1", "/mcp"],
    ["http://127.0.0.1:8080/%6Dcp", "/%6Dcp"],
    ["http://127.0.0.1:8080/a b", "/a%20b"],
    ["http://bad host/mcp", undefined],
  ];
  for (let round = 0; round < 2; round++) {
    for (const [url, pathname] of cases) assert.equal(requestPathname({ url }), pathname, url);
  }
  for (let i = 0; i < 1000; i++) assert.equal(requestPathname({ url: `http://h/${i}` }), `/${i}`);
  assert.equal(requestPathname({ url: `http://h/${"x".repeat(600)}` }), `/${"x".repeat(600)}`);
  for (const [url, pathname] of cases) assert.equal(requestPathname({ url }), pathname, url);
});
