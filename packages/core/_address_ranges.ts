// Internal: the address ranges the outbound guard refuses, as one table per family, from the IANA Special-Purpose
// Address Registries (RFC 6890 and updates) and the clouds' docs, and the parsers of IP literals they apply to.
// IPv6 addresses that embed an IPv4 address (mapped, NAT64, 6to4, Teredo, …) are judged by the address they carry.

/** `a.b.c.d` → its four bytes, or `undefined`. */
export function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

/** Textual IPv6 (with `::` and an optional dotted IPv4 tail) → its eight 16-bit groups, or `undefined`. */
export function parseIpv6(text: string): number[] | undefined {
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

/**
 * Why an address is refused: `metadata` (link-local, a cloud metadata service, or a prefix that can hide one;
 * refused unless `allowMetadata`), `private` (loopback, private and other non-public unicast ranges; refused only
 * with `allowPrivate: false`), `unusable` (not a unicast destination: refused always).
 */
export type AddressRule = "metadata" | "private" | "unusable";
/** A refused range: its rule and what it is (for messages). */
export interface Refusal {
  rule: AddressRule;
  what: string;
}

function inV4(bytes: number[], base: [number, number, number, number], bits: number): boolean {
  const value = (b: number[]) => ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((value(bytes) & mask) >>> 0) === ((value(base) & mask) >>> 0);
}

// IPv4 ranges, from the IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates) and the clouds' docs.
// First match wins: the metadata addresses inside private ranges come first.
const V4_RANGES: [base: [number, number, number, number], bits: number, refusal: Refusal][] = [
  [[169, 254, 0, 0], 16, { rule: "metadata", what: "IPv4 link-local, RFC 3927 (AWS, GCP, Azure, OCI metadata)" }],
  [[100, 100, 100, 200], 32, { rule: "metadata", what: "Alibaba Cloud metadata" }],
  [[168, 63, 129, 16], 32, { rule: "metadata", what: "Azure WireServer" }],
  [[192, 0, 0, 192], 32, { rule: "metadata", what: "Oracle Cloud Classic metadata" }],
  [[0, 0, 0, 0], 8, { rule: "private", what: '"this network", RFC 791 (0.0.0.0 reaches the local host)' }],
  [[10, 0, 0, 0], 8, { rule: "private", what: "private, RFC 1918" }],
  [[100, 64, 0, 0], 10, { rule: "private", what: "shared address space, RFC 6598" }],
  [[127, 0, 0, 0], 8, { rule: "private", what: "loopback, RFC 1122" }],
  [[172, 16, 0, 0], 12, { rule: "private", what: "private, RFC 1918" }],
  [[192, 0, 0, 0], 24, { rule: "private", what: "IETF protocol assignments, RFC 6890" }],
  [[192, 0, 2, 0], 24, { rule: "private", what: "documentation, RFC 5737" }],
  [[192, 88, 99, 0], 24, { rule: "private", what: "6to4 relay anycast, RFC 7526" }],
  [[192, 168, 0, 0], 16, { rule: "private", what: "private, RFC 1918" }],
  [[198, 18, 0, 0], 15, { rule: "private", what: "benchmarking, RFC 2544" }],
  [[198, 51, 100, 0], 24, { rule: "private", what: "documentation, RFC 5737" }],
  [[203, 0, 113, 0], 24, { rule: "private", what: "documentation, RFC 5737" }],
  [[224, 0, 0, 0], 4, { rule: "unusable", what: "multicast, RFC 5771" }],
  [[240, 0, 0, 0], 4, { rule: "unusable", what: "reserved and limited broadcast, RFC 1112 and RFC 919" }],
];

function classifyIpv4(bytes: number[]): Refusal | undefined {
  return V4_RANGES.find(([base, bits]) => inV4(bytes, base, bits))?.[2];
}

/** The IPv4 address an IPv6 address carries, by the embedding conventions an attacker can use to hide one. */
function embeddedIpv4(g: number[]): { bytes: number[]; how: string } | undefined {
  const v4 = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return { bytes: v4(g[6]!, g[7]!), how: "IPv4-mapped, RFC 4291" };
  if (zero(0, 6) && (g[6] !== 0 || g[7]! > 1)) return { bytes: v4(g[6]!, g[7]!), how: "IPv4-compatible, RFC 4291" };
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return { bytes: v4(g[6]!, g[7]!), how: "IPv4-translated, RFC 2765" };
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return { bytes: v4(g[6]!, g[7]!), how: "NAT64, RFC 6052" };
  if (g[0] === 0x2002) return { bytes: v4(g[1]!, g[2]!), how: "6to4, RFC 3056" };
  // Teredo carries the client's IPv4 address inverted in the last 32 bits.
  if (g[0] === 0x2001 && g[1] === 0) return { bytes: v4(~g[6]! & 0xffff, ~g[7]! & 0xffff), how: "Teredo, RFC 4380" };
  if ((g[4] === 0 || g[4] === 0x200) && g[5] === 0x5efe) return { bytes: v4(g[6]!, g[7]!), how: "ISATAP, RFC 5214" };
  return undefined;
}

function classifyIpv6(g: number[]): Refusal | undefined {
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  // From the IANA IPv6 Special-Purpose Address Registry (RFC 6890 and updates) and the clouds' docs.
  if ((g[0]! & 0xffc0) === 0xfe80) return { rule: "metadata", what: "IPv6 link-local, RFC 4291" };
  if (g[0] === 0xfd00 && g[1] === 0x0ec2) {
    return { rule: "metadata", what: "AWS instance services (IMDS fd00:ec2::254, DNS, NTP)" };
  }
  if (g[0] === 0xfd20 && g[1] === 0x00ce && zero(2, 7) && g[7] === 0x254) {
    return { rule: "metadata", what: "GCP metadata over IPv6" };
  }
  // The local-use NAT64 prefix may embed an IPv4 address at any of RFC 6052's offsets: it cannot be checked.
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) {
    return { rule: "metadata", what: "local-use NAT64 prefix 64:ff9b:1::/48, RFC 8215" };
  }
  const embedded = embeddedIpv4(g);
  if (embedded) {
    const inner = classifyIpv4(embedded.bytes);
    if (inner) return { rule: inner.rule, what: `${inner.what}, embedded (${embedded.how})` };
  }
  if (zero(0, 7) && g[7]! <= 1) return { rule: "private", what: "IPv6 loopback or unspecified, RFC 4291" };
  if ((g[0]! & 0xfe00) === 0xfc00) return { rule: "private", what: "IPv6 unique local, RFC 4193" };
  if ((g[0]! & 0xffc0) === 0xfec0) return { rule: "private", what: "IPv6 site-local (deprecated), RFC 3879" };
  if (g[0] === 0x2001 && g[1] === 0x0db8) return { rule: "private", what: "IPv6 documentation, RFC 3849" };
  if (g[0] === 0x2001 && g[1] === 0x0002 && g[2] === 0) return { rule: "private", what: "IPv6 benchmarking, RFC 5180" };
  if (g[0] === 0x0100 && zero(1, 4)) return { rule: "unusable", what: "IPv6 discard-only, RFC 6666" };
  if ((g[0]! & 0xff00) === 0xff00) return { rule: "unusable", what: "IPv6 multicast, RFC 4291" };
  return undefined;
}

/** Why an IP literal (v4 dotted or v6 textual, brackets and zone allowed) is refused, or `undefined`. */
export function classifyAddress(address: string): Refusal | undefined {
  const bare = address.replace(/^\[|\]$/g, "");
  const v4 = parseIpv4(bare);
  if (v4) return classifyIpv4(v4);
  const v6 = parseIpv6(bare.replace(/%.*$/, ""));
  return v6 === undefined ? undefined : classifyIpv6(v6);
}
