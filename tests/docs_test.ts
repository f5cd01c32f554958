/**
 * Keeps README.md and docs/ true. Every TypeScript block in them is a region of a runnable example, marked on the
 * line above the block with `<!-- snippet: examples/NAME.ts#REGION -->`, and must equal that region (the lines
 * between `// #region REGION` and `// #endregion REGION`, dedented; `deno run -A tests/_snippets.ts` copies them
 * into the docs after an example changed). `tests/examples_test.ts` runs the examples,
 * and `deno check examples/` type-checks them, so every snippet shown has been type-checked and run. Shell blocks
 * may only name examples and tasks that exist, and relative links must point at files that exist.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Block, blocks, markdownFiles, ROOT, tagged } from "./_snippets.ts";

const files = await markdownFiles();
const all: Block[] = [];
for (const file of files) all.push(...blocks(file, await Deno.readTextFile(new URL(file, ROOT))));
const TS = new Set(["ts", "typescript", "js", "javascript", "tsx"]);

Deno.test("docs: every TypeScript block in README.md and docs/ is an example region, verbatim", async () => {
  const problems: string[] = [];
  for (const block of all.filter((b) => TS.has(b.lang))) {
    const where = `${block.file}:${block.line}`;
    if (!block.tag) {
      problems.push(`${where}: no <!-- snippet: examples/NAME.ts#REGION --> tag above the block`);
      continue;
    }
    const expected = await tagged(block.tag);
    if (expected === undefined) problems.push(`${where}: ${block.tag} names no region of an existing example`);
    else if (expected.trimEnd() !== block.code.trimEnd()) {
      problems.push(
        `${where}: differs from ${block.tag} (deno run -A tests/_snippets.ts updates it)\n` +
          `--- docs\n${block.code}\n--- example\n${expected}`,
      );
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("docs: there are snippets, and docs/usage.md shows every scenario of the usage guide", () => {
  const tags = new Set(all.filter((b) => b.file === "docs/usage.md" && b.tag).map((b) => b.tag!.split("#")[0]));
  const scenarios = [
    "basic_setup",
    "multiple_servers",
    "health_monitoring",
    "error_recovery",
    "secure_secret",
    "token_validation",
    "graceful_shutdown",
    "connection_monitoring",
    "error_handling",
    "configurations",
    "connection_testing",
    "load_testing",
    "troubleshooting",
    "maintenance",
  ];
  assert.deepEqual(scenarios.filter((s) => !tags.has(`examples/${s}.ts`)), []);
});

Deno.test("docs: shell blocks name examples and deno tasks that exist", async () => {
  const tasks = Object.keys(JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks);
  const problems: string[] = [];
  for (const block of all.filter((b) => ["sh", "bash", "shell", "console"].includes(b.lang))) {
    for (const [, path] of block.code.matchAll(/\b((?:examples|packages|tests)\/[\w/.-]+\.ts)\b/g)) {
      try {
        await Deno.stat(new URL(path!, ROOT));
      } catch {
        problems.push(`${block.file}:${block.line}: ${path} does not exist`);
      }
    }
    for (const [, task] of block.code.matchAll(/\bdeno task ([\w:-]+)/g)) {
      if (!tasks.includes(task!)) problems.push(`${block.file}:${block.line}: no task '${task}' in deno.json`);
    }
  }
  assert.deepEqual(problems, []);
});

/** GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces as hyphens. */
function anchors(text: string): Set<string> {
  const withoutCode = text.replace(/^\s*```[^]*?^\s*```\s*$/gm, "");
  return new Set(
    [...withoutCode.matchAll(/^#{1,6} +(.+)$/gm)].map(([, heading]) =>
      heading!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-")
    ),
  );
}

Deno.test("docs: relative links point at files and headings that exist", async () => {
  const problems: string[] = [];
  for (const file of files) {
    const text = await Deno.readTextFile(new URL(file, ROOT));
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue;
      const [path, anchor] = target!.split("#");
      const url = path ? new URL(path, new URL(file, ROOT)) : new URL(file, ROOT);
      let linked: string | undefined;
      try {
        const info = await Deno.stat(url);
        if (info.isFile && url.pathname.endsWith(".md")) linked = await Deno.readTextFile(url);
      } catch {
        problems.push(`${file}: link to ${target} does not resolve`);
        continue;
      }
      if (anchor && linked !== undefined && !anchors(linked).has(anchor)) {
        problems.push(`${file}: link to ${target}: no heading with that anchor`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("docs: JSON blocks parse, and a block tagged <!-- file: PATH --> is that file", async () => {
  const problems: string[] = [];
  for (const block of all.filter((b) => b.lang === "json")) {
    try {
      const value = JSON.parse(block.code);
      if (block.fileTag) {
        const file = JSON.parse(await Deno.readTextFile(new URL(block.fileTag, ROOT)));
        assert.deepEqual(value, file, `${block.file}:${block.line} differs from ${block.fileTag}`);
      }
    } catch (error) {
      problems.push(`${block.file}:${block.line}: ${(error as Error).message}`);
    }
  }
  assert.deepEqual(problems, []);
});
