import assert from "node:assert/strict";
import fc from "fast-check";
import { AuthManager, ConfigError, FederationProxy, validateConfig } from "../../mod.ts";
import { DEFAULT_GATEWAY_AUDIENCE, serveGateway } from "../../packages/gateway/mod.ts";
import { Client, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import { GATEWAY_SECRET, SECRET, TestMember } from "../_support/members.ts";
import { text } from "../_support/relayed.ts";
import { INITIALIZE } from "./_probes.ts";
import { quiet } from "../_support/catalog_members.ts";

/** Fuzzing registration never reaches past loopback, even if a refused URL were let through. */
const loopbackOnly: Deno.PermissionOptions = { net: ["127.0.0.1"] };
/** Bad inputs tried, per kind, for the closing report. */
const tried: Record<string, number> = {};
/** `FUZZ_SEED=… deno test -A tests/security/fuzz_test.ts` replays a failing run. */
const seedOption: { seed?: number } = Deno.env.get("FUZZ_SEED") ? { seed: Number(Deno.env.get("FUZZ_SEED")) } : {};

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

// ---- Configs -------------------------------------------------------------------------------------------------

const urlish = fc.oneof(
  fc.constantFrom(
    "ws://127.0.0.1:3000/",
    "http://127.0.0.1:3001/",
    "wss://member.example:443/mcp",
    "https://member.example/mcp",
    "http://169.254.169.254/",
    "ws://[fe80::1]:80/",
    "ftp://127.0.0.1/",
    "http://user:pass@127.0.0.1/",
    "http://127.0.0.1/?token=abc",
    "http://127.0.0.1/#frag",
    "javascript:alert(1)",
    "",
    "ws://",
    "http://[::1",
  ),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.string({ maxLength: 40 }),
);
const validConfig = fc.record({
  serverId: fc.stringMatching(/^[A-Za-z0-9-]{1,32}$/),
  endpoints: fc.record({ control: fc.constant("ws://127.0.0.1:3000/"), data: fc.constant("http://127.0.0.1:3001/") }),
  auth: fc.record({
    type: fc.constant("jwt"),
    config: fc.record({
      secret: fc.constant(SECRET),
      expiresIn: fc.constantFrom("1h", 3600, "90s"),
      algorithm: fc.constantFrom("HS256", "HS384", "HS512"),
    }, { requiredKeys: [] }),
  }),
}, { requiredKeys: ["serverId", "endpoints"] });
/** A path into a config and a value to put (or `undefined` to delete). */
const mutation = fc.tuple(
  fc.constantFrom(
    [],
    ["serverId"],
    ["endpoints"],
    ["endpoints", "control"],
    ["endpoints", "data"],
    ["endpoints", "extra"],
    ["auth"],
    ["auth", "type"],
    ["auth", "config"],
    ["auth", "config", "secret"],
    ["auth", "config", "expiresIn"],
    ["auth", "config", "algorithm"],
    ["auth", "config", "subject"],
    ["unknownKey"],
    ["__proto__"],
    ["constructor"],
  ),
  fc.oneof(
    fc.anything(),
    urlish,
    fc.constant(undefined),
    fc.constantFrom("none", "jwt", "a b", "a__b", "x".repeat(33)),
  ),
);
function mutate(config: Record<string, unknown>, [path, value]: readonly [readonly string[], unknown]): unknown {
  if (path.length === 0) return value;
  if (typeof config !== "object" || config === null) return config;
  let node: Record<string, unknown> = config;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path.at(-1)!;
  if (value === undefined) delete node[last];
  else Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
  return config;
}
const mutatedConfig = fc.tuple(validConfig, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(
  ([config, mutations]) => mutations.reduce<unknown>((c, m) => mutate(c as Record<string, unknown>, m), config),
);
const anyConfig = fc.oneof(fc.anything({ withNullPrototype: true, withMap: true, withSet: true }), mutatedConfig);

Deno.test("Fuzz: validateConfig() on 1,000 random and mutated configs throws only ConfigError and never mutates", () => {
  let accepted = 0;
  fc.assert(
    fc.property(anyConfig, (input) => {
      const before = snapshot(input);
      deepFreeze(input); // any write by the validator would throw a TypeError (strict mode) and fail the run
      try {
        validateConfig(input, { warn: () => {} });
        accepted++;
      } catch (error) {
        assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
        assert.equal(error.code, "ERR_CONFIG_INVALID");
        assert.equal(typeof error.field, "string");
      }
      assert.equal(snapshot(input), before, "the input was changed");
      tried.configs = (tried.configs ?? 0) + 1;
    }),
    { numRuns: 1_000, ...seedOption },
  );
  assert.ok(accepted > 0 && accepted < 1_000, `${accepted} accepted: the generators reach both outcomes`);
});

/** A canonical description of a value (own keys, types, prototypes), to compare before and after validation. */
function snapshot(value: unknown, seen = new Set<unknown>()): string {
  if (typeof value !== "object" || value === null) {
    return typeof value === "number" || typeof value === "bigint"
      ? `${typeof value}:${Object.is(value, -0) ? "-0" : value}`
      : `${typeof value}:${String(value)}`;
  }
  if (seen.has(value)) return "<cycle>";
  seen.add(value);
  const proto = Object.getPrototypeOf(value);
  const tag = proto === null ? "null-proto" : proto.constructor?.name ?? "?";
  const entries = value instanceof Map
    ? [...value.entries()]
    : value instanceof Set
    ? [...value.values()].map((v) => [v, v])
    : [];
  const own = Reflect.ownKeys(value).map((key) => {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    return `${String(key)}=${"value" in descriptor ? snapshot(descriptor.value, seen) : "<accessor>"}`;
  });
  const inner = entries.map(([k, v]) => `${snapshot(k, seen)}=>${snapshot(v, seen)}`);
  return `${tag}{${own.join(",")}|${inner.join(",")}}`;
}

Deno.test({
  name: "Fuzz: registerServer() on 300 invalid or refused configs rejects with ConfigError and registers nothing",
  permissions: loopbackOnly,
}, async () => {
  await using member = await TestMember.start("target");
  await using proxy = new FederationProxy(SECRET, { logger: quiet, connectTimeout: 500 });
  // Valid in shape but aimed at refused addresses: the outbound guard must stop them, literally (no DNS).
  const refused = fc.record({
    serverId: fc.stringMatching(/^[a-z0-9-]{1,16}$/),
    endpoints: fc.record({
      control: fc.constantFrom("ws://169.254.169.254/", "ws://[fe80::1]:9/", "ws://0xA9FEA9FE/"),
      data: fc.constantFrom(member.handle.dataUrl!, "http://metadata.google.internal/", "http://[fd00:ec2::254]/"),
    }),
  });
  const invalid = anyConfig.filter((input) => {
    try {
      validateConfig(input, { warn: () => {} });
      return false;
    } catch {
      return true;
    }
  });
  await fc.assert(
    fc.asyncProperty(fc.oneof(invalid, refused), async (input) => {
      const error = await proxy.registerServer(input as never).then(() => undefined, (e) => e);
      assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
      assert.deepEqual(proxy.getStatus(), []);
      tried.registrations = (tried.registrations ?? 0) + 1;
    }),
    { numRuns: 300, ...seedOption },
  );
  assert.deepEqual(member.handle.sessionCount(), { control: 0, data: 0 }, "no connection was made");
  await proxy.registerServer(member.config); // and a good registration still works
});

// ---- Frames and JSON-RPC messages ----------------------------------------------------------------------------

const id = fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.double(), fc.boolean());
const method = fc.oneof(
  fc.constantFrom(
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/subscribe",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "federation/renewToken",
    "sampling/createMessage",
  ),
  fc.string({ maxLength: 24 }),
);
const params = fc.oneof(
  fc.constant(undefined),
  fc.object({ maxDepth: 2 }),
  fc.anything({ maxDepth: 2 }),
  fc.record({ name: fc.constantFrom("echo", "nope", ""), arguments: fc.anything({ maxDepth: 1 }) }),
);
const request = fc.record(
  { jsonrpc: fc.oneof(fc.constant("2.0"), fc.anything({ maxDepth: 0 })), id, method, params },
  { requiredKeys: ["method"] },
);
const response = fc.record(
  { jsonrpc: fc.constant("2.0"), id, result: fc.anything({ maxDepth: 1 }), error: fc.anything({ maxDepth: 1 }) },
  { requiredKeys: ["jsonrpc"] },
);
function json(value: unknown): string {
  return JSON.stringify(value) ?? "null";
}
/** What a fuzzer sends: a text frame (or POST body), or binary. */
type Frame = { text: string } | { binary: Uint8Array<ArrayBuffer> } | { big: "text" | "request" };
const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: request.map((m) => ({ text: json(m) })) },
  { weight: 1, arbitrary: response.map((m) => ({ text: json(m) })) },
  { weight: 1, arbitrary: fc.array(request, { minLength: 0, maxLength: 3 }).map((m) => ({ text: json(m) })) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 2 }).map((t) => ({ text: t })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 64 }).map((t) => ({ text: t })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ binary: new Uint8Array(b) })) },
  // Over the fuzzed member's 64 KiB limit (built when sent, so that a counterexample prints short).
  { weight: 1, arbitrary: fc.constantFrom({ big: "text" as const }, { big: "request" as const }) },
);
/** The bytes or text a frame puts on the wire. */
function payload(f: Frame): string | Uint8Array<ArrayBuffer> {
  if ("binary" in f) return f.binary;
  if ("big" in f) {
    return f.big === "text" ? "x".repeat(70_000) : `{"jsonrpc":"2.0","id":1,"method":"${"m".repeat(70_000)}"}`;
  }
  return f.text;
}
/** A frame, shortened for messages. */
function show(f: Frame): string {
  return "text" in f ? f.text.slice(0, 200) : JSON.stringify("big" in f ? f : { binary: f.binary.length });
}
/** What the control endpoint must do with a frame (the WebSocket transport's contract, JSON-RPC 2.0). */
type Expected = { reply: string | number } | "null-id error" | "nothing" | "close";

function isRequestId(id: unknown): id is string | number {
  return typeof id === "string" || Number.isSafeInteger(id);
}

function expected(f: Frame, maxBytes: number): Expected {
  if ("big" in f) return "close";
  if (!("text" in f)) return "null-id error";
  if (new TextEncoder().encode(f.text).byteLength > maxBytes) return "close";
  let m: unknown;
  try {
    m = JSON.parse(f.text);
  } catch {
    return "null-id error";
  }
  if (typeof m !== "object" || m === null || Array.isArray(m)) return "null-id error";
  const { jsonrpc, id, method, params } = m as Record<string, unknown>;
  const paramsOk = params === undefined || (typeof params === "object" && params !== null && !Array.isArray(params));
  if (jsonrpc === "2.0" && typeof method === "string" && (id === undefined || isRequestId(id)) && paramsOk) {
    return id === undefined ? "nothing" : { reply: id };
  }
  if (method === undefined && ("result" in m || "error" in m)) return "nothing"; // responses are never answered
  return isRequestId(id) ? { reply: id } : "null-id error";
}

function assertJsonRpcReply(raw: unknown, what: string): void {
  assert.equal(typeof raw, "string", `${what}: a text frame`);
  const message = JSON.parse(raw as string);
  assert.equal(message.jsonrpc, "2.0", `${what}: ${raw}`);
  if ("method" in message) return; // a request or notification from the server (e.g. logging): fine
  assert.ok(["string", "number"].includes(typeof message.id) || message.id === null, `${what}: id ${raw}`);
  assert.ok("result" in message !== "error" in message, `${what}: result xor error: ${raw}`);
  if ("error" in message) {
    assert.ok(Number.isInteger(message.error.code), `${what}: error code ${raw}`);
    assert.equal(typeof message.error.message, "string", `${what}: error message ${raw}`);
  }
}

/** The fuzzed member's message size limit. */
const MAX_BYTES = 64 * 1024;

/** A raw control-channel client: every message received, and the close (code and reason) if any. */
class RawSocket {
  messages: unknown[] = [];
  closed: { code: number; reason: string } | undefined;
  #socket: WebSocket;
  #opened: Promise<void>;
  #closedPromise: Promise<void>;
  #wake: (() => void) | undefined;

  constructor(url: string, token: string) {
    this.#socket = new WebSocket(url, { protocols: ["mcp"], headers: { Authorization: `Bearer ${token}` } });
    const { promise: opened, resolve, reject } = Promise.withResolvers<void>();
    this.#opened = opened;
    const { promise: closedPromise, resolve: closedResolve } = Promise.withResolvers<void>();
    this.#closedPromise = closedPromise;
    this.#socket.onopen = () => resolve();
    this.#socket.onmessage = (e) => {
      this.messages.push(e.data);
      this.#wake?.();
    };
    this.#socket.onclose = (e) => {
      this.closed = { code: e.code, reason: e.reason };
      reject(new Error(`closed before open: ${e.code}`));
      closedResolve();
      this.#wake?.();
    };
  }

  open(): Promise<void> {
    return this.#opened;
  }

  send(f: Frame): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(payload(f));
  }

  /** Waits until `done()` holds or the socket closes, at most `timeout` ms. */
  async until(done: () => boolean, timeout: number): Promise<boolean> {
    const deadline = performance.now() + timeout;
    while (!done() && !this.closed) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return done() || this.closed !== undefined;
  }

  async close(): Promise<void> {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.close(1000, "done");
    await this.#closedPromise;
  }
}

function replied(socket: RawSocket, wanted: string | number): boolean {
  return socket.messages.some((m) => {
    try {
      const message = JSON.parse(m as string);
      return message.id === wanted && ("result" in message || "error" in message);
    } catch {
      return false;
    }
  });
}

Deno.test("Fuzz: 400 random frames at a member's control endpoint get JSON-RPC errors or a close with a reason", async () => {
  await using member = await TestMember.start("fuzzed", { extra: { maxMessageBytes: MAX_BYTES } });
  const token = await new AuthManager(SECRET).createToken({}, { audience: "fuzzed", subject: "fuzzer" });
  let socket = new RawSocket(member.handle.controlUrl!, token);
  await socket.open();
  const closes: string[] = [];
  let abnormal = 0;
  let sentinel = 0;
  await fc.assert(
    fc.asyncProperty(frame, async (f) => {
      if (socket.closed) {
        socket = new RawSocket(member.handle.controlUrl!, token);
        await socket.open();
      }
      const from = socket.messages.length;
      socket.send(f);
      const want = expected(f, MAX_BYTES);
      // A ping after it proves the session still works, and bounds the wait for the frame's own answer.
      const ping = `sentinel-${sentinel++}`;
      socket.send({ text: JSON.stringify({ jsonrpc: "2.0", id: ping, method: "ping" }) });
      const what = show(f);
      const nullErrors = () =>
        socket.messages.slice(from).filter((m) => {
          const message = JSON.parse(m as string);
          return message.id === null && "error" in message;
        }).length;
      const settled = await socket.until(
        () =>
          replied(socket, ping) &&
          (typeof want !== "object" || replied(socket, want.reply)) &&
          (want !== "null-id error" || nullErrors() > 0),
        2_000,
      );
      assert.ok(settled, `no answer within 2 s to ${what} (expected ${JSON.stringify(want)})`);
      for (const m of socket.messages.slice(from)) assertJsonRpcReply(m, what);
      if (want === "nothing") assert.equal(nullErrors(), 0, `${what}: answered`);
      if (want === "close") {
        assert.ok(socket.closed, `${what}: not closed`);
        // Deno's server socket sometimes ends the TCP connection before its close frame reaches the client (the
        // client then reports code 0/1006, "Unexpected EOF"): the connection still closes at once. Counted.
        if (socket.closed.code !== 1009) abnormal++;
        else assert.deepEqual(socket.closed, { code: 1009, reason: "Message too big" });
      } else {
        assert.equal(socket.closed, undefined, `${what}: closed ${JSON.stringify(socket.closed)}`);
      }
      if (socket.closed) closes.push(`${socket.closed.code} ${socket.closed.reason}`);
      tried.controlFrames = (tried.controlFrames ?? 0) + 1;
    }),
    { numRuns: 400, ...seedOption },
  );
  await socket.close();
  assert.ok(closes.length > 0, "the size limit was exercised");
  assert.ok(abnormal < closes.length, `${abnormal} of ${closes.length} closes without the 1009 frame`);
  if (abnormal > 0) {
    console.log(`fuzz: ${abnormal} of ${closes.length} size-limit closes arrived without their close frame`);
  }
  // The member still serves a good client on both channels.
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(member.config);
  for (const channel of ["control", "data"] as const) {
    assert.equal(text(await proxy.callTool("fuzzed", "echo", { text: "alive" }, { channel })), "alive");
  }
});

Deno.test("Fuzz: 300 random POST bodies at the gateway get proper JSON-RPC errors, never a 5xx or a hang", async () => {
  await using member = await TestMember.start("behind");
  await using proxy = new FederationProxy(SECRET, { logger: quiet });
  await proxy.registerServer(member.config);
  await using gateway = await serveGateway(proxy, { auth: { secret: GATEWAY_SECRET }, port: 0, logger: quiet });
  const token = await new AuthManager(GATEWAY_SECRET).createToken({}, {
    subject: "fuzzer",
    expiresIn: "10m",
    audience: DEFAULT_GATEWAY_AUDIENCE,
  });
  const headers = {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  const opened = await fetch(gateway.url, { method: "POST", headers, body: INITIALIZE });
  const session = opened.headers.get("mcp-session-id")!;
  await opened.body?.cancel();
  assert.ok(session);
  const statuses: Record<number, number> = {};
  await fc.assert(
    fc.asyncProperty(frame, fc.boolean(), async (f, inSession) => {
      const body = payload(f);
      const response = await fetch(gateway.url, {
        method: "POST",
        headers: inSession ? { ...headers, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" } : headers,
        body,
        signal: AbortSignal.timeout(3_000), // a response (or its stream) that does not end in time fails the run
      });
      const answer = await response.text();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      assert.ok(response.status < 500, `HTTP ${response.status} for ${show(f)}`);
      if (response.status >= 400) assertJsonRpcReply(answer, `HTTP ${response.status}`);
      const type = response.headers.get("content-type") ?? "";
      if (response.status === 200 && type.startsWith("application/json")) {
        for (const m of [JSON.parse(answer)].flat()) assertJsonRpcReply(JSON.stringify(m), "200");
      }
      if (response.status === 200 && type.startsWith("text/event-stream")) {
        // (An empty `data:` is the SDK's priming event for resumption.)
        for (const line of answer.split("\n").filter((l) => l.startsWith("data: ") && l.length > 6)) {
          assertJsonRpcReply(line.slice(6), "SSE");
        }
      }
      tried.gatewayBodies = (tried.gatewayBodies ?? 0) + 1;
    }),
    { numRuns: 300, ...seedOption },
  );
  assert.ok(Object.keys(statuses).length > 1, JSON.stringify(statuses));
  // The gateway still serves a good client.
  const client = new Client({ name: "after-fuzz", version: "1" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gateway.url), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  const echo = (await client.listTools()).tools.find((t) => t.name.endsWith("echo"))!;
  assert.equal(text(await client.callTool({ name: echo.name, arguments: { text: "alive" } }) as never), "alive");
  await client.close();
  await fetch(gateway.url, { method: "DELETE", headers: { ...headers, "mcp-session-id": session } }).then((r) =>
    r.body?.cancel()
  );
});

Deno.test("Fuzz: the frame generator reaches every outcome of the control endpoint's contract; report the inputs tried", () => {
  // The frame fuzzer only proves something if its inputs reach every branch of the contract it checks: a reply
  // to the request's id, a null-id error, silence (notifications, responses) and a close (over the size limit).
  const outcomes: Record<string, number> = {};
  for (const f of fc.sample(frame, { numRuns: 400, ...seedOption })) {
    const want = expected(f, MAX_BYTES);
    const kind = typeof want === "object" ? "reply" : want;
    outcomes[kind] = (outcomes[kind] ?? 0) + 1;
  }
  for (const kind of ["reply", "null-id error", "nothing", "close"]) {
    assert.ok((outcomes[kind] ?? 0) > 0, `no generated frame expects '${kind}': ${JSON.stringify(outcomes)}`);
  }
  // Every property that ran went through all its runs to its last check.
  const runs: Record<string, number> = { configs: 1_000, registrations: 300, controlFrames: 400, gatewayBodies: 300 };
  for (const [kind, count] of Object.entries(tried)) assert.equal(count, runs[kind], `${kind} runs`);
  const total = Object.values(tried).reduce((a, b) => a + b, 0);
  console.log(`fuzz: ${total} bad inputs tried ${JSON.stringify(tried)}; frame outcomes ${JSON.stringify(outcomes)}`);
});
