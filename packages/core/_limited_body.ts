// Internal: reads a request body with a byte limit, counted while it streams. `Content-Length` is only trusted to
// refuse early (a body announced larger than the limit is not read at all); a chunked or lying body is cut as soon
// as one byte more than the limit has arrived, so at most `maxBytes` (plus one chunk) is ever buffered.

/** The body's bytes, or `tooLarge` when more than `maxBytes` arrived or were announced. */
export type LimitedBody = { tooLarge: false; bytes: Uint8Array } | { tooLarge: true };

/** Reads at most `maxBytes` of a request body (an absent body is empty). */
export async function readLimitedBody(
  request: Pick<Request, "headers" | "body">,
  maxBytes: number,
): Promise<LimitedBody> {
  const announced = request.headers.get("content-length");
  if (announced !== null && Number(announced) > maxBytes) {
    await request.body?.cancel().catch(() => {});
    return { tooLarge: true };
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
