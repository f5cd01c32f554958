// Internal: the request handlers every gateway `Server` shares, whatever the era: the lists, `tools/call`,
// `resources/read`, `prompts/get` and `completion/complete`, each calling the federated catalog. One path per
// request: the name or URI is resolved once, the call is recorded as in progress, and the catalog is called with the
// resolved origin. Progress, cancellation (`ctx.mcpReq.signal`) and the client's `_meta` (without the project's
// reserved keys) are passed on; calls are made on behalf of the client's token subject.
//
// What differs per era comes in the scope:
// - a 2025-11-25 session (its `ClientSession`): activity for the idle sweep, and the session's own handlers for what
//   a member asks or logs during a call (`SessionHub.relate`); the proxy fulfils a modern member's `input_required`.
// - a 2026-07-28 request: list results carry the merged cache hint; the client's envelope (capabilities, info, log
//   level) is forwarded so the member sees the downstream client; a member's `input_required` result is relayed to
//   the client with its `requestState` sealed (member id inside), and a retry is opened and routed to that member.
import {
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  isInputRequiredResult,
  LOG_LEVEL_META_KEY,
  type LoggingLevel,
  MissingRequiredClientCapabilityError,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  type Server,
  SERVER_INFO_META_KEY,
  type ServerContext,
  type Tool,
} from "../core/_sdk.ts";
import { isRecord } from "../core/_json.ts";
import type { CatalogCallOptions } from "../proxy/catalog.ts";
import type { CallIdentity, Progress } from "../proxy/call_options.ts";
import { CLIENT_ENVELOPE_KEYS } from "../proxy/_requests.ts";
import type { SessionHub } from "./_hub.ts";
import { toMcpError } from "./_errors.ts";
import { type CacheableList, cacheHint, type ModernCallOptions } from "./_proxy_modern.ts";
import { InvalidRequestStateError, type RequestStateSealer } from "./_sealed_state.ts";
import { openRetry, relayInputRequired, unanswerable } from "./_input_required.ts";
import { type BridgedCall, type BridgeStep, type InputBridge, roundResult } from "./_input_bridge.ts";
import { runnableTools } from "./_tasks.ts";
import { unavailableToolResult } from "./_unavailable.ts";
import { annotateOperation, type McpOperation, traceServerOperation } from "../core/_telemetry.ts";

type Meta = Record<string, unknown> & { progressToken?: string | number };

/**
 * What the handlers read of a request's context: the SDK's `ServerContext`, or the one the gateway builds for a call
 * it answers without the SDK's server machinery (`_modern_plain_call.ts`, `_legacy_plain_call.ts`).
 */
export interface HandlerContext {
  sessionId?: string | undefined;
  http?: { req?: Request | undefined } | undefined;
  mcpReq: Pick<
    ServerContext["mcpReq"],
    "id" | "signal" | "notify" | "_meta" | "envelope" | "inputResponses" | "requestState"
  >;
}

/**
 * The project's reserved `_meta` namespace (the user token, the related request, origins): only the proxy and the
 * member write it, so what a client sends under it never reaches a member.
 */
const RESERVED_META_PREFIX = "io.github.federated-mcp/";

const LEVELS: LoggingLevel[] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/**
 * A member's result without the member's `serverInfo` stamp (the same object when it has none): a 2026-07-28 server
 * names itself under `SERVER_INFO_META_KEY` in its results, and the client must see the gateway's (stamped where it
 * is absent, by the SDK or by `_modern_plain_call.ts`).
 */
function withoutMemberStamp(result: unknown): unknown {
  if (!isRecord(result) || !isRecord(result._meta) || !(SERVER_INFO_META_KEY in result._meta)) return result;
  const { [SERVER_INFO_META_KEY]: _member, ...meta } = result._meta;
  const { _meta: _old, ...rest } = result;
  return Object.keys(meta).length === 0 ? rest : { ...rest, _meta: meta };
}

/** The code of a missing client capability (2026-07-28 `MissingRequiredClientCapabilityError`). */
const MISSING_CAPABILITY = -32021;

/** A client's `_meta` without the reserved keys. */
function clientMeta(meta: Meta): Meta {
  return Object.fromEntries(Object.entries(meta).filter(([key]) => !key.startsWith(RESERVED_META_PREFIX))) as Meta;
}

/** The handlers of what a member sends during one call, and the end of the call's in-progress record. */
export interface CallRelation {
  relation: Pick<CatalogCallOptions, "onrequest" | "onlog">;
  end: () => void;
}

/** What a 2026-07-28 request adds: the subject its state is sealed for, and the sealer. */
export interface ModernScope {
  /** The token subject of the request (a retry must come from the same one). */
  sub: string | undefined;
  sealer: RequestStateSealer;
  /** Bridges a 2025-11-25 member's requests during a call into rounds (absent: they are refused). */
  bridge?: InputBridge | undefined;
}

/** What the handlers of one server share. */
export interface HandlerScope {
  hub: SessionHub;
  callTimeout: number | undefined;
  /** The user calls are made for (`CallOptions.onBehalfOf`). */
  identity: CallIdentity | undefined;
  /** Every request passes here first (a session records its activity). */
  touch(): void;
  /** A call routed to a member begins. */
  begin(ctx: HandlerContext): CallRelation;
  /** Set on a 2026-07-28 request's server; undefined on a 2025-11-25 session's. */
  modern?: ModernScope | undefined;
  /**
   * Set on a 2025-11-25 session's handlers: the envelope keys its calls carry to a 2026-07-28 member, the client's
   * capabilities and info as its initialize stated them (`_legacy_envelope.ts`).
   */
  clientEnvelope?: (() => Record<string, unknown> | undefined) | undefined;
  /**
   * Projects a tool result carrying `structuredContent` for the client's era, given the tool's advertised output
   * schema (a 2025-11-25 session's `Server.projectCallToolResult`: a non-object value is wrapped as `{ result }`,
   * as `tools/list` shows its schema to that client).
   */
  project?: ((result: CallToolResult, outputSchema: Tool["outputSchema"]) => CallToolResult) | undefined;
}

/** The envelope of a modern request as a record (typed `{}` by the SDK). */
function envelopeOf(ctx: HandlerContext): Record<string, unknown> {
  return (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
}

/**
 * What a member sends during a modern client's call: log lines go on the request's own response stream when the
 * client's envelope asked for a level; a request (a 2025-era member's elicitation, sampling or roots) cannot reach
 * a 2026-07-28 client, which takes input only through `input_required` results, and is refused.
 */
export function modernRelation(ctx: HandlerContext): CallRelation["relation"] {
  const level = envelopeOf(ctx)[LOG_LEVEL_META_KEY];
  const threshold = typeof level === "string" ? LEVELS.indexOf(level as LoggingLevel) : -1;
  return {
    onrequest: (request) =>
      Promise.reject(
        new ProtocolError(
          ProtocolErrorCode.MethodNotFound,
          `The federation gateway cannot forward '${request.method}' from server '${request.serverId}' to a 2026-07-28 client`,
        ),
      ),
    onlog: (message) => {
      if (threshold < 0 || LEVELS.indexOf(message.level as LoggingLevel) < threshold) return;
      const logger = message.logger === undefined ? message.serverId : `${message.serverId}/${message.logger}`;
      ctx.mcpReq.notify({
        method: "notifications/message",
        params: { level: message.level, logger, data: message.data },
      })
        .catch(() => {});
    },
  };
}

/** Call options of one client request: its cancellation, progress token, `_meta`, timeout and relation. */
function callOptions(
  meta: Meta | undefined,
  ctx: HandlerContext,
  scope: HandlerScope,
  relation: CallRelation["relation"],
): ModernCallOptions {
  const options: ModernCallOptions = { ...relation, signal: ctx.mcpReq.signal };
  if (scope.identity) options.onBehalfOf = scope.identity;
  if (scope.callTimeout !== undefined) options.timeout = scope.callTimeout;
  let forwarded: Meta | undefined = meta ? clientMeta(meta) : undefined;
  if (scope.modern) {
    const envelope = envelopeOf(ctx);
    for (const key of CLIENT_ENVELOPE_KEYS) {
      if (envelope[key] !== undefined) (forwarded ??= {})[key] = envelope[key];
    }
  } else {
    // What the session's initialize stated wins over anything its client wrote under those keys.
    const envelope = scope.clientEnvelope?.();
    if (envelope) forwarded = { ...forwarded, ...envelope };
  }
  if (forwarded) options.meta = forwarded;
  const token = meta?.progressToken;
  if (token !== undefined) {
    options.onprogress = (progress: Progress) => {
      const params: Record<string, unknown> = { progressToken: token, progress: progress.progress };
      if (progress.total !== undefined) params.total = progress.total;
      if (progress.message !== undefined) params.message = progress.message;
      ctx.mcpReq.notify({ method: "notifications/progress", params }).catch(() => {});
    };
  }
  return options;
}

/** What a 2026-07-28 client is told of a member's -32042 (the SDK's words, so that every path says the same). */
const URL_ELICITATION_UNAVAILABLE =
  "URL elicitation cannot be signalled by throwing UrlElicitationRequiredError on protocol revision 2026-07-28: return inputRequired({ inputRequests: { …: inputRequired.elicitUrl(...) } }) from the handler instead. The urlElicitationRequired error (-32042) of earlier revisions is not available on this revision.";

/**
 * Maps a failure to the JSON-RPC error the client receives; a modern client gets a member's `-32021` as the typed
 * error (HTTP 400). A refused `requestState` (`InvalidRequestStateError`) is already the SDK's `-32602`.
 */
function clientError(error: unknown, modern: boolean): Error {
  const mapped = toMcpError(error);
  if (modern && mapped.code === ProtocolErrorCode.UrlElicitationRequired) {
    // 2026-07-28 has no -32042 (a 2025-11-25 member's "open this URL first"): the internal error the SDK words.
    return new ProtocolError(ProtocolErrorCode.InternalError, URL_ELICITATION_UNAVAILABLE);
  }
  if (mapped.code === MISSING_CAPABILITY && !(mapped instanceof MissingRequiredClientCapabilityError)) {
    const required = isRecord(mapped.data) && isRecord(mapped.data.requiredCapabilities)
      ? mapped.data.requiredCapabilities as ClientCapabilities
      : {};
    if (modern) return new MissingRequiredClientCapabilityError({ requiredCapabilities: required }, mapped.message);
    // 2025-11-25 has no -32021 (a 2026-07-28 member, told this client's capabilities, refused to ask it): the client
    // gets what the gateway answers when it cannot ask a client for a member itself (_hub.ts).
    const names = Object.keys(required).map((name) => `'${name}'`).join(", ") || "it needs";
    return new ProtocolError(
      ProtocolErrorCode.MethodNotFound,
      `No client of the federation gateway supports the input this call needs: the calling client did not declare capability ${names} (${mapped.message})`,
    );
  }
  return mapped;
}

/** A request as its span describes it (`_telemetry.ts`): method, name or URI, ids, protocol version, transport. */
function operationOf(method: string, target: string | undefined, ctx: HandlerContext): McpOperation {
  const version = envelopeOf(ctx)[PROTOCOL_VERSION_META_KEY] ?? ctx.http?.req?.headers.get("mcp-protocol-version");
  return {
    method,
    target,
    requestId: ctx.mcpReq.id,
    sessionId: ctx.sessionId,
    protocolVersion: typeof version === "string" ? version : undefined,
    attributes: ctx.http
      ? { "network.protocol.name": "http", "network.transport": "tcp" }
      : { "network.transport": "pipe" },
  };
}

/** One routed call: what it names for the client and on the member. */
interface Routed {
  method: "tools/call" | "prompts/get" | "resources/read";
  /** The federated name or URI (what the client called). */
  name: string;
  /** The member. */
  serverId: string;
  /** The name or URI on the member. */
  memberName: string;
}

/** A `tools/call` request as the handler reads it (the SDK's parsed request, or the plain-call path's). */
export interface ToolCallRequest {
  method: string;
  params: {
    name: string;
    arguments?: Record<string, unknown> | undefined;
    _meta?: Record<string, unknown> | undefined;
  };
}

/** The shared handlers of one scope. */
export interface CatalogHandlers {
  /** Answers a `tools/call` (the result as the member gave it, or an error thrown as a JSON-RPC error). */
  callTool(request: ToolCallRequest, ctx: HandlerContext): Promise<unknown>;
  /** Registers every shared handler on `server` (a 2025 session's, or a 2026 request's). */
  register(server: Server): void;
}

/**
 * Registers the shared handlers on `server`.
 *
 * @param server A gateway server (a 2025 session's, or a 2026 request's).
 * @param scope What its handlers share.
 */
export function registerCatalogHandlers(server: Server, scope: HandlerScope): void {
  catalogHandlers(scope).register(server);
}

/**
 * The shared handlers of `scope`.
 *
 * @param scope What its handlers share.
 */
export function catalogHandlers(scope: HandlerScope): CatalogHandlers {
  const catalog = scope.hub.catalog;
  const modern = scope.modern;

  /**
   * Runs a handler: activity recorded, failures mapped to JSON-RPC errors, the request traced as a server span (its
   * parent: the trace context of the client's `_meta`, else the HTTP request's).
   */
  function run<T>(
    request: { method: string; params?: { _meta?: unknown } | undefined },
    ctx: HandlerContext,
    target: string | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    scope.touch();
    return traceServerOperation(
      operationOf(request.method, target, ctx),
      request.params?._meta ?? ctx.mcpReq._meta,
      async () => {
        try {
          return await work();
        } catch (error) {
          throw clientError(error, modern !== undefined);
        }
      },
    );
  }

  /** A list, with the members' merged cache hint on a modern request. */
  function list<K extends string>(key: K, hint: CacheableList, read: () => Promise<unknown[]>) {
    return (request: { method: string; params?: { _meta?: unknown } | undefined }, ctx: HandlerContext) =>
      run(request, ctx, undefined, async () => {
        const items = await read();
        return { [key]: items, ...(modern ? cacheHint(catalog, hint) : {}) } as Record<K, never>;
      });
  }

  /**
   * Runs a routed call. On a modern request: a retry's sealed state is opened (it must name the member the name
   * resolves to), the round's answers go to the member with its own state, and a member's `input_required` result
   * is relayed with its state sealed.
   */
  async function routed(
    ctx: HandlerContext,
    meta: Meta | undefined,
    target: Routed,
    call: (options: ModernCallOptions) => Promise<unknown>,
  ): Promise<unknown> {
    const { relation, end } = scope.begin(ctx);
    annotateOperation({ "federation.member.id": target.serverId });
    try {
      const options = callOptions(meta, ctx, scope, relation);
      if (!modern) return withoutMemberStamp(await call(options));
      options.allowInputRequired = true;
      const requestState = ctx.mcpReq.requestState<unknown>();
      const retry = await openRetry(
        {
          ...(requestState === undefined ? {} : { requestState }),
          ...(ctx.mcpReq.inputResponses === undefined ? {} : { inputResponses: ctx.mcpReq.inputResponses }),
        },
        { sub: modern.sub, method: target.method, name: target.name, sealer: modern.sealer },
      );
      const bridged: BridgedCall = {
        member: target.serverId,
        method: target.method,
        name: target.name,
        sub: modern.sub,
      };
      const clientCapabilities = envelopeOf(ctx)[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
      if (retry) {
        if (retry.member !== target.serverId) {
          throw new InvalidRequestStateError("call");
        }
        if (retry.exchange !== undefined) {
          // A round of a 2025-11-25 member's requests: the answers go to its parked call.
          if (!modern.bridge) throw new InvalidRequestStateError("call");
          const step = await modern.bridge.continue(retry.exchange, bridged, retry.inputResponses, ctx.mcpReq.signal);
          return step.done ? withoutMemberStamp(step.result) : await roundResult(step, bridged, modern.sealer);
        }
        if (retry.inputResponses !== undefined) options.inputResponses = retry.inputResponses;
        if (retry.requestState !== undefined) options.requestState = retry.requestState;
      } else if (ctx.mcpReq.inputResponses !== undefined) {
        // Answers without a state: the member asked statelessly; they go to it as they are.
        options.inputResponses = ctx.mcpReq.inputResponses;
      }
      let step: BridgeStep;
      // A 2026-07-28 member asks with `input_required` results, never with requests: it needs no bridge.
      if (modern.bridge && scope.hub.proxy.getServerStatus(target.serverId)?.era !== "modern") {
        // A 2025-11-25 member may ask during the call: its requests become the client's rounds.
        step = await modern.bridge.start(
          bridged,
          (handlers) => call({ ...options, ...handlers }),
          ctx.mcpReq.signal,
          (request) => unanswerable(request, clientCapabilities),
        );
        if (!step.done) return await roundResult(step, bridged, modern.sealer);
      } else {
        step = { done: true, result: await call(options) };
      }
      const result = withoutMemberStamp(step.result);
      if (!isInputRequiredResult(result)) return result;
      return await relayInputRequired(result, {
        member: target.serverId,
        memberName: target.memberName,
        method: target.method,
        name: target.name,
        sub: modern.sub,
        clientCapabilities,
        sealer: modern.sealer,
      });
    } finally {
      end();
    }
  }

  function callTool(request: ToolCallRequest, ctx: HandlerContext): Promise<unknown> {
    return run(request, ctx, request.params.name, async () => {
      const { name, arguments: args = {}, _meta } = request.params;
      try {
        const origin = await catalog.resolveTool(name);
        const target: Routed = { method: "tools/call", name, serverId: origin.serverId, memberName: origin.name };
        const result = await routed(
          ctx,
          _meta as Meta | undefined,
          target,
          (options) => catalog.callTool(name, args, { ...options, origin }),
        );
        if (!scope.project || !isRecord(result) || result.structuredContent === undefined) return result;
        const tool = await scope.hub.tools.find(name).catch(() => undefined);
        return scope.project(result as CallToolResult, tool?.outputSchema);
      } catch (error) {
        // A tool whose member cannot be reached fails in a way the model can read (_unavailable.ts).
        const result = unavailableToolResult(name, error, scope.hub.proxy);
        if (result) return result;
        throw error;
      }
    });
  }

  function register(server: Server): void {
    server.setRequestHandler(
      "tools/list",
      (request, ctx) =>
        list(
          "tools",
          "tools",
          async () => runnableTools(await catalog.listTools(), modern ? envelopeOf(ctx) : undefined),
        )(request, ctx),
    );
    server.setRequestHandler("resources/list", list("resources", "resources", () => catalog.listResources()));
    server.setRequestHandler(
      "resources/templates/list",
      list("resourceTemplates", "resourceTemplates", () => catalog.listResourceTemplates()),
    );
    server.setRequestHandler("prompts/list", list("prompts", "prompts", () => catalog.listPrompts()));

    server.setRequestHandler("tools/call", (request, ctx) => callTool(request, ctx) as never);

    server.setRequestHandler("resources/read", (request, ctx) =>
      run(request, ctx, request.params.uri, async () => {
        const { uri, _meta } = request.params;
        const origin = await catalog.resolveResource(uri);
        const target: Routed = {
          method: "resources/read",
          name: uri,
          serverId: origin.serverId,
          memberName: origin.uri,
        };
        return await routed(
          ctx,
          _meta as Meta | undefined,
          target,
          (options) => catalog.readResource(uri, { ...options, origin }),
        ) as never;
      }));

    server.setRequestHandler("prompts/get", (request, ctx) =>
      run(request, ctx, request.params.name, async () => {
        const { name, arguments: args = {}, _meta } = request.params;
        const origin = await catalog.resolvePrompt(name);
        const target: Routed = { method: "prompts/get", name, serverId: origin.serverId, memberName: origin.name };
        return await routed(ctx, _meta as Meta | undefined, target, (options) =>
          catalog.getPrompt(name, args, { ...options, origin })) as never;
      }));

    server.setRequestHandler("completion/complete", (request, ctx) =>
      run(request, ctx, undefined, async () => {
        const { relation, end } = scope.begin(ctx);
        try {
          return await catalog.complete(
            request.params,
            callOptions(request.params._meta as Meta | undefined, ctx, scope, relation),
          );
        } finally {
          end();
        }
      }));
  }

  return { callTool, register };
}
