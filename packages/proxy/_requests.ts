// Internal: the MCP requests behind the proxy's typed calls, as runners for one channel's client: one place that
// says how each request is sent (`tools/call` with its `_meta`, each list page, …), so that every caller, the
// catalog included, goes through the same typed call.
import {
  CallToolResultSchema,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  GetPromptResultSchema,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  ReadResourceResultSchema,
} from "../core/_sdk.ts";
import type { StandardSchemaV1 } from "../core/_sdk.ts";
import { toFederationError } from "./_errors.ts";
import type {
  CallToolResult,
  GetPromptResult,
  LoggingLevel,
  McpClient,
  McpRequestOptions,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  Tool,
} from "../core/mcp_types.ts";
import type { RequestRunner } from "./request_runner.ts";
import { type InputRounds, runInputRounds } from "./_input_required.ts";
import { type CacheHint, hintOf } from "./_cache_hint.ts";
import { traceClientOperation, tracingOn, withTraceContext } from "../core/_telemetry.ts";
import type { Channel } from "../core/errors.ts";
import { sendsHttpHeaders } from "./_channel.ts";

/** One page of a list; `nextCursor` continues it. */
export interface Page<T> {
  items: T[];
  nextCursor?: string | undefined;
  /** The page's cache hint (a modern member's). */
  hint?: CacheHint | undefined;
}

/** What a traced runner needs of its member: its id and its channels' clients. */
export interface TracedMember {
  serverId: string;
  channels: Partial<Record<Channel, { client?: McpClient | undefined }>>;
}

/** The method and the name or URI a request description (`what`: `tools/call 'echo'`, `tools/list`) names. */
function operationOfWhat(what: string): { method: string; target: string | undefined } {
  const match = /^(\S+)(?: '(.*)')?$/s.exec(what);
  return { method: match?.[1] ?? what, target: match?.[2] };
}

/**
 * `run`, traced: each attempt (one per channel tried) is a CLIENT span named after `what`, with the member, the
 * channel and the era it took, and its outcome; the runners of this file put that span's trace context in the
 * request's `_meta`. `run` itself when tracing is off.
 *
 * @param member The member called.
 * @param what The request's description (`tools/call 'echo'`).
 * @param run The runner.
 * @returns The runner to hand to the member.
 */
export function traced<T>(member: TracedMember, what: string, run: RequestRunner<T>): RequestRunner<T> {
  if (!tracingOn()) return run;
  const { method, target } = operationOfWhat(what);
  return (client, options) => {
    const channel = (Object.keys(member.channels) as Channel[]).find((kind) =>
      member.channels[kind]?.client === client
    );
    const era = client.getProtocolEra();
    return traceClientOperation(
      {
        method,
        target,
        protocolVersion: client.getNegotiatedProtocolVersion(),
        attributes: {
          "federation.member.id": member.serverId,
          "federation.channel": channel,
          "federation.era": era === undefined ? undefined : era,
          "network.protocol.name": channel === "control" ? "websocket" : channel === "data" ? "http" : undefined,
          "network.transport": channel === "stdio" ? "pipe" : "tcp",
        },
      },
      () => run(client, options),
      (raw) =>
        // Recorded as the caller will see it (`ERR_TIMEOUT`, a member's JSON-RPC code, …), not as the SDK threw it.
        toFederationError(raw, {
          serverId: member.serverId,
          channel: channel ?? "data",
          what,
          signal: options.signal,
          timeoutMs: options.timeout,
        }),
    );
  };
}

/** List requests always reach the member: the SDK client's own response cache is bypassed (the catalog has one). */
const FRESH = { cacheMode: "bypass" } as const;

/** Fetches one page of a list. */
export type PageRunner<T> = (
  client: McpClient,
  cursor: string | undefined,
  options: McpRequestOptions,
) => Promise<Page<T>>;

/**
 * The `_meta` sent to a member for a caller's `meta`: without a progress token (the SDK sets its own for
 * `onprogress`) and without a protocol version (the proxy's client states the one it negotiated with that member).
 * A modern member gets the rest as the caller's envelope: its client info, capabilities, log level and trace
 * context override the proxy client's own (the member sees the downstream client).
 */
export function forwardedMeta(meta: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!meta) return undefined;
  const { progressToken: _token, [PROTOCOL_VERSION_META_KEY]: _version, ...rest } = meta;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/**
 * The envelope keys of the client behind a call that go on to a modern member (never the protocol version: each hop
 * sets its own), and that a legacy member is not sent.
 */
export const CLIENT_ENVELOPE_KEYS = [CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, LOG_LEVEL_META_KEY] as const;

/**
 * The params of a legacy member's request: without the envelope keys of the caller's `meta` (a 2025-11-25 member has
 * no use for them, and the client behind the gateway is not named to it).
 */
function legacyParams(params: Record<string, unknown>): Record<string, unknown> {
  const meta = params._meta as Record<string, unknown> | undefined;
  if (!meta || !CLIENT_ENVELOPE_KEYS.some((key) => key in meta)) return params;
  const _meta = { ...meta };
  for (const key of CLIENT_ENVELOPE_KEYS) delete _meta[key];
  const { _meta: _dropped, ...rest } = params;
  return Object.keys(_meta).length > 0 ? { ...rest, _meta } : rest;
}

/** What a call adds for a modern member: its input rounds and the tool's definition as last listed. */
export interface ModernCall {
  /** The log level asked of the member (sent in `_meta` unless the caller's `meta` has one). */
  logLevel?: LoggingLevel | undefined;
  rounds: InputRounds;
  /** The tool's definition (its `x-mcp-header` arguments become `Mcp-Param-*` headers). */
  definition?: Tool | undefined;
}

/**
 * The params of a modern member's request: the log level asked of it added to its `_meta`; and, when nobody behind
 * the call can answer the member's input requests (no handler but perhaps a gateway's refusing one, see
 * `_refusing_handler.ts`, and the caller does not take `input_required` results itself), no client capabilities in
 * its envelope: the member then knows not to ask (the proxy client's own, stated on every other request, say that a
 * handler may answer). A caller's envelope in `meta` is kept as it is.
 */
function modernParams(params: Record<string, unknown>, modern: ModernCall): Record<string, unknown> {
  const meta = (params._meta ?? {}) as Record<string, unknown>;
  const level = modern.logLevel !== undefined && meta[LOG_LEVEL_META_KEY] === undefined;
  const { rounds } = modern;
  // (A caller's own retry, with answers or a state, is left to the member as sent.)
  const unanswerable = !rounds.allow && !rounds.handler && rounds.inputResponses === undefined &&
    rounds.requestState === undefined && meta[CLIENT_CAPABILITIES_META_KEY] === undefined;
  if (!level && !unanswerable) return params;
  const _meta = { ...meta };
  if (level) _meta[LOG_LEVEL_META_KEY] = modern.logLevel;
  if (unanswerable) _meta[CLIENT_CAPABILITIES_META_KEY] = {};
  return { ...params, _meta };
}

const paramHeaders = new WeakMap<object, boolean>();

/** Whether a tool's input schema declares `x-mcp-header` arguments (mirrored as `Mcp-Param-*` by `callTool`). */
function declaresParamHeaders(tool: Tool | undefined): boolean {
  const schema = tool?.inputSchema;
  if (schema === undefined) return false;
  let declares = paramHeaders.get(schema);
  if (declares === undefined) {
    declares = JSON.stringify(schema).includes('"x-mcp-header"');
    paramHeaders.set(schema, declares);
  }
  return declares;
}

const AS_DECODED: StandardSchemaV1<unknown, unknown> = {
  "~standard": { version: 1, vendor: "federated-mcp", validate: (value) => ({ value }) },
};

/**
 * The result schema of a 2026-07-28 `tools/call`, `prompts/get` or `resources/read`: the result as the SDK's codec
 * decoded it (as the member sent it, less its `resultType`). The codec has checked it against that revision's wire
 * schema (content blocks included) before a result schema runs, so a second zod parse would only repeat the check
 * (~10 µs per call). Any schema at all also spares the request the SDK's probe of its codec when none is given (a
 * failed parse whose error is formatted on every request, ~30 µs): a 2025-11-25 request is given the core package's
 * result schema for its method for the same reason.
 */
function asDecoded<T>(): StandardSchemaV1<unknown, T> {
  return AS_DECODED as StandardSchemaV1<unknown, T>;
}

/** A 2025-11-25 member's `method` request: without the caller's envelope keys, its result checked with `schema`. */
function legacyRequest<T>(
  client: McpClient,
  method: string,
  params: Record<string, unknown>,
  schema: StandardSchemaV1<unknown, T>,
  options: McpRequestOptions,
): Promise<T> {
  return client.request({ method, params: withTraceContext(legacyParams(params)) }, schema, options) as Promise<T>;
}

/** One round of a 2026-07-28 member's `method` request, for {@link runInputRounds}: its result as decoded. */
function modernRound(
  client: McpClient,
  method: string,
  options: McpRequestOptions,
): (params: Record<string, unknown>) => Promise<unknown> {
  return (params) => client.request({ method, params }, asDecoded(), { ...options, allowInputRequired: true });
}

/** `tools/call`, in the member's era (see {@link forwardedMeta} and {@link runInputRounds}). */
export function toolCall(
  name: string,
  args: Record<string, unknown>,
  meta: Record<string, unknown> | undefined,
  modern?: ModernCall,
): RequestRunner<CallToolResult> {
  const params: Record<string, unknown> = { name, arguments: args };
  const forwarded = forwardedMeta(meta);
  if (forwarded) params._meta = forwarded;
  return (client, options) => {
    if (!modern || client.getProtocolEra() !== "modern") {
      return legacyRequest(client, "tools/call", params, CallToolResultSchema, options) as Promise<CallToolResult>;
    }
    // The definition goes without its output schema: the proxy passes results on as the member sent them.
    const definition = modern.definition ? { ...modern.definition, outputSchema: undefined } : undefined;
    // A tool without `x-mcp-header` arguments needs none of `callTool`'s extras (header mirroring, output schema),
    // nor does any tool over a channel without HTTP headers (a WebSocket, a process): a plain request with the result
    // schema skips the SDK's per-call probe of its codec (a failed parse whose error is formatted on every call, ~5%
    // of a gateway's CPU, ~30 µs of an in-process call). Over HTTP without a definition (none listed yet, or forgotten
    // after a change) `callTool` finds the tool in its own list and retries a -32020 refusal with the headers.
    const plain = !sendsHttpHeaders(client) ||
      (modern.definition !== undefined && !declaresParamHeaders(modern.definition));
    return runInputRounds<CallToolResult>(
      withTraceContext(modernParams(params, modern)),
      plain ? modernRound(client, "tools/call", options) : (leg) =>
        client.callTool(leg as { name: string }, {
          ...options,
          allowInputRequired: true,
          ...(definition ? { toolDefinition: definition as Tool } : {}),
        }),
      modern.rounds,
    );
  };
}

/** `prompts/get`, in the member's era. */
export function promptGet(
  name: string,
  args: Record<string, string>,
  meta: Record<string, unknown> | undefined,
  modern: ModernCall,
): RequestRunner<GetPromptResult> {
  const params: Record<string, unknown> = { name, arguments: args };
  const forwarded = forwardedMeta(meta);
  if (forwarded) params._meta = forwarded;
  return (client, options) => {
    if (client.getProtocolEra() !== "modern") {
      return legacyRequest(client, "prompts/get", params, GetPromptResultSchema, options) as Promise<GetPromptResult>;
    }
    return runInputRounds<GetPromptResult>(
      withTraceContext(modernParams(params, modern)),
      modernRound(client, "prompts/get", options),
      modern.rounds,
    );
  };
}

/** `resources/read`, in the member's era; always fresh (a plain request: the SDK client's response cache is not used). */
export function resourceRead(
  uri: string,
  meta: Record<string, unknown> | undefined,
  modern: ModernCall,
): RequestRunner<ReadResourceResult> {
  const params: Record<string, unknown> = { uri };
  const forwarded = forwardedMeta(meta);
  if (forwarded) params._meta = forwarded;
  return (client, options) => {
    if (client.getProtocolEra() !== "modern") {
      return legacyRequest(client, "resources/read", params, ReadResourceResultSchema, options) as Promise<
        ReadResourceResult
      >;
    }
    return runInputRounds<ReadResourceResult>(
      withTraceContext(modernParams(params, modern)),
      modernRound(client, "resources/read", options),
      modern.rounds,
    );
  };
}

/** A list page's params, with the trace context of the attempt in `_meta` when tracing is on. */
function cursorParams(cursor: string | undefined): { cursor?: string } {
  return withTraceContext(cursor === undefined ? {} : { cursor });
}

/** A page of `tools/list`. */
export async function toolsPage(
  client: McpClient,
  cursor: string | undefined,
  options: McpRequestOptions,
): Promise<Page<Tool>> {
  const r = await client.listTools(cursorParams(cursor), { ...options, ...FRESH });
  return { items: r.tools, nextCursor: r.nextCursor, hint: hintOf(r) };
}

/** A page of `resources/list`. */
export async function resourcesPage(
  client: McpClient,
  cursor: string | undefined,
  options: McpRequestOptions,
): Promise<Page<Resource>> {
  const r = await client.listResources(cursorParams(cursor), { ...options, ...FRESH });
  return { items: r.resources, nextCursor: r.nextCursor, hint: hintOf(r) };
}

/** A page of `resources/templates/list`. */
export async function resourceTemplatesPage(
  client: McpClient,
  cursor: string | undefined,
  options: McpRequestOptions,
): Promise<Page<ResourceTemplate>> {
  const r = await client.listResourceTemplates(cursorParams(cursor), { ...options, ...FRESH });
  return { items: r.resourceTemplates, nextCursor: r.nextCursor, hint: hintOf(r) };
}

/** A page of `prompts/list`. */
export async function promptsPage(
  client: McpClient,
  cursor: string | undefined,
  options: McpRequestOptions,
): Promise<Page<Prompt>> {
  const r = await client.listPrompts(cursorParams(cursor), { ...options, ...FRESH });
  return { items: r.prompts, nextCursor: r.nextCursor, hint: hintOf(r) };
}

/** Runs page after page until the last (or a repeated cursor, which would loop forever). */
export async function paginate<T>(
  request: (run: RequestRunner<Page<T>>) => Promise<Page<T>>,
  page: PageRunner<T>,
  onHint?: (hint: CacheHint | undefined) => void,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  const seen = new Set<string>();
  do {
    const result = await request((client, options) => page(client, cursor, options));
    // The first page's hint is the list's (a later page's could only shorten it).
    if (cursor === undefined) onHint?.(result.hint);
    items.push(...result.items);
    cursor = result.nextCursor;
    if (cursor !== undefined && seen.has(cursor)) break;
    if (cursor !== undefined) seen.add(cursor);
  } while (cursor !== undefined);
  return items;
}
