// OpenTelemetry (issue 17 §1): with Deno's built-in OTel on (`OTEL_DENO=true`, the standard OTEL_* variables), one
// gateway call is one trace across the gateway process (its server span and the proxy's client span) and the member
// process (its server span), over each channel; the trace context travels in `_meta`; the two duration histograms
// are exported. An in-process OTLP/HTTP receiver (JSON encoding) collects what the three processes export.
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { connectClient, gatewayToken, textOf } from "../_support/catalog_members.ts";
import { LineReader } from "../_support/lines.ts";
import { GATEWAY_SECRET, SECRET } from "../_support/members.ts";

const ROOT = new URL("../../", import.meta.url);
const CLI = fromFileUrl(new URL("packages/gateway/cli.ts", ROOT));
const MEMBER = fromFileUrl(new URL("examples/member_server.ts", ROOT));
const GATEWAY = fromFileUrl(new URL("tests/fixtures/otel_gateway.ts", ROOT));

/** One OTLP attribute value (JSON encoding). */
type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value: AnyValue };

/** A span as the receiver keeps it. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  status: { code?: number; message?: string };
}

/** A histogram data point as the receiver keeps it. */
interface ReceivedPoint {
  service: string;
  metric: string;
  unit: string;
  count: number;
  attributes: Record<string, unknown>;
}

function valueOf(value: AnyValue): unknown {
  return value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
    value.boolValue ?? value.doubleValue;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

/** An OTLP/HTTP receiver of the JSON encoding (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) on 127.0.0.1. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly points: ReceivedPoint[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor() {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const path = new URL(req.url).pathname;
      const body = await req.json();
      if (path === "/v1/traces") this.#traces(body);
      if (path === "/v1/metrics") this.#metrics(body);
      return Response.json({});
    });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  #traces(body: { resourceSpans?: unknown[] }): void {
    for (
      const rs of (body.resourceSpans ?? []) as { resource?: { attributes?: KeyValue[] }; scopeSpans?: unknown[] }[]
    ) {
      const service = String(attributesOf(rs.resource?.attributes)["service.name"]);
      for (const ss of (rs.scopeSpans ?? []) as { spans?: Record<string, unknown>[] }[]) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            traceId: String(s.traceId),
            spanId: String(s.spanId),
            parentSpanId: String(s.parentSpanId ?? ""),
            name: String(s.name),
            kind: Number(s.kind),
            attributes: attributesOf(s.attributes as KeyValue[]),
            links: ((s.links ?? []) as { traceId: string; spanId: string }[]).map((l) => ({
              traceId: l.traceId,
              spanId: l.spanId,
            })),
            status: (s.status ?? {}) as ReceivedSpan["status"],
          });
        }
      }
    }
  }

  #metrics(body: { resourceMetrics?: unknown[] }): void {
    for (
      const rm of (body.resourceMetrics ?? []) as { resource?: { attributes?: KeyValue[] }; scopeMetrics?: unknown[] }[]
    ) {
      const service = String(attributesOf(rm.resource?.attributes)["service.name"]);
      for (const sm of (rm.scopeMetrics ?? []) as { metrics?: Record<string, unknown>[] }[]) {
        for (const m of sm.metrics ?? []) {
          const histogram = m.histogram as { dataPoints?: { count?: string | number; attributes?: KeyValue[] }[] };
          for (const point of histogram?.dataPoints ?? []) {
            this.points.push({
              service,
              metric: String(m.name),
              unit: String(m.unit ?? ""),
              count: Number(point.count ?? 0),
              attributes: attributesOf(point.attributes),
            });
          }
        }
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.shutdown();
  }
}

/** The OTel environment of a process exporting to `receiver` as `service`. */
function otelEnv(receiver: OtlpReceiver, service: string): Record<string, string> {
  return {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    // Deno flushes on exit, each export bounded by this (its default is 10 s per signal: traces, metrics, logs).
    // No short OTEL_METRIC_EXPORT_INTERVAL: the histograms arrive with that flush, and Deno 2.9.6 sometimes never exits
    // when a periodic export is under way as it exits (11 of 157 runs with a 500 ms interval, none of 90 without).
    OTEL_EXPORTER_OTLP_TIMEOUT: "5000",
    OTEL_SERVICE_NAME: service,
  };
}

const BASE_ENV = { RUST_BACKTRACE: "0", NO_COLOR: "1", MCP_SECRET_KEY: SECRET, MCP_GATEWAY_SECRET: GATEWAY_SECRET };

/**
 * A process of this test, its stdout read line by line; killed after 5 minutes at the latest (the machine may be
 * loaded), or 30 s after it was asked to stop.
 */
class Process {
  readonly child: Deno.ChildProcess;
  readonly output: LineReader;
  readonly #stderr: Promise<string>;
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #name: string;

  constructor(name: string, args: string[], env: Record<string, string>) {
    this.#name = name;
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ...args],
      env: { ...BASE_ENV, ...env },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.output = new LineReader(this.child.stdout);
    this.#stderr = new Response(this.child.stderr).text();
    this.#timer = setTimeout(() => this.child.kill("SIGKILL"), 300_000);
  }

  /**
   * Stops it with SIGTERM (Deno exports what it holds on exit) and waits for exit 0; its output is read meanwhile, so a
   * full pipe cannot hold it, and a failure names the process, the time it took and its last output lines.
   */
  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* gone */ }
    clearTimeout(this.#timer);
    const started = performance.now();
    const stopping = setTimeout(() => this.child.kill("SIGKILL"), 30_000);
    const rest = this.output.rest();
    const status = await this.child.status;
    clearTimeout(stopping);
    const output = [...this.output.lines, ...(await rest).split("\n")].filter((l) => l !== "").slice(-20);
    const stderr = await this.#stderr;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    assert.equal(
      status.code,
      0,
      `${this.#name} exited with ${status.code} ${seconds} s after SIGTERM\nstdout:\n${
        output.join("\n")
      }\nstderr:\n${stderr}`,
    );
  }
}

/** Starts a demo member (`examples/member_server.ts`) and returns its URLs. */
async function startMember(
  serverId: string,
  receiver: OtlpReceiver,
): Promise<{ process: Process; control: string; data: string }> {
  const process = new Process(
    `member ${serverId}`,
    [MEMBER, "--server-id", serverId, "--control-port", "0", "--data-port", "0", "--log-level", "warn"],
    otelEnv(receiver, `member-${serverId}`),
  );
  const lines = await process.output.until((l) => l.includes("listening:"));
  const match = /control (\S+) data (\S+)/.exec(lines.find((l) => l.includes("listening:"))!)!;
  return { process, control: match[1]!, data: match[2]! };
}

/** POSTs a 2026-07-28 `tools/call` of `alpha__echo` (extra HTTP headers, extra `_meta`) and returns the body. */
async function postModern(
  url: string,
  text: string,
  headers: Record<string, string>,
  meta: Record<string, unknown> = {},
): Promise<string> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${await gatewayToken()}`,
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": "tools/call",
      "mcp-name": "alpha__echo",
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: {
        name: "alpha__echo",
        arguments: { text },
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientCapabilities": {},
          "io.modelcontextprotocol/clientInfo": { name: "raw-client", version: "1.0.0" },
          ...meta,
        },
      },
    }),
  });
  assert.equal(response.status, 200);
  return await response.text();
}

const KIND_SERVER = 2;
const KIND_CLIENT = 3;

function hex(bytes: number): string {
  return crypto.getRandomValues(new Uint8Array(bytes)).toHex();
}

/**
 * Two members, `alpha` reached over its control channel only and `beta` over its data channel only, behind a gateway
 * that speaks `era` to them (the CLI with `members[].era: "legacy"`; `tests/fixtures/otel_gateway.ts` for modern); four
 * calls, then every span and histogram point checked.
 */
async function scenario(era: "legacy" | "modern"): Promise<void> {
  await using receiver = new OtlpReceiver();
  const alpha = await startMember("alpha", receiver);
  const beta = await startMember("beta", receiver);
  const processes = [alpha.process, beta.process];
  // Each call carries the client's own trace context in `_meta`: the gateway continues that trace.
  const calls = { alpha: { traceId: hex(16), parent: hex(8) }, beta: { traceId: hex(16), parent: hex(8) } };
  const toolError = { traceId: hex(16), parent: hex(8) };
  const header = { traceId: hex(16), parent: hex(8) };
  const modernMeta = { traceId: hex(16), parent: hex(8) };
  const discover = { traceId: hex(16), parent: hex(8) };
  try {
    const members = [
      { serverId: "alpha", endpoints: { control: alpha.control } },
      { serverId: "beta", endpoints: { data: beta.data } },
    ];
    let url: string;
    if (era === "legacy") {
      const dir = await Deno.makeTempDir();
      const file = `${dir}/federation.json`;
      await Deno.writeTextFile(
        file,
        // The CLI speaks modern first by default: these members are asked for their 2025-11-25 era.
        JSON.stringify({
          gateway: { port: 0, auth: { secretEnv: "MCP_GATEWAY_SECRET" } },
          members: members.map((member) => ({ ...member, era })),
        }),
      );
      const gateway = new Process(
        "gateway CLI",
        [CLI, "--config", file, "--log-format", "json", "--log-level", "warn"],
        otelEnv(receiver, "gateway"),
      );
      processes.push(gateway);
      const lines = await gateway.output.until((l) => l.includes('"msg":"gateway '));
      url = /"msg":"gateway (\S+)/.exec(lines.find((l) => l.includes('"msg":"gateway '))!)![1]!;
    } else {
      const gateway = new Process("gateway", [GATEWAY, JSON.stringify({ era, members })], otelEnv(receiver, "gateway"));
      processes.push(gateway);
      const lines = await gateway.output.until((l) => l.startsWith("gateway "));
      url = lines.find((l) => l.startsWith("gateway "))!.slice("gateway ".length);
    }

    const client = await connectClient(url, { token: await gatewayToken() });
    for (const [member, trace] of Object.entries(calls)) {
      const result = await client.callTool({
        name: `${member}__echo`,
        arguments: { text: `via ${member}` },
        _meta: { traceparent: `00-${trace.traceId}-${trace.parent}-01` },
      });
      assert.equal(textOf(result), `via ${member}`);
    }
    // A tool error is an outcome too (`error.type` `tool_error`): `add` with an argument of the wrong type.
    const failed = await client.callTool({
      name: "beta__add",
      arguments: { a: "not a number", b: 1 },
      _meta: { traceparent: `00-${toolError.traceId}-${toolError.parent}-01` },
    });
    assert.equal(failed.isError, true);
    await client.ping(); // answered by the SDK in the session: traced at the session's transport
    await client.close();

    // 2026-07-28 requests: one with the trace context in its HTTP `traceparent` header only, one with it in `_meta`.
    const viaHeaderText = await postModern(url, "via header", {
      traceparent: `00-${header.traceId}-${header.parent}-01`,
    });
    assert.match(viaHeaderText, /via header/);
    const viaMetaText = await postModern(url, "via meta", {}, {
      traceparent: `00-${modernMeta.traceId}-${modernMeta.parent}-01`,
    });
    assert.match(viaMetaText, /via meta/);
    // `server/discover` is answered by the SDK: traced where the gateway's modern endpoint sees the method.
    const discovered = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${await gatewayToken()}`,
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "server/discover",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 8,
        method: "server/discover",
        params: {
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": { name: "raw-client", version: "1.0.0" },
            traceparent: `00-${discover.traceId}-${discover.parent}-01`,
          },
        },
      }),
    });
    assert.equal(discovered.status, 200, await discovered.clone().text());
    await discovered.body?.cancel();
  } finally {
    // Deno exports the spans and metrics it holds when each process exits.
    for (const process of processes.reverse()) await process.stop();
  }

  // The requests the gateway answers without a member have their server spans too.
  const gatewayServer = receiver.spans.filter((s) => s.service === "gateway" && s.kind === KIND_SERVER);
  const served = gatewayServer.map((s) => s.name).join("\n");
  for (const method of ["initialize", "ping"]) {
    const span = gatewayServer.find((s) => s.name === method);
    assert.ok(span, `${method} span:\n${served}`);
    assert.equal(span.attributes["mcp.method.name"], method);
  }
  const discoverSpan = gatewayServer.find((s) => s.name === "server/discover");
  assert.ok(discoverSpan, `server/discover span:\n${served}`);
  assert.equal(discoverSpan.traceId, discover.traceId);
  assert.equal(discoverSpan.parentSpanId, discover.parent);

  for (const [member, channel] of [["alpha", "control"], ["beta", "data"]] as const) {
    const trace = calls[member];
    const spans = receiver.spans.filter((s) => s.traceId === trace.traceId);
    const names = spans.map((s) => `${s.service} ${s.kind} ${s.name}`).join("\n");
    // The gateway's server span: a child of the client's span, named after the federated tool.
    const gatewaySpan = spans.find((s) =>
      s.service === "gateway" && s.kind === KIND_SERVER && s.name === `tools/call ${member}__echo`
    );
    assert.ok(gatewaySpan, names);
    assert.equal(gatewaySpan.parentSpanId, trace.parent);
    assert.equal(gatewaySpan.attributes["mcp.method.name"], "tools/call");
    assert.equal(gatewaySpan.attributes["gen_ai.tool.name"], `${member}__echo`);
    assert.equal(gatewaySpan.attributes["federation.member.id"], member);
    assert.equal(typeof gatewaySpan.attributes["jsonrpc.request.id"], "string");
    // The session, by a fingerprint of its id (the sealed id itself is a credential of sorts).
    assert.match(String(gatewaySpan.attributes["mcp.session.id"]), /^[0-9a-f]{16}$/);
    assert.equal(gatewaySpan.attributes["error.type"], undefined);
    // The proxy's client span: a child of the gateway's, on the member's channel, in its era.
    const proxySpan = spans.find((s) =>
      s.service === "gateway" && s.kind === KIND_CLIENT && s.name === "tools/call echo"
    );
    assert.ok(proxySpan, names);
    assert.equal(proxySpan.parentSpanId, gatewaySpan.spanId);
    assert.equal(proxySpan.attributes["federation.member.id"], member);
    assert.equal(proxySpan.attributes["federation.channel"], channel);
    assert.equal(proxySpan.attributes["federation.era"], era);
    assert.equal(proxySpan.attributes["gen_ai.tool.name"], "echo");
    // The member's server span, in the member's process: a child of the proxy's span, from `_meta`.
    const memberSpan = spans.find((s) =>
      s.service === `member-${member}` && s.kind === KIND_SERVER && s.name === "tools/call echo"
    );
    assert.ok(memberSpan, names);
    assert.equal(memberSpan.parentSpanId, proxySpan.spanId);
    assert.equal(memberSpan.attributes["federation.channel"], channel);
    assert.equal(
      memberSpan.attributes["network.protocol.name"],
      channel === "control" ? "websocket" : "http",
    );
  }

  // The tool error: every span of the call says so, the gateway's included (the result went back as it was).
  const failedSpans = receiver.spans.filter((s) => s.traceId === toolError.traceId && s.name.startsWith("tools/call"));
  assert.equal(failedSpans.length, 3, JSON.stringify(failedSpans));
  for (const span of failedSpans) {
    assert.equal(span.attributes["error.type"], "tool_error", span.name);
    assert.equal(span.status.code, 2, span.name); // ERROR
  }

  // The HTTP header's trace: Deno.serve's HTTP span continues it, and the gateway's MCP span is its child.
  const viaHeader = receiver.spans.filter((s) => s.traceId === header.traceId);
  const httpSpan = viaHeader.find((s) => s.service === "gateway" && s.parentSpanId === header.parent);
  assert.ok(httpSpan, JSON.stringify(viaHeader.map((s) => s.name)));
  const modernSpan = viaHeader.find((s) => s.service === "gateway" && s.name === "tools/call alpha__echo");
  assert.ok(modernSpan, JSON.stringify(viaHeader.map((s) => s.name)));
  assert.equal(modernSpan.parentSpanId, httpSpan.spanId);
  assert.equal(modernSpan.attributes["mcp.protocol.version"], "2026-07-28");
  assert.ok(viaHeader.some((s) => s.service === "member-alpha" && s.name === "tools/call echo"));

  // A 2026-07-28 client's `_meta` trace context is the parent; the HTTP request's span is a link.
  const viaMeta = receiver.spans.filter((s) => s.traceId === modernMeta.traceId);
  const metaSpan = viaMeta.find((s) => s.service === "gateway" && s.name === "tools/call alpha__echo");
  assert.ok(metaSpan, JSON.stringify(viaMeta.map((s) => s.name)));
  assert.equal(metaSpan.parentSpanId, modernMeta.parent);
  assert.equal(metaSpan.links.length, 1);
  assert.ok(viaMeta.some((s) => s.service === "member-alpha" && s.name === "tools/call echo"));

  // The histograms, in seconds, per method and tool; the client one carries the channel.
  const server = receiver.points.filter((p) => p.metric === "mcp.server.operation.duration");
  const client = receiver.points.filter((p) => p.metric === "mcp.client.operation.duration");
  for (const member of ["alpha", "beta"]) {
    const atGateway = server.find((p) =>
      p.service === "gateway" && p.attributes["gen_ai.tool.name"] === `${member}__echo`
    );
    assert.ok(atGateway && atGateway.count >= 1 && atGateway.unit === "s", JSON.stringify(server));
    assert.equal(atGateway.attributes["mcp.method.name"], "tools/call");
    const atMember = server.find((p) =>
      p.service === `member-${member}` && p.attributes["gen_ai.tool.name"] === "echo"
    );
    assert.ok(atMember && atMember.count >= 1, JSON.stringify(server));
  }
  for (const channel of ["control", "data"]) {
    const sent = client.find((p) => p.attributes["federation.channel"] === channel && p.attributes["gen_ai.tool.name"]);
    assert.ok(sent && sent.count >= 1 && sent.unit === "s", JSON.stringify(client));
  }
}

Deno.test("OpenTelemetry: one call through the gateway CLI is one trace (gateway, proxy, member processes) over each channel, 2025-11-25 members; the duration histograms", async () => {
  await scenario("legacy");
});

Deno.test("OpenTelemetry: the same trace and histograms with 2026-07-28 members (stateless calls, trace context in _meta)", async () => {
  await scenario("modern");
});
