// Test helpers of the member package (a *_test.ts file so that it is never published; it holds no tests).

import { Client, StreamableHTTPClientTransport } from "../core/_sdk.ts";
import { AuthManager } from "../core/auth.ts";
import type { Logger } from "../core/logger.ts";
import { WebSocketTransport } from "../core/websocket_transport.ts";
import { createDemoServer } from "../../examples/_demo_server.ts";
import { serveMember } from "./serve_member.ts";
import type { MemberHandle, ServeMemberOptions } from "./types.ts";

export const SECRET = "member-test-secret-of-at-least-32-bytes!";
export const OTHER_SECRET = "another-secret-of-at-least-thirty-two-bytes";
export const SERVER_ID = "member-1";
export const signer = new AuthManager(SECRET);

/** Mints a token for the member (or another audience). */
export function mint(
  options: { audience?: string; subject?: string; issuer?: string; expiresIn?: string | number } = {},
  manager: AuthManager = signer,
): Promise<string> {
  return manager.createToken({}, {
    audience: options.audience ?? SERVER_ID,
    subject: options.subject ?? "proxy-a",
    expiresIn: options.expiresIn ?? "1h",
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
  });
}

/** Mints a token whose `exp` is the next whole second at least `minMs` from now (so it expires in minMs..minMs+1s). */
export async function mintExpiringSoon(
  minMs = 600,
  options: { subject?: string } = {},
): Promise<{ token: string; exp: number }> {
  const exp = Math.ceil((Date.now() + minMs) / 1000);
  const manager = new AuthManager(SECRET, { now: () => (exp - 1) * 1000 });
  const token = await manager.createToken({}, {
    audience: SERVER_ID,
    subject: options.subject ?? "proxy-a",
    expiresIn: 1,
  });
  return { token, exp };
}

/** A logger that records every line. */
export function recordingLogger(): { logger: Logger; lines: { level: string; message: string; data?: unknown }[] } {
  const lines: { level: string; message: string; data?: unknown }[] = [];
  const at = (level: string) => (message: string, data?: Record<string, unknown>) => {
    lines.push(data === undefined ? { level, message } : { level, message, data });
  };
  return { logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

/** Starts a member serving the demo tools, with a recording logger. */
export async function startMember(
  overrides: Partial<ServeMemberOptions> = {},
): Promise<{ member: MemberHandle; lines: { level: string; message: string; data?: unknown }[] }> {
  const { logger, lines } = recordingLogger();
  const member = await serveMember({
    serverId: SERVER_ID,
    server: () => createDemoServer(SERVER_ID),
    verifier: SECRET,
    logger,
    ...overrides,
  });
  return { member, lines };
}

/** An SDK client connected over Streamable HTTP with a bearer token. */
export async function httpClient(url: string, token: string): Promise<Client> {
  const client = new Client({ name: "test-http", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
  );
  return client;
}

/** An SDK client connected over the control WebSocket; also returns its transport (for close codes). */
export async function wsClient(url: string, token: string): Promise<{ client: Client; transport: WebSocketTransport }> {
  const transport = await WebSocketTransport.connect(url, { headers: { Authorization: `Bearer ${token}` } });
  const client = new Client({ name: "test-ws", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

/** Resolves with the close code of a transport once it closed. */
export function closeCodeOf(transport: WebSocketTransport): Promise<number | undefined> {
  return new Promise((resolve) => {
    const previous = transport.onclose;
    if (!transport.isOpen && transport.closeCode !== undefined) return resolve(transport.closeCode);
    transport.onclose = () => {
      previous?.();
      resolve(transport.closeCode);
    };
  });
}

/** Polls `condition` every 5 ms until it holds (at most `timeoutMs`). */
export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The text of the first content item of a tool result. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content[0]?.text ?? "";
}

/** A raw WebSocket with headers, speaking JSON frames. */
export class RawSocket {
  readonly socket: WebSocket;
  readonly closed: Promise<CloseEvent>;
  #queue: unknown[] = [];
  #waiters: ((value: unknown) => void)[] = [];

  constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.addEventListener("close", resolve, { once: true }));
    socket.addEventListener("message", (event) => {
      const value = JSON.parse(event.data as string);
      const waiter = this.#waiters.shift();
      if (waiter) waiter(value);
      else this.#queue.push(value);
    });
  }

  /** Opens a socket with subprotocol `mcp` and a bearer token. */
  static open(url: string, token: string): Promise<RawSocket> {
    const socket = new WebSocket(url, { protocols: ["mcp"], headers: { Authorization: `Bearer ${token}` } });
    return new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve(new RawSocket(socket)), { once: true });
      socket.addEventListener("error", () => reject(new Error("WebSocket failed to open")), { once: true });
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The next JSON message received. */
  next(): Promise<Record<string, unknown>> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift() as Record<string, unknown>);
    return new Promise((resolve) => this.#waiters.push(resolve as (value: unknown) => void));
  }

  /** Sends a request and waits for the reply with the same id (skipping other messages). */
  async request(id: number, method: string, params?: unknown): Promise<Record<string, unknown>> {
    this.send(params === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params });
    for (;;) {
      const message = await this.next();
      if (message.id === id) return message;
    }
  }

  /** Initializes an MCP session. */
  async initialize(): Promise<void> {
    await this.request(0, "initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "raw", version: "1.0.0" },
    });
    this.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  }

  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await this.closed;
  }
}

/** Sends a raw HTTP/1.1 request over TCP and returns the status line's code and headers (body discarded). */
export async function rawHttp(
  url: string,
  headers: Record<string, string>,
  method = "GET",
): Promise<{ status: number; headers: Headers; body: string }> {
  const target = new URL(url);
  const conn = await Deno.connect({ hostname: target.hostname, port: Number(target.port) });
  try {
    const lines = [`${method} ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    lines.push("Connection: close", "", "");
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(16384);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
      const text = new TextDecoder().decode(concat(chunks));
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = text.slice(0, end).split("\r\n");
        const parsed = new Headers();
        for (const line of head.slice(1)) {
          const i = line.indexOf(":");
          parsed.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
        }
        const length = Number(parsed.get("content-length") ?? "0");
        const body = text.slice(end + 4);
        if (parsed.get("upgrade") !== null || body.length >= length) {
          return { status: Number(head[0]!.split(" ")[1]), headers: parsed, body: body.slice(0, length) };
        }
      }
    }
    throw new Error("Connection closed before a complete response");
  } finally {
    conn.close();
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Headers of a WebSocket upgrade request offering `mcp`. */
export function upgradeHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": btoa("0123456789abcdef"),
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Protocol": "mcp",
    ...extra,
  };
}

/** The JSON body of an MCP initialize request. */
export function initializeBody(id = 1): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1.0.0" } },
  });
}

/** Headers of a Streamable HTTP POST. */
export function postHeaders(token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    ...extra,
  };
}

/** Opens a data session with fetch (no GET stream) and returns its id. */
export async function openHttpSession(url: string, token: string): Promise<string> {
  const response = await fetch(url, { method: "POST", headers: postHeaders(token), body: initializeBody() });
  await response.body?.cancel();
  if (response.status !== 200) throw new Error(`initialize answered ${response.status}`);
  const id = response.headers.get("mcp-session-id");
  if (!id) throw new Error("no session id");
  const ack = await fetch(url, {
    method: "POST",
    headers: postHeaders(token, { "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" }),
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  await ack.body?.cancel();
  return id;
}

/** Calls `echo` on a data session with fetch and returns the HTTP status and the reply text (SSE or JSON). */
export async function httpEcho(
  url: string,
  token: string,
  sessionId: string,
  text = "hi",
): Promise<{ status: number; body: string }> {
  const response = await fetch(url, {
    method: "POST",
    headers: postHeaders(token, { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" }),
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "echo", arguments: { text } },
    }),
  });
  return { status: response.status, body: await response.text() };
}

export { AuthManager, Client, WebSocketTransport };
