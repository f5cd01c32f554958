// Internal: the one place that talks to OpenTelemetry (`npm:@opentelemetry/api`). Deno's built-in OTel
// (`OTEL_DENO=true`) registers the tracer, meter and context providers; without it the API's providers are no-ops and
// every function here returns at once after one provider check: no span, no attribute, no clock read.
//
// What is recorded follows the OpenTelemetry semantic conventions for MCP (status: development):
// - a span per MCP request, named `{mcp.method.name} {target}` (target: the tool or prompt name; a resource URI goes
//   in `mcp.resource.uri` only), kind SERVER where a request is received (gateway, member) and CLIENT where one is
//   sent (the proxy, once per attempt on a member's channel);
// - attributes `mcp.method.name`, `jsonrpc.request.id`, `mcp.session.id` (a fingerprint of the session id: see
//   `sessionFingerprint`), `mcp.protocol.version`,
//   `gen_ai.tool.name` / `gen_ai.prompt.name` / `mcp.resource.uri`, `gen_ai.operation.name` (`execute_tool`),
//   `network.transport`, `network.protocol.name`, `error.type` and `rpc.response.status_code` on failure (a tool's
//   `isError: true` result is `error.type` `tool_error`), and the project's own `federation.member.id`,
//   `federation.channel` and `federation.era`;
// - W3C trace context carried in `params._meta` (`traceparent`, `tracestate`, `baggage`): injected into every
//   request the proxy sends to a member, extracted where a request is received (the parent of the server span; the
//   transport's ambient context, e.g. Deno.serve's HTTP span, is then a link);
// - the histograms `mcp.client.operation.duration` and `mcp.server.operation.duration`, in seconds, with the
//   conventions' bucket boundaries.
//
// Never recorded: arguments, results, tokens (`gen_ai.tool.call.arguments` is opt-in in the conventions and left out).

import { redactUrls } from "./_redact.ts";
import {
  type Attributes,
  type AttributeValue,
  type Context,
  context,
  type Histogram,
  type Link,
  metrics,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { JSONRPCMessage, MessageExtraInfo, Transport, TransportSendOptions } from "./_sdk.ts";
import { isRecord } from "./_json.ts";
import { isRequest, isRequestId, isResponse } from "./_jsonrpc.ts";

/** The instrumentation scope's name (the JSR package). */
const SCOPE = "@federated-mcp/federation";

/** The bucket boundaries the MCP conventions recommend for the operation durations, in seconds. */
const DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** The protocol version key of a 2026-07-28 request's `_meta` envelope. */
const PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion";

/** The no-op tracer provider of the API, to tell "no provider registered" apart. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/** Whether a tracer provider is registered (Deno's with `OTEL_DENO=true`, or one the program set). */
export function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_TRACER_PROVIDER;
}

let instruments: { tracer: Tracer; client: Histogram; server: Histogram } | undefined;

/** The tracer and the two histograms, made once a provider is there. */
function instrumentsOf(): { tracer: Tracer; client: Histogram; server: Histogram } {
  if (instruments) return instruments;
  const meter = metrics.getMeter(SCOPE);
  const advice = { explicitBucketBoundaries: DURATION_BUCKETS };
  instruments = {
    tracer: trace.getTracer(SCOPE),
    client: meter.createHistogram("mcp.client.operation.duration", {
      unit: "s",
      description: "The duration of an MCP request as observed by the proxy, from sending it to its response",
      advice,
    }),
    server: meter.createHistogram("mcp.server.operation.duration", {
      unit: "s",
      description: "The duration of an MCP request as observed where it was received, until its response was sent",
      advice,
    }),
  };
  return instruments;
}

/** One MCP request, as a span describes it. */
export interface McpOperation {
  /** `mcp.method.name`. */
  method: string;
  /** The tool or prompt name, or the resource URI, the request names. */
  target?: string | undefined;
  /** `jsonrpc.request.id`. */
  requestId?: string | number | undefined;
  /** `mcp.session.id` (a 2025-11-25 session). */
  sessionId?: string | undefined;
  /** `mcp.protocol.version`. */
  protocolVersion?: string | undefined;
  /** Further attributes (`federation.member.id`, `federation.channel`, `network.*`, …); undefined ones are left out. */
  attributes?: Record<string, AttributeValue | undefined> | undefined;
}

/** The span name of an operation: `{method} {tool or prompt}`, else the method (a URI is high-cardinality). */
function spanName(op: McpOperation): string {
  if (op.target !== undefined && (op.method === "tools/call" || op.method === "prompts/get")) {
    return `${op.method} ${op.target}`;
  }
  return op.method;
}

/** How many tool and prompt names the histograms carry, per process; later names are recorded as `_OTHER`. */
const MAX_METRIC_NAMES = 200;
const metricNames = new Set<string>();

/** A tool or prompt name for the histograms: bounded, since a client may call any name it likes. */
export function metricName(name: string): string {
  if (metricNames.has(name)) return name;
  if (metricNames.size >= MAX_METRIC_NAMES) return "_OTHER";
  metricNames.add(name);
  return name;
}

/** The attributes of an operation, and the subset the histograms carry (bounded: no ids, at most 200 names). */
function attributesOf(op: McpOperation): { span: Attributes; metric: Attributes } {
  const metric: Attributes = { "mcp.method.name": op.method };
  // The span carries the names as they are; the histograms a bounded set of them.
  const names: Attributes = {};
  if (op.target !== undefined) {
    if (op.method === "tools/call") {
      names["gen_ai.tool.name"] = op.target;
      metric["gen_ai.tool.name"] = metricName(op.target);
      metric["gen_ai.operation.name"] = "execute_tool";
    } else if (op.method === "prompts/get") {
      names["gen_ai.prompt.name"] = op.target;
      metric["gen_ai.prompt.name"] = metricName(op.target);
    }
  }
  if (op.protocolVersion !== undefined) metric["mcp.protocol.version"] = op.protocolVersion;
  for (const [key, value] of Object.entries(op.attributes ?? {})) {
    if (value !== undefined) metric[key] = value;
  }
  const span: Attributes = { ...metric, ...names };
  if (op.target !== undefined && op.method.startsWith("resources/")) span["mcp.resource.uri"] = redactUrls(op.target);
  if (op.requestId !== undefined) span["jsonrpc.request.id"] = String(op.requestId);
  if (op.sessionId !== undefined) span["mcp.session.id"] = sessionFingerprint(op.sessionId);
  return { span, metric };
}

/**
 * What identifies a session in telemetry: a 64-bit FNV-1a fingerprint of its id, in hex. A session id is a
 * credential of sorts (the gateway's is a sealed token), so it never leaves the process as it is; the fingerprint
 * still groups a session's spans.
 */
export function sessionFingerprint(sessionId: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(sessionId)) {
    hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  }
  return hash.toString(16).padStart(16, "0");
}

/** `error.type` of a failure: the JSON-RPC code of a remote error, else the local error's code or class. */
export function errorTypeOf(error: unknown): string {
  if (isRecord(error)) {
    if (typeof error.rpcCode === "number") return String(error.rpcCode);
    if (typeof error.code === "number") return String(error.code);
    if (typeof error.code === "string" && error.code !== "") return error.code;
  }
  return error instanceof Error ? error.name : "_OTHER";
}

/** The JSON-RPC code of a failure that carries one (a remote error), for `rpc.response.status_code`. */
function rpcCodeOf(error: unknown): number | undefined {
  if (!isRecord(error)) return undefined;
  if (typeof error.rpcCode === "number") return error.rpcCode;
  return typeof error.code === "number" ? error.code : undefined;
}

/** How an operation ended. */
type Outcome =
  | { ok: true; toolError: boolean }
  | { ok: false; type: string; message: string; rpcCode?: number | undefined };

function outcomeOfResult(result: unknown): Outcome {
  return { ok: true, toolError: isRecord(result) && result.isError === true };
}

function outcomeOfError(error: unknown): Outcome {
  return {
    ok: false,
    type: errorTypeOf(error),
    message: error instanceof Error ? error.message : String(error),
    rpcCode: rpcCodeOf(error),
  };
}

/** Ends a span with its outcome and records the operation's duration. */
function finish(
  span: Span,
  histogram: Histogram,
  metric: Attributes,
  started: number,
  outcome: Outcome,
): void {
  const recorded: Attributes = { ...metric };
  if (outcome.ok) {
    if (outcome.toolError) {
      recorded["error.type"] = "tool_error";
      span.setAttribute("error.type", "tool_error");
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  } else {
    recorded["error.type"] = outcome.type;
    span.setAttribute("error.type", outcome.type);
    if (outcome.rpcCode !== undefined) {
      recorded["rpc.response.status_code"] = String(outcome.rpcCode);
      span.setAttribute("rpc.response.status_code", String(outcome.rpcCode));
    }
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message });
  }
  span.end();
  histogram.record((performance.now() - started) / 1000, recorded);
}

/** A `_meta` as a carrier for the propagator. */
const META_GETTER = {
  keys: (carrier: Record<string, unknown>): string[] => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string): string | undefined => {
    const value = carrier[key];
    return typeof value === "string" ? value : undefined;
  },
};

/** The parent of a received request's span: the trace context in its `_meta`, else the ambient context. */
function parentOf(meta: unknown): { parent: Context; links: Link[] } {
  const ambient = context.active();
  if (!isRecord(meta) || typeof meta.traceparent !== "string") return { parent: ambient, links: [] };
  const parent = propagation.extract(ambient, meta, META_GETTER);
  if (parent === ambient) return { parent: ambient, links: [] };
  // The transport's context (an HTTP span) is kept as a link, as the conventions ask.
  const transport = trace.getSpanContext(ambient);
  return { parent, links: transport ? [{ context: transport }] : [] };
}

/**
 * Runs `work` as a received MCP request (span kind SERVER): its parent is the trace context of `meta` (the
 * request's `_meta`) when it carries one, else the ambient context; `mcp.server.operation.duration` is recorded.
 *
 * @param op The request.
 * @param meta The request's `params._meta`.
 * @param work The handler.
 * @returns What `work` returns.
 */
export function traceServerOperation<T>(op: McpOperation, meta: unknown, work: () => Promise<T>): Promise<T> {
  if (!tracingOn()) return work();
  const { tracer, server } = instrumentsOf();
  const { parent, links } = parentOf(meta);
  const { span: attributes, metric } = attributesOf(op);
  const span = tracer.startSpan(spanName(op), { kind: SpanKind.SERVER, attributes, links }, parent);
  return run(span, server, metric, trace.setSpan(parent, span), work);
}

/**
 * Runs `work` as an MCP request sent to a member (span kind CLIENT, a child of the active context); inside it,
 * {@link withTraceContext} puts this span's context into the request's `_meta`. `mcp.client.operation.duration` is
 * recorded.
 *
 * @param op The request.
 * @param work Sends it.
 * @param classify Maps what `work` throws to the error its outcome is recorded as (e.g. the SDK's failure to the
 *   `FederationError` the caller will get); the thrown error itself is passed on unchanged.
 * @returns What `work` returns.
 */
export function traceClientOperation<T>(
  op: McpOperation,
  work: () => Promise<T>,
  classify?: (error: unknown) => unknown,
): Promise<T> {
  if (!tracingOn()) return work();
  const { tracer, client } = instrumentsOf();
  const parent = context.active();
  const { span: attributes, metric } = attributesOf(op);
  const span = tracer.startSpan(spanName(op), { kind: SpanKind.CLIENT, attributes }, parent);
  return run(span, client, metric, trace.setSpan(parent, span), work, classify);
}

async function run<T>(
  span: Span,
  histogram: Histogram,
  metric: Attributes,
  active: Context,
  work: () => Promise<T>,
  classify?: (error: unknown) => unknown,
): Promise<T> {
  const started = performance.now();
  try {
    const result = await context.with(active, work);
    finish(span, histogram, metric, started, outcomeOfResult(result));
    return result;
  } catch (error) {
    finish(span, histogram, metric, started, outcomeOfError(classify ? classify(error) : error));
    throw error;
  }
}

/**
 * Runs `work` outside any trace: what it starts (e.g. a catalog refresh after a member's `list_changed`) begins a
 * trace of its own instead of joining whatever request or stream happened to be active when it was triggered.
 *
 * @param work The work.
 * @returns What `work` returns.
 */
export function outsideAnyTrace<T>(work: () => T): T {
  return tracingOn() ? context.with(ROOT_CONTEXT, work) : work();
}

/**
 * Adds attributes to the span of the operation in progress (e.g. the member a federated name resolved to).
 *
 * @param attributes The attributes; undefined ones are left out.
 */
export function annotateOperation(attributes: Record<string, AttributeValue | undefined>): void {
  if (!tracingOn()) return;
  const span = trace.getActiveSpan();
  if (!span) return;
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined) span.setAttribute(key, value);
  }
}

/**
 * The params of a request with the active trace context in their `_meta` (`traceparent`, `tracestate`, `baggage`
 * replace a caller's). Without tracing, the params as they are: a downstream client's own trace context, forwarded
 * in `_meta`, still reaches the member.
 *
 * @param params A request's params.
 * @returns The params to send.
 */
export function withTraceContext<P extends Record<string, unknown>>(params: P): P {
  if (!tracingOn()) return params;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (Object.keys(carrier).length === 0) return params;
  const meta = isRecord(params._meta) ? params._meta : {};
  return { ...params, _meta: { ...meta, ...carrier } };
}

/** What the server spans of one transport say about it. */
export interface ServerTransportInfo {
  /** `network.protocol.name`: `websocket` (control), `http` (data). */
  protocol: "websocket" | "http";
  /** Further attributes (`federation.member.id`, `federation.channel`). */
  attributes?: Record<string, AttributeValue | undefined>;
  /** Only requests of these methods get a span (others are traced elsewhere). @default {every method} */
  methods?: ReadonlySet<string> | undefined;
}

interface Pending {
  span: Span;
  metric: Attributes;
  started: number;
}

/** The operation of a received request. */
function operationOf(message: Record<string, unknown> & { method: string; id: string | number }): McpOperation {
  const params = isRecord(message.params) ? message.params : {};
  const meta = isRecord(params._meta) ? params._meta : {};
  const target = typeof params.name === "string"
    ? params.name
    : typeof params.uri === "string"
    ? params.uri
    : undefined;
  const version = meta[PROTOCOL_VERSION_KEY];
  return {
    method: message.method,
    target,
    requestId: message.id,
    protocolVersion: typeof version === "string" ? version : undefined,
  };
}

/**
 * Instruments a server's transport once the server has connected it: each request received becomes a SERVER span
 * (parent: its `_meta` trace context), ended when its response is sent (a JSON-RPC error's code is `error.type`), or
 * when the transport closes first. The server's handlers run inside the span's context.
 *
 * @param transport A connected transport (its `onmessage` is the server's).
 * @param info What the spans say about the transport.
 */
export function instrumentServerTransport(transport: Transport, info: ServerTransportInfo): void {
  if (!tracingOn()) return;
  const deliver = transport.onmessage;
  const send = transport.send.bind(transport);
  const onclose = transport.onclose;
  const pending = new Map<string | number, Pending>();
  const base = { "network.protocol.name": info.protocol, "network.transport": "tcp", ...info.attributes };
  transport.onmessage = <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => {
    if (
      !isRequest(message) || !isRequestId(message.id) || pending.has(message.id) ||
      (info.methods !== undefined && !info.methods.has(message.method))
    ) {
      return deliver?.(message, extra);
    }
    const op = operationOf(message);
    op.sessionId = transport.sessionId;
    op.attributes = base;
    const { tracer } = instrumentsOf();
    const { parent, links } = parentOf(isRecord(message.params) ? message.params._meta : undefined);
    const { span: attributes, metric } = attributesOf(op);
    const span = tracer.startSpan(spanName(op), { kind: SpanKind.SERVER, attributes, links }, parent);
    pending.set(message.id, { span, metric, started: performance.now() });
    context.with(trace.setSpan(parent, span), () => deliver?.(message, extra));
  };
  transport.send = (message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> => {
    const response: Record<string, unknown> = message;
    if (isResponse(response) && isRequestId(response.id)) {
      const entry = pending.get(response.id);
      if (entry) {
        pending.delete(response.id);
        const error = isRecord(response.error) ? response.error : undefined;
        const outcome: Outcome = error
          ? {
            ok: false,
            type: String(error.code),
            message: String(error.message ?? ""),
            rpcCode: typeof error.code === "number" ? error.code : undefined,
          }
          : outcomeOfResult(response.result);
        finish(entry.span, instrumentsOf().server, entry.metric, entry.started, outcome);
      }
    }
    return send(message, options);
  };
  transport.onclose = () => {
    for (const entry of pending.values()) {
      finish(entry.span, instrumentsOf().server, entry.metric, entry.started, {
        ok: false,
        type: "connection_closed",
        message: "The connection closed before the response was sent",
      });
    }
    pending.clear();
    onclose?.();
  };
}

/**
 * Instruments every transport `server` connects (see {@link instrumentServerTransport}); the server itself when
 * tracing is off.
 *
 * @param server A server (an SDK `McpServer` or `Server`, or anything with `connect(transport)`).
 * @param info What the spans say about its transports.
 * @returns `server`.
 */
export function instrumentServer<S extends { connect(transport: Transport): Promise<void> }>(
  server: S,
  info: ServerTransportInfo,
): S {
  if (!tracingOn()) return server;
  const connect = server.connect.bind(server);
  (server as { connect(transport: Transport): Promise<void> }).connect = async (
    transport: Transport,
  ): Promise<void> => {
    await connect(transport);
    instrumentServerTransport(transport, info);
  };
  return server;
}
