/**
 * Reads a child process's output line by line, for tests that wait for a line to appear.
 *
 * @module
 */

/** Splits a byte stream into lines as they arrive. */
export class LineReader {
  /** Every complete line read so far. */
  readonly lines: string[] = [];
  #reader: ReadableStreamDefaultReader<string>;
  #partial = "";

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Reads until a line satisfies `predicate` (or the stream ends); returns the lines so far. */
  async until(predicate: (line: string) => boolean): Promise<string[]> {
    while (!this.lines.some(predicate)) {
      const { value, done } = await this.#reader.read();
      if (done) break;
      const parts = (this.#partial + value).split("\n");
      this.#partial = parts.pop()!;
      this.lines.push(...parts);
    }
    return this.lines;
  }

  /** Reads to the end of the stream and returns the text not yet split into {@link LineReader.lines}. */
  async rest(): Promise<string> {
    let text = this.#partial;
    while (true) {
      const { value, done } = await this.#reader.read();
      if (done) return text;
      text += value;
    }
  }

  /** Releases the stream. */
  release(): void {
    this.#reader.releaseLock();
  }
}
