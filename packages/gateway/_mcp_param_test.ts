import assert from "node:assert/strict";
import { decodeHeaderValue, paramHeaderMismatch, paramHeaders } from "./_mcp_param.ts";

const schema = {
  type: "object",
  properties: {
    region: { type: "string", "x-mcp-header": "Region" },
    count: { type: "integer", "x-mcp-header": "Count" },
    dry: { type: "boolean", "x-mcp-header": "Dry" },
    nested: { type: "object", properties: { tenant: { type: "string", "x-mcp-header": "Tenant" } } },
    list: { type: "array", items: { type: "object", properties: { no: { type: "string", "x-mcp-header": "No" } } } },
    query: { type: "string" },
  },
};

Deno.test("paramHeaders() finds declarations reachable through properties chains only", () => {
  assert.deepEqual(paramHeaders(schema), [
    { name: "Region", path: ["region"] },
    { name: "Count", path: ["count"] },
    { name: "Dry", path: ["dry"] },
    { name: "Tenant", path: ["nested", "tenant"] },
  ]);
  assert.deepEqual(paramHeaders(undefined), []);
});

Deno.test("decodeHeaderValue() decodes the base64 sentinel and refuses invalid characters", () => {
  assert.equal(decodeHeaderValue("us-west1"), "us-west1");
  assert.equal(decodeHeaderValue("=?base64?SGVsbG8sIOS4lueVjA==?="), "Hello, 世界");
  assert.equal(decodeHeaderValue("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="), "=?base64?literal?=");
  assert.equal(decodeHeaderValue("=?base64?!!!?="), undefined);
  assert.equal(decodeHeaderValue("caf\u00e9"), undefined);
});

Deno.test("paramHeaderMismatch() accepts headers that match the body", () => {
  const headers = new Headers({
    "mcp-param-region": "us-west1",
    "Mcp-Param-Count": "42.0",
    "mcp-param-dry": "true",
    "mcp-param-tenant": "=?base64?IGFjbWUg?=",
  });
  const args = { region: "us-west1", count: 42, dry: true, nested: { tenant: " acme " }, query: "x" };
  assert.equal(paramHeaderMismatch(headers, schema, args), undefined);
  // No value in the body, no header expected.
  assert.equal(paramHeaderMismatch(new Headers(), schema, { query: "x", region: null }), undefined);
});

Deno.test("paramHeaderMismatch() reports a differing, missing, superfluous or invalid header", () => {
  const args = { region: "us-west1" };
  assert.match(paramHeaderMismatch(new Headers({ "mcp-param-region": "eu" }), schema, args)!, /Mcp-Param-Region/);
  assert.match(paramHeaderMismatch(new Headers(), schema, args)!, /missing/);
  assert.match(paramHeaderMismatch(new Headers({ "mcp-param-count": "1" }), schema, {})!, /no value/);
  assert.match(paramHeaderMismatch(new Headers({ "mcp-param-region": "=?base64?***?=" }), schema, args)!, /invalid/);
  assert.match(paramHeaderMismatch(new Headers({ "mcp-param-count": "" }), schema, { count: 0 })!, /Count/);
  assert.match(paramHeaderMismatch(new Headers({ "mcp-param-dry": "TRUE" }), schema, { dry: true })!, /Dry/);
});

Deno.test("A declared header name that is not an HTTP token is ignored, so the tool stays callable", () => {
  const odd = { type: "object", properties: { a: { type: "string", "x-mcp-header": "a b" }, b: { type: "string" } } };
  assert.deepEqual(paramHeaders(odd), []);
  assert.equal(paramHeaderMismatch(new Headers(), odd, { a: "x" }), undefined);
});
