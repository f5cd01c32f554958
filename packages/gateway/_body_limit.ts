// Internal: the gateway's request body limit, applied by the router to every route with a body (the MCP endpoint
// and the admin API) before anything parses it. The body is counted while it streams (core/_limited_body.ts); the
// admin API gets a request rebuilt with the bytes already read (its `request.json()` only ever sees a bounded body),
// the MCP endpoint the request itself with its bytes remembered (`requestJson`). Over the limit the answer is 413 and
// nothing more is read.
import { readLimitedBody } from "../core/_limited_body.ts";
import { rememberBody } from "./_request_json.ts";

/** Default {@link GatewayOptions.maxBodyBytes}: 1 MiB, a quarter of what a member accepts (4 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/**
 * The request with its body read (at most `maxBytes`), or `tooLarge(maxBytes)` when the body is larger. A `GET` or
 * `HEAD` is returned as it is. With `rebuild` false (the MCP endpoint, whose every reader takes the body through
 * `requestJson`), the request itself is handed on, its body consumed and its bytes remembered (none for a request
 * without a body): building a new `Request` costs tens of µs per call. Such a request's `body` is not asked for up
 * front: in Deno that makes a stream of the body (~12 µs a request), and `readLimitedBody` reads an announced length
 * without one (a chunked or encoded body is streamed and counted). With `rebuild`, a request without a body is
 * returned as it is.
 */
export async function limitBody(
  request: Request,
  maxBytes: number,
  tooLarge: (maxBytes: number) => Response,
  { rebuild = true }: { rebuild?: boolean } = {},
): Promise<Request | Response> {
  if (request.method === "GET" || request.method === "HEAD" || (rebuild && request.body === null)) return request;
  const read = await readLimitedBody(request, maxBytes);
  if (read.tooLarge) return tooLarge(maxBytes);
  if (!rebuild) {
    rememberBody(request, read.bytes);
    return request;
  }
  const limited = new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body: read.bytes as Uint8Array<ArrayBuffer>,
    signal: request.signal,
  });
  rememberBody(limited, read.bytes);
  return limited;
}

/** The message of a 413 answer. */
export function bodyTooLargeMessage(maxBytes: number): string {
  return `Request body too large: the limit is ${maxBytes} bytes`;
}
