/**
 * An MCP SDK `Transport` over a WebSocket: one JSON-RPC 2.0 message per text frame, subprotocol `mcp`.
 *
 * The SDK has no WebSocket server transport and its client transport cannot send headers; this one serves both
 * sides: wrap a socket from `Deno.upgradeWebSocket` on a member, or {@link WebSocketTransport.connect} from a
 * proxy with an `Authorization` header.
 *
 * @example Connect an SDK client over a WebSocket
 * ```ts ignore
 * import { Client } from "npm:@modelcontextprotocol/client@2.4.0";
 * import { WebSocketTransport } from "@federated-mcp/federation/core";
 *
 * const transport = await WebSocketTransport.connect("ws://localhost:3000", {
 *   headers: { Authorization: `Bearer ${Deno.env.get("MCP_TOKEN")}` },
 * });
 * const client = new Client({ name: "demo", version: "1.0.0" });
 * await client.connect(transport);
 * ```
 * @module
 */

import type { JSONRPCMessage, Transport, TransportSendOptions } from "./mcp_types.ts";
import { exceedsBytes } from "./_byte_length.ts";
import { AuthenticationError, CancelledError, ConnectionError, ProtocolError, TimeoutError } from "./errors.ts";
import { isRecord } from "./_json.ts";
import { redactUrl, redactUrls } from "./_redact.ts";
import { isJsonRpcMessage, isRequestId, isResponse } from "./_jsonrpc.ts";

/** WebSocket subprotocol of the control channel. */
export const MCP_SUBPROTOCOL = "mcp";
/** Default largest message accepted, in bytes (4 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES: number = 4 * 1024 * 1024;

/**
 * `_meta` key of a request or notification a member sends during a call: the JSON-RPC id of the call (the request
 * the member is answering) on the same connection. {@link WebSocketTransport.send} adds it when the sender passes
 * `relatedRequestId` (the MCP SDK does for everything a request handler sends through `ctx.mcpReq.send` and
 * `ctx.mcpReq.notify`), so that the proxy can route the message to the client that made the call and refuse
 * what belongs to no call.
 *
 * @example Read the relation of a message
 * ```ts
 * import { RELATED_REQUEST_META_KEY } from "@federated-mcp/federation/core";
 *
 * const message = { jsonrpc: "2.0", id: 7, method: "roots/list", params: { _meta: { [RELATED_REQUEST_META_KEY]: 3 } } };
 * console.log(message.params._meta[RELATED_REQUEST_META_KEY]); // 3: sent during the call with id 3
 * ```
 */
export const RELATED_REQUEST_META_KEY = "io.github.federated-mcp/related-request";

/** Close codes the control channel uses. */
export const CloseCode = {
  /** Normal closure. */
  NORMAL: 1000,
  /** The endpoint is going away (shutdown). */
  GOING_AWAY: 1001,
  /** A message was larger than the limit. */
  MESSAGE_TOO_BIG: 1009,
  /** The member has too many sessions. */
  TRY_AGAIN_LATER: 1013,
  /** The connection's token expired (member side). */
  TOKEN_EXPIRED: 4001,
  /** The session was idle for too long (member side). */
  IDLE_TIMEOUT: 4002,
} as const;

/** Options of a {@link WebSocketTransport}. */
export interface WebSocketTransportOptions {
  /**
   * Largest message, in bytes: a larger incoming one closes the socket with 1009, a larger outgoing one is refused
   * before it is sent (`ProtocolError` `ERR_MESSAGE_TOO_LARGE`) and the socket stays open. @default {4194304}
   */
  maxMessageBytes?: number | undefined;
}

/** Options of {@link WebSocketTransport.connect}. */
export interface WebSocketConnectOptions extends WebSocketTransportOptions {
  /** Headers of the upgrade request, e.g. `Authorization`. */
  headers?: Record<string, string>;
  /** Give up after this many milliseconds. @default {10000} */
  timeout?: number;
  /** Abort the attempt. */
  signal?: AbortSignal;
}

const encoder = new TextEncoder();

/**
 * A request or notification with the relation to `related` in its `_meta`; anything else unchanged, and progress
 * too (its progress token already names the request, and its params reach the caller as they are).
 */
function withRelation(message: JSONRPCMessage, related: string | number): JSONRPCMessage {
  if (!("method" in message) || message.method === "notifications/progress") return message;
  const params = isRecord(message.params) ? message.params : {};
  const meta = isRecord(params._meta) ? params._meta : {};
  return { ...message, params: { ...params, _meta: { ...meta, [RELATED_REQUEST_META_KEY]: related } } };
}

/**
 * A WebSocket `Transport` for the MCP SDK.
 *
 * @example Serve an MCP server on an upgraded socket
 * ```ts ignore
 * import { WebSocketTransport } from "@federated-mcp/federation/core";
 *
 * Deno.serve((req) => {
 *   const { socket, response } = Deno.upgradeWebSocket(req, { protocol: "mcp" });
 *   void mcpServer.connect(new WebSocketTransport(socket));
 *   return response;
 * });
 * ```
 */
export class WebSocketTransport implements Transport {
  /** Called once when the socket has closed. */
  onclose?: (() => void) | undefined;
  /** Called on a transport error (bad frame, socket error). */
  onerror?: ((error: Error) => void) | undefined;
  /** Called with each incoming JSON-RPC message. */
  onmessage?: (<T extends JSONRPCMessage>(message: T) => void) | undefined;
  /** Not used by WebSocket sessions. */
  sessionId?: string | undefined;

  #socket: WebSocket;
  #maxBytes: number;
  #closeCode: number | undefined;
  #closeReason = "";
  #closed = false;

  /**
   * Wraps a socket (open or still connecting).
   *
   * @param socket The WebSocket.
   * @param options `maxMessageBytes`.
   */
  constructor(socket: WebSocket, options: WebSocketTransportOptions = {}) {
    this.#socket = socket;
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    socket.addEventListener("message", (event) => this.#receive(event));
    socket.addEventListener("close", (event) => {
      this.#closeCode = event.code;
      this.#closeReason = event.reason;
      this.#finish();
    });
    socket.addEventListener("error", (event) => {
      const message = (event as ErrorEvent).message ?? "WebSocket error";
      this.onerror?.(new ConnectionError(`WebSocket error: ${message}`, { channel: "control" }));
    });
  }

  /**
   * Opens a client connection with subprotocol `mcp` and the given headers, and waits until it is open.
   *
   * @param url `ws://` or `wss://` URL.
   * @param options Headers, timeout, signal, size limit.
   * @returns The open transport.
   * @throws {AuthenticationError} `ERR_AUTH_REJECTED` when the server answers 401 or 403.
   * @throws {ConnectionError} When the server is unreachable or refuses the upgrade.
   * @throws {TimeoutError} When the upgrade does not complete in time.
   * @throws {CancelledError} When `signal` aborts.
   */
  static connect(url: string, options: WebSocketConnectOptions = {}): Promise<WebSocketTransport> {
    const timeout = options.timeout ?? 10_000;
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        return reject(
          new CancelledError("Connection attempt was cancelled", { channel: "control", cause: options.signal.reason }),
        );
      }
      const socket = new WebSocket(url, { protocols: [MCP_SUBPROTOCOL], headers: options.headers ?? {} });
      let failure: Error | undefined;
      const settle = (error?: Error) => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        socket.removeEventListener("open", onOpen);
        socket.removeEventListener("error", onError);
        socket.removeEventListener("close", onClose);
        if (error) {
          if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) socket.close();
          reject(error);
        } else resolve(new WebSocketTransport(socket, options));
      };
      const onOpen = () => {
        if (socket.protocol !== MCP_SUBPROTOCOL) {
          settle(
            new ConnectionError(`Server at ${redactUrl(url)} did not accept subprotocol 'mcp'`, { channel: "control" }),
          );
        } else settle();
      };
      const onError = (event: Event) => {
        const message = (event as ErrorEvent).message ?? "";
        const status = /status code: (\d{3})/.exec(message)?.[1];
        failure = status === "401" || status === "403"
          ? new AuthenticationError(
            "ERR_AUTH_REJECTED",
            `Server at ${redactUrl(url)} rejected the token (HTTP ${status})`,
            {
              channel: "control",
            },
          )
          : new ConnectionError(
            `Cannot connect to ${redactUrl(url)}: ${redactUrls(message.replace(/^NetworkError: /, ""))}`,
            {
              channel: "control",
              cause: event,
            },
          );
      };
      const onClose = () =>
        settle(
          failure ??
            new ConnectionError(`Connection to ${redactUrl(url)} closed during upgrade`, { channel: "control" }),
        );
      const onAbort = () =>
        settle(
          new CancelledError("Connection attempt was cancelled", { channel: "control", cause: options.signal?.reason }),
        );
      const timer = setTimeout(
        () =>
          settle(
            new TimeoutError(`WebSocket upgrade to ${redactUrl(url)} timed out (timeout: ${timeout}ms)`, {
              channel: "control",
              timeoutMs: timeout,
            }),
          ),
        timeout,
      );
      socket.addEventListener("open", onOpen);
      socket.addEventListener("error", onError);
      socket.addEventListener("close", onClose);
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** The close code once closed (e.g. 1009, {@link CloseCode.TOKEN_EXPIRED}). */
  get closeCode(): number | undefined {
    return this.#closeCode;
  }

  /** The close reason once closed. */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** Whether the socket is open. */
  get isOpen(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  /**
   * Resolves once the socket is open (the SDK calls this on `connect`).
   *
   * @returns When open.
   * @throws {ConnectionError} When the socket closes first.
   */
  start(): Promise<void> {
    if (this.#socket.readyState === WebSocket.OPEN) return Promise.resolve();
    if (this.#socket.readyState !== WebSocket.CONNECTING) {
      return Promise.reject(new ConnectionError("WebSocket is already closed", { channel: "control" }));
    }
    return new Promise((resolve, reject) => {
      this.#socket.addEventListener("open", () => resolve(), { once: true });
      this.#socket.addEventListener(
        "close",
        () => reject(new ConnectionError("WebSocket closed before opening", { channel: "control" })),
        { once: true },
      );
    });
  }

  /**
   * Sends one message as one text frame. With `relatedRequestId`, a request or notification carries it under
   * `_meta[`{@link RELATED_REQUEST_META_KEY}`]`.
   *
   * @param message The JSON-RPC message.
   * @param options `relatedRequestId`: the request this message is sent for.
   * @returns When handed to the socket.
   * @throws {ConnectionError} `ERR_CONNECTION_CLOSED` when the socket is not open.
   * @throws {ProtocolError} `ERR_MESSAGE_TOO_LARGE` when the message exceeds `maxMessageBytes`: it is not sent (a
   *   result is replaced by a JSON-RPC error answer `-32603` for the same id, so the peer's request fails at once).
   */
  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(
        new ConnectionError("WebSocket is not open", { channel: "control", code: "ERR_CONNECTION_CLOSED" }),
      );
    }
    const related = options?.relatedRequestId;
    const text = JSON.stringify(related === undefined ? message : withRelation(message, related));
    if (exceedsBytes(text, this.#maxBytes)) {
      const refusal = `Message is larger than the limit of ${this.#maxBytes} bytes: not sent`;
      // An answer that cannot be sent is replaced by an error answer: the peer's request fails now, alone, instead
      // of waiting for its timeout.
      if (isResponse(message) && "result" in message) {
        this.#socket.send(JSON.stringify({
          jsonrpc: "2.0",
          id: message.id,
          error: { code: -32603, message: `Result is larger than the limit of ${this.#maxBytes} bytes: not sent` },
        }));
      }
      return Promise.reject(
        new ProtocolError(refusal, { channel: "control", rpcCode: -32600, code: "ERR_MESSAGE_TOO_LARGE" }),
      );
    }
    this.#socket.send(text);
    return Promise.resolve();
  }

  /**
   * Closes the socket.
   *
   * @param code Close code. @default {1000}
   * @param reason Close reason (at most 123 bytes).
   * @returns When the close was started (`onclose` follows).
   */
  close(code: number = CloseCode.NORMAL, reason = ""): Promise<void> {
    const state = this.#socket.readyState;
    if (state === WebSocket.OPEN || state === WebSocket.CONNECTING) {
      try {
        this.#socket.close(code, reason);
      } catch {
        this.#socket.close();
      }
    }
    if (state === WebSocket.CONNECTING || state === WebSocket.CLOSED) this.#finish();
    return Promise.resolve();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }

  #reply(id: unknown, code: number, message: string): void {
    const replyId = isRequestId(id) ? id : null;
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(JSON.stringify({ jsonrpc: "2.0", id: replyId, error: { code, message } }));
  }

  #receive(event: MessageEvent): void {
    const data = event.data;
    if (typeof data !== "string") {
      this.#reply(null, -32600, "Invalid Request: binary frames are not accepted, send JSON text frames");
      return;
    }
    if (data.length > this.#maxBytes / 3 && encoder.encode(data).byteLength > this.#maxBytes) {
      this.onerror?.(new RangeError(`Message of ${data.length} characters exceeds ${this.#maxBytes} bytes`));
      this.close(CloseCode.MESSAGE_TOO_BIG, "Message too big");
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      this.#reply(null, -32700, "Parse error: frame is not valid JSON");
      return;
    }
    if (!isJsonRpcMessage(parsed)) {
      // A response (or error response) is never answered, even when invalid: two peers would otherwise loop.
      if (isResponse(parsed)) {
        this.onerror?.(new TypeError("Received an invalid JSON-RPC response; ignored"));
        return;
      }
      this.#reply(isRecord(parsed) ? parsed.id : null, -32600, "Invalid Request: not a JSON-RPC 2.0 message");
      return;
    }
    this.onmessage?.(parsed);
  }
}
