// Internal: the `Mcp-Param-{Name}` headers of a 2026-07-28 `tools/call` (Streamable HTTP, "Custom Headers from Tool
// Parameters"). A tool's `inputSchema` may mark primitive properties, reachable from the root through `properties`
// keys only, with `x-mcp-header: "<Name>"`; a client mirrors each such argument into `Mcp-Param-<Name>`, plain or
// as `=?base64?…?=` (UTF-8). A server that reads the body must check that every declared header matches the body
// (decoded; integers compared numerically) and that none is missing when the body carries the value; a mismatch is
// HTTP 400 with JSON-RPC `-32020` (HeaderMismatch). Headers the tool does not declare are not ours to judge.
import { isRecord } from "../core/_json.ts";

/** One `x-mcp-header` declaration of a tool: the header's name part and the property path of its argument. */
export interface ParamHeader {
  /** The `<Name>` of `Mcp-Param-<Name>`, as declared. */
  name: string;
  /** The chain of `properties` keys from the schema root to the annotated property. */
  path: string[];
}

/** The JSON-RPC code of a header that does not match the body (the specification's `HeaderMismatch`). */
export const HEADER_MISMATCH = -32020;

const SENTINEL_PREFIX = "=?base64?";
const SENTINEL_SUFFIX = "?=";
/** What a plain header value may hold: visible ASCII, space and tab (RFC 9110 field values). */
const PLAIN_VALUE = /^[\t\x20-\x7e]*$/;

/** An HTTP field-name token (RFC 9110 §5.1). */
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The `x-mcp-header` declarations of an `inputSchema`, found through `properties` chains only. */
export function paramHeaders(inputSchema: unknown): ParamHeader[] {
  const found: ParamHeader[] = [];
  function walk(schema: unknown, path: string[]): void {
    if (!isRecord(schema) || !isRecord(schema.properties)) return;
    for (const [key, property] of Object.entries(schema.properties)) {
      if (!isRecord(property)) continue;
      const declared = property["x-mcp-header"];
      // A name that is not an HTTP token could never be sent as a header (and `Headers.get` would throw): ignored.
      if (typeof declared === "string" && HEADER_TOKEN.test(declared)) {
        found.push({ name: declared, path: [...path, key] });
      }
      walk(property, [...path, key]);
    }
  }
  walk(inputSchema, []);
  return found;
}

/** The argument at `path`, or undefined when absent. */
function argumentAt(args: unknown, path: string[]): unknown {
  let value = args;
  for (const key of path) {
    if (!isRecord(value)) return undefined;
    value = value[key];
  }
  return value;
}

/** A header value decoded from the base64 sentinel, or as sent; undefined when the encoding is invalid. */
export function decodeHeaderValue(value: string): string | undefined {
  if (value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX) && value.length >= 11) {
    const encoded = value.slice(SENTINEL_PREFIX.length, -SENTINEL_SUFFIX.length);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.fromBase64(encoded));
    } catch {
      return undefined;
    }
  }
  return PLAIN_VALUE.test(value) ? value : undefined;
}

/** Whether a decoded header value stands for the body's value (integers numerically, booleans in lower case). */
function matches(header: string, body: unknown): boolean {
  switch (typeof body) {
    case "string":
      return header === body;
    case "boolean":
      return header === String(body);
    case "number": {
      if (header.trim() === "") return false;
      const number = Number(header);
      return Number.isFinite(number) && number === body;
    }
    default:
      return false;
  }
}

/**
 * Checks a `tools/call`'s `Mcp-Param-*` headers against its arguments and the tool's declarations.
 *
 * @param headers The request's headers.
 * @param inputSchema The called tool's `inputSchema` (the federated tool's, as listed to the client).
 * @param args The call's `arguments`.
 * @returns Undefined when they agree, else the reason of the mismatch (for a `-32020` error).
 */
export function paramHeaderMismatch(headers: Headers, inputSchema: unknown, args: unknown): string | undefined {
  for (const { name, path } of paramHeaders(inputSchema)) {
    const value = argumentAt(args, path);
    const raw = headers.get(`mcp-param-${name}`);
    if (value === undefined || value === null) {
      if (raw !== null) return `Header mismatch: Mcp-Param-${name} is sent but the body has no value for it`;
      continue;
    }
    if (raw === null) return `Header mismatch: Mcp-Param-${name} is missing but the body has a value for it`;
    const decoded = decodeHeaderValue(raw);
    if (decoded === undefined) return `Header mismatch: Mcp-Param-${name} has an invalid value`;
    if (!matches(decoded, value)) {
      return `Header mismatch: Mcp-Param-${name} header value does not match the body value`;
    }
  }
  return undefined;
}
