// Internal: the one place that knows which tools may be retried. A tool call is repeated on a member's other
// channel after a drop only when the member annotated the tool `readOnlyHint` or `idempotentHint` in its last
// `tools/list` (or the caller said `idempotent: true`); a tool not (or no longer) known is not retried.
import type { Tool } from "../core/mcp_types.ts";

/** Whether a tool's annotations make a repeated call safe. */
export function isSafeTool(tool: Tool): boolean {
  return tool.annotations?.readOnlyHint === true || tool.annotations?.idempotentHint === true;
}

/** One member's tools, as last listed, by whether a retry is safe (and their definitions). */
export class ToolSafety {
  #safe = new Map<string, boolean>();
  #definitions = new Map<string, Tool>();

  /** Records the tools of a complete `tools/list` result (every page), replacing what was known. */
  learn(tools: readonly Tool[]): void {
    this.#safe = new Map(tools.map((tool) => [tool.name, isSafeTool(tool)]));
    this.#definitions = new Map(tools.map((tool) => [tool.name, tool]));
  }

  /** Forgets everything (the member's tools changed). */
  forget(): void {
    this.#safe.clear();
    this.#definitions.clear();
  }

  /** A tool's definition as last listed (a modern member's `x-mcp-header` arguments are read from it). */
  definition(name: string): Tool | undefined {
    return this.#definitions.get(name);
  }

  /** Whether a call of the named tool may be repeated. */
  isSafe(name: string): boolean {
    return this.#safe.get(name) ?? false;
  }
}
