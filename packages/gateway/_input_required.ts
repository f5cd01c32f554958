// Internal: Multi Round-Trip Requests (2026-07-28) through the gateway. A modern member answers `tools/call`,
// `prompts/get` or `resources/read` with `resultType: "input_required"`; the gateway hands the client the member's
// input requests (only those the client declared it can answer) and, instead of the member's own `requestState`, a
// gateway-sealed one carrying the member id, the call it belongs to and the caller. The retry may reach any replica:
// `openRetry` opens the state, checks it belongs to this call and this caller, and names the member to retry with
// the member's own state and the client's `inputResponses`.
import {
  type ClientCapabilities,
  MissingRequiredClientCapabilityError,
  ProtocolErrorCode,
  ServerProtocolError,
} from "../core/_sdk.ts";
import { isRecord } from "../core/_json.ts";
import { InvalidRequestStateError, type RequestStateSealer } from "./_sealed_state.ts";

/** What {@link relayInputRequired} needs to know about the call. */
export interface RelayInputRequiredContext {
  /** The member (serverId) that answered `input_required`. */
  member: string;
  /** The name the member knows the tool, prompt or resource by (used in messages only). */
  memberName: string;
  /** The request method (`tools/call`, `prompts/get`, `resources/read`). */
  method: string;
  /** The federated name (or URI) the client addressed. */
  name: string;
  /** The subject of the client's token (`undefined` for an anonymous client). */
  sub: string | undefined;
  /** The capabilities the client declared on this request (its `_meta` envelope). */
  clientCapabilities: ClientCapabilities | undefined;
  /** The gateway's sealer. */
  sealer: RequestStateSealer;
}

/** What {@link openRetry} needs to know about the retried call. */
export interface OpenRetryContext {
  /** The subject of the retrying client's token. */
  sub: string | undefined;
  /** The request method of the retry. */
  method: string;
  /** The federated name (or URI) the retry addresses. */
  name: string;
  /** The gateway's sealer. */
  sealer: RequestStateSealer;
}

/** A retry of an `input_required` round, opened: where it goes and what to send there. */
export interface OpenedRetry {
  /** The member that issued the state: the retry goes there. */
  member: string;
  /** The client's answers, forwarded as they are. */
  inputResponses: Record<string, unknown> | undefined;
  /** The member's own `requestState` (its original value, or `undefined` when it gave none). */
  requestState: string | undefined;
  /** The bridged exchange the state continues (a 2025-11-25 member's pending requests), when it names one. */
  exchange?: { id: string; replica: string } | undefined;
}

/** Client capabilities a value may require, in the `ClientCapabilities` shape (`{}` leaves). */
type Requirement = Record<string, Record<string, Record<string, never>>>;

/**
 * The capabilities an embedded input request needs from the client, or `undefined` for a kind the 2026-07-28
 * revision does not define: URL-mode elicitation needs `elicitation.url`, any other elicitation `elicitation.form`;
 * sampling with `tools` or `toolChoice` needs `sampling.tools`; roots need `roots`.
 */
function requirementOf(entry: Record<string, unknown>): Requirement | undefined {
  const params = isRecord(entry.params) ? entry.params : {};
  switch (entry.method) {
    case "elicitation/create":
      return { elicitation: params.mode === "url" ? { url: {} } : { form: {} } };
    case "sampling/createMessage":
      return { sampling: params.tools !== undefined || params.toolChoice !== undefined ? { tools: {} } : {} };
    case "roots/list":
      return { roots: {} };
    default:
      return undefined;
  }
}

/**
 * The part of `required` the client did not declare (`undefined` when it declared all). A bare `elicitation: {}`
 * (no mode named) declares form mode, as in 2025-11-25.
 */
function missingOf(required: Requirement, declared: ClientCapabilities | undefined): Requirement | undefined {
  const have: Record<string, unknown> = isRecord(declared) ? declared : {};
  const missing: Requirement = {};
  for (const [capability, members] of Object.entries(required)) {
    const declaredValue = have[capability];
    if (!isRecord(declaredValue)) {
      missing[capability] = members;
      continue;
    }
    const bareElicitation = capability === "elicitation" && declaredValue.form === undefined &&
      declaredValue.url === undefined;
    const lacking = Object.keys(members).filter((member) =>
      declaredValue[member] === undefined && !(bareElicitation && member === "form")
    );
    if (lacking.length > 0) missing[capability] = Object.fromEntries(lacking.map((member) => [member, {}]));
  }
  return Object.keys(missing).length > 0 ? missing : undefined;
}

/**
 * Why a client with `declared` capabilities cannot answer an input request (`undefined` when it can): the request's
 * kind is not one 2026-07-28 defines, or the client lacks a capability it needs.
 */
export function unanswerable(
  entry: { method: string; params?: Record<string, unknown> },
  declared: ClientCapabilities | undefined,
): string | undefined {
  const required = requirementOf(entry as unknown as Record<string, unknown>);
  if (required === undefined) return `The federation gateway does not forward '${entry.method}'`;
  const missing = missingOf(required, declared);
  if (missing === undefined) return undefined;
  return `The calling client cannot answer '${entry.method}': it did not declare capability '${
    Object.keys(missing).join(", ")
  }'`;
}

/** Adds `more` into `into` (capability by capability, members merged). */
function mergeInto(into: Requirement, more: Requirement): void {
  for (const [capability, members] of Object.entries(more)) into[capability] = { ...into[capability], ...members };
}

/**
 * Turns a member's `input_required` result into the one the client gets: its `inputRequests` filtered to what the
 * client declared it can answer, and its `requestState` replaced by a gateway-sealed state that names the member,
 * the call and the caller (sealed even when the member gave none, so any replica can route the retry).
 *
 * @param result The member's result (`resultType: "input_required"`).
 * @param ctx The call and the client.
 * @returns The result for the client (`resultType`, `_meta` and other fields kept).
 * @throws {MissingRequiredClientCapabilityError} When none of the member's input requests can be answered by the
 *   client and the member gave no state to continue with (`-32021`, listing the missing capabilities).
 * @throws {ServerProtocolError} `-32603` for a malformed result (input requests not an object, state not a string).
 *
 * @example A member asks for a form the client can fill
 * ```ts
 * import { relayInputRequired } from "./_input_required.ts";
 * import { RequestStateSealer } from "./_sealed_state.ts";
 *
 * const sealer = await RequestStateSealer.fromSecret("a-gateway-client-secret-of-32-bytes!!");
 * const fromMember = {
 *   resultType: "input_required",
 *   inputRequests: {
 *     name: { method: "elicitation/create", params: { message: "Name?", requestedSchema: { type: "object" } } },
 *     model: { method: "sampling/createMessage", params: { messages: [], maxTokens: 5 } },
 *   },
 *   requestState: "member-state",
 * };
 * const toClient = await relayInputRequired(fromMember, {
 *   member: "weather",
 *   memberName: "ask",
 *   method: "tools/call",
 *   name: "weather__ask",
 *   sub: "alice",
 *   clientCapabilities: { elicitation: {} },
 *   sealer,
 * });
 * console.log(Object.keys(toClient.inputRequests as object)); // ["name"]: the client cannot sample
 * ```
 */
export async function relayInputRequired(
  result: object,
  ctx: RelayInputRequiredContext,
): Promise<Record<string, unknown>> {
  const fields = result as Record<string, unknown>;
  const { inputRequests, requestState } = fields;
  if (
    (inputRequests !== undefined && !isRecord(inputRequests)) ||
    (requestState !== undefined && typeof requestState !== "string")
  ) {
    throw new ServerProtocolError(
      ProtocolErrorCode.InternalError,
      `Server '${ctx.member}' answered '${ctx.memberName}' with a malformed input_required result`,
    );
  }
  const kept: Record<string, unknown> = {};
  const missing: Requirement = {};
  for (const [key, entry] of Object.entries(inputRequests ?? {})) {
    const required = isRecord(entry) ? requirementOf(entry) : undefined;
    if (required === undefined) continue;
    const lacking = missingOf(required, ctx.clientCapabilities);
    if (lacking === undefined) kept[key] = entry;
    else mergeInto(missing, lacking);
  }
  const answerable = Object.keys(kept).length > 0;
  if (!answerable && requestState === undefined) {
    throw new MissingRequiredClientCapabilityError(
      { requiredCapabilities: missing as ClientCapabilities },
      `Cannot relay the input requests of server '${ctx.member}' for '${ctx.name}': the client declared none of the capabilities they need${
        Object.keys(missing).length > 0 ? ` (${Object.keys(missing).join(", ")})` : ""
      }`,
    );
  }
  const sealed = await ctx.sealer.seal({
    member: ctx.member,
    memberState: requestState,
    sub: ctx.sub,
    method: ctx.method,
    name: ctx.name,
  });
  const { inputRequests: _dropped, ...rest } = fields;
  return { ...rest, ...(answerable ? { inputRequests: kept } : {}), requestState: sealed };
}

/**
 * Opens the gateway-sealed `requestState` of a retried request: the member to retry, its own state and the client's
 * answers. Route the retry to `member` (not to whatever the name resolves to now).
 *
 * @param params The retried request's params.
 * @param ctx The retried call and its caller.
 * @returns `undefined` when the request carries no `requestState` (a first attempt).
 * @throws {InvalidRequestStateError} `-32602` when the state does not open (tampered, foreign, expired, another
 *   caller) or was sealed for another method or name.
 * @throws {ServerProtocolError} `-32602` when `inputResponses` is present but not an object.
 *
 * @example Route a retry
 * ```ts ignore
 * const retry = await openRetry(params, { sub, method: "tools/call", name: params.name, sealer });
 * if (retry !== undefined) {
 *   // call retry.member with { ...params, inputResponses: retry.inputResponses, requestState: retry.requestState }
 * }
 * ```
 */
export async function openRetry(
  params: Record<string, unknown>,
  ctx: OpenRetryContext,
): Promise<OpenedRetry | undefined> {
  const { requestState, inputResponses } = params;
  if (requestState === undefined) return undefined;
  if (typeof requestState !== "string") throw new InvalidRequestStateError("malformed");
  const state = await ctx.sealer.open(requestState, { sub: ctx.sub });
  if (state.method !== ctx.method || state.name !== ctx.name) throw new InvalidRequestStateError("call");
  if (inputResponses !== undefined && !isRecord(inputResponses)) {
    throw new ServerProtocolError(ProtocolErrorCode.InvalidParams, "Invalid inputResponses: expected an object");
  }
  return {
    member: state.member,
    inputResponses,
    requestState: state.memberState,
    ...(state.exchange === undefined ? {} : { exchange: state.exchange }),
  };
}
