// Internal: the gateway's listening socket, made to survive a connection flood.
//
// `Deno.serve` offers no connection limit and no header or idle timeout (Deno 2.9: `ServeOptions` has only
// `hostname`, `port`, `reusePort`, `tcpBacklog`, `signal`, `onListen`, `onError`). When the process runs out of file
// descriptors (e.g. ~1,000 half-open connections under `ulimit -n 1024`), its accept loop fails with EMFILE, the
// server's `finished` promise rejects, and an unobserved rejection exits the process with code 1. So:
// - `finished` is always observed: an accept failure is logged, never fatal;
// - the listener is opened again on the same address (the port it was given, even when it was 0) with backoff
//   until it succeeds, so the gateway serves again as soon as descriptors are free;
// - requests in progress are bounded (`maxConcurrentRequests`, a streamed answer counting until it ends): over the
//   bound a request gets 503 at once, so a burst of real requests or open SSE streams cannot pile up unbounded work.
//   Half-open connections never reach the handler; they hold a descriptor until their peer closes them (what the
//   operating system's limits and a front proxy bound).
import { backoffDelay, type BackoffPolicy } from "../core/backoff.ts";
import { sleep } from "../core/_sleep.ts";
import type { Logger } from "../core/logger.ts";
import { errorMessage } from "../core/_error_message.ts";
import { isEventStream } from "../core/_http.ts";

/** How long closing the listener waits for the responses still in progress. */
export const SHUTDOWN_GRACE_MS = 5_000;

/** Where and how to listen. */
export interface ListenerSettings {
  hostname: string;
  port: number;
  tls: { cert: string; key: string } | undefined;
  logger: Logger;
  /** Requests handled at once; more get `overloaded()`. */
  maxConcurrentRequests: number;
  /** The answer to a request over the bound. */
  overloaded: () => Response;
  /** The answer when the handler throws. */
  failed: () => Response;
  /** How re-listening after an accept failure is paced. */
  relisten: BackoffPolicy;
}

/** A `Deno.serve` listener that is opened again when its accept loop fails. */
export class ResilientListener {
  #settings: ListenerSettings;
  #handler: (request: Request) => Promise<Response>;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #addr: Deno.NetAddr;
  #active = 0;
  #stopping = false;
  #stop = new AbortController();
  #loop: Promise<void>;
  /** Times the listener was opened again after a failure. */
  restarts = 0;

  /** Listens now; throws what `Deno.serve` throws (port taken, bad TLS). */
  constructor(settings: ListenerSettings, handler: (request: Request) => Promise<Response>) {
    this.#settings = settings;
    this.#handler = handler;
    this.#server = this.#open(settings.port);
    this.#addr = this.#server.addr;
    this.#loop = this.#supervise();
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  /** Requests in progress. */
  get active(): number {
    return this.#active;
  }

  #open(port: number): Deno.HttpServer<Deno.NetAddr> {
    const { hostname, tls, logger, failed } = this.#settings;
    return Deno.serve({
      hostname,
      port,
      ...(tls ? { cert: tls.cert, key: tls.key } : {}),
      onListen: () => {},
      onError: (error) => {
        logger.error("Gateway request failed", { error: errorMessage(error) });
        return failed();
      },
    }, (request) => this.#serve(request));
  }

  async #serve(request: Request): Promise<Response> {
    if (this.#active >= this.#settings.maxConcurrentRequests) return this.#settings.overloaded();
    this.#active++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#active--;
    };
    let response: Response;
    try {
      response = await this.#handler(request);
    } catch (error) {
      release();
      throw error;
    }
    if (!isEventStream(response)) {
      // An answer whose body is complete (JSON, an error) frees its slot now: nothing is left to compute for it.
      release();
      return response;
    }
    // A streamed answer (SSE) holds its slot until it ends or the client goes away.
    request.signal.addEventListener("abort", release, { once: true });
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { value, done } = await reader.read();
          if (done) {
            release();
            controller.close();
          } else controller.enqueue(value);
        } catch (error) {
          release();
          controller.error(error);
        }
      },
      cancel: async (reason) => {
        release();
        await reader.cancel(reason).catch(() => {});
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  /** Waits for the server to end; when it ended by itself (an accept failure), opens it again. */
  async #supervise(): Promise<void> {
    for (;;) {
      const failure = await this.#server.finished.then(() => undefined, (error: unknown) => error ?? "unknown");
      if (this.#stopping) return;
      const { logger } = this.#settings;
      logger.error("Gateway listener failed; listening again", {
        error: failure instanceof Error ? failure.message : String(failure ?? "ended"),
      });
      await this.#server.shutdown().catch(() => {});
      for (let attempt = 0; !this.#stopping; attempt++) {
        await sleep(backoffDelay(this.#settings.relisten, attempt), this.#stop.signal);
        if (this.#stopping) return;
        try {
          this.#server = this.#open(this.#addr.port);
          this.restarts++;
          logger.warn("Gateway listening again", { port: this.#addr.port, attempts: attempt + 1 });
          break;
        } catch (error) {
          logger.debug("Cannot listen again yet", { error: errorMessage(error) });
        }
      }
    }
  }

  /**
   * Stops listening; connections in progress end (the server's graceful shutdown), waited for at most
   * {@link SHUTDOWN_GRACE_MS}: a response stream that never ends (a client that stopped reading) cannot hold the
   * gateway open.
   */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    this.#stop.abort();
    const grace = new AbortController();
    const graceful = this.#server.shutdown().then(() => true, () => true);
    const ended = await Promise.race([graceful, sleep(SHUTDOWN_GRACE_MS, grace.signal).then(() => false)]);
    grace.abort();
    if (!ended) {
      this.#settings.logger.warn("Shutdown grace over: responses still open are left behind", {
        graceMs: SHUTDOWN_GRACE_MS,
      });
    }
    await this.#loop;
  }
}
