// Internal: the library's one queued async iterator. Producers `push()`; one consumer iterates; `end()` (or the
// signal) finishes the iteration after what is queued has been delivered. An optional bound drops the oldest
// entries so that a consumer that never reads cannot grow memory without limit.

/** Options of an {@link AsyncQueue}. */
export interface AsyncQueueOptions {
  /** Ends the iteration when aborted. */
  signal?: AbortSignal | undefined;
  /** Most entries kept; the oldest are dropped past it. @default {Infinity} */
  limit?: number;
}

/** A push-based queue read as an async iterator. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #limit: number;
  #signal: AbortSignal | undefined;

  constructor(options: AsyncQueueOptions = {}) {
    this.#limit = options.limit ?? Infinity;
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", () => this.end(), { once: true });
    if (this.#signal?.aborted) this.#ended = true;
  }

  /** Queues an item (ignored once ended). */
  push(item: T): void {
    if (this.#ended) return;
    this.#items.push(item);
    if (this.#items.length > this.#limit) this.#items.shift();
    this.#wake?.();
  }

  /** Ends the iteration once the queued items are read. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    while (true) {
      while (this.#items.length > 0) yield this.#items.shift()!;
      if (this.#ended) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }
}
