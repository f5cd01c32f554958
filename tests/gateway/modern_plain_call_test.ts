// A 2026-07-28 `tools/call` that needs no stream is answered without the SDK's per-request server
// (packages/gateway/_modern_plain_call.ts). Each request below is sent twice: as it is (that path) and with its
// `Mcp-Name` header in the Base64 form the SDK decodes to the same name (which that path leaves to the SDK). Both
// answers must be the same: status, content type and JSON (a sealed `requestState` differs by its random IV only).
// `/metrics` counts which way each went.
import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { serveGateway } from "../../packages/gateway/mod.ts";
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
} from "../../packages/core/_sdk.ts";
import { quiet, startDynamicMember } from "../_support/catalog_members.ts";
import { SECRET, TestMember } from "../_support/members.ts";
import { startAskingMember } from "../_support/asking_member.ts";
import { plainCalls } from "../_support/raw_session.ts";

const REVISION = "2026-07-28";

interface Answer {
  status: number;
  type: string | null;
  body: unknown;
}

/** A 2026-07-28 `tools/call` body. */
function callBody(
  id: number,
  name: string,
  args: Record<string, unknown>,
  options: {
    capabilities?: Record<string, unknown>;
    meta?: Record<string, unknown>;
    params?: Record<string, unknown>;
  } = {},
) {
  return {
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: {
      name,
      arguments: args,
      ...options.params,
      _meta: {
        [PROTOCOL_VERSION_META_KEY]: REVISION,
        [CLIENT_CAPABILITIES_META_KEY]: options.capabilities ?? {},
        [CLIENT_INFO_META_KEY]: { name: "plain-test", version: "1.0.0" },
        ...options.meta,
      },
    },
  };
}

/** Posts `body`; `encodedName` sends `Mcp-Name` in its Base64 form. */
async function post(
  url: string,
  body: ReturnType<typeof callBody>,
  encodedName = false,
  contentType = "application/json",
  text = JSON.stringify(body),
  headers: Record<string, string> = {},
): Promise<Answer> {
  const name = body.params.name;
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": contentType,
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": REVISION,
      "mcp-method": "tools/call",
      "mcp-name": encodedName ? `=?base64?${btoa(name)}?=` : name,
      ...headers,
    },
    body: text,
  });
  const type = response.headers.get("content-type");
  return {
    status: response.status,
    type,
    body: type === "application/json" ? await response.json() : await response.text(),
  };
}

/** The answer with a sealed `requestState` masked (its IV is random). */
function masked(answer: Answer): Answer {
  const body = structuredClone(answer.body) as { result?: { requestState?: string } };
  if (typeof body?.result?.requestState === "string") body.result.requestState = "<sealed>";
  return { ...answer, body };
}

/**
 * Posts a plain call of `a__slow` that runs 30 s and waits until the member runs it; `answer` is the answer's status or
 * the fetch's error.
 */
async function startSlowCall(
  url: string,
  member: TestMember,
  signal?: AbortSignal,
): Promise<{ answer: Promise<number | Error> }> {
  const pending = fetch(url, {
    method: "POST",
    ...(signal ? { signal } : {}),
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": REVISION,
      "mcp-method": "tools/call",
      "mcp-name": "a__slow",
    },
    body: JSON.stringify(callBody(1, "a__slow", { ms: 30_000 })),
  }).then((response) => response.status, (error) => error);
  await until(() => (member.stats.executions.get("slow") ?? 0) > 0);
  return { answer: pending };
}

/** Waits (up to 10 s) until `done()` holds. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function withGateway(run: (url: string, base: string, member: TestMember) => Promise<void>): Promise<void> {
  await using member = await TestMember.start("a", { era: "modern" });
  await using asking = await startAskingMember("ask");
  await using dynamic = await startDynamicMember("dyn", { era: "modern" });
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(member.config);
  await proxy.registerServer(asking.config);
  await proxy.registerServer(dynamic.member.config);
  await using gateway = await serveGateway(proxy, { auth: false, port: 0, logger: quiet });
  await run(gateway.url, new URL(gateway.url).origin, member);
}

Deno.test("Gateway answers a 2026-07-28 call that needs no stream as the SDK's path does", async () => {
  await withGateway(async (url, base) => {
    const cases = [
      callBody(1, "a__echo", { text: "hi" }),
      callBody(2, "a__echo", { text: "with meta" }, { meta: { "example.com/trace": "x", note: 1 } }),
      callBody(3, "a__nope", {}),
      callBody(4, "a__echo", { text: 5 }),
      callBody(5, "a__echo", {}, { capabilities: { elicitation: {}, roots: {} } }),
      // A 2025-11-25 member asks: a bridged round (sealed state), or -32021 for a client that cannot answer.
      callBody(6, "ask__ask_name", {}, { capabilities: { elicitation: { form: {} } } }),
      callBody(7, "ask__ask_name", {}),
      // A 2026-07-28 member asks with input_required: relayed (sealed state), or -32021 (HTTP 400).
      callBody(8, "dyn__roots", {}, { capabilities: { roots: {} } }),
      callBody(9, "dyn__roots", {}),
    ];
    for (const body of cases) {
      const before = await plainCalls(base);
      const plain = await post(url, body);
      assert.equal(await plainCalls(base), before + 1, `${body.id} answered without a per-request server`);
      const sdk = await post(url, body, true);
      assert.equal(await plainCalls(base), before + 1, `${body.id} sent the SDK's way`);
      assert.deepEqual(masked(plain), masked(sdk), `request ${body.id}`);
    }
    const first = await post(url, callBody(10, "a__echo", { text: "hi" }));
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, {
      result: {
        content: [{ type: "text", text: "hi" }],
        resultType: "complete",
        _meta: { "io.modelcontextprotocol/serverInfo": { name: "federated-mcp-gateway", version: "0.1.0" } },
      },
      jsonrpc: "2.0",
      id: 10,
    });
    const refused = await post(url, callBody(11, "dyn__roots", {}));
    assert.equal(refused.status, 400);
    assert.equal((refused.body as { error: { code: number } }).error.code, -32021);
  });
});

Deno.test("Gateway leaves a 2026-07-28 call that may stream, or that carries more than it knows, to the SDK", async () => {
  await withGateway(async (url, base) => {
    const before = await plainCalls(base);
    const streamed = [
      callBody(1, "a__echo", { text: "p" }, { meta: { progressToken: "t1" } }),
      callBody(2, "a__echo", { text: "l" }, { meta: { [LOG_LEVEL_META_KEY]: "debug" } }),
      callBody(3, "a__echo", { text: "s" }, { params: { requestState: "not-sealed" } }),
      callBody(4, "a__echo", { text: "c" }, { capabilities: { elicitation: true } }),
    ];
    const answers = [];
    for (const body of streamed) answers.push(await post(url, body));
    // Another media type is the SDK's 415; so is a name that looks Base64-encoded (decoded before it is compared).
    const text = await post(url, callBody(5, "a__echo", { text: "t" }), false, "text/plain");
    const encodedLookalike = await post(url, callBody(6, "=?base64?YQ==?=", {}));
    assert.equal(await plainCalls(base), before);
    assert.equal(text.status, 415);
    assert.equal(encodedLookalike.status, 400);
    // The SDK's path answered each as before: the first two with the result, the other two refused.
    for (const answer of answers.slice(0, 2)) {
      assert.equal(answer.status, 200);
      const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
      assert.match(text, /"resultType":"complete"/);
    }
    assert.match(JSON.stringify(answers[2]!.body), /Invalid or expired requestState/);
    assert.match(JSON.stringify(answers[3]!.body), /"code":-326/);
  });
});

Deno.test("Gateway takes a 2026-07-28 call the plain way only when the SDK's classification would take it", async () => {
  await withGateway(async (url, base) => {
    // Each of these looks plain to a shallow look (an object per capability, a string id…) but the SDK's message or
    // envelope schema refuses it: it must get the SDK's refusal, not an answer.
    const refusedBySdk: { label: string; body: ReturnType<typeof callBody> & Record<string, unknown> }[] = [
      {
        label: "a capability of the wrong shape",
        body: callBody(1, "a__echo", {}, { capabilities: { roots: { listChanged: "yes" } } }),
      },
      {
        label: "an experimental capability that is not an object",
        body: callBody(2, "a__echo", {}, { capabilities: { experimental: { x: 1 } } }),
      },
      { label: "a member besides the JSON-RPC ones", body: { ...callBody(3, "a__echo", {}), extra: true } },
      { label: "a fractional id", body: callBody(4.5, "a__echo", {}) },
      { label: "another JSON-RPC version", body: { ...callBody(5, "a__echo", {}), jsonrpc: "1.0" } },
    ];
    for (const { label, body } of refusedBySdk) {
      const before = await plainCalls(base);
      const direct = await post(url, body);
      const sdk = await post(url, body, true);
      assert.equal(await plainCalls(base), before, `${label}: not the plain way`);
      assert.equal(direct.status, 400, label);
      assert.deepEqual(direct, sdk, label);
    }
    // Refused after a near-identical envelope was accepted: a number too large for a double parses as Infinity, which
    // the envelope's schema refuses, and which JSON writes as the `null` it accepts.
    const accepted = callBody(6, "a__echo", { text: "n" }, { capabilities: { experimental: { x: { n: null } } } });
    const before = await plainCalls(base);
    assert.equal((await post(url, accepted)).status, 200);
    assert.equal(await plainCalls(base), before + 1);
    const huge = JSON.stringify(accepted).replace('"n":null', '"n":1e999');
    const direct = await post(url, accepted, false, "application/json", huge);
    const sdk = await post(url, accepted, true, "application/json", huge);
    assert.equal(await plainCalls(base), before + 1, "1e999: not the plain way");
    assert.equal(direct.status, 400);
    assert.deepEqual(direct, sdk);
    // Headers that disagree with the body, and a `__proto__` member (which the SDK's parse does not keep as one), take
    // the SDK's way too.
    const sdkWay: { label: string; text?: string; headers?: Record<string, string> }[] = [
      { label: "another version in the envelope", text: JSON.stringify(accepted).replace(REVISION, "2026-12-31") },
      { label: "another method header", headers: { "mcp-method": "tools/list" } },
      {
        label: "a __proto__ argument",
        text: JSON.stringify(accepted).replace('"arguments":{', '"arguments":{"__proto__":{"a":1},'),
      },
      {
        label: "a __proto__ in _meta",
        text: JSON.stringify(accepted).replace('"_meta":{', '"_meta":{"__proto__":{"a":1},'),
      },
    ];
    for (const { label, text, headers } of sdkWay) {
      const direct = await post(url, accepted, false, "application/json", text, headers);
      const sdk = await post(url, accepted, true, "application/json", text, headers);
      assert.equal(await plainCalls(base), before + 1, `${label}: not the plain way`);
      assert.deepEqual(direct, sdk, label);
    }
    // Accepted envelopes are remembered (bounded): 300 clients' envelopes, then the first again, all the plain way
    // with the same answers; so is an envelope too long to remember, each time.
    const beforeMany = await plainCalls(base);
    const info = (i: number) => ({ [CLIENT_INFO_META_KEY]: { name: `client-${i}`, version: "1.0.0" } });
    const large = { experimental: { big: { text: "x".repeat(5_000) } } };
    const bodies = [
      ...Array.from({ length: 300 }, (_, i) => callBody(100 + i, "a__echo", { text: `${i}` }, { meta: info(i) })),
      callBody(400, "a__echo", { text: "0" }, { meta: info(0) }),
      callBody(401, "a__echo", { text: "big" }, { capabilities: large }),
      callBody(402, "a__echo", { text: "big" }, { capabilities: large }),
    ];
    for (const body of bodies) {
      const answer = await post(url, body);
      assert.equal(answer.status, 200);
      const result = (answer.body as { result: { content: { text: string }[] } }).result;
      assert.equal(result.content[0]!.text, (body.params.arguments as { text: string }).text);
    }
    assert.equal(await plainCalls(base), beforeMany + bodies.length);
  });
});

Deno.test("Gateway cancels a 2026-07-28 plain call at the member when its client goes away", async () => {
  await withGateway(async (url, base, member) => {
    const before = await plainCalls(base);
    const controller = new AbortController();
    const { answer } = await startSlowCall(url, member, controller.signal);
    assert.equal(await plainCalls(base), before + 1);
    controller.abort();
    assert.ok((await answer) instanceof Error);
    await until(() => member.stats.cancelled > 0);
    assert.equal(member.stats.cancelled, 1, "the member saw the call cancelled");
  });
});

Deno.test("Gateway.close() cancels a 2026-07-28 plain call in progress at the member", async () => {
  await using member = await TestMember.start("a", { era: "modern" });
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(member.config);
  await using gateway = await serveGateway(proxy, { auth: false, port: 0, logger: quiet });
  const { answer } = await startSlowCall(gateway.url, member);
  assert.equal(member.stats.executions.get("slow"), 1);
  await gateway.close();
  // The call ended with the gateway (499, or its connection closed), long before the tool's 30 s.
  const ended = await answer;
  assert.ok(ended === 499 || ended instanceof Error, String(ended));
  await until(() => member.stats.cancelled > 0);
  assert.equal(member.stats.cancelled, 1, "the member saw the call cancelled");
});
