// Internal: a POST body read once per request. The body limit (_body_limit.ts) reads the bytes; the access log and
// the MCP endpoint both need the JSON: the first to ask parses it, the other gets the same value (neither changes
// it), instead of each cloning the body stream and parsing it again. The same for answers the gateway builds from a
// value (`answerFromValue`): the access log reads their outcome from the value, not from a parsed copy of the body.

const decoder = new TextDecoder();
const bodies = new WeakMap<Request, { bytes: Uint8Array; json?: { value: unknown } | { error: unknown } }>();

/** Records the bytes of `request`'s body (already read, and handed on in it). */
export function rememberBody(request: Request, bytes: Uint8Array): void {
  bodies.set(request, { bytes });
}

/**
 * The JSON of `request`'s body, parsed once per request; a body not recorded is read from a clone. Throws the
 * parse error (each caller gets the same one) on a body that is not JSON.
 */
export async function requestJson(request: Request): Promise<unknown> {
  const known = bodies.get(request);
  if (!known) return JSON.parse(await request.clone().text());
  if (!known.json) {
    try {
      known.json = { value: JSON.parse(decoder.decode(known.bytes)) };
    } catch (error) {
      known.json = { error };
    }
  }
  if ("error" in known.json) throw known.json.error;
  return known.json.value;
}

const answers = new WeakMap<Response, unknown>();

/**
 * A JSON answer built from `value`, which `valueOfAnswer` gives back (nothing may change it afterwards).
 *
 * @param value The JSON-RPC message answered.
 * @param status The HTTP status.
 * @param headers Headers besides the content type.
 */
export function answerFromValue(value: unknown, status: number, headers?: Record<string, string>): Response {
  const response = new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
  answers.set(response, value);
  return response;
}

/** The value an `answerFromValue` response was built from (undefined for any other response). */
export function valueOfAnswer(response: Response): unknown {
  return answers.get(response);
}
