/**
 * The raw 2026-07-28 client of the input-bridge tests: one `tools/call` POST with the envelope, and the
 * `input_required` round of an answer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gatewayToken } from "../_support/catalog_members.ts";

const MODERN = "2026-07-28";
const ALL = { elicitation: {}, sampling: {}, roots: {} };

/** One 2026-07-28 `tools/call` as a raw POST; the JSON-RPC message of the answer. */
/** One 2026-07-28 `tools/call` as a raw POST (no arguments unless `extra` gives them). */
export function callTool(
  url: string,
  name: string,
  extra: Record<string, unknown> = {},
  options: RequestOptions = {},
): Promise<Record<string, unknown>> {
  return request(url, "tools/call", { name, arguments: {}, ...extra }, name, options);
}

/** Who sends a request, and what it declares it can answer. */
export interface RequestOptions {
  subject?: string;
  capabilities?: Record<string, unknown>;
}

/** One 2026-07-28 request as a raw POST (`Mcp-Name` set to `name`); the JSON-RPC message of the answer. */
export async function request(
  url: string,
  method: string,
  params: Record<string, unknown>,
  name: string,
  options: RequestOptions = {},
): Promise<Record<string, unknown>> {
  const token = await gatewayToken(options.subject ?? "test-client");
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${token}`,
      "mcp-protocol-version": MODERN,
      "mcp-method": method,
      "mcp-name": name,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method,
      params: {
        ...params,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": MODERN,
          "io.modelcontextprotocol/clientCapabilities": options.capabilities ?? ALL,
          "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1.0.0" },
        },
      },
    }),
  });
  const text = await response.text();
  const json = response.headers.get("content-type")?.includes("text/event-stream")
    ? text.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5)).at(-1)!
    : text;
  return JSON.parse(json);
}

export type Round = {
  resultType: string;
  inputRequests: Record<string, { method: string; params: Record<string, unknown> }>;
  requestState: string;
};

export function roundOf(message: Record<string, unknown>): Round {
  const result = message.result as Round | undefined;
  assert.ok(result, `a result: ${JSON.stringify(message)}`);
  assert.equal(result.resultType, "input_required", JSON.stringify(result));
  return result;
}
