import assert from "node:assert/strict";
import {
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  createMcpHandler,
  MissingRequiredClientCapabilityError,
  Server,
  ServerProtocolError,
} from "../core/_sdk.ts";
import { openRetry, relayInputRequired, type RelayInputRequiredContext } from "./_input_required.ts";
import { InvalidRequestStateError, RequestStateSealer } from "./_sealed_state.ts";

const SECRET = "a-gateway-client-secret-of-32-bytes!!";

const ELICIT_FORM = {
  method: "elicitation/create",
  params: { mode: "form", message: "Your name?", requestedSchema: { type: "object", properties: {} } },
};
const ELICIT_BARE = {
  method: "elicitation/create",
  params: { message: "Your name?", requestedSchema: { type: "object", properties: {} } },
};
const ELICIT_URL = { method: "elicitation/create", params: { mode: "url", message: "Sign in", url: "https://x.test" } };
const SAMPLE = { method: "sampling/createMessage", params: { messages: [], maxTokens: 10 } };
const SAMPLE_TOOLS = { method: "sampling/createMessage", params: { messages: [], maxTokens: 10, tools: [] } };
const ROOTS = { method: "roots/list" };

const ALL = { a: ELICIT_FORM, b: ELICIT_URL, c: SAMPLE, d: SAMPLE_TOOLS, e: ROOTS, f: ELICIT_BARE };

async function context(clientCapabilities: ClientCapabilities | undefined): Promise<RelayInputRequiredContext> {
  return {
    member: "weather",
    memberName: "ask",
    method: "tools/call",
    name: "weather__ask",
    sub: "alice",
    clientCapabilities,
    sealer: await RequestStateSealer.fromSecret(SECRET),
  };
}

function inputRequiredResult(inputRequests: Record<string, unknown> | undefined, requestState?: string) {
  return {
    resultType: "input_required",
    ...(inputRequests === undefined ? {} : { inputRequests }),
    ...(requestState === undefined ? {} : { requestState }),
    _meta: { "x.example/trace": "t1" },
  };
}

async function keptKeys(capabilities: ClientCapabilities | undefined): Promise<string[]> {
  const relayed = await relayInputRequired(inputRequiredResult(ALL, "s"), await context(capabilities));
  return Object.keys((relayed.inputRequests ?? {}) as Record<string, unknown>).sort();
}

Deno.test("relayInputRequired() keeps only the input requests the client declared it can answer", async () => {
  assert.deepEqual(await keptKeys({ elicitation: { form: {} } }), ["a", "f"]);
  assert.deepEqual(await keptKeys({ elicitation: {} }), ["a", "f"]);
  assert.deepEqual(await keptKeys({ elicitation: { url: {} } }), ["b"]);
  assert.deepEqual(await keptKeys({ elicitation: { form: {}, url: {} } }), ["a", "b", "f"]);
  assert.deepEqual(await keptKeys({ sampling: {} }), ["c"]);
  assert.deepEqual(await keptKeys({ sampling: { tools: {} } }), ["c", "d"]);
  assert.deepEqual(await keptKeys({ roots: {} }), ["e"]);
  assert.deepEqual(await keptKeys({ elicitation: {}, sampling: { tools: {} }, roots: {} }), ["a", "c", "d", "e", "f"]);
  assert.deepEqual(await keptKeys({}), []);
  assert.deepEqual(await keptKeys(undefined), []);
});

Deno.test("relayInputRequired() seals the member's state with member, call and caller, and keeps other fields", async () => {
  const ctx = await context({ elicitation: {} });
  const relayed = await relayInputRequired(inputRequiredResult({ a: ELICIT_FORM }, "member-state-1"), ctx);
  assert.equal(relayed.resultType, "input_required");
  assert.deepEqual(relayed._meta, { "x.example/trace": "t1" });
  assert.deepEqual(relayed.inputRequests, { a: ELICIT_FORM });
  assert.equal(typeof relayed.requestState, "string");
  assert.notEqual(relayed.requestState, "member-state-1");
  assert.ok(!(relayed.requestState as string).includes("member-state-1"));
  assert.deepEqual(await ctx.sealer.open(relayed.requestState as string, { sub: "alice" }), {
    member: "weather",
    memberState: "member-state-1",
    sub: "alice",
    method: "tools/call",
    name: "weather__ask",
  });
});

Deno.test("relayInputRequired() seals a state even when the member gave none (so the retry can be routed)", async () => {
  const ctx = await context({ roots: {} });
  const relayed = await relayInputRequired(inputRequiredResult({ r: ROOTS }), ctx);
  const state = await ctx.sealer.open(relayed.requestState as string, { sub: "alice" });
  assert.equal(state.member, "weather");
  assert.equal(state.memberState, undefined);
});

Deno.test("relayInputRequired() passes a state-only round when nothing is answerable but the member gave a state", async () => {
  const relayed = await relayInputRequired(inputRequiredResult({ s: SAMPLE }, "keep-going"), await context({}));
  assert.equal(relayed.inputRequests, undefined);
  assert.equal(typeof relayed.requestState, "string");
});

Deno.test("relayInputRequired() throws -32021 with the missing capabilities when nothing is answerable and no state", async () => {
  const ctx = await context({ elicitation: { form: {} } });
  await assert.rejects(
    relayInputRequired(inputRequiredResult({ s: SAMPLE_TOOLS, u: ELICIT_URL, r: ROOTS }), ctx),
    (err: unknown) => {
      assert.ok(err instanceof MissingRequiredClientCapabilityError);
      assert.equal(err.code, -32021);
      assert.deepEqual(err.requiredCapabilities, { sampling: { tools: {} }, elicitation: { url: {} }, roots: {} });
      return true;
    },
  );
});

Deno.test("relayInputRequired() drops input request kinds the revision does not define", async () => {
  const ctx = await context({ elicitation: {}, sampling: {}, roots: {} });
  const relayed = await relayInputRequired(
    inputRequiredResult({ x: { method: "tools/call", params: {} }, y: "nonsense", a: ELICIT_FORM }),
    ctx,
  );
  assert.deepEqual(relayed.inputRequests, { a: ELICIT_FORM });
});

Deno.test("relayInputRequired() refuses a malformed member result with -32603", async () => {
  const ctx = await context({ elicitation: {} });
  for (
    const bad of [{ resultType: "input_required", inputRequests: [] }, {
      resultType: "input_required",
      requestState: 7,
    }]
  ) {
    await assert.rejects(relayInputRequired(bad, ctx), (err: unknown) => {
      assert.ok(err instanceof ServerProtocolError);
      assert.equal(err.code, -32603);
      return true;
    });
  }
});

Deno.test("openRetry() returns undefined for a first attempt", async () => {
  const sealer = await RequestStateSealer.fromSecret(SECRET);
  assert.equal(
    await openRetry({ name: "weather__ask" }, { sub: "alice", method: "tools/call", name: "weather__ask", sealer }),
    undefined,
  );
});

Deno.test("openRetry() opens a relayed state into member, member state and the client's answers", async () => {
  const ctx = await context({ elicitation: {} });
  const relayed = await relayInputRequired(inputRequiredResult({ a: ELICIT_FORM }, "member-state-1"), ctx);
  const inputResponses = { a: { action: "accept", content: { name: "Ada" } } };
  // Another replica (same secret) opens it.
  const sealer = await RequestStateSealer.fromSecret(SECRET);
  const opened = await openRetry(
    { name: "weather__ask", arguments: {}, inputResponses, requestState: relayed.requestState },
    { sub: "alice", method: "tools/call", name: "weather__ask", sealer },
  );
  assert.deepEqual(opened, { member: "weather", inputResponses, requestState: "member-state-1" });
});

Deno.test("openRetry() refuses a state replayed onto another method, name or caller", async () => {
  const ctx = await context({ elicitation: {} });
  const relayed = await relayInputRequired(inputRequiredResult({ a: ELICIT_FORM }, "m"), ctx);
  const params = { requestState: relayed.requestState, inputResponses: {} };
  const cases: [{ sub: string | undefined; method: string; name: string }, InvalidRequestStateError["reason"]][] = [
    [{ sub: "alice", method: "prompts/get", name: "weather__ask" }, "call"],
    [{ sub: "alice", method: "tools/call", name: "weather__other" }, "call"],
    [{ sub: "mallory", method: "tools/call", name: "weather__ask" }, "subject"],
    [{ sub: undefined, method: "tools/call", name: "weather__ask" }, "subject"],
  ];
  for (const [call, reason] of cases) {
    await assert.rejects(openRetry(params, { ...call, sealer: ctx.sealer }), (err: unknown) => {
      assert.ok(err instanceof InvalidRequestStateError);
      assert.equal(err.code, -32602);
      assert.equal(err.reason, reason);
      return true;
    });
  }
});

Deno.test("openRetry() refuses a tampered, foreign or non-string state", async () => {
  const ctx = await context({ elicitation: {} });
  const relayed = await relayInputRequired(inputRequiredResult({ a: ELICIT_FORM }, "m"), ctx);
  const token = relayed.requestState as string;
  const foreign = await RequestStateSealer.fromSecret("another-gateway-secret-of-32-bytes!!!");
  const call = { sub: "alice", method: "tools/call", name: "weather__ask" };
  const at = token.length - 10;
  const tampered = token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);
  for (const [requestState, sealer] of [[tampered, ctx.sealer], [token, foreign], [42, ctx.sealer]] as const) {
    await assert.rejects(openRetry({ requestState }, { ...call, sealer }), InvalidRequestStateError);
  }
});

Deno.test("openRetry() refuses inputResponses that are not an object with -32602", async () => {
  const ctx = await context({ elicitation: {} });
  const relayed = await relayInputRequired(inputRequiredResult({ a: ELICIT_FORM }, "m"), ctx);
  await assert.rejects(
    openRetry(
      { requestState: relayed.requestState, inputResponses: ["no"] },
      { sub: "alice", method: "tools/call", name: "weather__ask", sealer: ctx.sealer },
    ),
    (err: unknown) => err instanceof ServerProtocolError && err.code === -32602,
  );
});

// ── On the wire: a modern endpoint built on the SDK's createMcpHandler, as the gateway wires these functions ──────

/** The parts of a JSON-RPC answer these tests read. */
interface WireBody {
  id: unknown;
  result: {
    resultType: string;
    inputRequests: Record<string, unknown>;
    requestState: string;
    content: { text: string }[];
  };
  error: { code: number; message: string; data: { requiredCapabilities: unknown } };
}

/** A modern endpoint whose `tools/call` relays `fromMember` and opens retries, as the gateway does. */
async function modernEndpoint(fromMember: Record<string, unknown>) {
  const sealer = await RequestStateSealer.fromSecret(SECRET);
  const handler = createMcpHandler(() => {
    const server = new Server({ name: "gateway", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler("tools/call", async (request, ctx) => {
      const call = { sub: "alice", method: "tools/call", name: request.params.name, sealer };
      const retry = await openRetry(
        { requestState: ctx.mcpReq.requestState(), inputResponses: ctx.mcpReq.inputResponses },
        call,
      );
      if (retry !== undefined) return { content: [{ type: "text" as const, text: JSON.stringify(retry) }] };
      const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
      const clientCapabilities = envelope[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
      return await relayInputRequired(fromMember, {
        ...call,
        member: "weather",
        memberName: "ask",
        clientCapabilities,
      }) as never;
    });
    return server;
  }, { legacy: "reject" });
  async function post(
    params: Record<string, unknown>,
    clientCapabilities: ClientCapabilities,
  ): Promise<{ status: number; body: WireBody }> {
    const response = await handler.fetch(
      new Request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": "2026-07-28",
          "mcp-method": "tools/call",
          "mcp-name": "weather__ask",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: {
            name: "weather__ask",
            arguments: {},
            ...params,
            _meta: {
              "io.modelcontextprotocol/protocolVersion": "2026-07-28",
              [CLIENT_CAPABILITIES_META_KEY]: clientCapabilities,
            },
          },
        }),
      }),
    );
    return { status: response.status, body: await response.json() as WireBody };
  }
  return { post, [Symbol.asyncDispose]: () => handler.close() };
}

const ASKS_TWO = { resultType: "input_required", inputRequests: { a: ELICIT_FORM, c: SAMPLE }, requestState: "m-1" };

Deno.test("On the wire: the client gets the answerable input requests and a sealed state; its retry opens", async () => {
  await using endpoint = await modernEndpoint(ASKS_TWO);
  const first = await endpoint.post({}, { elicitation: {} });
  assert.equal(first.status, 200);
  assert.equal(first.body.result.resultType, "input_required");
  assert.deepEqual(Object.keys(first.body.result.inputRequests), ["a"]);
  const requestState = first.body.result.requestState;
  assert.ok(typeof requestState === "string" && requestState.startsWith("v1."));
  const inputResponses = { a: { action: "accept", content: {} } };
  const retry = await endpoint.post({ requestState, inputResponses }, { elicitation: {} });
  assert.equal(retry.status, 200);
  assert.deepEqual(JSON.parse(retry.body.result.content[0]!.text), {
    member: "weather",
    inputResponses,
    requestState: "m-1",
  });
});

Deno.test("On the wire: a tampered requestState gets -32602 'Invalid or expired requestState'", async () => {
  await using endpoint = await modernEndpoint(ASKS_TWO);
  const first = await endpoint.post({}, { elicitation: {} });
  const token: string = first.body.result.requestState;
  const at = token.length - 10;
  const tampered = token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);
  const retry = await endpoint.post({ requestState: tampered, inputResponses: {} }, { elicitation: {} });
  assert.equal(retry.body.error.code, -32602);
  assert.equal(retry.body.error.message, "Invalid or expired requestState");
  assert.equal(retry.body.id, 1);
});

Deno.test("On the wire: nothing answerable and no member state gets HTTP 400 and -32021 with the missing capabilities", async () => {
  await using endpoint = await modernEndpoint({ resultType: "input_required", inputRequests: { c: SAMPLE } });
  const first = await endpoint.post({}, { elicitation: {} });
  assert.equal(first.status, 400);
  assert.equal(first.body.error.code, -32021);
  assert.deepEqual(first.body.error.data.requiredCapabilities, { sampling: {} });
});
