// Internal: a server-request handler that refuses every request: the gateway's `FederationProxy.onServerRequest`,
// which refuses what belongs to no client's call. Nobody behind a call that only such a handler would ask can answer
// a member's input: the call states no client capabilities to a modern member (`_requests.ts` `modernParams`), and an
// `input_required` result of one fails as unanswerable (`_input_required.ts`).
import type { ServerRequest, ServerRequestHandler } from "./server_requests.ts";

const refusing = new WeakSet<ServerRequestHandler>();

/** A handler that rejects every request with `refusal(request)`. */
export function refusingHandler(refusal: (request: ServerRequest) => Error): ServerRequestHandler {
  const handler: ServerRequestHandler = (request) => Promise.reject(refusal(request));
  refusing.add(handler);
  return handler;
}

/** `handler`, unless it is absent or refuses every request. */
export function answeringHandler(handler: ServerRequestHandler | undefined): ServerRequestHandler | undefined {
  return handler === undefined || refusing.has(handler) ? undefined : handler;
}
