// Internal: a 2025-11-25 session's `tools/call` served without the SDK's Streamable HTTP transport and protocol
// dispatch: the session's own catalog handler is called directly, and the answer is plain JSON when the result comes
// first (`_plain_answer.ts`).
//
// The SDK's way costs, per call, the transport's checks and zod parse of the message, an SSE stream with a priming
// event, the protocol's dispatch with the request's and the result's zod validation, and the gateway reading the
// stream back to answer JSON (`_stream_flow.ts`). Here, what the session's server sends related to the call (the
// member's progress, when the call has a progress token, coalesced for a client that reads slowly; a member's log
// line; a member's `elicitation/create`, `sampling/createMessage` or `roots/list` asked of this client, whose answer
// the client POSTs to the session as on the SDK's way), or a result later than the JSON window, turns the answer into
// an SSE stream, resumable from the session's event store as the SDK's streams are. The checks the SDK transport
// makes first (Accept, media type, protocol version header: 2025-11-25, whose streams are primed) must pass as sent;
// anything else takes the SDK's way, which words refusals (so does a request reusing the id of a plain call in
// progress: each answer still goes to its own stream, only the plain call's related messages to its own).
//
// A plain call is cancelled by the client's `notifications/cancelled` (`watchPlainCancellations`) or by its session's
// transport closing (its answer is registered there: `SessionLink.openPlain`); as on the SDK's way, a client that
// goes away does not cancel it.
import { isJsonContentType, type JSONRPCMessage } from "../core/_sdk.ts";
import { isRecord } from "../core/_json.ts";
import { isNotification, isRequestId } from "../core/_jsonrpc.ts";
import type { HandlerContext } from "./_catalog_handlers.ts";
import type { ClientSession } from "./_hub.ts";
import { type PlainToolCall, plainToolParams, runPlainCall, toolCallRequest } from "./_plain_call.ts";
import type { PlainAnswerOptions } from "./_plain_answer.ts";
import type { SessionLink } from "./_session_link.ts";

const NO_ENVELOPE: ReadonlySet<string> = new Set();

/** The revision whose calls take the plain way. */
const PLAIN_VERSION = "2025-11-25";

/**
 * The `tools/call` of a session's POST `body` when its shape and headers let it take the plain way (see the module's
 * comment; whether its session does is {@link plainSession}), else `undefined`. Such a request is a 2025-11-25 one as
 * sent (no envelope key, a 2025-11-25 version header): it needs no era classification.
 *
 * @param headers The POST's headers.
 * @param body The POST's parsed body.
 */
export function legacyPlainCall(headers: Headers, body: unknown): PlainToolCall | undefined {
  const request = toolCallRequest(body);
  if (!request) return undefined;
  const accept = headers.get("accept") ?? "";
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) return undefined;
  if (!isJsonContentType(headers.get("content-type"))) return undefined;
  const version = headers.get("mcp-protocol-version");
  // Older revisions have no priming event: their streams are the SDK's.
  if (version !== PLAIN_VERSION) return undefined;
  return plainToolParams(request.id, request.params, NO_ENVELOPE, true);
}

/** Whether `session`'s calls may take the plain way. */
export function plainSession(session: ClientSession): boolean {
  return session.capabilities !== undefined && session.handlers !== undefined;
}

/**
 * Serves `call` of `session` on `link`. Undefined when the link has a request with that id in progress (the caller
 * then takes the SDK's way). The call is cancelled through its answer (`SessionLink.cancelPlain`, or the link's end).
 *
 * @param call The call, as `legacyPlainCall` accepted it.
 * @param request The HTTP request (the handler's context carries it, for its trace).
 * @param session The client's session (its handlers, its server for notifications).
 * @param link The session's transport on this replica (what the server sends related to the call reaches the answer).
 * @param options The answer's window, keep-alive interval, priming `retry` and overrun report.
 * @param hold Records a request in progress (a drain waits for it); returns its end.
 */
export function answerLegacyPlainCall(
  call: PlainToolCall,
  request: Request,
  session: ClientSession,
  link: SessionLink,
  options: Omit<PlainAnswerOptions, "store">,
  hold: () => () => void,
): Promise<Response> | undefined {
  const handlers = session.handlers!;
  const answer = link.openPlain(call.id, options);
  if (!answer) return undefined;
  const end = hold();
  const ctx: HandlerContext = {
    sessionId: link.sessionId,
    http: { req: request },
    mcpReq: {
      id: call.id,
      signal: answer.cancelled,
      ...(call.meta === undefined ? {} : { _meta: call.meta }),
      requestState: () => undefined,
      notify: (notification) => session.server.notification(notification, { relatedRequestId: call.id }),
    },
  };
  // A cancelled request gets no response, as on the SDK's way (`PlainAnswer.cancel` has ended its answer).
  runPlainCall(call, handlers, ctx).then(
    (outcome) => answer.finish({ ...outcome, jsonrpc: "2.0", id: call.id } as JSONRPCMessage),
  ).catch(() => answer.close()).finally(() => {
    link.closePlain(call.id, answer);
    end();
  });
  return answer.response;
}

/**
 * Cancels a session's plain call when its client sends `notifications/cancelled` for it (on this replica, or
 * forwarded from another): the message then goes on to the session's server as before.
 *
 * @param link The session's transport on this replica (its `onmessage` is wrapped).
 */
export function watchPlainCancellations(link: SessionLink): void {
  const onmessage = link.onmessage;
  link.onmessage = (message, extra) => {
    if (isNotification(message) && message.method === "notifications/cancelled" && isRecord(message.params)) {
      const id = message.params.requestId;
      if (isRequestId(id)) link.cancelPlain(id, message.params.reason);
    }
    onmessage?.(message, extra);
  };
}
