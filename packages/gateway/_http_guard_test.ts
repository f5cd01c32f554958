import assert from "node:assert/strict";
import { isBareAuthority } from "./_http_guard.ts";

Deno.test("isBareAuthority() accepts host[:port] with a name, IPv4 or bracketed IPv6, and nothing else", () => {
  for (const host of ["localhost", "127.0.0.1:8080", "[::1]:8080", "[::1]", "gw.example.com", "a-b.c:1"]) {
    assert.equal(isBareAuthority(host), true, host);
  }
  for (
    const host of [
      "",
      "127.0.0.1:8080/admin/members#",
      "127.0.0.1:8080?x",
      "user@127.0.0.1",
      "127.0.0.1:8080 /admin",
      "127.0.0.1:8080\\admin",
      "::1",
      "[::1",
      "127.0.0.1:",
      "127.0.0.1:123456",
      "-leading.example",
      "%2e%2e",
    ]
  ) {
    assert.equal(isBareAuthority(host), false, host);
  }
});
