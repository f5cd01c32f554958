/**
 * Loopback ports chosen before anything listens on them: a URL that must name its port, a member restarted on the
 * same ports, a port nothing listens on.
 *
 * They come from below the kernel's ephemeral range. Port-0 binds and outgoing connections of the test processes
 * running in parallel only take ports inside that range, so a port handed out here stays free while its test holds it
 * closed (between a stop and a restart, say).
 *
 * @module
 */

/** The lowest port handed out. */
const LOWEST = 20_000;

/** The first port of the kernel's ephemeral range (Linux's default when it cannot be read). */
function ephemeralStart(): number {
  try {
    const first = Number(Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOWEST + 1_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

const END = ephemeralStart();
/** Ports handed out in this process: never the same one twice. */
const handedOut = new Set<number>();

/**
 * A TCP port free on 127.0.0.1 right now, from below the ephemeral range, never the same twice in one process.
 *
 * @example
 * ```ts
 * const url = `http://127.0.0.1:${freePort()}/mcp`;
 * ```
 */
export function freePort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (END - LOWEST));
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
  throw new Error(`No free port below ${END} found in 200 attempts`);
}
