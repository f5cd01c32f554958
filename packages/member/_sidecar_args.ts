// Internal: the sidecar's command line, parsed and checked into a plan. Every refusal is a UsageError whose
// message names the flag (exit code 2). Secrets never come from the command line: the shared secret and upstream
// header values are read from environment variables named on it.

import { parseArgs } from "node:util";
import { validateServerId } from "../core/config.ts";
import { parseDuration } from "../core/duration.ts";
import type { LogLevel } from "../core/logger.ts";
import type { HmacAlgorithm } from "../core/types.ts";
import { isLogLevel } from "../core/_cli.ts";

/** A bad command line; the message names the flag. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The upstream MCP server. */
export type UpstreamPlan =
  | {
    kind: "stdio";
    command: string;
    args: string[];
    /** Environment of the process (complete: started with an empty one plus this). */
    env: Record<string, string>;
    cwd: string | undefined;
  }
  | { kind: "http"; url: URL; headers: Record<string, string> };

/** Everything the sidecar needs to run. */
export interface SidecarPlan {
  serverId: string;
  upstream: UpstreamPlan;
  verifier:
    | { kind: "secret"; secret: string; algorithm: HmacAlgorithm }
    | { kind: "jwks"; file: string }
    | { kind: "jwksUrl"; url: string };
  issuer: string | undefined;
  hostname: string;
  controlPort: number;
  dataPort: number;
  tls: { cert: string; key: string } | undefined;
  maxSessions: number | undefined;
  maxMessageBytes: number | undefined;
  idleTimeout: number | undefined;
  maxProxies: number;
  /** How long a proxy's upstream outlives its last session, in ms. */
  linger: number;
  logLevel: LogLevel;
}

/** Default most proxies (token subjects) served at once, each with its own upstream. */
export const DEFAULT_MAX_PROXIES = 8;
/** Default time a proxy's upstream outlives its last session, in ms (a reconnect keeps the upstream's state). */
export const DEFAULT_LINGER_MS = 60_000;

/** The help text. */
export const USAGE = `Usage:
  deno task member --server-id <id> [options] -- <command> [args...]   # a stdio MCP server
  deno task member --server-id <id> [options] --upstream <url>          # a Streamable HTTP MCP server

Serves the upstream MCP server as a federation member: a WebSocket control endpoint and a Streamable HTTP data
endpoint, both requiring a JWT (aud = server id). Each proxy (token sub + iss) gets one upstream session (one process
for a command) shared by its control and data channels; different proxies never share one.

Upstream:
  --upstream <url>               Streamable HTTP upstream, instead of a command after --
  --upstream-header-env <H=VAR>  Send header H with the value of environment variable VAR (repeatable),
                                 e.g. --upstream-header-env Authorization=UPSTREAM_AUTH
  --env <NAME[=VAR]>             Set NAME for the command from the sidecar's variable VAR (default NAME) (repeatable)
  --clear-env                    Give the command only PATH, HOME and --env variables (default: the sidecar's
                                 environment minus the secret and header variables)
  --cwd <dir>                    Working directory of the command
Authentication:
  --secret-env <VAR>             Variable holding the shared secret (default: MCP_SECRET_KEY)
  --algorithm <alg>              HS256 | HS384 | HS512 (default: HS512)
  --jwks <file>                  Verify with the public keys of a JWKS file instead (cannot mint tokens)
  --jwks-url <url>               Verify with the proxy's published JWKS (a gateway's /.well-known/jwks.json),
                                 refetched when a token names an unknown key: key rotation needs no restart
  --issuer <iss>                 Require this iss claim
Listening:
  --hostname <host>              Interface (default: 127.0.0.1)
  --control-port <n>             WebSocket control endpoint (default: 3000; 0 picks a free port)
  --data-port <n>                Streamable HTTP data endpoint (default: 3001; 0 picks a free port)
  --port <n>                     One port for both endpoints (instead of the two above)
  --cert <file> --key <file>     PEM certificate chain and key: serve wss:// and https://
Limits:
  --max-sessions <n>             Sessions per endpoint (default: 1000)
  --max-message-bytes <n>        Largest message (default: 4194304)
  --idle-timeout <duration>      Close idle sessions after e.g. 300, "5m" (default: 5m)
  --max-proxies <n>              Proxies served at once, each with its own upstream (default: ${DEFAULT_MAX_PROXIES})
  --upstream-linger <duration>   Keep a proxy's upstream this long after its last session closed, e.g. 10,
                                 "5m" (default: 60s); a reconnect within it finds the upstream's state
Other:
  --log-level <level>            debug | info | warn | error (default: info)
  --help                         Show this help

Exit codes: 0 after SIGINT/SIGTERM (requests drained, upstream stopped), 2 for a bad command line, 1 otherwise.`;

function port(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UsageError(`Invalid ${flag} '${value}': must be an integer from 0 to 65535`);
  }
  return n;
}

function positive(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`Invalid ${flag} '${value}': must be a positive integer`);
  }
  return n;
}

function envName(value: string, flag: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new UsageError(`Invalid ${flag} '${value}': not an environment variable name`);
  }
  return value;
}

/** Names of variables every command gets even with --clear-env. */
const BASE_ENV = ["PATH", "HOME"];

/**
 * Parses the command line.
 *
 * @param args Arguments without the program.
 * @param env Reads an environment variable.
 * @returns The plan, or `"help"`.
 * @throws {UsageError} Naming the flag.
 */
export function parseSidecarArgs(
  args: string[],
  env: { get(name: string): string | undefined; toObject(): Record<string, string> },
): SidecarPlan | "help" {
  const split = args.indexOf("--");
  const own = split < 0 ? args : args.slice(0, split);
  const command = split < 0 ? [] : args.slice(split + 1);
  let values;
  try {
    values = parseArgs({
      args: own,
      options: {
        "server-id": { type: "string" },
        upstream: { type: "string" },
        "upstream-header-env": { type: "string", multiple: true, default: [] },
        "upstream-header": { type: "string", multiple: true },
        env: { type: "string", multiple: true, default: [] },
        "clear-env": { type: "boolean", default: false },
        cwd: { type: "string" },
        "secret-env": { type: "string", default: "MCP_SECRET_KEY" },
        algorithm: { type: "string", default: "HS512" },
        jwks: { type: "string" },
        "jwks-url": { type: "string" },
        issuer: { type: "string" },
        hostname: { type: "string", default: "127.0.0.1" },
        port: { type: "string" },
        "control-port": { type: "string" },
        "data-port": { type: "string" },
        cert: { type: "string" },
        key: { type: "string" },
        "max-sessions": { type: "string" },
        "max-message-bytes": { type: "string" },
        "idle-timeout": { type: "string" },
        "max-proxies": { type: "string" },
        "upstream-linger": { type: "string" },
        "log-level": { type: "string", default: "info" },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    // node:util names the flag: "Unknown option '--prot'", "Option '--port <value>' argument missing".
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return "help";

  if (values["server-id"] === undefined) throw new UsageError("Missing --server-id <id>");
  let serverId: string;
  try {
    serverId = validateServerId(values["server-id"]);
  } catch (error) {
    throw new UsageError(`Invalid --server-id: ${error instanceof Error ? error.message : String(error)}`);
  }

  if (values["upstream-header"] !== undefined) {
    throw new UsageError(
      "--upstream-header is not accepted: header values may be secrets and command lines are visible to every " +
        "user of the machine; put the value in a variable and pass --upstream-header-env Name=VARIABLE",
    );
  }
  const secretVars = new Set<string>();
  const headers: Record<string, string> = {};
  for (const spec of values["upstream-header-env"]) {
    const eq = spec.indexOf("=");
    const name = eq < 0 ? "" : spec.slice(0, eq).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new UsageError(`Invalid --upstream-header-env '${spec}': use Header-Name=VARIABLE`);
    }
    const variable = envName(spec.slice(eq + 1), "--upstream-header-env");
    const value = env.get(variable);
    if (value === undefined || value === "") {
      throw new UsageError(`Invalid --upstream-header-env '${spec}': environment variable ${variable} is not set`);
    }
    headers[name] = value;
    secretVars.add(variable);
  }

  let upstream: UpstreamPlan;
  if (values.upstream !== undefined) {
    if (command.length > 0) throw new UsageError("Give either --upstream <url> or a command after --, not both");
    let url: URL;
    try {
      url = new URL(values.upstream);
    } catch {
      throw new UsageError(`Invalid --upstream '${values.upstream}': not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new UsageError(`Invalid --upstream '${values.upstream}': must be an http:// or https:// URL`);
    }
    if (url.username || url.password) {
      throw new UsageError("Invalid --upstream: credentials in the URL; use --upstream-header-env instead");
    }
    for (const flag of ["env", "cwd"] as const) {
      if (flag === "env" ? values.env.length > 0 : values.cwd !== undefined) {
        throw new UsageError(`--${flag} applies to a command upstream, not to --upstream`);
      }
    }
    if (values["clear-env"]) throw new UsageError("--clear-env applies to a command upstream, not to --upstream");
    upstream = { kind: "http", url, headers };
  } else {
    if (command.length === 0 || command[0] === "") {
      throw new UsageError("Missing upstream: give a command after -- or --upstream <url>");
    }
    if (values["upstream-header-env"].length > 0) {
      throw new UsageError("--upstream-header-env applies to --upstream, not to a command");
    }
    upstream = {
      kind: "stdio",
      command: command[0]!,
      args: command.slice(1),
      env: {},
      cwd: values.cwd,
    };
  }

  const algorithm = values.algorithm;
  if (!["HS256", "HS384", "HS512"].includes(algorithm)) {
    throw new UsageError(`Invalid --algorithm '${algorithm}': use HS256, HS384 or HS512`);
  }
  const secretEnv = envName(values["secret-env"], "--secret-env");
  secretVars.add(secretEnv);
  let verifier: SidecarPlan["verifier"];
  if (values.jwks !== undefined && values["jwks-url"] !== undefined) {
    throw new UsageError("Invalid --jwks-url: give either --jwks <file> or --jwks-url <url>, not both");
  }
  if (values.jwks !== undefined) {
    if (values.jwks === "") throw new UsageError("Invalid --jwks: empty file name");
    verifier = { kind: "jwks", file: values.jwks };
  } else if (values["jwks-url"] !== undefined) {
    const url = values["jwks-url"];
    if (!URL.canParse(url)) throw new UsageError(`Invalid --jwks-url '${url}': not a URL`);
    verifier = { kind: "jwksUrl", url };
  } else {
    const secret = env.get(secretEnv);
    if (secret === undefined || secret === "") {
      throw new UsageError(`No secret: set ${secretEnv} (see --secret-env), or give --jwks <file> or --jwks-url <url>`);
    }
    if (new TextEncoder().encode(secret).length < 32) {
      throw new UsageError(`Invalid ${secretEnv}: the shared secret must be at least 32 bytes`);
    }
    verifier = { kind: "secret", secret, algorithm: algorithm as HmacAlgorithm };
  }

  if (upstream.kind === "stdio") {
    const base = values["clear-env"]
      ? Object.fromEntries(BASE_ENV.flatMap((name) => {
        const value = env.get(name);
        return value === undefined ? [] : [[name, value]];
      }))
      : env.toObject();
    for (const name of secretVars) delete base[name];
    for (const spec of values.env) {
      const eq = spec.indexOf("=");
      const name = envName(eq < 0 ? spec : spec.slice(0, eq), "--env");
      const from = eq < 0 ? name : envName(spec.slice(eq + 1), "--env");
      if (secretVars.has(from) && from === secretEnv) {
        throw new UsageError(`Invalid --env '${spec}': ${from} holds the member's secret`);
      }
      const value = env.get(from);
      if (value === undefined) throw new UsageError(`Invalid --env '${spec}': environment variable ${from} is not set`);
      base[name] = value;
    }
    upstream.env = base;
  }

  let controlPort = 3000;
  let dataPort = 3001;
  if (values.port !== undefined) {
    if (values["control-port"] !== undefined || values["data-port"] !== undefined) {
      throw new UsageError("Give --port, or --control-port and --data-port, not both");
    }
    controlPort = dataPort = port(values.port, "--port");
  } else {
    if (values["control-port"] !== undefined) controlPort = port(values["control-port"], "--control-port");
    if (values["data-port"] !== undefined) dataPort = port(values["data-port"], "--data-port");
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new UsageError(values.cert === undefined ? "--key needs --cert" : "--cert needs --key");
  }
  let idleTimeout: number | undefined;
  if (values["idle-timeout"] !== undefined) {
    try {
      idleTimeout = parseDuration(values["idle-timeout"]) * 1000;
    } catch {
      throw new UsageError(`Invalid --idle-timeout '${values["idle-timeout"]}': use seconds or e.g. "90s", "5m"`);
    }
  }
  let linger = DEFAULT_LINGER_MS;
  if (values["upstream-linger"] !== undefined) {
    try {
      linger = parseDuration(values["upstream-linger"]) * 1000;
    } catch {
      throw new UsageError(`Invalid --upstream-linger '${values["upstream-linger"]}': use seconds or e.g. "90s", "5m"`);
    }
  }
  const logLevel = values["log-level"];
  if (!isLogLevel(logLevel)) {
    throw new UsageError(`Invalid --log-level '${logLevel}': use debug, info, warn or error`);
  }
  if (values.hostname === "") throw new UsageError("Invalid --hostname: empty");
  return {
    serverId,
    upstream,
    verifier,
    issuer: values.issuer,
    hostname: values.hostname,
    controlPort,
    dataPort,
    tls: values.cert === undefined ? undefined : { cert: values.cert, key: values.key! },
    maxSessions: positive(values["max-sessions"], "--max-sessions"),
    maxMessageBytes: positive(values["max-message-bytes"], "--max-message-bytes"),
    idleTimeout,
    maxProxies: positive(values["max-proxies"], "--max-proxies") ?? DEFAULT_MAX_PROXIES,
    linger,
    logLevel,
  };
}
