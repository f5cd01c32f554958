/**
 * The member sidecar: serve ANY MCP server, a stdio program or a Streamable HTTP server, as a federation member,
 * with the WebSocket control endpoint and the Streamable HTTP data endpoint of `serveMember()`, both guarded by JWT.
 *
 * ```sh
 * export MCP_SECRET_KEY=…   # the federation's shared secret (32 bytes or more)
 * deno task member --server-id fs -- npx -y @modelcontextprotocol/server-filesystem /data
 * deno task member --server-id everything --control-port 4000 --data-port 4001 \
 *   -- npx -y @modelcontextprotocol/server-everything stdio
 * UPSTREAM_AUTH="Bearer …" deno task member --server-id remote --upstream https://example.com/mcp \
 *   --upstream-header-env Authorization=UPSTREAM_AUTH
 * deno run -A jsr:@federated-mcp/federation/member/sidecar --server-id fs --jwks proxy-keys.json -- ./my-server
 * ```
 *
 * Each proxy (the `sub` and `iss` of its tokens) gets ONE upstream session, shared by its control and data
 * channels: one process for a command (started at its first `initialize`, restarted with backoff when it exits,
 * ended when the proxy has had no session for a minute, `--upstream-linger`, and on shutdown), one MCP session for an HTTP upstream.
 * Another proxy gets its own, so no state passes between proxies. What the upstream sends on its own follows the
 * relation rule: progress goes to its call; a request (sampling, elicitation, roots) or log line of an HTTP upstream
 * goes to the call whose POST stream carried it (unrelated when it came on the GET stream); on a stdio stream, to the
 * call in progress when it is the only one, unrelated when none is, and a request is refused when several are.
 *
 * The command gets the sidecar's environment minus the secret and `--upstream-header-env` variables (or, with
 * `--clear-env`, only `PATH`, `HOME` and `--env` ones); its stderr goes to the log line by line.
 *
 * Exit codes: `0` after SIGINT/SIGTERM (requests in progress drained, upstream processes ended), `2` for a bad
 * command line (the message names the flag), `1` for any other failure. `--help` lists every option.
 *
 * @example Run the sidecar from another program
 * ```ts ignore
 * import { main } from "@federated-mcp/federation/member/sidecar";
 *
 * Deno.exit(await main(["--server-id", "fs", "--", "npx", "-y", "@modelcontextprotocol/server-filesystem", "/data"]));
 * ```
 * @module
 */

import { StreamableHTTPClientTransport } from "../core/_sdk.ts";
import type { Transport } from "../core/_sdk.ts";
import type { JsonWebKeySet } from "../core/auth.ts";
import { DEFAULT_BACKOFF } from "../core/backoff.ts";
import { ConfigError } from "../core/errors.ts";
import { consoleLogger } from "../core/logger.ts";
import type { Logger } from "../core/logger.ts";
import { redactUrl } from "../core/_redact.ts";
import { StreamRelations } from "../core/_stream_relations.ts";
import { serveMember } from "./serve_member.ts";
import type { MemberHandle, SessionInfo } from "./types.ts";
import { parseSidecarArgs, USAGE, UsageError } from "./_sidecar_args.ts";
import type { SidecarPlan } from "./_sidecar_args.ts";
import { UpstreamLink } from "./_sidecar_link.ts";
import { RelaySession } from "./_sidecar_session.ts";
import { StdioProcessTransport } from "../core/_stdio_process.ts";
import { waitForSignal } from "../core/_cli.ts";

/** How long a request waits for the upstream to be (re)started. */
const READY_TIMEOUT_MS = 30_000;

async function readFile(file: string, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    throw new UsageError(`Cannot read ${flag} '${file}': ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function readJwks(file: string): Promise<JsonWebKeySet> {
  const text = await readFile(file, "--jwks");
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw new UsageError(`Invalid --jwks '${file}': not JSON`);
  }
  if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new UsageError(`Invalid --jwks '${file}': not a JWKS (an object with a "keys" array)`);
  }
  return jwks as JsonWebKeySet;
}

function describeUpstream(plan: SidecarPlan): string {
  const upstream = plan.upstream;
  return upstream.kind === "http" ? `http ${redactUrl(upstream.url.href)}` : `stdio '${upstream.command}'`;
}

/** Whether `command` names an executable file, directly (with a `/`) or on `PATH`. */
async function findsCommand(command: string, path: string | undefined, cwd: string | undefined): Promise<boolean> {
  const candidates = command.includes("/")
    ? [command.startsWith("/") || cwd === undefined ? command : `${cwd}/${command}`]
    : (path ?? "").split(":").filter((dir) => dir !== "").map((dir) => `${dir}/${command}`);
  for (const candidate of candidates) {
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch {
      // not there
    }
  }
  return false;
}

/** The sidecar's upstream links, one per proxy. */
class Links {
  #plan: SidecarPlan;
  #logger: Logger;
  #links = new Map<string, UpstreamLink>();

  constructor(plan: SidecarPlan, logger: Logger) {
    this.#plan = plan;
    this.#logger = logger;
  }

  session(info: SessionInfo): RelaySession {
    const key = JSON.stringify([info.issuer ?? null, info.subject ?? null]);
    let link = this.#links.get(key);
    if (link === undefined || link.isClosed) {
      if (this.#links.size >= this.#plan.maxProxies) {
        this.#logger.warn("Refused a session: too many proxies (see --max-proxies)", {
          serverId: this.#plan.serverId,
          maxProxies: this.#plan.maxProxies,
        });
        throw new Error(`Too many proxies: ${this.#plan.maxProxies} (--max-proxies)`);
      }
      const label = { serverId: this.#plan.serverId, proxy: info.subject ?? "(no sub)" };
      link = new UpstreamLink({
        connect: () => this.#connect(label),
        relatesByStream: this.#plan.upstream.kind === "http",
        backoff: { ...DEFAULT_BACKOFF, minDelay: 100 },
        readyTimeout: READY_TIMEOUT_MS,
        linger: this.#plan.linger,
        logger: this.#logger,
        label,
        onclose: () => {
          if (this.#links.get(key) === link) this.#links.delete(key);
        },
        now: Date.now,
      });
      this.#links.set(key, link);
    }
    return new RelaySession(link, info.channel, performance.now());
  }

  async close(): Promise<void> {
    const links = [...this.#links.values()];
    this.#links.clear();
    await Promise.all(links.map((link) => link.close()));
  }

  #connect(label: Record<string, unknown>): Transport {
    const upstream = this.#plan.upstream;
    if (upstream.kind === "http") {
      // What arrives on a POST's response stream is marked with that POST's request: exact relation.
      const streams = new StreamRelations(this.#plan.maxMessageBytes);
      return new StreamableHTTPClientTransport(upstream.url, {
        requestInit: { headers: upstream.headers },
        fetch: async (url, init) => {
          const response = await fetch(url, init);
          return response.ok ? await streams.relate(response, streams.relationOf(init)) : response;
        },
      });
    }
    return new StdioProcessTransport(
      { command: upstream.command, args: upstream.args, env: upstream.env, clearEnv: true, cwd: upstream.cwd },
      {
        serverId: this.#plan.serverId,
        logger: this.#logger,
        label,
        oversize: "skip",
        stderrMessage: "Upstream stderr",
        maxStderrLine: 2_000,
        ...(this.#plan.maxMessageBytes === undefined ? {} : { maxMessageBytes: this.#plan.maxMessageBytes }),
      },
    );
  }
}

/**
 * Runs the sidecar's command line until SIGINT or SIGTERM.
 *
 * @param args The arguments (without the program), e.g. `["--server-id", "fs", "--", "npx", "-y", "…"]`.
 * @returns The exit code: 0 after a signal (drained), 2 for a bad command line, 1 for another failure.
 * @example Print the help
 * ```ts ignore
 * import { main } from "@federated-mcp/federation/member/sidecar";
 *
 * console.log(await main(["--help"])); // 0, after printing the usage
 * ```
 */
export async function main(args: string[]): Promise<number> {
  let plan: SidecarPlan;
  let jwks: JsonWebKeySet | undefined;
  let tls: { cert: string; key: string } | undefined;
  try {
    const parsed = parseSidecarArgs(args, Deno.env);
    if (parsed === "help") {
      console.log(USAGE);
      return 0;
    }
    plan = parsed;
    const upstream = plan.upstream;
    if (upstream.kind === "stdio" && !await findsCommand(upstream.command, upstream.env.PATH, upstream.cwd)) {
      throw new UsageError(`Cannot find the command '${upstream.command}' (after --) on the PATH`);
    }
    if (plan.verifier.kind === "jwks") jwks = await readJwks(plan.verifier.file);
    if (plan.tls) {
      tls = { cert: await readFile(plan.tls.cert, "--cert"), key: await readFile(plan.tls.key, "--key") };
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\nRun with --help for the options.`);
      return 2;
    }
    throw error;
  }
  const logger = consoleLogger(plan.logLevel);
  const links = new Links(plan, logger);
  const signals = waitForSignal();
  let member: MemberHandle | undefined;
  try {
    const verifier = plan.verifier;
    member = await serveMember({
      serverId: plan.serverId,
      server: (info) => links.session(info),
      verifier: verifier.kind === "secret"
        ? verifier.secret
        : verifier.kind === "jwksUrl"
        ? { jwksUrl: verifier.url, ...(plan.issuer === undefined ? {} : { issuer: plan.issuer }) }
        : jwks!,
      ...(verifier.kind === "secret" ? { algorithm: verifier.algorithm } : {}),
      ...(plan.issuer === undefined ? {} : { issuer: plan.issuer }),
      hostname: plan.hostname,
      control: { port: plan.controlPort },
      data: { port: plan.dataPort },
      ...(plan.maxSessions === undefined ? {} : { maxSessions: plan.maxSessions }),
      ...(plan.maxMessageBytes === undefined ? {} : { maxMessageBytes: plan.maxMessageBytes }),
      ...(plan.idleTimeout === undefined ? {} : { idleTimeout: plan.idleTimeout }),
      ...(tls ? { tls } : {}),
      logger,
    });
    console.log(
      `member ${plan.serverId}  control ${member.controlUrl}  data ${member.dataUrl}  health ${member.healthUrl}  ` +
        `upstream ${describeUpstream(plan)}  auth ${verifier.kind === "secret" ? verifier.algorithm : verifier.kind}`,
    );
    const ended = await Promise.race([signals.promise, member.closed().then(() => "closed")]);
    if (ended !== "closed") console.error(`${ended}: draining`);
    await member.drain();
    await links.close();
    return 0;
  } catch (error) {
    await member?.close();
    await links.close();
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    console.error(`Sidecar failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    signals.dispose();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
