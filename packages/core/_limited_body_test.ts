import assert from "node:assert/strict";
import { readLimitedBody } from "./_limited_body.ts";

const LIMIT = 256 * 1024;

/** `bytes` zero bytes, gzipped (a few KiB). */
async function gzippedZeros(bytes: number): Promise<Uint8Array> {
  const zeros = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(zeros).arrayBuffer());
}

Deno.test("readLimitedBody: a fetched body that decodes past the limit is refused, whatever its Content-Length says", async () => {
  const bomb = await gzippedZeros(20 * 1024 * 1024);
  assert.ok(bomb.byteLength < LIMIT, `the encoded body (${bomb.byteLength} bytes) is announced within the limit`);
  const plain = new TextEncoder().encode(JSON.stringify({ ok: true }));
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      new URL(request.url).pathname === "/bomb"
        ? new Response(bomb as Uint8Array<ArrayBuffer>, { headers: { "content-encoding": "gzip" } })
        : new Response(plain as Uint8Array<ArrayBuffer>),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const encoded = await fetch(`${base}/bomb`);
  assert.equal(encoded.headers.get("content-length"), String(bomb.byteLength), "fetch reports the encoded length");
  const decoded = await readLimitedBody(encoded, LIMIT);
  assert.ok(decoded.tooLarge, `read ${decoded.tooLarge ? 0 : decoded.bytes.byteLength} decoded bytes`);
  // A body announced within the limit and not encoded is read whole.
  const read = await readLimitedBody(await fetch(`${base}/plain`), LIMIT);
  assert.ok(!read.tooLarge && new TextDecoder().decode(read.bytes) === '{"ok":true}');
});
