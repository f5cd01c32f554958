// Internal: reading the SDK's SSE answer to one POST as it arrives, for the gateway and the member alike: both answer
// a request whose stream carries nothing but its response as plain JSON (gateway/_stream_flow.ts,
// member/_json_answer.ts).

/** Splits an SSE byte stream into events as its chunks arrive. */
export class SseEventSplitter {
  #decoder = new TextDecoder();
  #text = "";

  /**
   * The events `chunk` completed, each as its `data` (its data lines joined), `undefined` for an event without any
   * (a comment, a keep-alive).
   */
  push(chunk: Uint8Array): (string | undefined)[] {
    this.#text += this.#decoder.decode(chunk, { stream: true });
    const events: (string | undefined)[] = [];
    let end: number;
    while ((end = this.#text.indexOf("\n\n")) >= 0) {
      events.push(sseData(this.#text.slice(0, end)));
      this.#text = this.#text.slice(end + 2);
    }
    return events;
  }
}

/** The `data` of one SSE event (its lines joined), or `undefined` without any. */
function sseData(event: string): string | undefined {
  let data: string | undefined;
  for (const line of event.split("\n")) {
    if (!line.startsWith("data:")) continue;
    const value = line.slice(line[5] === " " ? 6 : 5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

/** A JSON-RPC response `data` sent as a plain `application/json` body, with the SSE answer's session id. */
export function jsonAnswer(data: string, sse: Response, status: number): Response {
  const headers = new Headers({ "content-type": "application/json" });
  const session = sse.headers.get("mcp-session-id");
  if (session !== null) headers.set("mcp-session-id", session);
  return new Response(data, { status, headers });
}
