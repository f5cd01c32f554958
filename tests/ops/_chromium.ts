/**
 * A headless Chromium driven over the DevTools protocol, with a WebSocket from Deno: enough to open a page and
 * evaluate expressions in it. `findChromium()` returns undefined when no browser is installed (`.ci/run` installs
 * Debian's `chromium`); tests then skip, loudly.
 *
 * @module
 */

const CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/** The path of a Chromium-like browser on PATH, if any. */
export function findChromium(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    for (const name of CANDIDATES) {
      try {
        const path = `${dir}/${name}`;
        if (Deno.statSync(path).isFile) return path;
      } catch { /* not here */ }
    }
  }
  return undefined;
}

/** A browser process and one page in it. */
export class HeadlessPage implements AsyncDisposable {
  #process: Deno.ChildProcess;
  #socket: WebSocket;
  #profile: string;
  #session = "";
  #nextId = 1;
  #pending = new Map<number, { resolve: (value: Record<string, unknown>) => void; reject: (error: Error) => void }>();

  private constructor(process: Deno.ChildProcess, socket: WebSocket, profile: string) {
    this.#process = process;
    this.#socket = socket;
    this.#profile = profile;
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      const waiter = this.#pending.get(message.id);
      if (!waiter) return;
      this.#pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`DevTools: ${message.error.message}`));
      else waiter.resolve(message.result ?? {});
    };
  }

  /** Starts the browser and opens `url` in a new page. */
  static async open(browser: string, url: string): Promise<HeadlessPage> {
    const profile = await Deno.makeTempDir({ prefix: "ops-chromium-" });
    const process = new Deno.Command(browser, {
      args: [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--window-size=1280,900",
        "--no-default-browser-check",
        "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1",
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const endpoint = await devToolsEndpoint(process.stderr);
    const socket = new WebSocket(endpoint);
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error(`Cannot open ${endpoint}`));
    });
    const page = new HeadlessPage(process, socket, profile);
    const { targetId } = await page.#send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await page.#send("Target.attachToTarget", { targetId, flatten: true });
    page.#session = String(sessionId);
    await page.#send("Page.enable", {}, true);
    await page.#send("Page.navigate", { url }, true);
    return page;
  }

  #send(method: string, params: Record<string, unknown>, inPage = false): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<Record<string, unknown>>();
    this.#pending.set(id, { resolve, reject });
    this.#socket.send(JSON.stringify({ id, method, params, ...(inPage ? { sessionId: this.#session } : {}) }));
    return promise;
  }

  /** Evaluates an expression in the page and returns its value (JSON-serialisable). */
  async evaluate<T>(expression: string): Promise<T> {
    const reply = await this.#send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true }, true);
    const result = reply.result as { value?: T } | undefined;
    if (reply.exceptionDetails) throw new Error(`Page threw: ${JSON.stringify(reply.exceptionDetails).slice(0, 500)}`);
    return result?.value as T;
  }

  /** Polls `expression` every 100 ms until `accept` takes its value; throws after `timeout` ms with the last one. */
  async until<T>(expression: string, accept: (value: T) => boolean, timeout = 8_000): Promise<T> {
    const deadline = Date.now() + timeout;
    let last: T | undefined;
    while (Date.now() < deadline) {
      last = await this.evaluate<T>(expression);
      if (accept(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`Timed out waiting on ${expression}; last value ${JSON.stringify(last)}`);
  }

  /** A PNG screenshot of the page. */
  async screenshot(): Promise<Uint8Array> {
    const { data } = await this.#send("Page.captureScreenshot", { format: "png" }, true);
    return Uint8Array.fromBase64(String(data));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await Promise.race([this.#send("Browser.close", {}), new Promise((resolve) => setTimeout(resolve, 1_000))]);
    } catch { /* closing anyway */ }
    this.#socket.close();
    try {
      this.#process.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.#process.status;
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }
}

async function devToolsEndpoint(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => reader.cancel(), 15_000);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`Chromium did not start:\n${text.slice(-2_000)}`);
      text += value;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (match) {
        // Keep draining stderr so that the browser never blocks on a full pipe.
        void (async () => {
          try {
            while (!(await reader.read()).done) { /* discard */ }
          } catch { /* closed */ }
        })();
        return match[1]!;
      }
    }
  } finally {
    clearTimeout(timer);
  }
}
