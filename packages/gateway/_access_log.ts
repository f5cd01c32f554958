// Internal: the access log. One line at info per MCP request the gateway answers: the method, the member and the
// entry named (`serverId__name` gives the member), the outcome, the HTTP status and the duration. Never a token,
// a header, or an argument value: only `params.name` (tools, prompts) or a redacted, bounded `params.uri`
// (resources) is read from the request.
//
// The outcome is read from the answer without holding it back: a JSON answer built from a value is read from that
// value (`answerFromValue`), any other JSON answer from a clone; an SSE answer
// from one branch of a tee, until the response with the request's id passes (then that branch is released) or the
// client goes away (it cancels its branch). Outcomes: `ok`, `tool_error` (a result with `isError`), `error` (a JSON-RPC error, with its
// code), `refused` (an HTTP error status), `no_response` (the stream ended first), `disconnected`.
import { isRecord } from "../core/_json.ts";
import { isRequest } from "../core/_jsonrpc.ts";
import { redactUrls } from "../core/_redact.ts";
import type { Logger } from "../core/logger.ts";
import type { PrometheusWriter } from "../core/_prometheus.ts";
import { requestJson, valueOfAnswer } from "./_request_json.ts";

/** Longest `name` or `uri` written, in characters. */
const MAX_NAME_LENGTH = 200;
/** Distinct tool names with their own metric series; calls of further tools are counted under {@link OTHER_TOOL}. */
export const MAX_TOOL_SERIES = 200;
/** The `tool` label of calls past {@link MAX_TOOL_SERIES} distinct tools (and of calls naming no tool). */
export const OTHER_TOOL = "_other";

/** What one access-log line says. */
export interface AccessEntry {
  method: string;
  member?: string;
  name?: string;
  outcome: string;
  code?: number;
  status: number;
  ms: number;
}

/** Counts kept for the status page: MCP requests answered, and those that failed. */
export interface AccessTotals {
  requests: number;
  failed: number;
}

function target(params: unknown): { member?: string; name?: string } {
  if (!isRecord(params)) return {};
  if (typeof params.name === "string") {
    const name = params.name.slice(0, MAX_NAME_LENGTH);
    const split = name.indexOf("__");
    return split > 0 ? { member: name.slice(0, split), name } : { name };
  }
  if (typeof params.uri === "string") return { name: redactUrls(params.uri.slice(0, MAX_NAME_LENGTH)) };
  return {};
}

function outcomeOf(message: unknown): { outcome: string; code?: number } {
  if (isRecord(message) && isRecord(message.error)) {
    const code = message.error.code;
    return typeof code === "number" ? { outcome: "error", code } : { outcome: "error" };
  }
  if (isRecord(message) && isRecord(message.result) && message.result.isError === true) {
    return { outcome: "tool_error" };
  }
  return { outcome: "ok" };
}

/**
 * The SSE body as the client pulls it (no second branch: a client that stops reading stops the source too, so the
 * stream's own bounds still apply), watching for the response to `id`; `done` gets the outcome once.
 */
function observed(
  stream: ReadableStream<Uint8Array>,
  id: string | number,
  done: (outcome: { outcome: string; code?: number }) => void,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let found = false;
  const finish = (outcome: { outcome: string; code?: number }) => {
    if (found) return;
    found = true;
    buffer = "";
    done(outcome);
  };
  const scan = (chunk: Uint8Array) => {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while (!found && (end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, "");
      buffer = buffer.slice(end + 1);
      if (!line.startsWith("data:")) continue;
      let message: unknown;
      try {
        message = JSON.parse(line.slice(5));
      } catch {
        continue;
      }
      if (isRecord(message) && message.id === id && ("result" in message || "error" in message)) {
        finish(outcomeOf(message));
      }
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          finish({ outcome: "no_response" });
          controller.close();
          return;
        }
        if (!found) scan(value);
        controller.enqueue(value);
      } catch (error) {
        finish({ outcome: "disconnected" });
        controller.error(error);
      }
    },
    async cancel(reason) {
      finish({ outcome: "disconnected" });
      await reader.cancel(reason);
    },
  });
}

/** Writes the access log of the MCP endpoint. */
export class AccessLog {
  #logger: Logger;
  #now: () => number;
  /** MCP requests answered so far, and those that did not end `ok`. */
  readonly totals: AccessTotals = { requests: 0, failed: 0 };
  #tools = new Map<string, { tool: string; outcome: string; value: number; seconds: number }>();
  #toolNames = new Set<string>();

  constructor(logger: Logger, now: () => number = () => performance.now()) {
    this.#logger = logger;
    this.#now = now;
  }

  /**
   * Answers `request` with `respond` and logs the outcome once it is known. Requests other than a POST of one
   * JSON-RPC request (notifications, responses, GET streams, DELETE) are answered without a line.
   */
  async observe(request: Request, respond: (request: Request) => Promise<Response>): Promise<Response> {
    // Not `request.body`: asking for it makes a stream of the body (a POST without one fails to parse, below).
    if (request.method !== "POST") return await respond(request);
    const started = this.#now();
    let message: unknown;
    try {
      message = await requestJson(request);
    } catch {
      return await respond(request);
    }
    if (!isRequest(message)) return await respond(request);
    const id = message.id;
    const base = { method: message.method.slice(0, MAX_NAME_LENGTH), ...target(message.params) };
    let response = await respond(request);
    const status = response.status;
    const built = valueOfAnswer(response);
    if (isRecord(built)) {
      const outcome = status >= 400 ? { ...outcomeOf(built), outcome: "refused" } : outcomeOf(built);
      this.#write({ ...base, ...outcome, status, ms: this.#now() - started });
      return response;
    }
    const type = response.headers.get("content-type") ?? "";
    if (status >= 400 || response.body === null) {
      let outcome: { outcome: string; code?: number } = { outcome: status >= 400 ? "refused" : "ok" };
      if (/^application\/json\b/i.test(type) && response.body !== null) {
        const copy = response.clone();
        response = new Response(response.body, response);
        try {
          const body = await copy.json();
          if (isRecord(body) && isRecord(body.error)) outcome = { ...outcomeOf(body), outcome: "refused" };
        } catch { /* not JSON after all: the status says enough */ }
      }
      this.#write({ ...base, ...outcome, status, ms: this.#now() - started });
      return response;
    }
    if (/^application\/json\b/i.test(type)) {
      const copy = response.clone();
      void copy.json().then(
        (body) => this.#write({ ...base, ...outcomeOf(body), status, ms: this.#now() - started }),
        () => this.#write({ ...base, outcome: "no_response", status, ms: this.#now() - started }),
      );
      return response;
    }
    if (/^text\/event-stream\b/i.test(type)) {
      const body = observed(
        response.body,
        id,
        (found) => this.#write({ ...base, ...found, status, ms: this.#now() - started }),
      );
      return new Response(body, {
        status,
        statusText: response.statusText,
        headers: response.headers,
      });
    }
    this.#write({ ...base, outcome: "ok", status, ms: this.#now() - started });
    return response;
  }

  /** Writes the per-tool call counters (`federation_gateway_tool_calls_total`, `…_seconds_total`). */
  write(out: PrometheusWriter): void {
    const series = [...this.#tools.values()];
    out.counter(
      "federation_gateway_tool_calls_total",
      `Tool calls answered by the gateway, by federated tool name (at most ${MAX_TOOL_SERIES}, then "${OTHER_TOOL}") and outcome.`,
      series.map((t) => [{ tool: t.tool, outcome: t.outcome }, t.value]),
    );
    out.counter(
      "federation_gateway_tool_call_seconds_total",
      "Time spent answering tool calls, by federated tool name and outcome (divide by the calls for a mean).",
      series.map((t) => [{ tool: t.tool, outcome: t.outcome }, t.seconds]),
    );
  }

  #countTool(entry: AccessEntry): void {
    let tool = entry.name ?? OTHER_TOOL;
    if (!this.#toolNames.has(tool)) {
      if (this.#toolNames.size >= MAX_TOOL_SERIES) tool = OTHER_TOOL;
      else this.#toolNames.add(tool);
    }
    const key = `${tool}\u0000${entry.outcome}`;
    const counter = this.#tools.get(key) ?? { tool, outcome: entry.outcome, value: 0, seconds: 0 };
    counter.value++;
    counter.seconds += entry.ms / 1000;
    this.#tools.set(key, counter);
  }

  #write(entry: Omit<AccessEntry, "ms"> & { ms: number }): void {
    this.totals.requests++;
    if (entry.outcome !== "ok") this.totals.failed++;
    // Only answered calls get a series: refused requests (a bad token, …) cannot fill the bounded name set.
    if (entry.method === "tools/call" && entry.status < 400) this.#countTool(entry);
    this.#logger.info("MCP request", { ...entry, ms: Math.round(entry.ms * 100) / 100 });
  }
}
