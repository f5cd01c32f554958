import assert from "node:assert/strict";
import { redactUrl, redactUrls } from "./_redact.ts";

Deno.test("redactUrl() hides every query value, the userinfo password and the fragment, and keeps the rest", () => {
  const cases: [string, string][] = [
    ["http://127.0.0.1:3001/mcp?api-key=SECRET&sig=SECRET", "http://127.0.0.1:3001/mcp?api-key=***&sig=***"],
    [
      "https://bucket.example/mcp?X-Amz-Signature=SECRET&X-Amz-Credential=SECRET&flag",
      "https://bucket.example/mcp?X-Amz-Signature=***&X-Amz-Credential=***&flag",
    ],
    ["wss://m.example/?signature=SECRET&client_secret=SECRET", "wss://m.example/?signature=***&client_secret=***"],
    ["redis://user:SECRET@127.0.0.1:6379/0", "redis://user:***@127.0.0.1:6379/0"],
    ["redis://:SECRET@127.0.0.1:6379", "redis://:***@127.0.0.1:6379"],
    ["http://m.example/mcp#SECRET", "http://m.example/mcp#***"],
    ["http://m.example/mcp?a=%53ECRET&b=x=SECRET", "http://m.example/mcp?a=***&b=***"],
    ["ws://127.0.0.1:3000/", "ws://127.0.0.1:3000/"],
  ];
  for (const [url, shown] of cases) {
    assert.equal(redactUrl(url), shown, url);
    assert.equal(redactUrl(new URL(url)), shown, url);
    assert.ok(!redactUrl(url).includes("SECRET"), url);
  }
  assert.equal(redactUrl("not a url SECRET"), "(invalid URL)");
});

Deno.test("redactUrls() redacts every URL inside a message, as fetch errors carry them", () => {
  const message = "error sending request for url (http://127.0.0.1:1/mcp?api-key=SECRET&sig=SECRET): connect error; " +
    "also ws://user:SECRET@h:1/?t=SECRET.";
  assert.equal(
    redactUrls(message),
    "error sending request for url (http://127.0.0.1:1/mcp?api-key=***&sig=***): connect error; " +
      "also ws://user:***@h:1/?t=***.",
  );
  assert.equal(redactUrls("no URL here"), "no URL here");
});
