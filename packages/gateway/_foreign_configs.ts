// Internal: the configs users already have. Converts the server lists of Claude Desktop, Claude Code (`.mcp.json`) and
// Cursor (`"mcpServers"`), and of VS Code (`"servers"`, `"inputs"`), into our `members` form, secrets kept as
// references. The gateway's config file accepts them beside (or instead of) `members`; `--import` prints the result.
//
// Rules (docs/operations.md, "Bring your Claude Desktop / VS Code config"):
// - A server's name is its serverId: `^[A-Za-z0-9_-]{1,32}$` without `__`. Another name is refused with a suggestion,
//   never renamed silently (the serverId is the prefix of every tool name clients see).
// - `command` (+ `args`, `env`, `cwd`) → a stdio member `endpoints.stdio`; `url` with type `http`/`streamable-http`
//   (or none) → a data-only member `endpoints.data`, `auth: { type: "none" }`. `sse` (the legacy transport) is refused.
// - `env` values: `${VAR}` / `${env:VAR}` → `envFrom` (read from the gateway's environment when the member starts);
//   plain literals → `env`; a literal under a credential's name or in a known token format → refused (the fix is
//   printed: `"GITHUB_TOKEN": "${GITHUB_TOKEN}"`).
// - `command`, `args`, `cwd`, `url` are not secrets: their `${VAR}`, `${VAR:-default}`, `${env:VAR}`, `${userHome}`,
//   `${workspaceFolder}` are expanded when the file is read; a reference to a credential there is refused (a secret
//   goes through `env` only), and so is a token written there.
// - `${input:…}` (VS Code prompts) cannot be answered by a gateway; `envFile`, `headers` are refused with the way out.

import { dirname, resolve } from "node:path";
import { ConfigError } from "../core/errors.ts";
import { isRecord } from "../core/_json.ts";
import { SERVER_ID_PATTERN } from "../core/config.ts";
import { readJsonConfigFile } from "../core/_json_syntax.ts";
import { containsKnownToken, isSecretName } from "../core/_secret_like.ts";

type Json = Record<string, unknown>;
type Env = (name: string) => string | undefined;

/** Client-specific fields that have no meaning in a federation and are ignored (VS Code's watch/debug mode). */
const IGNORED = ["dev"];
const STDIO_FIELDS = ["command", "args", "env", "cwd"];
const HTTP_FIELDS = ["url", "headers"];
const KNOWN = ["type", ...STDIO_FIELDS, "envFile", ...HTTP_FIELDS];
const TYPES = ["stdio", "http", "streamable-http", "sse"];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables that hold no secret (where a user's files are): `--import` prints their values expanded. */
const PLAIN_VARIABLES = ["HOME", "USER", "TMPDIR"];
/** `${NAME}`, `${NAME:-default}`, `${env:NAME}`, `${input:id}`, `${userHome}`, `${workspaceFolder}`. */
const REFERENCE = /\$\{([^}]*)\}/g;

/** Where one server sits in the file, for messages. */
interface Where {
  file: string;
  section: "mcpServers" | "servers";
  name: string;
  env: Env;
  /** Set when a value of this server was read from the environment (for `--import`, which then keeps the server as written). */
  readEnv?: boolean;
}

function fail(where: Where, field: string, rule: string): never {
  const path = field === "" ? `${where.section}.${where.name}` : `${where.section}.${where.name}.${field}`;
  throw new ConfigError(`Invalid config file '${where.file}': server '${where.name}': ${path}: ${rule}`, {
    field: path,
    serverId: where.name,
  });
}

/** A valid serverId close to `name`, for the message that refuses it. */
function suggestServerId(name: string): string {
  const id = name.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/_{2,}/g, "_").replace(/^[-_]+|[-_]+$/g, "").slice(0, 32);
  return id === "" ? "server" : id;
}

/** The variable a whole value refers to: `${NAME}`, `${env:NAME}` or `${NAME:-default}`. */
function wholeReference(value: string): { name: string; fallback: string | undefined } | undefined {
  const match = /^\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/.exec(value);
  if (!match || (value.startsWith("${") && ["userHome", "workspaceFolder"].includes(value.slice(2, -1)))) {
    return undefined; // Not a variable (or a path VS Code and Cursor predefine, expanded as any other value).
  }
  return { name: match[1]!, fallback: match[2] };
}

function envSuggestion(id: string): string {
  return id.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "").toUpperCase() || "VALUE";
}

function refuseInput(where: Where, field: string, value: string): void {
  const input = /\$\{input:([^}]*)\}/.exec(value);
  if (input) {
    fail(
      where,
      field,
      `\${input:${input[1]}} is a VS Code prompt, which a gateway cannot show: export the value and write \${env:${
        envSuggestion(input[1]!)
      }}`,
    );
  }
}

function workspaceFolder(file: string): string {
  const dir = dirname(resolve(file));
  return /[/\\]\.(vscode|cursor)$/.test(dir) ? dirname(dir) : dir;
}

/** Expands the references of a value that is not a secret (`command`, `args`, `cwd`, `url`, a composed env value). */
function expand(where: Where, field: string, value: string): string {
  refuseInput(where, field, value);
  if (containsKnownToken(value)) {
    fail(where, field, "holds a token written in the file: pass it in env with a reference instead");
  }
  return value.replace(REFERENCE, (_all, body: string) => {
    if (body === "userHome") return lookup(where, field, "HOME", undefined);
    if (body === "workspaceFolder") return workspaceFolder(where.file);
    const match = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/.exec(body);
    if (!match) fail(where, field, `\${${body}} is not a reference this gateway can expand (\${NAME} or \${env:NAME})`);
    const name = match[1]!;
    if (isSecretName(name)) {
      fail(
        where,
        field,
        `refers to ${name}, which looks like a secret: secrets reach a server only as a whole env value ("${name}": "\${${name}}"), never in ${
          field.startsWith("env.") ? "a composed value" : "its command line or URL"
        }`,
      );
    }
    return lookup(where, field, name, match[2]);
  });
}

function lookup(where: Where, field: string, name: string, fallback: string | undefined): string {
  const value = where.env(name);
  if (!PLAIN_VARIABLES.includes(name)) where.readEnv = true;
  if (value !== undefined) return value;
  if (fallback !== undefined) return fallback;
  return fail(where, field, `environment variable ${name} is not set (write \${${name}:-default} for a default)`);
}

function inlineSecret(where: Where, field: string, name: string, bearer: boolean): never {
  const variable = bearer ? "API_TOKEN" : envSuggestion(name);
  const fix = bearer ? `"${name}": "Bearer \${${variable}}"` : `"${name}": "\${${variable}}"`;
  return fail(
    where,
    field,
    `looks like a secret written in the file: move it to the environment (export ${variable}=…) and write ${fix}`,
  );
}

function stringField(where: Where, raw: Json, key: string): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") fail(where, key, "must be a non-empty string");
  return value;
}

function stdioEndpoint(where: Where, raw: Json): Json {
  const command = expand(where, "command", stringField(where, raw, "command")!);
  const stdio: Json = { command };
  if (raw.args !== undefined) {
    if (!Array.isArray(raw.args)) fail(where, "args", "must be an array of strings");
    stdio.args = raw.args.map((arg, index) => {
      if (typeof arg !== "string") fail(where, `args[${index}]`, "must be a string");
      return expand(where, `args[${index}]`, arg);
    });
  }
  if (raw.env !== undefined) {
    if (!isRecord(raw.env)) fail(where, "env", 'must be an object of strings, e.g. { "DEBUG": "1" }');
    const env: Record<string, string> = {};
    const envFrom: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw.env)) {
      const field = `env.${name}`;
      if (!ENV_NAME.test(name)) fail(where, field, "is not a valid environment variable name");
      if (typeof value !== "string") fail(where, field, "must be a string");
      refuseInput(where, field, value);
      const reference = wholeReference(value);
      if (reference && (reference.fallback === undefined || isSecretName(name) || isSecretName(reference.name))) {
        if (reference.fallback !== undefined && reference.fallback !== "") {
          fail(where, field, "a default for a secret is a secret written in the file: drop the default");
        }
        envFrom[name] = reference.name;
      } else if (reference || value.includes("${")) {
        if (isSecretName(name)) {
          fail(
            where,
            field,
            `cannot be composed from references: set ${name} in the environment and write "${name}": "\${${name}}"`,
          );
        }
        env[name] = expand(where, field, value);
      } else if (isSecretName(name) || containsKnownToken(value)) {
        inlineSecret(where, field, name, false);
      } else {
        env[name] = value;
      }
    }
    if (Object.keys(env).length > 0) stdio.env = env;
    if (Object.keys(envFrom).length > 0) stdio.envFrom = envFrom;
  }
  const cwd = stringField(where, raw, "cwd");
  if (cwd !== undefined) stdio.cwd = expand(where, "cwd", cwd);
  return stdio;
}

function dataEndpoint(where: Where, raw: Json): string {
  const url = expand(where, "url", stringField(where, raw, "url")!);
  if (!URL.canParse(url) || !["http:", "https:"].includes(new URL(url).protocol)) {
    fail(where, "url", "must be an http:// or https:// URL (a Streamable HTTP endpoint)");
  }
  const parsed = new URL(url);
  if (parsed.username !== "" || parsed.password !== "") {
    // The value is not quoted: the password may be in it.
    fail(where, "url", "carries a user name or password (user:password@host): a secret must not be written in a URL");
  }
  for (const name of new URL(url).searchParams.keys()) {
    if (isSecretName(name)) {
      fail(where, "url", `carries a credential in its query ('${name}'): a secret must not be written in a URL`);
    }
  }
  if (raw.headers !== undefined) {
    if (!isRecord(raw.headers)) fail(where, "headers", "must be an object of strings");
    for (const [name, value] of Object.entries(raw.headers)) {
      const field = `headers.${name}`;
      if (typeof value !== "string") fail(where, field, "must be a string");
      refuseInput(where, field, value);
      if (!value.includes("${") && (isSecretName(name) || containsKnownToken(value))) {
        inlineSecret(where, field, name, /^authorization$/i.test(name));
      }
    }
    if (Object.keys(raw.headers).length > 0) {
      fail(
        where,
        "headers",
        "are not supported: the federation authenticates to a member with the JWTs it mints (a member of ours) or with nothing; a static header cannot be sent yet: run the server behind the member sidecar, or remove headers if it needs none",
      );
    }
  }
  return url;
}

/** Converts one server of the file to a member in our form. */
function convertServer(where: Where, raw: unknown): Json {
  if (!isRecord(raw)) fail(where, "", "must be an object");
  if (!SERVER_ID_PATTERN.test(where.name) || where.name.includes("__")) {
    fail(
      where,
      "",
      `the name is the member's serverId and must match ^[A-Za-z0-9_-]{1,32}$ without '__': rename it, e.g. to '${
        suggestServerId(where.name)
      }'`,
    );
  }
  const known = where.section === "servers" ? [...KNOWN, ...IGNORED] : KNOWN;
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) fail(where, key, `is not a known field (known: ${known.join(", ")})`);
  }
  const type = raw.type;
  if (type !== undefined && !TYPES.includes(type as string)) {
    fail(where, "type", `${JSON.stringify(type)} is not one of ${TYPES.map((t) => `"${t}"`).join(", ")}`);
  }
  if (type === "sse") {
    fail(
      where,
      "type",
      '"sse" is the legacy HTTP+SSE transport, which the federation does not speak: point url at the server\'s Streamable HTTP endpoint (often /mcp) with "type": "http"',
    );
  }
  if (raw.envFile !== undefined) {
    fail(
      where,
      "envFile",
      'is not read: export its variables in the gateway\'s environment and refer to each in env ("NAME": "${NAME}")',
    );
  }
  if (raw.command !== undefined && raw.url !== undefined) {
    fail(where, "", "has both command and url: keep command for a local (stdio) server or url for an HTTP one");
  }
  const stdio = type === "stdio" || (type === undefined && raw.url === undefined);
  if (stdio) {
    if (raw.command === undefined) {
      fail(where, "command", "is required: a stdio server needs a command (an HTTP server needs a url instead)");
    }
    for (const key of HTTP_FIELDS) if (raw[key] !== undefined) fail(where, key, "is for HTTP servers (with url)");
    return { serverId: where.name, endpoints: { stdio: stdioEndpoint(where, raw) }, auth: { type: "none" } };
  }
  if (raw.url === undefined) fail(where, "url", `is required: a "${type}" server needs a url`);
  for (const key of STDIO_FIELDS) {
    if (raw[key] !== undefined) fail(where, key, "is for stdio servers (with command)");
  }
  return { serverId: where.name, endpoints: { data: dataEndpoint(where, raw) }, auth: { type: "none" } };
}

/**
 * Turns a config file that holds `mcpServers` (Claude Desktop, Claude Code, Cursor) or `servers` (VS Code) into our
 * federation file: those servers appended to `members`, the other sections kept. A file without a `gateway` section
 * gets `{ "auth": { "secretEnv": "MCP_GATEWAY_SECRET" } }`. A file with neither key is returned as it is.
 *
 * @param input The parsed JSON.
 * @param file The file name, for messages and `${workspaceFolder}`.
 * @param env Reads environment variables (for the non-secret references expanded now).
 * @param options `keepEnvReferences` (for `--import`): a server with a value read from the environment (other than
 *   `HOME`, `USER`, `TMPDIR`) stays in its section as written, so that the printed result holds `${VAR}`, never the
 *   value.
 * @returns The federation file, in our form, secrets kept as references.
 * @throws {ConfigError} Naming the file, the server and the field.
 */
export function federationFileOf(
  input: unknown,
  file: string,
  env: Env,
  options: { keepEnvReferences?: boolean } = {},
): unknown {
  if (!isRecord(input) || (input.mcpServers === undefined && input.servers === undefined)) return input;
  const { mcpServers, servers, inputs, ...rest } = input;
  const problem = (field: string, rule: string): never => {
    throw new ConfigError(`Invalid config file '${file}': ${field}: ${rule}`, { field });
  };
  if (mcpServers !== undefined && servers !== undefined) {
    problem("servers", "use mcpServers or servers, not both");
  }
  const section = mcpServers !== undefined ? "mcpServers" : "servers";
  const list = mcpServers ?? servers;
  if (!isRecord(list)) return problem(section, 'must be an object of servers by name, e.g. { "fs": { "command": … } }');
  if (inputs !== undefined) {
    if (section !== "servers") problem("inputs", "belongs to VS Code's servers shape");
    if (!Array.isArray(inputs)) problem("inputs", "must be an array");
  }
  if (rest.members !== undefined && !Array.isArray(rest.members)) {
    problem("members", "must be an array of member registrations");
  }
  const members = [...(rest.members as unknown[] | undefined ?? [])];
  const kept: Json = {};
  for (const [name, raw] of Object.entries(list)) {
    const where: Where = { file, section, name, env };
    const member = convertServer(where, raw);
    // `--import` prints its result: a value read from the environment (a password in `${DATABASE_URL}`) must not be
    // written out. Such a server stays as written, `${VAR}` included; the gateway expands it when it reads the file.
    if (options.keepEnvReferences && where.readEnv) kept[name] = raw;
    else members.push(member);
  }
  const gateway = rest.gateway ?? { auth: { secretEnv: "MCP_GATEWAY_SECRET" } };
  if (Object.keys(kept).length === 0) return { ...rest, gateway, members };
  return { ...rest, gateway, members, [section]: kept, ...(inputs === undefined ? {} : { inputs }) };
}

/**
 * `--import FILE`: reads a Claude Desktop / Claude Code / Cursor / VS Code file and returns the equivalent federation
 * file ({@link federationFileOf}).
 *
 * @param file Path of the JSON file.
 * @param env Reads environment variables.
 * @returns The federation file, in our form.
 * @throws {ConfigError} When the file cannot be read, is not JSON, holds no server list, or a server is refused.
 */
export async function importConfigFile(file: string, env: Env): Promise<Json> {
  const input = await readJsonConfigFile(file);
  if (!isRecord(input) || (input.mcpServers === undefined && input.servers === undefined)) {
    throw new ConfigError(
      `Nothing to import from '${file}': it has no mcpServers (Claude Desktop, Claude Code, Cursor) or servers (VS Code)`,
      { field: "mcpServers" },
    );
  }
  return federationFileOf(input, file, env, { keepEnvReferences: true }) as Json;
}
