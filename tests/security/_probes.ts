/**
 * Probes for the security tests: raw requests to a member's control endpoint (a WebSocket upgrade written by hand,
 * so that any header, and the answer's headers, can be seen) and to an HTTP endpoint, and forged tokens.
 *
 * @module
 */

import { AuthManager } from "../../packages/core/auth.ts";

/** What an endpoint answered. */
export interface ProbeAnswer {
  status: number;
  wwwAuthenticate: string | null;
  /** The start of the body (HTTP endpoints), to check that nothing is reflected. */
  body: string;
}

const encoder = new TextEncoder();

/** One MCP `initialize` request body. */
export const INITIALIZE: string = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "probe", version: "1" } },
});

/**
 * Sends a WebSocket upgrade (subprotocol `mcp`) over a raw TCP connection and reads the answer's head, within
 * `timeout` ms. `authorization` `undefined` sends no header; `query` is appended to the path.
 */
export async function probeUpgrade(
  url: string,
  authorization: string | undefined,
  options: { query?: string; timeout?: number } = {},
): Promise<ProbeAnswer> {
  const { hostname, port, pathname } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const timer = setTimeout(() => conn.close(), options.timeout ?? 3_000);
  try {
    const lines = [
      `GET ${pathname}${options.query ?? ""} HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${crypto.getRandomValues(new Uint8Array(16)).toBase64()}`,
      "Sec-WebSocket-Version: 13",
      "Sec-WebSocket-Protocol: mcp",
      ...(authorization === undefined ? [] : [`Authorization: ${authorization}`]),
      "",
      "",
    ];
    const request = encoder.encode(lines.join("\r\n"));
    let written = 0;
    while (written < request.length) written += await conn.write(request.subarray(written));
    const buffer = new Uint8Array(16 * 1024);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      head += new TextDecoder("latin1").decode(buffer.subarray(0, n));
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    const www = /\r\nwww-authenticate: ([^\r\n]*)/i.exec(head)?.[1] ?? null;
    return { status, wwwAuthenticate: www, body: head.split("\r\n\r\n")[1] ?? "" };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

/** POSTs an MCP `initialize` to an HTTP endpoint. `authorization` `undefined` sends no header. */
export async function probePost(
  url: string,
  authorization: string | undefined | string[],
  options: { query?: string } = {},
): Promise<ProbeAnswer> {
  const headers = new Headers({ "content-type": "application/json", accept: "application/json, text/event-stream" });
  for (
    const value of Array.isArray(authorization) ? authorization : authorization === undefined ? [] : [authorization]
  ) {
    headers.append("authorization", value);
  }
  const target = new URL(url);
  target.search = options.query ?? "";
  const response = await fetch(target, { method: "POST", headers, body: INITIALIZE });
  const body = (await response.text()).slice(0, 4096);
  return { status: response.status, wwwAuthenticate: response.headers.get("www-authenticate"), body };
}

function b64url(value: string | Uint8Array): string {
  const bytes = typeof value === "string" ? encoder.encode(value) : value;
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** A JWT signed with HMAC-SHA-`bits` over `key`, with exactly the given header and claims. */
export async function hmacJwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: string | Uint8Array,
  bits: 256 | 384 | 512,
): Promise<string> {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const raw = typeof key === "string" ? encoder.encode(key) : new Uint8Array(key);
  const cryptoKey = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: `SHA-${bits}` }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(input)));
  return `${input}.${b64url(signature)}`;
}

/** An unsigned JWT (`alg: none`, empty signature). */
export function noneJwt(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ ...header, alg: "none" }))}.${b64url(JSON.stringify(claims))}.`;
}

/** The token with its payload replaced (signature kept). */
export function withPayload(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split(".");
  return `${header}.${b64url(JSON.stringify(claims))}.${signature}`;
}

/** The token's claims. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(Uint8Array.fromBase64(token.split(".")[1]!, { alphabet: "base64url" })));
}

/** Claims valid for `audience` (and `issuer`) for the next 10 minutes. */
export function goodClaims(audience: string, issuer?: string): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    aud: audience,
    ...(issuer === undefined ? {} : { iss: issuer }),
    sub: "probe",
    iat: now,
    exp: now + 600,
    jti: crypto.randomUUID(),
  };
}

/** The kid an HS512 AuthManager puts on tokens signed with `secret`. */
export async function hmacKid(secret: string): Promise<string> {
  return (await new AuthManager(secret).signingKid())!;
}
