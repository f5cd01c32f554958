// Internal: Multi Round-Trip Requests toward a modern member (MCP 2026-07-28). A modern member asks for input
// (elicitation, sampling, roots) by answering `tools/call`, `prompts/get` or `resources/read` with an
// `input_required` result. With `CallOptions.allowInputRequired` that result is the caller's (it retries with
// `inputResponses` and `requestState`); otherwise the proxy fulfils the requests itself through the call's own
// `onrequest` handler (else `FederationProxy.onServerRequest`), exactly as a legacy member's server-to-client
// requests are answered, and retries, up to {@link MAX_INPUT_ROUNDS} rounds. Each round's requests reach that one
// handler only (the relation rule): the rounds run inside the call. A gateway's handler, which refuses everything
// (`_refusing_handler.ts`), is none: the call fails as one nobody behind the federation can answer (-32021).
import { ProtocolError } from "../core/errors.ts";
import { isRecord } from "../core/_json.ts";
import { errorMessage } from "../core/_error_message.ts";
import { isInputRequiredResult } from "../core/_sdk.ts";
import type { ServerRequestHandler } from "./server_requests.ts";

/** How many times, at most, the proxy answers one call's input requests before it gives up. */
export const MAX_INPUT_ROUNDS = 8;

/** JSON-RPC code of a request that needs a client capability nobody offers (MissingRequiredClientCapability). */
export const MISSING_CAPABILITY_CODE = -32021;

/** What a call says about input rounds. */
export interface InputRounds {
  serverId: string;
  /** What is being requested, for errors (e.g. `tools/call 'x'`). */
  what: string;
  /** Hand an `input_required` result back instead of fulfilling it. */
  allow: boolean;
  /** The answers of a retry (put into the first request's params). */
  inputResponses?: Record<string, unknown> | undefined;
  /** The member's state of a retry (put into the first request's params). */
  requestState?: string | undefined;
  /** Who answers the member's input requests. */
  handler: ServerRequestHandler | undefined;
  signal?: AbortSignal | undefined;
}

/** The capability an input request needs from the client. */
function capabilityOf(method: unknown): string {
  switch (method) {
    case "elicitation/create":
      return "elicitation";
    case "sampling/createMessage":
      return "sampling";
    case "roots/list":
      return "roots";
    default:
      return String(method);
  }
}

/** The params of a first request: the caller's retry fields added (a modern member's wire-only fields). */
export function firstParams(params: Record<string, unknown>, rounds: InputRounds): Record<string, unknown> {
  const first = { ...params };
  if (rounds.inputResponses !== undefined) first.inputResponses = rounds.inputResponses;
  if (rounds.requestState !== undefined) first.requestState = rounds.requestState;
  return first;
}

/**
 * Sends a request to a modern member (`send` gets the params of each leg) and runs its input rounds: returns the
 * final result, or the `input_required` one when the caller allows it.
 */
export async function runInputRounds<T>(
  params: Record<string, unknown>,
  send: (params: Record<string, unknown>) => Promise<unknown>,
  rounds: InputRounds,
): Promise<T> {
  const { serverId, what, handler } = rounds;
  let current = firstParams(params, rounds);
  for (let round = 0;; round++) {
    const result = await send(current);
    if (!isInputRequiredResult(result) || rounds.allow) return result as T;
    if (round >= MAX_INPUT_ROUNDS) {
      throw new ProtocolError(
        `Server '${serverId}' asked for input more than ${MAX_INPUT_ROUNDS} times during ${what}`,
        { serverId, rpcCode: -32603 },
      );
    }
    const requests: Record<string, unknown> = isRecord(result.inputRequests) ? result.inputRequests : {};
    const entries = Object.entries(requests).filter((entry): entry is [string, Record<string, unknown>] =>
      isRecord(entry[1])
    );
    if (entries.length > 0 && !handler) {
      const requiredCapabilities = Object.fromEntries(entries.map(([, request]) => [capabilityOf(request.method), {}]));
      throw new ProtocolError(
        `Server '${serverId}' needs input during ${what} (${
          entries.map(([, r]) => String(r.method)).join(", ")
        }) and no client behind the federation can answer it`,
        { serverId, rpcCode: MISSING_CAPABILITY_CODE, data: { requiredCapabilities } },
      );
    }
    const signal = rounds.signal ?? new AbortController().signal;
    const answers = await Promise.all(entries.map(async ([key, request]) => {
      const method = String(request.method);
      try {
        const answer = await handler!({
          serverId,
          method,
          params: isRecord(request.params) ? request.params : undefined,
          signal,
        });
        return [key, answer] as const;
      } catch (error) {
        // A member of the legacy era would get this as the JSON-RPC error of its request; a modern one cannot be
        // answered with an error, so the call fails with it.
        const code = (error as { code?: unknown })?.code;
        throw new ProtocolError(
          `Answering '${method}' of server '${serverId}' during ${what} failed: ${errorMessage(error)}`,
          { serverId, rpcCode: typeof code === "number" ? code : -32603, cause: error },
        );
      }
    }));
    current = { ...params, inputResponses: Object.fromEntries(answers) };
    if (typeof result.requestState === "string") current.requestState = result.requestState;
  }
}
