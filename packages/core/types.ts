/**
 * The shape of a member's registration: {@link FederationConfig}, as the usage guide writes it.
 *
 * @example
 * ```ts
 * import type { FederationConfig } from "@federated-mcp/federation/core";
 *
 * const config: FederationConfig = {
 *   serverId: "server-1",
 *   endpoints: { control: "ws://localhost:3000", data: "http://localhost:3001" },
 *   auth: { type: "jwt", config: { secret: "dev-secret", expiresIn: "1h" } },
 * };
 * console.log(config.serverId);
 * ```
 * @module
 */

/** A credential, or a function called on every connect and reconnect that returns it. */
export type SecretProvider = string | (() => string | Promise<string>);

/** HMAC algorithms a shared secret may sign with. */
export type HmacAlgorithm = "HS256" | "HS384" | "HS512";

/**
 * A local MCP server that the proxy spawns and speaks MCP to over its stdin/stdout (newline-delimited JSON-RPC).
 *
 * The child does not inherit the proxy's environment (it holds the proxy's secret): only a fixed list of harmless
 * variables (`PATH`, `HOME`, `USER`, `LANG`, `TMPDIR`, `DENO_DIR`, npm's cache, …), then `env`, then `envFrom`.
 *
 * @example
 * ```ts
 * import type { StdioEndpoint } from "@federated-mcp/federation/core";
 *
 * const github: StdioEndpoint = {
 *   command: "npx",
 *   args: ["-y", "@modelcontextprotocol/server-github"],
 *   env: { LOG_LEVEL: "info" },
 *   envFrom: { GITHUB_PERSONAL_ACCESS_TOKEN: "GITHUB_TOKEN" },
 * };
 * console.log(github.command);
 * ```
 */
export interface StdioEndpoint {
  /** The program: a path, or a name looked up on `PATH`. */
  command: string;
  /** Its arguments. @default {[]} */
  args?: string[] | undefined;
  /**
   * Plain environment values, name → value (never logged). A name that looks like a credential (`…TOKEN`,
   * `…SECRET`, `…PASSWORD`, `…API_KEY`, …) is refused here: reference it with `envFrom`.
   */
  env?: Record<string, string> | undefined;
  /**
   * Environment by reference: the child's variable name → the name of the proxy's own environment variable whose
   * value it gets, read at every spawn. An unset variable fails the spawn with a `ConfigError` naming it.
   */
  envFrom?: Record<string, string> | undefined;
  /** Working directory. @default {the proxy's} */
  cwd?: string | undefined;
}

/** Where a member listens: control and/or data, or a local process (`stdio`, alone). */
export interface FederationEndpoints {
  /** WebSocket control endpoint (`ws://` or `wss://`). */
  control?: string | undefined;
  /** MCP Streamable HTTP data endpoint (`http://` or `https://`). */
  data?: string | undefined;
  /** A local MCP server run by the proxy, instead of `control`/`data`. */
  stdio?: StdioEndpoint | undefined;
}

/** Settings of the JWTs the proxy mints for one member. */
export interface JwtAuthSettings {
  /** Shared secret for this member; overrides the proxy's own. May be a provider function. */
  secret?: SecretProvider | undefined;
  /** Token lifetime: seconds or a duration like `"1h"`, `"24h"`. @default {"1h"} */
  expiresIn?: string | number | undefined;
  /** HMAC algorithm. @default {"HS512"} */
  algorithm?: HmacAlgorithm | undefined;
  /** `sub` claim of the tokens. @default {"federation-proxy"} */
  subject?: string | undefined;
}

/** How the proxy authenticates to a member. */
export type FederationAuth =
  | { type: "jwt"; config: JwtAuthSettings }
  /** No `Authorization` header: for a plain public MCP server. */
  | { type: "none"; config?: Record<string, never> };

/** One member's registration. */
export interface FederationConfig {
  /** Unique id, `^[A-Za-z0-9_-]{1,32}$` without `__`: the prefix of the member's names in the catalog. */
  serverId: string;
  /** The member's control and/or data endpoint. */
  endpoints: FederationEndpoints;
  /** Authentication. When omitted, JWTs signed with the proxy's secret; a stdio member takes none (absent or `none`). */
  auth?: FederationAuth | undefined;
  /**
   * Which protocol era to try first with this member, overriding the proxy's `eraPreference`: `"legacy"` for a
   * member that serves both eras but asks for input during a call with `ctx.mcpReq.send` (push-style, which only
   * 2025-11-25 carries). A member that serves one era only is spoken to in it either way. A stdio member is always
   * spoken to in 2025-11-25. @default {the proxy's `eraPreference`, `"modern"` by default}
   */
  era?: "modern" | "legacy" | undefined;
}
