/**
 * Plumbing shared by the examples, kept out of them so that each one reads like its section of the usage guide:
 * command-line flags, the shared secret, members started on free ports (or the running members named with
 * `--control`/`--data`), waiting for a member's state, and a compact status table. Not part of the library.
 *
 * (About 480 lines: every example imports its plumbing from this one file, so that none of them names more than one
 * helper module.)
 *
 * @module
 */

import { parseArgs } from "node:util";
import type {
  ChannelStatus,
  FederationEndpoints,
  FederationProxy,
  MemberState,
  ServerStatus,
} from "@federated-mcp/federation";
import { type MemberHandle, serveMember, type ServeMemberOptions } from "@federated-mcp/federation/member";
import { createDemoServer } from "./_demo_server.ts";

/** Flags every example understands, plus its own. */
export interface ExampleFlags {
  /** `--control URL` (repeatable): control endpoints of running members. */
  control: string[];
  /** `--data URL` (repeatable): data endpoints of running members. */
  data: string[];
  /** `--server-id ID` (repeatable): serverIds of those members, in the same order. */
  serverIds: string[];
  /** A string flag of the example, or `undefined`. */
  string(name: string): string | undefined;
  /** A non-negative number flag of the example, or `fallback`. Exits 2 on a bad value. */
  number(name: string, fallback: number): number;
  /** A boolean flag of the example. */
  boolean(name: string): boolean;
}

/** Flags of one example, beyond the common ones. */
export interface FlagSpec {
  /** One line on what the example shows. */
  summary: string;
  /** Names of the example's own string flags, e.g. `["count"]` for `--count N`. */
  strings?: string[];
  /** Names of its boolean flags. */
  booleans?: string[];
  /** Usage of its own flags, e.g. `"[--count 100]"`. */
  usage?: string;
  /** Whether it can use running members (`--control`/`--data`/`--server-id`). @default {true} */
  runningMembers?: boolean;
}

function scriptName(): string {
  return new URL(Deno.mainModule).pathname.split("/").slice(-2).join("/");
}

/**
 * Parses `Deno.args`: the common member flags, `--help`, and the example's own. Prints usage and exits 2 on an
 * unknown or malformed flag.
 *
 * @param spec What the example shows and which flags it takes.
 * @returns The parsed flags.
 */
export function exampleFlags(spec: FlagSpec): ExampleFlags {
  const running = spec.runningMembers ?? true;
  let usage = `${spec.summary}\n\nUsage: deno run -A ${scriptName()} ${spec.usage ?? ""}`.trimEnd();
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = { help: { type: "boolean" } };
  if (running) {
    usage += "\n  [--control ws://HOST:PORT/ --data http://HOST:PORT/ --server-id ID]...  use running members" +
      " (MCP_SECRET_KEY must hold their secret) instead of starting members here";
    for (const name of ["control", "data", "server-id"]) options[name] = { type: "string", multiple: true };
  }
  for (const name of spec.strings ?? []) options[name] = { type: "string" };
  for (const name of spec.booleans ?? []) options[name] = { type: "boolean" };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({ args: Deno.args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(usage);
    Deno.exit(0);
  }
  const list = (name: string) => (values[name] as string[] | undefined) ?? [];
  return {
    control: list("control"),
    data: list("data"),
    serverIds: list("server-id"),
    string: (name) => values[name] as string | undefined,
    boolean: (name) => values[name] === true,
    number(name, fallback) {
      const raw = values[name] as string | undefined;
      if (raw === undefined) return fallback;
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n) || n < 0) {
        console.error(`--${name} must be a non-negative number, got '${raw}'\n\n${usage}`);
        Deno.exit(2);
      }
      return n;
    },
  };
}

/**
 * The federation's shared secret: `MCP_SECRET_KEY` when set, otherwise a random one that only the members this
 * example starts know (said so on the console; the secret itself is never printed).
 *
 * @param flags The parsed flags: running members need their real secret.
 * @returns The secret.
 */
export function exampleSecret(flags: ExampleFlags): string {
  const secret = Deno.env.get("MCP_SECRET_KEY");
  if (secret) {
    console.log("Secret: MCP_SECRET_KEY");
    return secret;
  }
  if (flags.control.length > 0 || flags.data.length > 0) {
    console.error("MCP_SECRET_KEY is not set: export the secret of the running members given with --control/--data");
    Deno.exit(1);
  }
  console.log("Secret: MCP_SECRET_KEY is not set, using a generated demo secret shared with the members started here");
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** A member an example talks to: started here, or already running elsewhere. */
export interface ExampleMember {
  /** Its serverId (the `aud` of its tokens). */
  readonly serverId: string;
  /** Its endpoints, ready for a `FederationConfig`. */
  readonly endpoints: FederationEndpoints;
  /** `GET` it to check availability without a token. */
  readonly healthUrl: string;
  /** Whether this process runs it (only those can be stopped and restarted). */
  readonly local: boolean;
  /** Stops it: every session closes, the ports stop listening. */
  stop(): Promise<void>;
  /** Starts it (again) on the same ports. */
  start(): Promise<void>;
}

/** Options of a {@link LocalMember}. */
export interface LocalMemberOptions {
  /** Offer only the Streamable HTTP data endpoint. @default {false} */
  dataOnly?: boolean;
  /** Endpoint paths. @default {{ control: "/", data: "/" }} */
  paths?: { control?: string; data?: string };
  /** Serve `wss://` and `https://` with this PEM certificate chain and key. */
  tls?: { cert: string; key: string };
  /** Ports; `0` or absent picks free ones on the first start. */
  ports?: { control?: number; data?: number };
  /** Serve both endpoints on one port (they need different paths). @default {false} */
  onePort?: boolean;
  /** Extra options of `serveMember`. */
  extra?: Partial<ServeMemberOptions>;
}

/** A free TCP port on 127.0.0.1 (free when this returns; bind it soon). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** A member served by this process with the demo tools (`echo`, `add`, `time`), restartable on the same ports. */
export class LocalMember implements ExampleMember, AsyncDisposable {
  readonly serverId: string;
  readonly local = true;
  #secret: string;
  #options: LocalMemberOptions;
  #ports: { control?: number; data?: number };
  #handle: MemberHandle | undefined;

  private constructor(serverId: string, secret: string, options: LocalMemberOptions) {
    this.serverId = serverId;
    this.#secret = secret;
    this.#options = options;
    this.#ports = { ...options.ports };
  }

  /**
   * Starts a member on free ports (or `options.ports`).
   *
   * @param serverId Its id.
   * @param secret The shared secret it verifies tokens with.
   * @param options Data-only, paths, TLS, ports.
   * @returns The running member.
   */
  static async start(serverId: string, secret: string, options: LocalMemberOptions = {}): Promise<LocalMember> {
    const member = new LocalMember(serverId, secret, options);
    await member.start();
    return member;
  }

  /**
   * A member whose ports are chosen now but which is not started yet: for a member that comes up late.
   *
   * @param serverId Its id.
   * @param secret The shared secret it verifies tokens with.
   * @param options Data-only, paths, TLS.
   * @returns The member, stopped.
   */
  static reserve(serverId: string, secret: string, options: LocalMemberOptions = {}): LocalMember {
    const ports = { control: freePort(), data: freePort() };
    return new LocalMember(serverId, secret, { ...options, ports });
  }

  /** Whether it is serving now. */
  get running(): boolean {
    return this.#handle !== undefined;
  }

  get endpoints(): FederationEndpoints {
    const secure = this.#options.tls ? "s" : "";
    const endpoints: FederationEndpoints = {};
    if (!this.#options.dataOnly) {
      endpoints.control = `ws${secure}://127.0.0.1:${this.#ports.control}${this.#options.paths?.control ?? "/"}`;
    }
    endpoints.data = `http${secure}://127.0.0.1:${this.#ports.data}${this.#options.paths?.data ?? "/"}`;
    return endpoints;
  }

  get healthUrl(): string {
    return new URL("/healthz", this.endpoints.data).href;
  }

  async start(): Promise<void> {
    if (this.#handle) return;
    const { dataOnly = false, onePort = false, paths = {}, tls } = this.#options;
    // Without a port, the control endpoint shares the data endpoint's listener.
    const controlPort = onePort ? {} : { port: this.#ports.control ?? 0 };
    this.#handle = await serveMember({
      serverId: this.serverId,
      server: () => createDemoServer(this.serverId),
      verifier: this.#secret,
      control: dataOnly ? false : { ...controlPort, path: paths.control ?? "/" },
      data: { port: this.#ports.data ?? 0, path: paths.data ?? "/" },
      ...(tls ? { tls } : {}),
      ...this.#options.extra,
    });
    if (this.#handle.controlUrl) this.#ports.control = Number(new URL(this.#handle.controlUrl).port);
    this.#ports.data = Number(new URL(this.#handle.dataUrl!).port);
  }

  async stop(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

class RunningMember implements ExampleMember {
  readonly local = false;
  readonly serverId: string;
  readonly endpoints: FederationEndpoints;

  constructor(serverId: string, endpoints: FederationEndpoints) {
    this.serverId = serverId;
    this.endpoints = endpoints;
  }

  get healthUrl(): string {
    const base = this.endpoints.data ?? this.endpoints.control!.replace(/^ws/, "http");
    return new URL("/healthz", base).href;
  }

  stop(): Promise<void> {
    return Promise.reject(new Error(`Member '${this.serverId}' runs elsewhere: this example cannot stop it`));
  }

  start(): Promise<void> {
    return Promise.reject(new Error(`Member '${this.serverId}' runs elsewhere: this example cannot start it`));
  }
}

/** The members of an example; stops the ones it started when disposed. */
export class MemberSet implements AsyncDisposable {
  /** Every member, in order. */
  readonly list: ExampleMember[];

  constructor(list: ExampleMember[]) {
    this.list = list;
  }

  /** Whether every member runs in this process (so the example may stop and restart them). */
  get local(): boolean {
    return this.list.every((m) => m.local);
  }

  /**
   * One member.
   *
   * @param serverId Its id.
   * @returns The member.
   * @throws {Error} When there is no such member.
   */
  get(serverId: string): ExampleMember {
    const member = this.list.find((m) => m.serverId === serverId);
    if (!member) throw new Error(`No member '${serverId}' in this example`);
    return member;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.list.filter((m) => m.local).map((m) => m.stop()));
  }
}

/**
 * The example's members: the running ones named on the command line (`--control`/`--data`/`--server-id`, paired
 * by position), otherwise members started here on free ports with ids `serverIds`.
 *
 * @param flags The parsed flags.
 * @param secret The shared secret of members started here.
 * @param serverIds Ids of the members to start (and default ids of running ones).
 * @param options `dataOnly`: ids of members started without a control endpoint.
 * @returns The members.
 */
export async function startMembers(
  flags: ExampleFlags,
  secret: string,
  serverIds: string[],
  options: { dataOnly?: string[] } = {},
): Promise<MemberSet> {
  const count = Math.max(flags.control.length, flags.data.length);
  if (count > 0) {
    const members = Array.from({ length: count }, (_, i) => {
      const endpoints: FederationEndpoints = {};
      if (flags.control[i]) endpoints.control = flags.control[i];
      if (flags.data[i]) endpoints.data = flags.data[i];
      return new RunningMember(flags.serverIds[i] ?? serverIds[i] ?? `server-${i + 1}`, endpoints);
    });
    for (const m of members) console.log(`Member ${m.serverId}: running at ${describe(m.endpoints)}`);
    return new MemberSet(members);
  }
  const members = await Promise.all(
    serverIds.map((id) => LocalMember.start(id, secret, { dataOnly: options.dataOnly?.includes(id) ?? false })),
  );
  for (const m of members) console.log(`Member ${m.serverId}: started at ${describe(m.endpoints)}`);
  return new MemberSet(members);
}

function describe(endpoints: FederationEndpoints): string {
  return [endpoints.control && `control ${endpoints.control}`, endpoints.data && `data ${endpoints.data}`]
    .filter(Boolean).join(", ");
}

/**
 * Waits until a member is in one of `states` (now or after the next events).
 *
 * @param proxy The proxy.
 * @param serverId The member.
 * @param states The states to wait for.
 * @param timeout Milliseconds before giving up.
 * @returns The state reached.
 * @throws {Error} After `timeout`.
 */
export function waitForState(
  proxy: FederationProxy,
  serverId: string,
  states: MemberState[],
  timeout = 10_000,
): Promise<MemberState> {
  const now = proxy.getServerStatus(serverId)?.state;
  if (now !== undefined && states.includes(now)) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort();
      const state = proxy.getServerStatus(serverId)?.state ?? "not registered";
      reject(new Error(`Server '${serverId}' did not become ${states.join(" or ")} within ${timeout}ms (${state})`));
    }, timeout);
    for (const state of states) {
      proxy.addEventListener(state, (event) => {
        if (event.serverId !== serverId) return;
        clearTimeout(timer);
        controller.abort();
        resolve(state);
      }, { signal: controller.signal });
    }
  });
}

/**
 * Opens an MCP session on a data endpoint with a raw HTTP request, as any Streamable HTTP client would, and closes
 * it again: the member's answer shows whether it accepts the token (401 when not).
 *
 * @param dataUrl The member's data endpoint.
 * @param token The bearer token to present.
 * @returns The HTTP status and the `WWW-Authenticate` challenge, if any.
 */
export async function probeDataEndpoint(
  dataUrl: string,
  token: string,
): Promise<{ status: number; challenge: string | null }> {
  const headers = {
    Authorization: `Bearer ${token}`,
    "Content-Type": "application/json",
    Accept: "application/json, text/event-stream",
  };
  const response = await fetch(dataUrl, {
    method: "POST",
    headers,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "probe", version: "1.0.0" } },
    }),
  });
  await response.body?.cancel();
  const session = response.headers.get("mcp-session-id");
  if (session) {
    const end = await fetch(dataUrl, { method: "DELETE", headers: { ...headers, "Mcp-Session-Id": session } });
    await end.body?.cancel();
  }
  return { status: response.status, challenge: response.headers.get("www-authenticate") };
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @param ms The delay.
 * @returns When it has passed.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One channel as a table cell: `up 0.4ms`, `connecting (retry 2)`, `down`, or `-` when the member offers none.
 *
 * @param channel The channel's status.
 * @returns The cell.
 */
export function channelCell(channel: ChannelStatus | undefined): string {
  if (!channel) return "-";
  const latency = channel.state === "up" && channel.latencyMs !== undefined ? ` ${channel.latencyMs.toFixed(1)}ms` : "";
  const retries = channel.state !== "up" && channel.reconnectAttempts > 0
    ? ` (retry ${channel.reconnectAttempts})`
    : "";
  return `${channel.state}${latency}${retries}`;
}

/**
 * A compact table of members: server, state, control and data channel (state and latency), and extra columns.
 *
 * @param statuses The members' statuses.
 * @param extra Extra columns: header → cell per serverId.
 * @returns The table, one line per member under a header.
 */
export function statusTable(
  statuses: ServerStatus[],
  extra: Record<string, (status: ServerStatus) => string> = {},
): string {
  const header = ["SERVER", "STATE", "CONTROL", "DATA", ...Object.keys(extra)];
  const rows = statuses.map((s) => [
    s.serverId,
    s.state,
    channelCell(s.channels.control),
    channelCell(s.channels.data),
    ...Object.values(extra).map((cell) => cell(s)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

/**
 * A short description of an error: its code (for library errors) and message, never a stack or a token.
 *
 * @param error What was thrown.
 * @returns `ERR_CODE: message` or the message.
 */
export function explain(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? `${error.name} ${code}: ${error.message}` : `${error.name}: ${error.message}`;
}
