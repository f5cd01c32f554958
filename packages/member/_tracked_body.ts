// Internal: a response body that reports when it ends (read to the end, cancelled by the client, or failed) and
// that the member can end itself, e.g. an SSE stream whose token expired.

/** Wraps a body stream; `onEnd` runs exactly once. */
export class TrackedBody {
  /** The stream to hand to the `Response`. */
  readonly stream: ReadableStream<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #onEnd: () => void;
  #ended = false;

  constructor(source: ReadableStream<Uint8Array>, onEnd: () => void) {
    this.#reader = source.getReader();
    this.#onEnd = onEnd;
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: async (controller) => {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await this.#reader.read();
        } catch (error) {
          if (!this.#ended) {
            this.#end();
            controller.error(error);
          }
          return;
        }
        if (this.#ended) return;
        if (chunk.done) {
          this.#end();
          controller.close();
        } else controller.enqueue(chunk.value);
      },
      cancel: (reason) => {
        this.#end();
        return this.#reader.cancel(reason).catch(() => {});
      },
    }, { highWaterMark: 0 });
  }

  /** Whether the body has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Ends the body for the client (a clean end of stream) and cancels the source. */
  close(): void {
    if (this.#ended) return;
    this.#end();
    try {
      this.#controller.close();
    } catch {
      // Already closed or errored.
    }
    this.#reader.cancel().catch(() => {});
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd();
  }
}
