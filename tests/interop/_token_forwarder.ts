/**
 * A loopback HTTP forwarder that adds a bearer token to every request: third-party MCP clients that cannot send
 * one (the conformance suite) reach a member's JWT-guarded data endpoint through it.
 *
 * @module
 */

/** A running forwarder; disposing it stops it. */
export interface TokenForwarder extends AsyncDisposable {
  /** Where to point the client: same path as the target. */
  readonly url: string;
}

/**
 * Forwards every request to `target` with `Authorization: Bearer <token>` (any other header, the body and the
 * streamed response unchanged; `Host` becomes the target's).
 *
 * @param target The member's data URL.
 * @param token A provider of the token, called per request.
 */
export function forwardWithToken(target: string, token: () => Promise<string>): TokenForwarder {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const headers = new Headers(req.headers);
    headers.set("authorization", `Bearer ${await token()}`);
    headers.delete("host");
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
    try {
      const response = await fetch(target, {
        method: req.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: req.signal,
        redirect: "manual",
      });
      return new Response(response.body, { status: response.status, headers: response.headers });
    } catch {
      return new Response(null, { status: 502 });
    }
  });
  const path = new URL(target).pathname;
  return {
    url: `http://127.0.0.1:${server.addr.port}${path}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
