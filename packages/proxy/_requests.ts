// Internal: the MCP requests behind the proxy's typed calls, as runners for one channel's client: one place that
// says how each request is sent (`tools/call` with its `_meta`, each list page, …), so that every caller, the
// catalog included, goes through the same typed call.
import { CallToolResultSchema } from "../core/_sdk.ts";
import type {
  CallToolResult,
  McpClient,
  McpRequestOptions,
  Prompt,
  Resource,
  ResourceTemplate,
  Tool,
} from "../core/mcp_types.ts";
import type { RequestRunner } from "./request_runner.ts";

/** One page of a list; `nextCursor` continues it. */
export interface Page<T> {
  items: T[];
  nextCursor?: string | undefined;
}

/** Fetches one page of a list. */
export type PageRunner<T> = (
  client: McpClient,
  cursor: string | undefined,
  options: McpRequestOptions,
) => Promise<Page<T>>;

/** `tools/call`; `_meta` is sent along without a progress token (the SDK sets its own for `onprogress`). */
export function toolCall(
  name: string,
  args: Record<string, unknown>,
  meta: Record<string, unknown> | undefined,
): RequestRunner<CallToolResult> {
  const params: Record<string, unknown> = { name, arguments: args };
  if (meta) {
    const { progressToken: _dropped, ...rest } = meta;
    if (Object.keys(rest).length > 0) params._meta = rest;
  }
  return (client, options) =>
    client.request({ method: "tools/call", params }, CallToolResultSchema, options) as Promise<CallToolResult>;
}

function cursorParams(cursor: string | undefined): { cursor?: string } {
  return cursor === undefined ? {} : { cursor };
}

/** A page of `tools/list`. */
export async function toolsPage(
  client: McpClient,
  cursor: string | undefined,
  options: McpRequestOptions,
): Promise<Page<Tool>> {
  const r = await client.listTools(cursorParams(cursor), options);
  return { items: r.tools, nextCursor: r.nextCursor };
}

/** A page of `resources/list`. */
export async function resourcesPage(
  client: McpClient,
  cursor: string | undefined,
  options: McpRequestOptions,
): Promise<Page<Resource>> {
  const r = await client.listResources(cursorParams(cursor), options);
  return { items: r.resources, nextCursor: r.nextCursor };
}

/** A page of `resources/templates/list`. */
export async function resourceTemplatesPage(
  client: McpClient,
  cursor: string | undefined,
  options: McpRequestOptions,
): Promise<Page<ResourceTemplate>> {
  const r = await client.listResourceTemplates(cursorParams(cursor), options);
  return { items: r.resourceTemplates, nextCursor: r.nextCursor };
}

/** A page of `prompts/list`. */
export async function promptsPage(
  client: McpClient,
  cursor: string | undefined,
  options: McpRequestOptions,
): Promise<Page<Prompt>> {
  const r = await client.listPrompts(cursorParams(cursor), options);
  return { items: r.prompts, nextCursor: r.nextCursor };
}

/** Runs page after page until the last (or a repeated cursor, which would loop forever). */
export async function paginate<T>(
  request: (run: RequestRunner<Page<T>>) => Promise<Page<T>>,
  page: PageRunner<T>,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  const seen = new Set<string>();
  do {
    const result = await request((client, options) => page(client, cursor, options));
    items.push(...result.items);
    cursor = result.nextCursor;
    if (cursor !== undefined && seen.has(cursor)) break;
    if (cursor !== undefined) seen.add(cursor);
  } while (cursor !== undefined);
  return items;
}
