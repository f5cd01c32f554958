/**
 * The code blocks of README.md and docs/, and the example regions they show. Used by `docs_test.ts`; run it to
 * copy every region into the blocks that show it after an example changed:
 *
 * ```sh
 * deno run -A tests/_snippets.ts && deno fmt README.md docs/
 * ```
 *
 * A block shows a region when the line above it is `<!-- snippet: examples/NAME.ts#REGION -->`; the region is the
 * lines between `// #region REGION` and `// #endregion REGION` of the example, without nested markers, dedented.
 *
 * @module
 */

/** The repository's root. */
export const ROOT: URL = new URL("../", import.meta.url);

/** A fenced code block of a Markdown file. */
export interface Block {
  /** The Markdown file, relative to the root. */
  file: string;
  /** Line of the opening fence (1-based). */
  line: number;
  /** Line of the closing fence (1-based). */
  end: number;
  /** Indentation of the fences. */
  indent: string;
  /** The info string, e.g. `ts`. */
  lang: string;
  /** `path#region` of a `<!-- snippet: … -->` tag above the block. */
  tag: string | undefined;
  /** `path` of a `<!-- file: … -->` tag above the block: the block is that whole file. */
  fileTag: string | undefined;
  /** The block's content, without the fences' indentation. */
  code: string;
}

/** README.md and every Markdown file in docs/. */
export async function markdownFiles(): Promise<string[]> {
  const files = ["README.md"];
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  return files.sort();
}

/** Fenced code blocks of a Markdown file, each with the tag on the line before it, if any. */
export function blocks(file: string, text: string): Block[] {
  const lines = text.split("\n");
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!;
    const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    const previous = lines.slice(0, i).findLast((l) => l.trim() !== "") ?? "";
    const tag = /^\s*<!-- snippet: (\S+) -->\s*$/.exec(previous)?.[1];
    const fileTag = /^\s*<!-- file: (\S+) -->\s*$/.exec(previous)?.[1];
    const code = lines.slice(i + 1, end).map((l) => l.slice(indent.length)).join("\n");
    found.push({ file, line: i + 1, end: end + 1, indent, lang: open[2]!, tag, fileTag, code });
    i = end;
  }
  return found;
}

/** The region `name` of a source file, without region markers, dedented; `undefined` when there is none. */
export function region(source: string, name: string): string | undefined {
  const lines = source.split("\n");
  const start = lines.findIndex((l) => l.trim() === `// #region ${name}`);
  const end = lines.findIndex((l) => l.trim() === `// #endregion ${name}`);
  if (start < 0 || end < start) return undefined;
  const body = lines.slice(start + 1, end).filter((l) => !/^\s*\/\/ #(end)?region\b/.test(l));
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return body.map((l) => l.slice(indent)).join("\n");
}

/** The region a `path#region` tag names, read from the example. */
export async function tagged(tag: string): Promise<string | undefined> {
  const [path, name] = tag.split("#");
  if (!path || !name) return undefined;
  try {
    return region(await Deno.readTextFile(new URL(path, ROOT)), name);
  } catch {
    return undefined;
  }
}

/** Rewrites every tagged block of `file` with its region; returns the number of blocks changed. */
export async function updateSnippets(file: string): Promise<number> {
  const url = new URL(file, ROOT);
  const lines = (await Deno.readTextFile(url)).split("\n");
  let changed = 0;
  // From the last block up, so that earlier line numbers stay valid.
  for (const block of blocks(file, lines.join("\n")).reverse()) {
    if (!block.tag) continue;
    const code = await tagged(block.tag);
    if (code === undefined) throw new Error(`${file}:${block.line}: ${block.tag} names no region`);
    if (code.trimEnd() === block.code.trimEnd()) continue;
    const body = code.split("\n").map((l) => (l ? block.indent + l : l));
    lines.splice(block.line, block.end - block.line - 1, ...body);
    changed++;
  }
  if (changed > 0) await Deno.writeTextFile(url, lines.join("\n"));
  return changed;
}

if (import.meta.main) {
  for (const file of await markdownFiles()) {
    const changed = await updateSnippets(file);
    if (changed > 0) console.log(`${file}: ${changed} snippet(s) updated`);
  }
}
