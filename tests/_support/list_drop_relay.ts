/**
 * A TCP relay for catalog tests: passes everything between a proxy and a member's endpoint, except a connection
 * whose request is a list (`tools/list` by default): that connection is closed on the spot (`drop`: the request
 * was sent and never answered) or black-holed (`hold`: nothing more passes either way, so the request times out),
 * while `fault` says so. A real socket is closed or held: the proxy's HTTP client sees what a member process that
 * died or stalled mid-request would show.
 *
 * @module
 */

/** What the relay does with a connection that carries a list request. */
export type ListFault = "none" | "drop" | "hold";

/** A relay to `127.0.0.1:<targetPort>` on a free loopback port. */
export class ListDropRelay implements AsyncDisposable {
  readonly port: number;
  /** What happens to the next list requests. */
  fault: ListFault = "none";
  /** The method whose requests are faulted. */
  method: string;
  /** List requests dropped or held so far. */
  faulted = 0;
  /** List requests passed so far. */
  passed = 0;
  #listener: Deno.TcpListener;
  #target: number;
  #conns = new Set<Deno.TcpConn>();
  #tasks = new Set<Promise<void>>();

  constructor(targetPort: number, method = "tools/list") {
    this.#target = targetPort;
    this.method = method;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    this.#track(this.#accept());
  }

  /** `url` (the member's endpoint) with the relay's port. */
  through(url: string): string {
    const relayed = new URL(url);
    relayed.port = String(this.port);
    return relayed.href;
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #accept(): Promise<void> {
    for await (const client of this.#listener) {
      this.#track(this.#pair(client));
    }
  }

  async #pair(client: Deno.TcpConn): Promise<void> {
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
    } catch {
      this.#close(client);
      return;
    }
    this.#conns.add(client);
    this.#conns.add(upstream);
    const state = { held: false };
    await Promise.all([this.#pump(client, upstream, state, true), this.#pump(upstream, client, state, false)]);
    this.#close(client);
    this.#close(upstream);
  }

  async #pump(from: Deno.TcpConn, to: Deno.TcpConn, state: { held: boolean }, inspect: boolean): Promise<void> {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await from.read(buffer);
        if (n === null) break;
        const chunk = buffer.slice(0, n);
        if (inspect && decoder.decode(chunk).includes(this.method)) {
          if (this.fault === "drop") {
            this.faulted++;
            this.#close(from);
            this.#close(to);
            return;
          }
          if (this.fault === "hold") {
            this.faulted++;
            state.held = true;
          } else this.passed++;
        }
        if (state.held) continue;
        await to.write(chunk);
      }
    } catch {
      // the other side closed
    }
    // One side ended: the pair ends (a held connection ends when the proxy gives up on it).
    this.#close(from);
    this.#close(to);
  }

  #close(conn: Deno.TcpConn): void {
    this.#conns.delete(conn);
    try {
      conn.close();
    } catch {
      // closed already
    }
  }

  /** Closes the listener and every connection through it. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* closed */ }
    for (const conn of [...this.#conns]) this.#close(conn);
    await Promise.allSettled([...this.#tasks]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
