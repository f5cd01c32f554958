// Internal: the task requests the gateway sends to a member (the 2025-11-25 `tasks` utility): a task-augmented
// `tools/call`, then `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` by the member's own task id. Each is
// a runner for `FederationProxy.request`, so it takes the routed channel, the caller's identity and its timeout like
// every other call. A v2 SDK client validates each answer with the revision's schema.
import {
  CancelTaskResultSchema,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  CreateTaskResultSchema,
  GetTaskPayloadResultSchema,
  GetTaskResultSchema,
  type Implementation,
  ListTasksResultSchema,
  PROTOCOL_VERSION_META_KEY,
} from "../core/_sdk.ts";
import type { RequestRunner } from "./request_runner.ts";
import { forwardedMeta } from "./_requests.ts";
import { isRecord } from "../core/_json.ts";
import { readLimitedBody } from "../core/_limited_body.ts";
import { CancelledError, ConnectionError, ProtocolError, TimeoutError } from "../core/errors.ts";
import type { CallIdentity } from "./call_options.ts";

/** A member's task as its `tasks/get` (or the `task` of a `CreateTaskResult`) describes it. */
export interface MemberTask {
  taskId: string;
  status: string;
  statusMessage?: string | undefined;
  createdAt: string;
  lastUpdatedAt: string;
  ttl: number | null;
  pollInterval?: number | undefined;
  [key: string]: unknown;
}

/** A record of the wire result (the SDK's parsed types are loose objects). */
type Wire = Record<string, unknown>;

/**
 * A task-augmented `tools/call` (`params.task`): the member answers at once with the task it created.
 *
 * @example Start a task on a member, then poll it
 * ```ts ignore
 * const { task } = await proxy.request("research", "tools/call as a task", taskToolCall("query", {}, { ttl: 60_000 }, undefined));
 * const now = await proxy.request("research", "tasks/get", taskGet(task.taskId));
 * ```
 *
 * @param name The tool's name on the member.
 * @param args Its arguments.
 * @param task The requested task parameters (`ttl`), passed on as the client sent them.
 * @param meta The caller's `_meta` (as {@link forwardedMeta} forwards it).
 */
export function taskToolCall(
  name: string,
  args: Record<string, unknown>,
  task: Record<string, unknown>,
  meta: Record<string, unknown> | undefined,
): RequestRunner<{ task: MemberTask } & Wire> {
  const params: Wire = { name, arguments: args, task };
  const forwarded = forwardedMeta(meta);
  if (forwarded) params._meta = forwarded;
  return (client, options) =>
    client.request({ method: "tools/call", params } as never, CreateTaskResultSchema, options) as Promise<
      { task: MemberTask } & Wire
    >;
}

/** `tasks/get` of a member's task. */
export function taskGet(taskId: string): RequestRunner<MemberTask & Wire> {
  return (client, options) =>
    client.request({ method: "tasks/get", params: { taskId } } as never, GetTaskResultSchema, options) as Promise<
      MemberTask & Wire
    >;
}

/** `tasks/result` of a member's task: waits until it is terminal, then the underlying request's result. */
export function taskResult(taskId: string): RequestRunner<Wire> {
  return (client, options) =>
    client.request(
      { method: "tasks/result", params: { taskId } } as never,
      GetTaskPayloadResultSchema,
      options,
    ) as Promise<
      Wire
    >;
}

/** `tasks/cancel` of a member's task. */
export function taskCancel(taskId: string): RequestRunner<MemberTask & Wire> {
  return (client, options) =>
    client.request({ method: "tasks/cancel", params: { taskId } } as never, CancelTaskResultSchema, options) as Promise<
      MemberTask & Wire
    >;
}

/** One page of a member's `tasks/list`. */
export function taskList(cursor: string | undefined): RequestRunner<{ tasks: MemberTask[]; nextCursor?: string }> {
  return (client, options) =>
    client.request(
      { method: "tasks/list", params: cursor === undefined ? {} : { cursor } } as never,
      ListTasksResultSchema,
      options,
    ) as Promise<{ tasks: MemberTask[]; nextCursor?: string }>;
}

// ---------------------------------------------------------------------------------------------------------------
// A 2026-07-28 member speaking the tasks extension (`io.modelcontextprotocol/tasks`). The v2 SDK client refuses
// `resultType: "task"` on a modern connection, so these requests are plain JSON-RPC POSTs to the member's data
// endpoint, each with its own envelope (stateless: no session).

/** The tasks extension's identifier. */
export const TASKS_EXTENSION_ID = "io.modelcontextprotocol/tasks";

const MODERN_VERSION = "2026-07-28";

/** Where and how a raw 2026-07-28 request reaches a member (its data endpoint). */
export interface ModernEndpoint {
  serverId: string;
  /** The member's data endpoint. */
  url: string;
  /** The `Authorization` header the proxy's data channel would send (the user's own token for a call made for one). */
  authorization: (user: CallIdentity | undefined) => Promise<string | undefined>;
  /** The outbound guard, run before the request. */
  guard: ((url: string, signal: AbortSignal | undefined) => Promise<void>) | undefined;
  /** The proxy's client info (the envelope's `clientInfo`). */
  clientInfo: Implementation;
  /** Largest answer read, in bytes. */
  maxBytes: number;
  /** Timeout of a request that sets none, in ms. */
  requestTimeout: number;
}

/** The options of {@link postModernTask}. */
export interface ModernTaskPostOptions {
  signal?: AbortSignal | undefined;
  /** Timeout, in ms. */
  timeout?: number | undefined;
  onBehalfOf?: CallIdentity | undefined;
}

let nextId = 0;

/** The JSON-RPC message answering `id` in a body (plain JSON, or a `text/event-stream` of events). */
function answerIn(text: string, sse: boolean, id: number): Record<string, unknown> | undefined {
  const candidates: string[] = [];
  if (!sse) candidates.push(text);
  else {
    for (const event of text.split(/\r?\n\r?\n/)) {
      const data = event.split(/\r?\n/).filter((line) => line.startsWith("data:")).map((line) =>
        line.slice(5).replace(/^ /, "")
      );
      if (data.length > 0) candidates.push(data.join("\n"));
    }
  }
  for (const candidate of candidates) {
    try {
      const message = JSON.parse(candidate) as unknown;
      if (isRecord(message) && message.id === id && (message.result !== undefined || message.error !== undefined)) {
        return message;
      }
    } catch {
      // Not JSON: not the answer.
    }
  }
  return undefined;
}

/**
 * Sends one request of the tasks extension (`tools/call` expecting `resultType: "task"`, `tasks/get`,
 * `tasks/update`, `tasks/cancel`) to a 2026-07-28 member as a plain JSON-RPC POST, and returns its result.
 *
 * @example Poll a modern member's task
 * ```ts ignore
 * const task = await postModernTask(endpoint, "tasks/get", { taskId: "7f3c" }, { timeout: 10_000 });
 * ```
 *
 * @param endpoint The member's data endpoint.
 * @param method The method.
 * @param params Its params (the envelope is added to `_meta`).
 * @param options Signal, timeout and the caller's identity.
 * @returns The JSON-RPC result.
 * @throws {ProtocolError} The member's JSON-RPC error, or an answer that is not one.
 * @throws {ConnectionError} The member could not be reached.
 * @throws {TimeoutError} No answer within the timeout.
 * @throws {CancelledError} The caller's signal aborted it.
 */
export async function postModernTask(
  endpoint: ModernEndpoint,
  method: string,
  params: Record<string, unknown>,
  options: ModernTaskPostOptions = {},
): Promise<Wire> {
  const { serverId, url } = endpoint;
  const timeoutMs = options.timeout ?? endpoint.requestTimeout;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  await endpoint.guard?.(url, signal);
  const id = ++nextId;
  const meta = isRecord(params._meta) ? params._meta : {};
  const body = JSON.stringify({
    jsonrpc: "2.0",
    id,
    method,
    params: {
      ...params,
      _meta: {
        ...meta,
        [PROTOCOL_VERSION_META_KEY]: MODERN_VERSION,
        [CLIENT_CAPABILITIES_META_KEY]: { extensions: { [TASKS_EXTENSION_ID]: {} } },
        [CLIENT_INFO_META_KEY]: endpoint.clientInfo,
      },
    },
  });
  const headers = new Headers({
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": MODERN_VERSION,
    "mcp-method": method,
  });
  const name = method === "tools/call" ? params.name : params.taskId;
  if (typeof name === "string") headers.set("mcp-name", name);
  const authorization = await endpoint.authorization(options.onBehalfOf);
  if (authorization) headers.set("authorization", authorization);
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers, body, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (options.signal?.aborted) {
      throw new CancelledError(`${method} to server '${serverId}' was cancelled`, { serverId, channel: "data" });
    }
    if (timeout.aborted) {
      throw new TimeoutError(`${method} to server '${serverId}' timed out after ${timeoutMs} ms`, {
        serverId,
        channel: "data",
        timeoutMs,
      });
    }
    throw new ConnectionError(`Cannot reach server '${serverId}' for ${method}`, {
      serverId,
      channel: "data",
      cause: error as Error,
    });
  }
  const read = await readLimitedBody(response, endpoint.maxBytes);
  if (read.tooLarge) {
    throw new ProtocolError(`Answer of server '${serverId}' to ${method} is larger than the limit`, {
      serverId,
      channel: "data",
      rpcCode: -32603,
      code: "ERR_MESSAGE_TOO_LARGE",
    });
  }
  const text = new TextDecoder().decode(read.bytes);
  const sse = response.headers.get("content-type")?.includes("text/event-stream") ?? false;
  const answer = answerIn(text, sse, id);
  if (!answer) {
    throw new ProtocolError(`Server '${serverId}' did not answer ${method} (HTTP ${response.status})`, {
      serverId,
      channel: "data",
      rpcCode: -32603,
    });
  }
  if (isRecord(answer.error)) {
    const code = typeof answer.error.code === "number" ? answer.error.code : -32603;
    const message = typeof answer.error.message === "string" ? answer.error.message : "Error";
    throw new ProtocolError(`Server '${serverId}': ${message}`, {
      serverId,
      channel: "data",
      rpcCode: code,
      data: answer.error.data,
    });
  }
  if (!isRecord(answer.result)) {
    throw new ProtocolError(`Server '${serverId}' answered ${method} without a result`, {
      serverId,
      channel: "data",
      rpcCode: -32603,
    });
  }
  return answer.result;
}
