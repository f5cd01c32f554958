/**
 * Loopback ports chosen before anything listens on them: a URL that must name its port, a member restarted on the
 * same ports, a port nothing listens on.
 *
 * They come from outside the kernel's ephemeral range (below it, or above it when there is no room below). Port-0 binds
 * and outgoing connections only take ports inside that range, so a port handed out here is not taken by them while
 * its test holds it closed (between a stop and a restart, say). Another test process could still draw the same port
 * from here (about one chance in 12,000 per draw on Linux's default range).
 *
 * @module
 */

/** The kernel's ephemeral range (Linux's default when it cannot be read). */
function ephemeralRange(): [number, number] {
  try {
    const [first, last] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(/\s+/).map(
      Number,
    );
    if (Number.isInteger(first) && Number.isInteger(last)) return [first!, last!];
  } catch {
    // Not Linux, or not readable: the default.
  }
  return [32_768, 60_999];
}

/** The fewest ports worth drawing from outside the ephemeral range. */
const ENOUGH = 2_000;

/**
 * The ports handed out: below the ephemeral range (from 20000), or else above it; when neither has room (a range
 * such as 1024-65535), random ports from 20000 up, which the kernel's own picks only rarely meet.
 */
function outsideEphemeral(): [number, number] {
  const [first, last] = ephemeralRange();
  if (first - 20_000 >= ENOUGH) return [20_000, first - 1];
  if (65_535 - last >= ENOUGH) return [last + 1, 65_535];
  return [20_000, 65_535];
}

const [LOWEST, HIGHEST] = outsideEphemeral();
/** Ports handed out in this process: never the same one twice. */
const handedOut = new Set<number>();

/**
 * A TCP port free on 127.0.0.1 right now, outside the ephemeral range, never the same twice in one process.
 *
 * @example
 * ```ts
 * const url = `http://127.0.0.1:${freePort()}/mcp`;
 * ```
 */
export function freePort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1));
    if (handedOut.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) continue;
      throw error;
    }
    handedOut.add(port);
    return port;
  }
  throw new Error(`No free port in ${LOWEST}-${HIGHEST} found in 200 attempts`);
}
