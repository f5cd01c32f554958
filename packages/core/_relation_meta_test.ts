import assert from "node:assert/strict";
import { RELATED_REQUEST_META_KEY } from "./websocket_transport.ts";
import { takeRelation } from "./_relation_meta.ts";

const KEY = RELATED_REQUEST_META_KEY;

Deno.test("takeRelation splits the relation off params and keeps the rest of _meta", () => {
  assert.deepEqual(takeRelation({ a: 1, _meta: { [KEY]: 4, b: 2 } }), {
    named: true,
    related: 4,
    params: { a: 1, _meta: { b: 2 } },
  });
  assert.deepEqual(takeRelation({ a: 1, _meta: { [KEY]: "x" } }), { named: true, related: "x", params: { a: 1 } });
  assert.deepEqual(takeRelation({ a: 1 }), { named: false, related: undefined, params: { a: 1 } });
  assert.deepEqual(takeRelation(undefined), { named: false, related: undefined, params: undefined });
});
