// Internal: the federated tools by name, as last listed, for what the gateway checks before a 2026-07-28 call
// (its `Mcp-Param-*` headers against the tool's `x-mcp-header` declarations, its task mode). A call resolves its
// name from the catalog's current view without listing again (`resolveTool`); these checks do the same: the catalog
// is listed only when the name is not in the last listing (a new tool), or after the catalog reported a change of
// the tools. Without it, each call listed the catalog twice, and a 2026-07-28 member without a control channel
// (its list is followed by its cache hint, by default 0 ms) was asked for its `tools/list` twice per call.
import type { Tool } from "../core/_sdk.ts";
import type { FederatedCatalog } from "../proxy/catalog.ts";

/** The federated tools by name, as last listed. */
export class ToolIndex {
  #catalog: FederatedCatalog;
  #listed: readonly Tool[] | undefined;
  #byName = new Map<string, Tool>();

  constructor(catalog: FederatedCatalog) {
    this.#catalog = catalog;
  }

  /** The tool named `name` as last listed; the catalog is listed when the name is not known (or after a change). */
  async find(name: string): Promise<Tool | undefined> {
    const known = this.#byName.get(name);
    if (known !== undefined) return known;
    const tools = await this.#catalog.listTools();
    if (tools !== this.#listed) {
      this.#listed = tools;
      this.#byName = new Map(tools.map((tool) => [tool.name, tool]));
    }
    return this.#byName.get(name);
  }

  /** The tools changed: the next lookup lists the catalog. */
  forget(): void {
    this.#listed = undefined;
    this.#byName = new Map();
  }
}
