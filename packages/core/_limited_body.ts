// Internal: reads a request (or response) body with a byte limit. A body announced larger than the limit
// (`Content-Length`) is not read at all; one announced within it and not encoded is read at once, as HTTP framing ends
// it at its announced length (Deno's HTTP server and client hold both sides to it); any other body (chunked, with
// `Transfer-Encoding`, which overrides a length, or with a `Content-Encoding` that `fetch` decodes) is counted while
// it streams and cut as soon as one byte more than the limit has arrived, so at most `maxBytes` (plus one chunk) is
// ever buffered.

/** The body's bytes, or `tooLarge` when more than `maxBytes` arrived or were announced. */
export type LimitedBody = { tooLarge: false; bytes: Uint8Array } | { tooLarge: true };

/** Reads at most `maxBytes` of a request body (an absent body is empty). */
export async function readLimitedBody(
  request: Pick<Request, "headers" | "body" | "bytes">,
  maxBytes: number,
): Promise<LimitedBody> {
  const announced = request.headers.get("content-length");
  if (announced !== null && Number(announced) > maxBytes) {
    await request.body?.cancel().catch(() => {});
    return { tooLarge: true };
  }
  // Read in one step (no stream is made of the body, no read per chunk): a saving on every request. Not a body with a
  // `Content-Encoding`: `fetch` decodes it, and its length is the encoded one (a small gzip can decode to gigabytes).
  if (announced !== null && /^\d+$/.test(announced) && !request.headers.has("transfer-encoding")) {
    const encoding = request.headers.get("content-encoding");
    if (encoding === null || encoding.trim().toLowerCase() === "identity") {
      return { tooLarge: false, bytes: await request.bytes() };
    }
  }
  if (request.body === null) return { tooLarge: false, bytes: new Uint8Array(0) };
  // The reader is not released: the body is consumed either way, and a release builds an error (with its stack) to
  // reject the reader's `closed` promise, a measurable cost on every request.
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => {});
      return { tooLarge: true };
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return { tooLarge: false, bytes: chunks[0]! };
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { tooLarge: false, bytes };
}
