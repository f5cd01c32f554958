// Internal: URIs inside results, in their federated form. A resource link or embedded resource in a tool result
// or prompt message, and the contents of a read, name the member's URI; when that URI is listed under another
// (rewritten) federated URI, or another member lists the same URI, the client gets the federated one, so that
// reading it again reaches the same member.
import type { ContentBlock } from "../../core/_sdk.ts";
import type { CallToolResult, GetPromptResult, ReadResourceResult } from "../../core/mcp_types.ts";
import { parseRewrittenUri, rewriteUri } from "../_uris.ts";
import { pairKey, type View } from "./_views.ts";

/**
 * A member's URI in federated form: as listed, else rewritten when URIs are always prefixed, another member lists the
 * same URI, or it is in the federated scheme already.
 */
export function federateUri(resources: View | undefined, serverId: string, uri: string): string {
  const listed = resources?.reverse.get(pairKey(serverId, uri));
  if (listed !== undefined) return listed;
  const other = resources?.owners.get(uri);
  if (resources?.uriPrefix === "always" || (other && other.serverId !== serverId) || parseRewrittenUri(uri)) {
    return rewriteUri(serverId, uri);
  }
  return uri;
}

/** Content blocks with their resource links and embedded resources in federated form (the same array if none). */
export function federateContent(
  resources: View | undefined,
  serverId: string,
  content: ContentBlock[],
): ContentBlock[] {
  let changed = false;
  const mapped = content.map((block) => {
    if (block.type === "resource_link") {
      const uri = federateUri(resources, serverId, block.uri);
      if (uri === block.uri) return block;
      changed = true;
      return { ...block, uri };
    }
    if (block.type === "resource") {
      const uri = federateUri(resources, serverId, block.resource.uri);
      if (uri === block.resource.uri) return block;
      changed = true;
      return { ...block, resource: { ...block.resource, uri } };
    }
    return block;
  });
  return changed ? mapped : content;
}

/** A tool result with federated URIs. */
export function federateToolResult(
  resources: View | undefined,
  serverId: string,
  result: CallToolResult,
): CallToolResult {
  const content = federateContent(resources, serverId, result.content);
  return content === result.content ? result : { ...result, content };
}

/** A read's contents with federated URIs; the URI that was read is given as the client asked for it. */
export function federateReadResult(
  resources: View | undefined,
  origin: { serverId: string; uri: string },
  askedUri: string,
  result: ReadResourceResult,
): ReadResourceResult {
  let changed = false;
  const contents = result.contents.map((content) => {
    const federated = content.uri === origin.uri ? askedUri : federateUri(resources, origin.serverId, content.uri);
    if (federated === content.uri) return content;
    changed = true;
    return { ...content, uri: federated };
  });
  return changed ? { ...result, contents } : result;
}

/** A prompt's messages with federated URIs in their embedded resources and links. */
export function federatePromptResult(
  resources: View | undefined,
  serverId: string,
  result: GetPromptResult,
): GetPromptResult {
  let changed = false;
  const messages = result.messages.map((message) => {
    const [content] = federateContent(resources, serverId, [message.content]) as [typeof message.content];
    if (content === message.content) return message;
    changed = true;
    return { ...message, content };
  });
  return changed ? { ...result, messages } : result;
}
