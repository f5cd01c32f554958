/**
 * A 2025-11-25 session spoken to with raw HTTP (no SDK client), to see the gateway's answers as sent: their status,
 * headers and bodies.
 *
 * @module
 */

import assert from "node:assert/strict";

/** The revision the raw session speaks. */
export const RAW_VERSION = "2025-11-25";

/** POSTs `body` as JSON to `url`, in `session` when given (with its protocol version header). */
export async function postRaw(url: string, body: unknown, session?: string): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(session ? { "mcp-session-id": session, "mcp-protocol-version": RAW_VERSION } : {}),
    },
    body: JSON.stringify(body),
  });
}

/**
 * Opens a session (`initialize`, then `notifications/initialized`) for a client declaring `capabilities`; returns its
 * id. A client declaring sampling, elicitation or roots has its calls served by the SDK transport (a member could ask
 * it something); one declaring none, outside it.
 */
export async function openRawSession(url: string, capabilities: Record<string, unknown> = {}): Promise<string> {
  const response = await postRaw(url, {
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion: RAW_VERSION, capabilities, clientInfo: { name: "raw", version: "1" } },
  });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const session = response.headers.get("mcp-session-id")!;
  const initialized = await postRaw(url, { jsonrpc: "2.0", method: "notifications/initialized" }, session);
  assert.equal(initialized.status, 202);
  await initialized.body?.cancel();
  return session;
}

/** A `tools/call` request body. */
export function toolCall(id: number, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) {
  return {
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
  };
}
