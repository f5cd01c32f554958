import assert from "node:assert/strict";
import { AuthenticationError, ConnectionError, ProtocolError, TimeoutError } from "../core/errors.ts";
import {
  ProtocolError as SdkProtocolError,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  ServerProtocolError,
} from "../core/_sdk.ts";
import { failsChannel, isSessionLost, toFederationError } from "./_errors.ts";

const context = { serverId: "a", channel: "data" as const, what: "tools/call" };

function httpError(status: number): SdkHttpError {
  return new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, `Error POSTing to endpoint: HTTP ${status}`, {
    status,
  });
}

Deno.test("toFederationError maps the v2 SDK's timeout (SdkError REQUEST_TIMEOUT) to TimeoutError with its timeout", () => {
  const raw = new SdkError(SdkErrorCode.RequestTimeout, "Request timed out", { timeout: 50 });
  const error = toFederationError(raw, context);
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.code, "ERR_TIMEOUT");
  assert.equal(error.timeoutMs, 50);
  assert.equal(error.serverId, "a");
  assert.equal(failsChannel(raw, error, false), false, "a timeout fails the request only");
});

Deno.test("toFederationError maps the v2 SDK's CONNECTION_CLOSED to ERR_CONNECTION_CLOSED, which fails no channel by itself", () => {
  const raw = new SdkError(SdkErrorCode.ConnectionClosed, "Connection closed");
  const error = toFederationError(raw, context);
  assert.ok(error instanceof ConnectionError);
  assert.equal(error.code, "ERR_CONNECTION_CLOSED");
  assert.equal(failsChannel(raw, error, false), false, "the transport's own close fails the channel");
});

Deno.test("toFederationError maps a member's error response to ProtocolError with its code, data and bare message", () => {
  const raw = SdkProtocolError.fromError(-32602, "Unknown tool: nope", { name: "nope" });
  const error = toFederationError(raw, { ...context, remote: true });
  assert.ok(error instanceof ProtocolError);
  assert.equal(error.code, "ERR_PROTOCOL");
  assert.equal(error.rpcCode, -32602);
  assert.deepEqual(error.data, { name: "nope" });
  assert.equal(error.message, "Server 'a' answered tools/call with error -32602: Unknown tool: nope");
  assert.equal(failsChannel(raw, error, true), false);
});

Deno.test("toFederationError reads the HTTP status of SdkHttpError: 413, 401/403, 404 and 500", () => {
  const tooLarge = toFederationError(httpError(413), context);
  assert.ok(tooLarge instanceof ProtocolError);
  assert.equal(tooLarge.code, "ERR_MESSAGE_TOO_LARGE");
  assert.equal(tooLarge.rpcCode, -32600);
  for (const status of [401, 403]) {
    const rejected = toFederationError(httpError(status), context);
    assert.ok(rejected instanceof AuthenticationError);
    assert.equal(rejected.code, "ERR_AUTH_REJECTED");
    assert.ok(rejected.message.includes(`HTTP ${status}`), rejected.message);
    assert.equal(failsChannel(httpError(status), rejected, false), false, "one POST's status fails that request only");
  }
  const failed = toFederationError(httpError(500), context);
  assert.ok(failed instanceof ConnectionError);
  assert.equal(failed.code, "ERR_CONNECTION_FAILED");
  assert.equal(failsChannel(httpError(500), failed, false), false);
  assert.equal(isSessionLost(httpError(404)), true);
  assert.equal(isSessionLost(httpError(400)), false);
  assert.equal(isSessionLost(new SdkError(SdkErrorCode.NotConnected, "Not connected")), false);
});

Deno.test("toFederationError maps a failed fetch to ConnectionError that fails its channel", () => {
  const raw = new TypeError("error sending request for url (http://127.0.0.1:1/): connection refused");
  const error = toFederationError(raw, context);
  assert.ok(error instanceof ConnectionError);
  assert.equal(failsChannel(raw, error, false), true);
});

Deno.test("the client and server packages' ProtocolError classes recognise each other's instances (brand-based)", () => {
  const server = new ServerProtocolError(-32601, "Method not found");
  assert.ok(server instanceof SdkProtocolError);
  assert.equal(toFederationError(server, { ...context, remote: true }).code, "ERR_PROTOCOL");
});

Deno.test("toFederationError maps a failed era probe by its cause: an unreachable member is a ConnectionError", () => {
  const cause = new TypeError("fetch failed");
  const raw = new SdkError(SdkErrorCode.EraNegotiationFailed, "Version negotiation probe failed: fetch failed", {
    cause,
  }, { cause });
  const error = toFederationError(raw, { ...context, what: "connect" });
  assert.ok(error instanceof ConnectionError);
  assert.equal(error.code, "ERR_CONNECTION_FAILED");
});

Deno.test("toFederationError reads a modern member's JSON-RPC error from an HTTP status; a 404 of it is no lost session", () => {
  const raw = new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, "Error POSTing to endpoint", {
    status: 404,
    text: '{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found"}}',
  });
  const error = toFederationError(raw, context);
  assert.ok(error instanceof ProtocolError);
  assert.equal(error.rpcCode, -32601);
  assert.equal(isSessionLost(raw), false);
  const lost = new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, "Error POSTing to endpoint", {
    status: 404,
    text: '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}',
  });
  assert.equal(isSessionLost(lost), true);
});
