/**
 * A fault-injecting TCP relay for tests: sits between a proxy and a member on 127.0.0.1 and can pass, delay,
 * black-hole (both ways or one way), cut or reset the connections through it, refuse new ones, and record the
 * bytes the proxy sends, on command.
 *
 * @module
 */

/** What the relay does with traffic. */
export type RelayMode = "pass" | "delay" | "blackhole";

/**
 * Which way `delay` and `blackhole` apply: `upstream` is client → target (proxy → member), `downstream` is
 * target → client (member → proxy).
 */
export type RelayDirection = "both" | "upstream" | "downstream";

interface Pair {
  client: Deno.TcpConn;
  upstream: Deno.TcpConn;
  /** Closed by reset(): the pumps drop what they hold and do not half-close. */
  reset: boolean;
  /** Client → target bytes, when capturing. */
  sent: Uint8Array[] | undefined;
}

/** A TCP relay to `target` on a free loopback port. */
export class FaultRelay implements AsyncDisposable {
  readonly port: number;
  mode: RelayMode = "pass";
  /** Which way `delay` and `blackhole` apply. */
  direction: RelayDirection = "both";
  /** Added latency per chunk in `delay` mode, in ms. */
  delayMs = 0;
  /** Connections accepted so far (refused ones included: each is a connection attempt). */
  accepted = 0;
  /** `performance.now()` of each accepted connection, in order. */
  readonly acceptedAt: number[] = [];
  /** Record what clients send (see {@link FaultRelay.sentText}). */
  capture = false;
  #listener: Deno.TcpListener;
  #target: { hostname: string; port: number };
  #pairs = new Set<Pair>();
  #captured: Uint8Array[][] = [];
  #tasks = new Set<Promise<void>>();
  #refusing = false;
  #accepting: Promise<void>;

  constructor(targetPort: number, hostname = "127.0.0.1") {
    this.#target = { hostname, port: targetPort };
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    this.#accepting = this.#acceptLoop();
  }

  /** Points the relay at another upstream port (e.g. a restarted member). */
  retarget(port: number): void {
    this.#target = { ...this.#target, port };
  }

  async #acceptLoop(): Promise<void> {
    for await (const client of this.#listener) {
      this.accepted++;
      this.acceptedAt.push(performance.now());
      if (this.#refusing) {
        client.close();
        continue;
      }
      this.#track(this.#open(client));
    }
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #open(client: Deno.TcpConn): Promise<void> {
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect(this.#target);
    } catch {
      client.close();
      return;
    }
    const sent = this.capture ? [] : undefined;
    if (sent) this.#captured.push(sent);
    const pair: Pair = { client, upstream, reset: false, sent };
    this.#pairs.add(pair);
    await Promise.all([
      this.#pump(pair, client, upstream, "upstream"),
      this.#pump(pair, upstream, client, "downstream"),
    ]);
    this.#pairs.delete(pair);
    for (const conn of [client, upstream]) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  #applies(way: "upstream" | "downstream"): boolean {
    return this.direction === "both" || this.direction === way;
  }

  async #pump(pair: Pair, from: Deno.TcpConn, to: Deno.TcpConn, way: "upstream" | "downstream"): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (!pair.reset) {
        const n = await from.read(buffer);
        if (n === null) break;
        const chunk = buffer.slice(0, n);
        if (way === "upstream") pair.sent?.push(chunk);
        while (this.mode === "blackhole" && this.#applies(way) && !pair.reset) {
          await new Promise((r) => setTimeout(r, 10));
        }
        if (this.mode === "delay" && this.delayMs > 0 && this.#applies(way)) {
          await new Promise((r) => setTimeout(r, this.delayMs));
        }
        if (pair.reset) break;
        let written = 0;
        while (written < chunk.length) written += await to.write(chunk.subarray(written));
      }
    } catch {
      // the other side closed or was reset
    }
    if (!pair.reset) await to.closeWrite().catch(() => {/* already closed */});
    try {
      from.close();
    } catch { /* already closed */ }
  }

  #closeAll(reset: boolean): void {
    for (const pair of this.#pairs) {
      if (reset) pair.reset = true;
      for (const conn of [pair.client, pair.upstream]) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    }
    this.#pairs.clear();
  }

  /** Closes every current connection (both sides see the close); new ones are still accepted. */
  cut(): void {
    this.#closeAll(false);
  }

  /**
   * Resets every current connection: both sides are closed at once, and whatever the relay holds (delayed or
   * black-holed chunks) is dropped, never delivered. Deno has no `SO_LINGER`, so no RST segment is forced: each
   * peer sees its connection fail at its next read or write, as after a reset. New connections are still accepted.
   */
  reset(): void {
    this.#closeAll(true);
  }

  /** Cuts every connection and refuses (accept, then close) new ones until {@link FaultRelay.restore}. */
  down(): void {
    this.#refusing = true;
    this.cut();
  }

  /** Like {@link FaultRelay.down}, but resets the connections: a killed process or a dead host. */
  kill(): void {
    this.#refusing = true;
    this.reset();
  }

  /** Passes traffic again (both ways) and accepts new connections. */
  restore(): void {
    this.#refusing = false;
    this.mode = "pass";
    this.direction = "both";
  }

  /** Number of open relayed connections. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** What clients sent through the relay while {@link FaultRelay.capture} was on, one string per connection. */
  sentText(): string[] {
    const decoder = new TextDecoder("latin1");
    return this.#captured.map((chunks) => chunks.map((c) => decoder.decode(c)).join(""));
  }

  async close(): Promise<void> {
    this.#refusing = true;
    this.mode = "pass";
    this.reset();
    this.#listener.close();
    await this.#accepting.catch(() => {});
    await Promise.all([...this.#tasks]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
