// Internal: reads a request body as text with a byte limit, without trusting Content-Length.

/** The body, or `tooLarge` as soon as more than `maxBytes` arrived (or were announced). */
export type LimitedBody = { tooLarge: false; text: string } | { tooLarge: true };

/** Reads at most `maxBytes` of a request body. */
export async function readLimited(req: Request, maxBytes: number): Promise<LimitedBody> {
  if (Number(req.headers.get("content-length")) > maxBytes) return { tooLarge: true };
  if (req.body === null) return { tooLarge: false, text: "" };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
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
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { tooLarge: false, text: new TextDecoder().decode(bytes) };
}
