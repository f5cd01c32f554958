// Internal: what counts as a JSON-RPC message, in one place. These are structural checks on parsed JSON, cheap
// enough for every frame; the SDK's zod schemas still validate params and results where the SDK handles a message.
import type { JSONRPCMessage } from "./mcp_types.ts";
import { isRecord } from "./_json.ts";

/** A JSON-RPC id the MCP SDK accepts: a string or a safe integer (a fractional id would go unanswered). */
export function isRequestId(id: unknown): id is string | number {
  return typeof id === "string" || Number.isSafeInteger(id);
}

/** A request: a method and an id. */
export function isRequest(
  message: unknown,
): message is Record<string, unknown> & { method: string; id: string | number } {
  return isRecord(message) && typeof message.method === "string" && isRequestId(message.id);
}

/** A notification: a method and no id. */
export function isNotification(message: unknown): message is Record<string, unknown> & { method: string } {
  return isRecord(message) && typeof message.method === "string" && message.id === undefined;
}

/** A response or an error response: no method, and a result or an error. Never answered, even when invalid. */
export function isResponse(message: unknown): message is Record<string, unknown> & { id?: unknown } {
  return isRecord(message) && message.method === undefined && ("result" in message || "error" in message);
}

/** A well-formed JSON-RPC 2.0 message as the SDK's transports accept it. */
export function isJsonRpcMessage(value: unknown): value is JSONRPCMessage {
  if (!isRecord(value) || value.jsonrpc !== "2.0") return false;
  if (typeof value.method === "string") {
    return (value.id === undefined || isRequestId(value.id)) && (value.params === undefined || isRecord(value.params));
  }
  return isRequestId(value.id) && ("result" in value || "error" in value);
}
