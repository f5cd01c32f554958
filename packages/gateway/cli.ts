/**
 * The gateway's command line: federate the members listed in a config file and serve them as one MCP server.
 *
 * ```sh
 * deno task start --config federation.json            # Streamable HTTP at http://127.0.0.1:8080/mcp
 * deno task start --config federation.json --stdio    # one MCP client over stdio (logs on stderr)
 * deno task start --config federation.json --check    # validate the file and exit
 * deno task start --config federation.json --token    # print a gateway token for a client, and exit
 * deno task start --config federation.json --store redis://127.0.0.1:6379   # one replica of several
 * deno task start --import claude_desktop_config.json   # print the equivalent federation.json, and exit
 * deno task start --config claude_desktop_config.json --stdio   # or run such a file as it is
 * ```
 *
 * Exit codes: `0` after SIGINT/SIGTERM (in-flight requests drained) or `--check`, `2` for a bad command line or
 * config file (the message names the file, the member and the field), `1` for any other failure.
 *
 * @example Run it from another program
 * ```ts ignore
 * import { main } from "@federated-mcp/federation/gateway/cli";
 *
 * Deno.exit(await main(["--config", "federation.json", "--check"]));
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { AuthManager } from "../core/auth.ts";
import { ConfigError } from "../core/errors.ts";
import { checkSecretStrength } from "../core/config.ts";
import { consoleLogger, formatLogLine, type LogFormat, type Logger, type LogLevel } from "../core/logger.ts";
import { FederationProxy } from "../proxy/federation_proxy.ts";
import { loadGatewayConfig, storeConfig } from "./config_file.ts";
import { importConfigFile } from "./_foreign_configs.ts";
import { DEFAULT_GATEWAY_AUDIENCE } from "./options.ts";
import { registerMembers } from "./_register_members.ts";
import { serveGateway } from "./serve_gateway.ts";
import { serveGatewayStdio } from "./serve_gateway_stdio.ts";
import type { GatewayHandle } from "./options.ts";
import { redactUrls } from "../core/_redact.ts";
import { errorMessage } from "../core/_error_message.ts";
import { isLogLevel, waitForSignal } from "../core/_cli.ts";

const USAGE = `Usage: deno task start --config <file.json> [--stdio | --check | --token] [options]
       deno task start --import <file.json>

Options:
  --config <file>      The federation's config file (required): our form, or a Claude Desktop / Claude Code /
                       Cursor file ("mcpServers") or a VS Code mcp.json ("servers")
  --import <file>      Print the federation config equivalent to a Claude Desktop / Claude Code / Cursor /
                       VS Code file (secrets kept as references) and exit
  --stdio              Serve one MCP client over stdio instead of Streamable HTTP
  --check              Validate the config file (and its environment variables) and exit
  --token              Print a token for the gateway (signed with gateway.auth's secret) and exit
  --subject <sub>      Subject of the --token token (default: "mcp-client")
  --scope <scopes>     Scope claim of the --token token, e.g. "federation:admin" for /admin/members
  --expires <time>     Lifetime of the --token token, e.g. 3600, "8h" (default: "24h")
  --port <n>           Override gateway.port
  --store <url>        Share members and sessions with other replicas through Redis (redis://host:port),
                       overriding the file's store; "memory" keeps everything in this process (the default).
                       The key every replica shares is read from MCP_STORE_KEY (or store.keyEnv); without a
                       store, MCP_STORE_KEY (when set) still seals session ids and 2026-07-28 requestStates, so
                       replicas serve 2026-07-28 clients round-robin with no store
  --log-level <level>  debug | info | warn | error (default: info); at info, one access-log line per MCP request
  --log-format <fmt>   text (timestamped lines) | json (one JSON object a line, for log collectors) (default: text)
  --help               Show this help`;

class UsageError extends Error {}

const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

// The CLI's own report lines (one per member, the summary, shutdown): as they are in text, as a JSON log line
// (level info) in JSON, so that a log collector reads every line of the output.
function reporter(stdio: boolean, format: LogFormat): (line: string) => void {
  return (line) => {
    const text = format === "json" ? formatLogLine("json", { time: Date.now(), level: "info", message: line }) : line;
    if (stdio) console.error(text);
    else console.log(text);
  };
}

// Events the CLI reports itself, with more detail (the member's endpoints and timing; the summary line with members,
// tools, auth and store): the library's own line for each goes to debug, so that one event gives one line.
const REPORTED_BY_CLI = new Set(["Server registered", "Gateway listening"]);

function withoutReported(logger: Logger): Logger {
  return {
    ...logger,
    info: (message, data) => REPORTED_BY_CLI.has(message) ? logger.debug(message, data) : logger.info(message, data),
  };
}

/**
 * Runs the command line.
 *
 * @param args The arguments (without the program).
 * @returns The exit code.
 * @example
 * ```ts ignore
 * const code = await main(["--config", "examples/federation.json", "--check"]);
 * console.log(code); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        config: { type: "string" },
        import: { type: "string" },
        stdio: { type: "boolean", default: false },
        check: { type: "boolean", default: false },
        token: { type: "boolean", default: false },
        subject: { type: "string", default: "mcp-client" },
        scope: { type: "string" },
        store: { type: "string" },
        expires: { type: "string", default: "24h" },
        port: { type: "string" },
        "log-level": { type: "string", default: "info" },
        "log-format": { type: "string", default: "text" },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (values.import !== undefined && values.config !== undefined) {
      throw new UsageError("Use --import <file> or --config <file>, not both");
    }
    if (!values.config && values.import === undefined) throw new UsageError("Missing --config <file.json>");
    if (!isLogLevel(values["log-level"])) {
      throw new UsageError(`Invalid --log-level '${values["log-level"]}': use debug, info, warn or error`);
    }
    if (!(LOG_FORMATS as readonly string[]).includes(values["log-format"])) {
      throw new UsageError(`Invalid --log-format '${values["log-format"]}': use text or json`);
    }
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${USAGE}`);
    return 2;
  }
  const stdio = values.stdio;
  try {
    if (values.import !== undefined) {
      console.log(JSON.stringify(await importConfigFile(values.import, (name) => Deno.env.get(name)), null, 2));
      return 0;
    }
    const config = await loadGatewayConfig(values.config!, { stdio });
    if (values.port !== undefined) {
      const port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new ConfigError(`Invalid --port '${values.port}': must be an integer from 0 to 65535`, { field: "port" });
      }
      config.gateway.port = port;
    }
    if (values.store === "memory") config.store = undefined;
    else if (values.store !== undefined) {
      const { namespace, reconcileInterval } = config.store ?? {};
      config.store = {
        ...storeConfig(values.store, (name) => Deno.env.get(name), "MCP_STORE_KEY", "--store"),
        ...(namespace === undefined ? {} : { namespace }),
        ...(reconcileInterval === undefined ? {} : { reconcileInterval }),
      };
    }
    if (values.check) {
      for (const warning of config.warnings) console.error(`warning: ${warning}`);
      console.log(`Config file '${config.file}' is valid: ${config.members.length} member(s)`);
      return 0;
    }
    if (values.token) {
      const auth = config.gateway.auth;
      if (auth === false || auth instanceof AuthManager || !("secret" in auth)) {
        throw new ConfigError(`Cannot mint a token: gateway.auth in '${config.file}' has no secret`, {
          field: "gateway.auth",
        });
      }
      const manager = new AuthManager(auth.secret, auth.algorithm ? { algorithm: auth.algorithm } : {});
      console.log(
        await manager.createToken(values.scope === undefined ? {} : { scope: values.scope }, {
          subject: values.subject,
          expiresIn: values.expires,
          audience: auth.audience ?? DEFAULT_GATEWAY_AUDIENCE,
          ...(auth.issuer ? { issuer: auth.issuer } : {}),
        }),
      );
      return 0;
    }
    return await serve(config, stdio, values["log-level"] as LogLevel, values["log-format"] as LogFormat);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof RangeError) {
      console.error(error.message);
      return 2;
    }
    console.error(`Gateway failed: ${redactUrls(errorMessage(error))}`);
    return 1;
  }
}

async function serve(
  config: Awaited<ReturnType<typeof loadGatewayConfig>>,
  stdio: boolean,
  level: LogLevel,
  format: LogFormat,
): Promise<number> {
  const logger = withoutReported(consoleLogger(level, { format, timestamps: true }));
  const write = reporter(stdio, format);
  const signals = waitForSignal(write);
  // One warning per weak secret, naming its variable; the library's own once-per-process warning, which names no
  // variable, is then spent.
  for (const warning of config.warnings) logger.warn(warning);
  if (config.warnings.length > 0) checkSecretStrength("x", "secret", { warn: () => {} });
  // Without one (only stdio and auth "none" members, e.g. a Claude Desktop file), a JWT member fails to connect with
  // this error; a rejected promise, so that probing the secret (the gateway checks it differs from its own) sees none.
  const secret = config.proxySecret ??
    (() =>
      Promise.reject(
        new ConfigError("No proxy secret: set MCP_SECRET_KEY or proxy.secretEnv", { field: "proxy.secretEnv" }),
      ));
  const proxy = new FederationProxy(secret, { ...config.proxy, catalog: config.catalog, logger });
  const stop = new AbortController();
  let gateway: GatewayHandle | undefined;
  // Without a store, a key every replica has (MCP_STORE_KEY) still lets any replica open what another sealed.
  const sharedKey = config.store ? undefined : Deno.env.get("MCP_STORE_KEY") || undefined;
  // The Redis client is loaded only when a store is configured (`--store` or the file's `store`).
  const store = config.store && !stdio
    ? new (await import("../cluster/redis_store.ts")).RedisRegistryStore(config.store.url, {
      logger,
      ...(config.store.namespace === undefined ? {} : { namespace: config.store.namespace }),
    })
    : undefined;
  try {
    await store?.ready(2_000).catch(() => write("store unreachable at start-up: retrying in the background"));
    const registering = registerMembers(proxy, config.members, {
      signal: stop.signal,
      logger,
      report: write,
    });
    await registering.initial;
    gateway = stdio
      ? await serveGatewayStdio(proxy, {
        logger,
        ...(config.gateway.instructions ? { instructions: config.gateway.instructions } : {}),
      })
      : await serveGateway(proxy, {
        ...config.gateway,
        logger,
        ...(config.store && store
          ? {
            cluster: {
              store,
              key: config.store.key,
              ...(config.store.reconcileInterval === undefined
                ? {}
                : { reconcileInterval: config.store.reconcileInterval }),
            },
          }
          : sharedKey
          ? { cluster: { key: sharedKey } }
          : {}),
      });
    const usable = proxy.getConnectedServers().length;
    const tools = usable > 0 ? (await proxy.catalog.listTools()).length : 0;
    write(
      `gateway ${gateway.url}  members ${usable}/${config.members.length} usable  tools ${tools}  auth ${
        config.gateway.auth === false || stdio ? "off" : "jwt"
      }  store ${store ? `redis (${store.health().state})` : "memory"}`,
    );
    const ended = await Promise.race([signals.promise, gateway.closed().then(() => "finished")]);
    if (ended !== "finished") write(`${ended}: draining`);
    stop.abort();
    await gateway.drain();
    await registering.done;
    await proxy.drain();
    return 0;
  } catch (error) {
    stop.abort();
    await gateway?.close();
    await proxy.close();
    throw error;
  } finally {
    signals.dispose();
    await store?.close();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
