/**
 * A fault-injecting TCP relay for tests: sits between a proxy and a member on 127.0.0.1 and can pass, delay,
 * black-hole, cut or reset the connections through it, on command.
 *
 * @module
 */

/** What the relay does with traffic. */
export type RelayMode = "pass" | "delay" | "blackhole";

interface Pair {
  client: Deno.TcpConn;
  upstream: Deno.TcpConn;
}

/** A TCP relay to `target` on a free loopback port. */
export class FaultRelay implements AsyncDisposable {
  readonly port: number;
  mode: RelayMode = "pass";
  /** Added latency per chunk in `delay` mode, in ms. */
  delayMs = 0;
  /** Connections accepted so far. */
  accepted = 0;
  #listener: Deno.TcpListener;
  #target: { hostname: string; port: number };
  #pairs = new Set<Pair>();
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
    const pair = { client, upstream };
    this.#pairs.add(pair);
    await Promise.all([this.#pump(client, upstream), this.#pump(upstream, client)]);
    this.#pairs.delete(pair);
    for (const conn of [client, upstream]) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  async #pump(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await from.read(buffer);
        if (n === null) break;
        const chunk = buffer.slice(0, n);
        while (this.mode === "blackhole") await new Promise((r) => setTimeout(r, 10));
        if (this.mode === "delay" && this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
        let written = 0;
        while (written < chunk.length) written += await to.write(chunk.subarray(written));
      }
    } catch {
      // the other side closed or was reset
    }
    await to.closeWrite().catch(() => {/* already closed */});
    try {
      from.close();
    } catch { /* already closed */ }
  }

  /** Closes every current connection (both sides see the close); new ones are still accepted. */
  cut(): void {
    for (const { client, upstream } of this.#pairs) {
      for (const conn of [client, upstream]) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    }
    this.#pairs.clear();
  }

  /** Cuts every connection and refuses (accept, then close) new ones until {@link FaultRelay.restore}. */
  down(): void {
    this.#refusing = true;
    this.cut();
  }

  /** Passes traffic again and accepts new connections. */
  restore(): void {
    this.#refusing = false;
    this.mode = "pass";
  }

  /** Number of open relayed connections. */
  get connections(): number {
    return this.#pairs.size;
  }

  async close(): Promise<void> {
    this.#refusing = true;
    this.mode = "pass";
    this.cut();
    this.#listener.close();
    await this.#accepting.catch(() => {});
    await Promise.all([...this.#tasks]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
