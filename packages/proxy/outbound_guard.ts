/**
 * The outbound guard: which member URLs a {@link FederationProxy} may connect to. A proxy that registers members
 * from a config file, an API or a gateway could otherwise be pointed at a cloud's metadata service (server-side
 * request forgery) and hand it a signed token.
 *
 * Rules, checked by `registerServer` after the config is validated and before any connection is made:
 * - **Link-local and cloud-metadata addresses are refused** unless `allowMetadata: true`: IPv4 `169.254.0.0/16`
 *   (AWS, GCP, Azure, OpenStack metadata at 169.254.169.254) and `100.100.100.200` (Alibaba Cloud), IPv6
 *   `fe80::/10` and `fd00:ec2::254` (AWS), IPv4 addresses embedded in IPv6 (`::ffff:169.254.169.254`, NAT64
 *   `64:ff9b::/96`, 6to4 `2002::/16`), and the names {@link METADATA_HOSTNAMES}. Hosts are compared after URL
 *   parsing, so `http://2852039166/`, `http://0xA9FEA9FE/`, `http://169.254.43518/`, percent-encoded and
 *   full-width names are caught as what they are.
 * - **DNS names are resolved** (A and AAAA, within `resolveTimeout`) and refused when an address is refused.
 *   A name that does not resolve, or not in time, is let through: the connection will fail or resolve through
 *   the system resolver (which may read `/etc/hosts`). `localhost` and `*.localhost` are loopback and never
 *   resolved. Use `allowHosts` when you need a closed list.
 * - **`allowHosts`**, when given, is the only hosts allowed: exact names or IP literals, or `*.example.com` for
 *   any subdomain of `example.com`. Both rules apply: a listed host must still not be a metadata address unless
 *   `allowMetadata` is set.
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

import { timeoutSignal } from "../core/_timeout_signal.ts";

import { CancelledError, ConfigError } from "../core/errors.ts";
import type { FederationConfig } from "../core/types.ts";

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
   * How DNS names are resolved before their addresses are checked, or `false` to check names literally only.
   * @default {A and AAAA records with Deno.resolveDns}
   */
  resolve?: HostResolver | false | undefined;
  /** Longest wait for DNS resolution, in ms; a name not resolved in time is let through. @default {2000} */
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

/** `a.b.c.d` → its four bytes, or `undefined`. */
function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

/** Textual IPv6 (with `::` and an optional dotted IPv4 tail) → its eight 16-bit groups, or `undefined`. */
function parseIpv6(text: string): number[] | undefined {
  let rest = text.toLowerCase();
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(rest);
  if (dotted) {
    const v4 = parseIpv4(dotted[2]!);
    if (!v4) return undefined;
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    rest = dotted[1]!.endsWith("::") ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const halves = rest.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => s === "" ? [] : s.split(":");
  const head = groups(halves[0]!);
  const after = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...head, ...after].every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  const known = head.length + after.length + tail.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return undefined;
  const zeros = new Array<number>(8 - known).fill(0);
  return [...head.map((g) => parseInt(g, 16)), ...zeros, ...after.map((g) => parseInt(g, 16)), ...tail];
}

function blockedIpv4(bytes: number[]): boolean {
  const [a, b, c, d] = bytes as [number, number, number, number];
  return (a === 169 && b === 254) || (a === 100 && b === 100 && c === 100 && d === 200);
}

function blockedIpv6(g: number[]): boolean {
  if ((g[0]! & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return true;
  const v4 = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
  const firstFive = g.slice(0, 5).every((x) => x === 0);
  if (firstFive && (g[5] === 0xffff || g[5] === 0) && blockedIpv4(v4(g[6]!, g[7]!))) return true; // mapped, compatible
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0) && blockedIpv4(v4(g[6]!, g[7]!))) {
    return true; // NAT64
  }
  if (g[0] === 0x2002 && blockedIpv4(v4(g[1]!, g[2]!))) return true; // 6to4
  return false;
}

/** Whether an IP literal (v4 dotted or v6 textual, brackets allowed) is link-local or a metadata address. */
function blockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "");
  const v4 = parseIpv4(bare);
  if (v4) return blockedIpv4(v4);
  const v6 = parseIpv6(bare.replace(/%.*$/, ""));
  return v6 !== undefined && blockedIpv6(v6);
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
  if (!URL.canParse(url)) refuse("is not a valid URL");
  const host = normalizeHost(new URL(url).hostname);
  if (options.allowHosts !== undefined && !listed(host, options.allowHosts)) {
    refuse(`host '${host}' is not in outboundGuard.allowHosts`);
  }
  if (options.allowMetadata === true) return;
  if (METADATA_HOSTNAMES.includes(host)) refuse(`host '${host}' is a cloud metadata service (outboundGuard)`);
  if (isIpLiteral(host)) {
    if (blockedAddress(host)) refuse(`address '${host}' is link-local or a cloud metadata address (outboundGuard)`);
    return;
  }
  if (host === "localhost" || host.endsWith(".localhost") || options.resolve === false) return;
  if (options.signal?.aborted) {
    throw new CancelledError(`Checking ${field} was cancelled`, { ...(serverId ? { serverId } : {}) });
  }
  const addresses = await resolveWithin(
    host,
    options.resolve ?? resolveDns,
    options.resolveTimeout ?? DEFAULT_RESOLVE_TIMEOUT,
    options.signal,
  );
  if (options.signal?.aborted) {
    throw new CancelledError(`Checking ${field} was cancelled`, {
      ...(serverId ? { serverId } : {}),
      cause: options.signal.reason,
    });
  }
  const blocked = addresses.find((address) => typeof address === "string" && blockedAddress(address));
  if (blocked !== undefined) {
    refuse(`host '${host}' resolves to '${blocked}', a link-local or cloud metadata address (outboundGuard)`);
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
  if (guard === false) return;
  for (const kind of ["control", "data"] as const) {
    const url = config.endpoints[kind];
    if (url === undefined) continue;
    await checkOutboundUrl(url, {
      ...guard,
      field: `endpoints.${kind}`,
      serverId: config.serverId,
      ...(signal ? { signal } : {}),
    });
  }
}
