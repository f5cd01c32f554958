// Internal: where a JSON text is broken, without quoting it. `JSON.parse`'s own message may quote the text around the
// error (`..."B_TOKEN": ghp_abc"...`), which can be part of a secret in a config file: never print it.
import { ConfigError } from "./errors.ts";

/**
 * Reads and parses a JSON config file; every failure is a `ConfigError` (field `file`) naming the file, and a syntax
 * error gives only its line and column.
 */
export async function readJsonConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new ConfigError(`Cannot read config file '${file}': ${error instanceof Error ? error.message : error}`, {
      field: "file",
      cause: error,
    });
  }
  try {
    return parseJsonQuietly(text);
  } catch (error) {
    throw new ConfigError(`Invalid config file '${file}': ${error instanceof Error ? error.message : "not JSON"}`, {
      field: "file",
    });
  }
}

/**
 * Parses JSON text; on a syntax error throws a `SyntaxError` whose message holds only the line and column (no text).
 *
 * @example
 * ```ts ignore
 * parseJsonQuietly('{"a": nope}'); // throws SyntaxError("not JSON (line 1, column 7)")
 * ```
 */
export function parseJsonQuietly(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const offset = jsonErrorOffset(text);
    if (offset === undefined) throw new SyntaxError("not JSON");
    const before = text.slice(0, offset).split("\n");
    throw new SyntaxError(`not JSON (line ${before.length}, column ${before.at(-1)!.length + 1})`);
  }
}

/** The offset of the first syntax error of `text` (`undefined` when the scanner finds none). */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else throw i;
  };
  const string = () => {
    if (text[i] !== '"') throw i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) throw i;
      if (text[i] === "\\") {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) throw i;
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) throw i;
      }
      i++;
    }
    if (i >= text.length) throw i;
    i++;
  };
  const number = () => {
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!match) throw i;
    i += match[0].length;
  };
  const value = (depth: number): void => {
    if (depth > 10_000) throw i;
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ":") throw i;
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else throw i;
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else throw i;
      }
    } else if (c === '"') string();
    else if (c === "t") literal("true");
    else if (c === "f") literal("false");
    else if (c === "n") literal("null");
    else number();
  };
  try {
    value(0);
    ws();
    return i < text.length ? i : undefined;
  } catch (offset) {
    if (typeof offset === "number") return offset;
    return undefined; // e.g. a stack overflow: no position
  }
}
