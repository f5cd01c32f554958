// Request bodies are limited on every route of the gateway, counted while they stream, and
// answered 413 before they are buffered; the limit is an option and a config-file field.
import assert from "node:assert/strict";
import { AuthManager } from "../../packages/core/auth.ts";
import { DEFAULT_GATEWAY_AUDIENCE, parseGatewayConfig } from "../../packages/gateway/mod.ts";
import { GATEWAY_SECRET } from "../_support/members.ts";
import { withGateway } from "../_support/gateway.ts";
import { connectClient, gatewayToken, textOf } from "../_support/catalog_members.ts";

const MiB = 1024 * 1024;

/** An initialize request padded to about `bytes` bytes (valid JSON-RPC). */
function paddedInitialize(bytes: number): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "big", version: "1", pad: "x".repeat(bytes) },
    },
  });
}

/**
 * Streams a chunked body of up to `total` bytes over raw TCP while reading the answer; stops writing as soon as the
 * answer's head arrives (or the gateway stops reading).
 *
 * @returns The status and how many body bytes were written before the answer.
 */
async function streamChunked(
  base: string,
  path: string,
  headers: string[],
  total: number,
): Promise<{ status: number; written: number }> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const encoder = new TextEncoder();
  let head = "";
  let answered = false;
  const reading = (async () => {
    const buffer = new Uint8Array(4096);
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      head += new TextDecoder().decode(buffer.subarray(0, n));
    }
    answered = true;
  })();
  let written = 0;
  try {
    await conn.write(encoder.encode(
      [`POST ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, ...headers, "Transfer-Encoding: chunked", "", ""].join(
        "\r\n",
      ),
    ));
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const frame = new Uint8Array([...encoder.encode(`${chunk.length.toString(16)}\r\n`), ...chunk, 13, 10]);
    while (!answered && written < total) {
      const sent = await Promise.race([
        conn.write(frame).then(() => true, () => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000)),
      ]);
      if (!sent) break;
      written += chunk.length;
    }
    await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  } finally {
    conn.close();
    await reading;
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), written };
}

Deno.test("Gateway answers 413 to a body over maxBodyBytes on the MCP endpoint, by Content-Length and by count", async () => {
  await withGateway({}, async (url) => {
    const authorization = `Bearer ${await gatewayToken()}`;
    const headers = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization,
    };
    const announced = await fetch(url, { method: "POST", headers, body: paddedInitialize(2 * MiB) });
    assert.equal(announced.status, 413);
    const body = await announced.json();
    assert.equal(body.jsonrpc, "2.0");
    assert.equal(body.error.code, -32600);
    assert.match(body.error.message, /1048576 bytes/);
    const fits = await fetch(url, { method: "POST", headers, body: paddedInitialize(MiB - 4096) });
    assert.equal(fits.status, 200, "a body just under the limit is served");
    await fits.body?.cancel();
  });
});

Deno.test("Gateway answers a POST with an empty or no body as a parse error", async () => {
  await withGateway({}, async (url, base) => {
    const authorization = `Bearer ${await gatewayToken()}`;
    const headers = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization,
    };
    const { hostname, port } = new URL(base);
    for (const body of [undefined, ""]) {
      const answer = await fetch(url, { method: "POST", headers, ...(body === undefined ? {} : { body }) });
      assert.equal(answer.status, 400);
      assert.equal((await answer.json()).error.code, -32700);
    }
    // Neither a length nor chunks: a POST without a body at all, as HTTP/1.1 sends one.
    const conn = await Deno.connect({ hostname, port: Number(port) });
    await conn.write(new TextEncoder().encode(
      [
        `POST ${new URL(url).pathname} HTTP/1.1`,
        `Host: ${hostname}:${port}`,
        `Authorization: ${authorization}`,
        "Content-Type: application/json",
        "Connection: close",
        "",
        "",
      ].join("\r\n"),
    ));
    const raw = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
    assert.match(raw, /^HTTP\/1\.1 400/);
    assert.match(raw, /-32700/);
  });
});

Deno.test("Gateway stops reading a chunked body past the limit: 413 long before 64 MiB are sent (MCP endpoint and admin API)", async () => {
  await withGateway({}, async (url, base) => {
    const authorization = `Authorization: Bearer ${await gatewayToken()}`;
    const headers = [authorization, "Content-Type: application/json", "Accept: application/json, text/event-stream"];
    for (const path of [new URL(url).pathname, "/admin/members"]) {
      const { status, written } = await streamChunked(base, path, headers, 64 * MiB);
      assert.equal(status, 413, path);
      assert.ok(written < 24 * MiB, `${path}: ${written} bytes were accepted before the answer`);
      console.log(
        `${path}: 413 after ${(written / MiB).toFixed(1)} MiB written (limit 1 MiB, socket buffers included)`,
      );
    }
    // A small Content-Length beside the chunked encoding (which overrides it) does not get the body read at once.
    const { status, written } = await streamChunked(
      base,
      new URL(url).pathname,
      [...headers, "Content-Length: 100"],
      64 * MiB,
    );
    assert.ok(status === 413 || status === 400, `status ${status}`);
    console.log(`chunked with a Content-Length: ${status} after ${(written / MiB).toFixed(1)} MiB written`);
    assert.ok(written < 24 * MiB, `${written} bytes were accepted before the answer`);
  });
});

Deno.test("Gateway applies the body limit to the admin API with its error shape", async () => {
  const admin = await new AuthManager(GATEWAY_SECRET).createToken({ scope: "federation:admin" }, {
    subject: "operator",
    audience: DEFAULT_GATEWAY_AUDIENCE,
    expiresIn: "5m",
  });
  await withGateway({ maxBodyBytes: 4096 }, async (_url, base) => {
    const response = await fetch(`${base}/admin/members`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ serverId: "big", endpoints: { data: `http://127.0.0.1:1/${"p".repeat(8192)}` } }),
    });
    assert.equal(response.status, 413);
    const body = await response.json();
    assert.equal(body.error.code, "ERR_BODY_TOO_LARGE");
  });
});

Deno.test("maxBodyBytes is an option and a config-file field; calls under it work", async () => {
  await withGateway({ maxBodyBytes: 2048 }, async (url) => {
    const client = await connectClient(url);
    assert.equal(textOf(await client.callTool({ name: "a__echo", arguments: { text: "small" } })), "small");
    await assert.rejects(client.callTool({ name: "a__echo", arguments: { text: "y".repeat(4096) } }));
    await client.close();
  });
  const config = parseGatewayConfig(
    { gateway: { auth: false, maxBodyBytes: 65536, maxConcurrentRequests: 64 }, members: [] },
    "f.json",
  );
  assert.equal(config.gateway.maxBodyBytes, 65536);
  assert.equal(config.gateway.maxConcurrentRequests, 64);
});
