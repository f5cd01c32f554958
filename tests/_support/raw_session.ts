/**
 * A 2025-11-25 session spoken to with raw HTTP (no SDK client), to see the gateway's answers as sent: their status,
 * headers and bodies.
 *
 * @module
 */

import assert from "node:assert/strict";

/** The revision the raw session speaks. */
export const RAW_VERSION = "2025-11-25";

/**
 * POSTs `body` as JSON to `url`, in `session` when given, with the protocol version header `version` (default
 * {@link RAW_VERSION}; an older revision's request takes the SDK transport at the gateway).
 */
export async function postRaw(url: string, body: unknown, session?: string, version = RAW_VERSION): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(session ? { "mcp-session-id": session, "mcp-protocol-version": version } : {}),
    },
    body: JSON.stringify(body),
  });
}

/** A GET that resumes `session`'s stream after the event `lastEventId`. */
export async function resumeRaw(url: string, session: string, lastEventId: string): Promise<Response> {
  return await fetch(url, {
    headers: {
      accept: "text/event-stream",
      "mcp-session-id": session,
      "mcp-protocol-version": RAW_VERSION,
      "last-event-id": lastEventId,
    },
  });
}

/** Opens a session (`initialize`, then `notifications/initialized`) for a client declaring `capabilities`; returns its id. */
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

/** The calls a gateway served outside the SDK's server machinery (`federation_gateway_plain_calls_total`). */
export async function plainCalls(gatewayUrl: string): Promise<number> {
  const text = await (await fetch(new URL("/metrics", gatewayUrl))).text();
  return Number(/^federation_gateway_plain_calls_total (\d+)$/m.exec(text)?.[1] ?? NaN);
}
