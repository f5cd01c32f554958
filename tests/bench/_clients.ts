/**
 * What the benchmark cases share: member processes, proxies, and plain MCP SDK clients (the baselines) connected
 * to a member over either channel with a valid token.
 *
 * @module
 */

import { AuthManager } from "../../packages/core/auth.ts";
import type { Channel } from "../../packages/core/errors.ts";
import type { FederationConfig } from "../../packages/core/types.ts";
import { WebSocketTransport } from "../../packages/core/websocket_transport.ts";
import { Client, StreamableHTTPClientTransport } from "../../packages/core/_sdk.ts";
import {
  type EraPreference as Era,
  FederationProxy,
  type FederationProxyOptions,
  type RoutingPolicy,
} from "../../packages/proxy/mod.ts";
import { SECRET } from "../_support/members.ts";
import { memberArgs, type MemberProcessArgs, type MemberProcessInfo, type ServedMember } from "./bench_member.ts";
import { ChildProcess } from "./_process.ts";

/** A logger that drops everything. */
export const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

/** The text the benchmarks echo: 64 characters. */
export const ECHO_TEXT = "x".repeat(64);

const signer = new AuthManager(SECRET);

/**
 * A token a member accepts, for a plain SDK client (the baseline) or a peer aggregator.
 *
 * @param serverId The member.
 * @returns The `Authorization` header value.
 */
export async function bearer(serverId: string): Promise<string> {
  return `Bearer ${await signer.createToken({}, { audience: serverId, subject: "bench", expiresIn: "2h" })}`;
}

/**
 * A proxy that signs with the members' secret and logs nothing.
 *
 * @param options Proxy options.
 * @returns The proxy.
 */
export function newProxy(options: FederationProxyOptions = {}): FederationProxy {
  return new FederationProxy(SECRET, { logger: QUIET, ...options });
}

/**
 * The registration of a served member.
 *
 * @param member The member.
 * @param channels Which endpoints to register. @default {both}
 * @returns The config.
 */
export function memberConfig(
  member: ServedMember,
  channels: readonly Channel[] = ["control", "data"],
): FederationConfig {
  return {
    serverId: member.serverId,
    endpoints: {
      ...(channels.includes("control") ? { control: member.control } : {}),
      ...(channels.includes("data") ? { data: member.data } : {}),
    },
    auth: { type: "jwt", config: {} },
  };
}

/** The protocol version of each era, as the rows name it. */
export const ERA_VERSION: Readonly<Record<Era, string>> = { legacy: "2025-11-25", modern: "2026-07-28" };

/**
 * A plain MCP SDK client connected to a member, the way a careful user would without this library: the
 * WebSocket transport with an `Authorization` header, or the SDK's Streamable HTTP transport with one.
 *
 * @param member The member.
 * @param channel Which endpoint.
 * @param era The protocol era the client speaks (a proxy compared with it speaks the same). @default {"legacy"}
 * @returns The connected client.
 */
export async function sdkClient(member: ServedMember, channel: Channel, era: Era = "legacy"): Promise<Client> {
  const authorization = await bearer(member.serverId);
  if (channel === "data") {
    return era === "modern"
      ? await modernClient(member.data, authorization)
      : await httpClient(member.data, authorization);
  }
  const client = new Client(
    { name: "bench-sdk", version: "1.0.0" },
    era === "modern" ? { versionNegotiation: { mode: "auto" } } : {},
  );
  await client.connect(await WebSocketTransport.connect(member.control, { headers: { Authorization: authorization } }));
  if (client.getProtocolEra() !== era) throw new Error(`${member.control} did not answer in the ${era} era`);
  return client;
}

/**
 * A plain MCP SDK client connected over Streamable HTTP.
 *
 * @param url The MCP endpoint.
 * @param authorization The `Authorization` header value, if any.
 * @returns The connected client.
 */
export async function httpClient(url: string, authorization?: string): Promise<Client> {
  const client = new Client({ name: "bench-sdk", version: "1.0.0" });
  const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

/**
 * A plain MCP SDK client of the 2026-07-28 era over Streamable HTTP (stateless: no session, no `initialize`).
 *
 * @param url The MCP endpoint.
 * @param authorization The `Authorization` header value, if any.
 * @returns The connected client.
 */
export async function modernClient(url: string, authorization?: string): Promise<Client> {
  const client = new Client({ name: "bench-sdk", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
  const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  if (client.getProtocolEra() !== "modern") throw new Error(`${url} did not answer in the 2026-07-28 era`);
  return client;
}

/**
 * Closes an SDK client, ending its HTTP session if it has one.
 *
 * @param client The client.
 * @returns When closed.
 */
export async function closeClient(client: Client): Promise<void> {
  const transport = client.transport;
  if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => {});
  await client.close().catch(() => {});
}

/** A running member process and what it serves. */
export interface MemberProcess extends AsyncDisposable {
  /** The process. */
  child: ChildProcess;
  /** Its members and endpoints. */
  info: MemberProcessInfo;
}

/**
 * Starts a member process ({@link memberArgs}) and waits until it is ready.
 *
 * @param args How many members, tools, which port.
 * @param timeout Give up after this many ms. @default {30000}
 * @returns The process and its endpoints.
 */
export async function startMembers(args: MemberProcessArgs = {}, timeout = 30_000): Promise<MemberProcess> {
  const script = new URL("./bench_member.ts", import.meta.url);
  const { child, ready } = await ChildProcess.denoReady<MemberProcessInfo>(script, memberArgs(args), timeout);
  return { child, info: ready, [Symbol.asyncDispose]: () => child.kill() };
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @param ms The delay.
 * @returns When elapsed.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Where `serveGateway` comes from; written by another issue, so the gateway cases check for it first. */
const GATEWAY_MODULE = new URL("../../packages/gateway/mod.ts", import.meta.url);

/**
 * Why the gateway cases cannot run yet, if they cannot.
 *
 * @returns A note, or `undefined` when `packages/gateway/mod.ts` exists.
 */
export async function gatewayPending(): Promise<string | undefined> {
  try {
    await Deno.stat(GATEWAY_MODULE);
    return undefined;
  } catch {
    return "pending: packages/gateway/mod.ts does not exist yet";
  }
}

/** Options of {@link startGateway}. */
export interface GatewayProcessOptions {
  /** Which endpoints of the members to register. @default {both} */
  channels?: readonly Channel[];
  /** The proxy's routing policy. @default {"auto"} */
  routing?: RoutingPolicy;
  /** The era the proxy speaks first to members that serve both. @default {"modern"} */
  eraPreference?: Era;
}

/**
 * Starts a gateway process (`bench_gateway.ts`) federating `members`, and waits until it serves.
 *
 * @param members The members.
 * @param options Channels and routing.
 * @returns The process and the gateway's MCP endpoint.
 */
export async function startGateway(
  members: readonly ServedMember[],
  options: GatewayProcessOptions = {},
): Promise<{ child: ChildProcess; url: string }> {
  const script = new URL("./bench_gateway.ts", import.meta.url);
  const { child, ready } = await ChildProcess.denoReady<{ url: string }>(script, [
    "--members",
    JSON.stringify(members),
    "--channels",
    (options.channels ?? ["control", "data"]).join(","),
    "--routing",
    options.routing ?? "auto",
    "--era-preference",
    options.eraPreference ?? "modern",
  ], 30_000);
  return { child, url: ready.url };
}
