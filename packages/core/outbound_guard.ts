/**
 * The outbound guard: which member URLs a {@link FederationProxy} may connect to. A proxy that registers members
 * from a config file, an API or a gateway could otherwise be pointed at a cloud's metadata service (server-side
 * request forgery) and hand it a signed token.
 *
 * Rules, checked by `registerServer` after the config is validated and before any connection is made, and again
 * right before every connection to a member (the first and every reconnection), on the addresses the name resolves
 * to then, so that a name that changes its answer after registration (DNS rebinding) is refused at the reconnect:
 * - **Link-local and cloud-metadata addresses are refused** unless `allowMetadata: true`: IPv4 `169.254.0.0/16`
 *   (AWS, GCP, Azure, OCI metadata at 169.254.169.254), `100.100.100.200` (Alibaba Cloud), `168.63.129.16` (Azure
 *   WireServer), `192.0.0.192` (Oracle Cloud Classic); IPv6 `fe80::/10`, `fd00:ec2::/32` (AWS IMDS
 *   `fd00:ec2::254`, DNS, NTP), `fd20:ce::254` (GCP); the local-use NAT64 prefix `64:ff9b:1::/48` (RFC 8215: its
 *   IPv4 embedding cannot be checked); IPv4 addresses embedded in IPv6 (mapped `::ffff:0:0/96`, compatible,
 *   translated `::ffff:0:0:0/96`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, Teredo `2001::/32`, ISATAP), classified
 *   as the IPv4 address they carry; and the names {@link METADATA_HOSTNAMES}. Hosts are compared after URL
 *   parsing, so `http://2852039166/`, `http://0xA9FEA9FE/`, `http://169.254.43518/`, percent-encoded and
 *   full-width names are caught as what they are.
 * - **Addresses that are not unicast destinations are refused** always: multicast (`224.0.0.0/4`, `ff00::/8`),
 *   reserved and broadcast (`240.0.0.0/4`), discard-only (`100::/64`).
 * - **Private and special-purpose unicast ranges** (the IANA IPv4 and IPv6 Special-Purpose Address Registries,
 *   RFC 6890): loopback, `0.0.0.0/8`, RFC 1918, shared `100.64.0.0/10`, `192.0.0.0/24`, documentation and
 *   benchmarking ranges, unique local `fc00::/7`, site-local `fec0::/10`, and `localhost`, are allowed by default
 *   and refused with `allowPrivate: false`.
 * - **DNS names are resolved** (A and AAAA, within `resolveTimeout`) and refused when an address is refused.
 *   A name that does not resolve, or not in time, is let through unless `refuseUnresolved: true` (the connection
 *   will fail, or resolve through the system resolver, which may read `/etc/hosts`). `localhost` and
 *   `*.localhost` are loopback and never resolved. Use `allowHosts` when you need a closed list.
 * - **`allowHosts`**, when given, is the only hosts allowed: exact names or IP literals, or `*.example.com` for
 *   any subdomain of `example.com`. Both rules apply: a listed host must still not be a metadata address unless
 *   `allowMetadata` is set.
 *
 * What remains: the check resolves the name itself, then the WebSocket or HTTP client resolves it again to
 * connect. A resolver that answers differently within that window (milliseconds) is not caught, and the data
 * channel's HTTP client may open further pooled connections between two channel connects; `allowHosts` (names
 * you control) or IP literals close both gaps.
 *
 * The proxy enables the guard by default with these defaults (so loopback, private networks and public hosts
 * work as before); `outboundGuard: false` turns it off. The gateway CLI builds its proxy with the default, so it
 * is on there too.
 *
 * @example Allow only two hosts
 * ```ts
 * import { FederationProxy } from "@federated-mcp/federation/proxy";
 *
 * await using proxy = new FederationProxy("a-secret-of-at-least-thirty-two-bytes!!", {
 *   outboundGuard: { allowHosts: ["127.0.0.1", "*.mcp.internal"] },
 * });
 * await proxy.registerServer({ serverId: "imds", endpoints: { data: "http://169.254.169.254/" } })
 *   .catch((error) => console.log(error.code, error.field)); // ERR_CONFIG_INVALID endpoints.data
 * ```
 * @module
 */

import { timeoutSignal } from "./_timeout_signal.ts";

import { CancelledError, ConfigError } from "./errors.ts";
import type { FederationConfig } from "./types.ts";
import { classifyAddress, parseIpv4, parseIpv6, type Refusal } from "./_address_ranges.ts";

/** Resolves a DNS name to its IP addresses (IPv4 dotted, IPv6 textual). */
export type HostResolver = (hostname: string, signal: AbortSignal) => Promise<string[]>;

/** Options of the outbound guard ({@link FederationProxyOptions.outboundGuard}). */
export interface OutboundGuardOptions {
  /**
   * When set, members may only be on these hosts: names (case-insensitive; `*.example.com` matches any subdomain
   * of `example.com`) or IP literals (IPv6 with or without brackets).
   * @default {undefined: every host not refused by the metadata rule}
   */
  allowHosts?: readonly string[] | undefined;
  /** Allow link-local and cloud-metadata addresses (see the module doc for the list). @default {false} */
  allowMetadata?: boolean | undefined;
  /**
   * Allow loopback (and `localhost`), private (RFC 1918, unique local) and the other special-purpose unicast
   * ranges of RFC 6890 (see the module doc). `false` admits public addresses only.
   * @default {true}
   */
  allowPrivate?: boolean | undefined;
  /**
   * Refuse a DNS name that does not resolve (no address, an error, or no answer within `resolveTimeout`) instead of
   * letting the connection attempt decide. The gateway's membership API sets it for the members it adds.
   * @default {false}
   */
  refuseUnresolved?: boolean | undefined;
  /**
   * How DNS names are resolved before their addresses are checked, or `false` to check names literally only.
   * @default {A and AAAA records with Deno.resolveDns}
   */
  resolve?: HostResolver | false | undefined;
  /**
   * Longest wait for DNS resolution, in ms; a name not resolved in time is let through (refused with
   * `refuseUnresolved`). @default {2000}
   */
  resolveTimeout?: number | undefined;
}

/** Options of {@link checkOutboundUrl}. */
export interface CheckOutboundUrlOptions extends OutboundGuardOptions {
  /** Field named by the {@link ConfigError}. @default {"url"} */
  field?: string | undefined;
  /** Member named by the {@link ConfigError}. */
  serverId?: string | undefined;
  /** Abandons DNS resolution (rejects with `CancelledError`). */
  signal?: AbortSignal | undefined;
}

/** Host names of cloud metadata services, refused unless `allowMetadata` is set. */
export const METADATA_HOSTNAMES: readonly string[] = Object.freeze([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.tencentyun.com",
]);

const DEFAULT_RESOLVE_TIMEOUT = 2_000;

async function resolveDns(hostname: string, signal: AbortSignal): Promise<string[]> {
  const results = await Promise.allSettled([
    Deno.resolveDns(hostname, "A", { signal }),
    Deno.resolveDns(hostname, "AAAA", { signal }),
  ]);
  return results.flatMap((r) => r.status === "fulfilled" ? r.value : []);
}

/** The refusal that applies under `options`, if any. */
function refusalOf(address: string, options: OutboundGuardOptions): Refusal | undefined {
  const refusal = classifyAddress(address);
  if (refusal === undefined) return undefined;
  if (refusal.rule === "metadata" && options.allowMetadata === true) return undefined;
  if (refusal.rule === "private" && options.allowPrivate !== false) return undefined;
  return refusal;
}

function isIpLiteral(host: string): boolean {
  return parseIpv4(host) !== undefined || parseIpv6(host) !== undefined;
}

/** A hostname as the URL parser leaves it, lowercased, without brackets or trailing dots. */
function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.+$/, "");
}

/** An allow-list entry in the form URL parsing gives hosts (so `0xA9FEA9FE` and `169.254.169.254` agree). */
function normalizeEntry(entry: string): string {
  const raw = entry.trim().toLowerCase();
  if (raw.startsWith("*.")) return "*." + normalizeHost(raw.slice(2));
  const bracketed = raw.includes(":") && !raw.startsWith("[") ? `[${raw}]` : raw;
  return URL.canParse(`http://${bracketed}/`) ? normalizeHost(new URL(`http://${bracketed}/`).hostname) : raw;
}

function listed(host: string, allowHosts: readonly string[]): boolean {
  return allowHosts.some((entry) => {
    if (typeof entry !== "string") return false;
    const rule = normalizeEntry(entry);
    return rule.startsWith("*.") ? host.endsWith(rule.slice(1)) && host.length > rule.length - 1 : host === rule;
  });
}

function checkOptions(options: OutboundGuardOptions): void {
  const { allowHosts, resolveTimeout, resolve } = options;
  if (allowHosts !== undefined && (!Array.isArray(allowHosts) || !allowHosts.every((h) => typeof h === "string"))) {
    throw new TypeError("outboundGuard.allowHosts must be an array of host names");
  }
  if (resolveTimeout !== undefined && !(typeof resolveTimeout === "number" && resolveTimeout > 0)) {
    throw new TypeError("outboundGuard.resolveTimeout must be a positive number of milliseconds");
  }
  if (resolve !== undefined && resolve !== false && typeof resolve !== "function") {
    throw new TypeError("outboundGuard.resolve must be a function or false");
  }
  for (const flag of ["allowMetadata", "allowPrivate", "refuseUnresolved"] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== "boolean") {
      throw new TypeError(`outboundGuard.${flag} must be a boolean`);
    }
  }
}

async function resolveWithin(
  host: string,
  resolve: HostResolver,
  timeout: number,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const deadline = timeoutSignal(timeout, signal);
  const combined = deadline.signal;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<string[]>((resolveAborted) => {
    onAbort = () => resolveAborted([]);
    combined.addEventListener("abort", onAbort, { once: true });
  });
  try {
    // A resolver that ignores the signal still cannot hold registration past the deadline.
    return await Promise.race([resolve(host, combined).catch(() => []), aborted]);
  } finally {
    combined.removeEventListener("abort", onAbort!);
    deadline.clear();
  }
}

/**
 * Checks one member URL against the guard's rules.
 *
 * @param url The member endpoint.
 * @param options The guard's options, plus `field`, `serverId` and `signal`.
 * @returns When the URL may be connected to.
 * @throws {ConfigError} When the host is refused (`code` `ERR_CONFIG_INVALID`, `field` as given).
 * @throws {CancelledError} When `signal` aborts during DNS resolution.
 * @throws {TypeError} For invalid guard options.
 * @example
 * ```ts
 * import { checkOutboundUrl } from "@federated-mcp/federation/proxy";
 *
 * await checkOutboundUrl("ws://127.0.0.1:3000/");
 * await checkOutboundUrl("http://0xA9FEA9FE/latest/meta-data/").catch((error) => console.log(error.code));
 * ```
 */
export async function checkOutboundUrl(url: string | URL, options: CheckOutboundUrlOptions = {}): Promise<void> {
  checkOptions(options);
  const field = options.field ?? "url";
  const serverId = options.serverId;
  const refuse = (rule: string): never => {
    const who = serverId === undefined ? "" : ` of server '${serverId}'`;
    throw new ConfigError(`Invalid ${field}${who}: ${rule}`, serverId === undefined ? { field } : { field, serverId });
  };
  const describe = (refusal: Refusal) =>
    refusal.rule === "metadata"
      ? `link-local or a cloud metadata address (outboundGuard: ${refusal.what})`
      : refusal.rule === "private"
      ? `a private or special-purpose address (outboundGuard.allowPrivate: ${refusal.what})`
      : `not a unicast host address (outboundGuard: ${refusal.what})`;
  if (!URL.canParse(url)) refuse("is not a valid URL");
  const host = normalizeHost(new URL(url).hostname);
  if (options.allowHosts !== undefined && !listed(host, options.allowHosts)) {
    refuse(`host '${host}' is not in outboundGuard.allowHosts`);
  }
  if (options.allowMetadata !== true && METADATA_HOSTNAMES.includes(host)) {
    refuse(`host '${host}' is a cloud metadata service (outboundGuard)`);
  }
  if (isIpLiteral(host)) {
    const refusal = refusalOf(host, options);
    if (refusal) refuse(`address '${host}' is ${describe(refusal)}`);
    return;
  }
  // `localhost` and its subdomains are loopback (RFC 6761): never resolved, refused only by allowPrivate: false.
  if (host === "localhost" || host.endsWith(".localhost")) {
    if (options.allowPrivate === false) refuse(`host '${host}' is loopback (outboundGuard.allowPrivate)`);
    return;
  }
  if (options.resolve === false) return;
  if (options.signal?.aborted) {
    throw new CancelledError(`Checking ${field} was cancelled`, { ...(serverId ? { serverId } : {}) });
  }
  const timeout = options.resolveTimeout ?? DEFAULT_RESOLVE_TIMEOUT;
  const addresses = await resolveWithin(host, options.resolve ?? resolveDns, timeout, options.signal);
  if (options.signal?.aborted) {
    throw new CancelledError(`Checking ${field} was cancelled`, {
      ...(serverId ? { serverId } : {}),
      cause: options.signal.reason,
    });
  }
  const valid = addresses.filter((address) => typeof address === "string" && isIpLiteral(address));
  for (const address of valid) {
    const refusal = refusalOf(address, options);
    if (refusal) refuse(`host '${host}' resolves to '${address}', ${describe(refusal)}`);
  }
  if (valid.length === 0 && options.refuseUnresolved === true) {
    refuse(`host '${host}' did not resolve within ${timeout}ms (outboundGuard.refuseUnresolved)`);
  }
}

/**
 * Checks both endpoints of a validated config (internal to the proxy's `registerServer`).
 *
 * @param config A config that passed `validateConfig`.
 * @param guard The proxy's `outboundGuard` option.
 * @param signal The registration's signal.
 * @returns When both endpoints may be connected to.
 * @throws {ConfigError} With `field` `endpoints.control` or `endpoints.data`.
 */
export async function guardEndpoints(
  config: FederationConfig,
  guard: OutboundGuardOptions | false | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const kind of ["control", "data"] as const) {
    const url = config.endpoints[kind];
    if (url !== undefined) await guardEndpoint(config, url, guard, signal);
  }
}

/**
 * The guard for members added through the gateway's membership API: a name that does not resolve is refused
 * (`refuseUnresolved: true`) unless the options say otherwise.
 *
 * @param guard The configured guard.
 * @returns The guard to check with.
 */
export function failClosed(guard: OutboundGuardOptions | false | undefined): OutboundGuardOptions | false {
  return guard === false ? false : { refuseUnresolved: true, ...guard };
}

/**
 * Checks one endpoint of a member right before a channel connects to it (internal: the proxy runs it at every
 * connect, initial and reconnect, so that a name re-resolved to a refused address after registration is refused).
 *
 * @param config The member's config.
 * @param url One of its endpoint URLs.
 * @param guard The proxy's `outboundGuard` option.
 * @param signal The connect's signal.
 * @returns When the endpoint may be connected to.
 * @throws {ConfigError} With `field` `endpoints.control` or `endpoints.data`.
 */
export async function guardEndpoint(
  config: FederationConfig,
  url: string,
  guard: OutboundGuardOptions | false | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (guard === false) return;
  const kind = url === config.endpoints.control ? "control" : "data";
  await checkOutboundUrl(url, {
    ...guard,
    field: `endpoints.${kind}`,
    serverId: config.serverId,
    ...(signal ? { signal } : {}),
  });
}
