/**
 * The raw 2026-07-28 client of the input-bridge tests: one `tools/call` POST with the envelope, and the
 * `input_required` round of an answer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gatewayToken } from "../_support/catalog_members.ts";
import { modernPost } from "../_support/modern_post.ts";

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
  return await modernPost(url, token, method, params, { name, capabilities: options.capabilities ?? ALL });
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
