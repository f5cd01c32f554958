// Internal: tasks through the federation. A v2 SDK `Server` refuses a `CreateTaskResult` from a `tools/call` handler
// in both eras, so task requests never reach the SDK dispatch: they are answered here.
// - A 2025-11-25 session (the `tasks` utility): a task-augmented `tools/call` (`params.task`), `tasks/get`,
//   `tasks/result`, `tasks/list` and `tasks/cancel` are taken off the session's transport before the `Server` sees
//   them (`interceptLegacyTasks`) and answered on it.
// - A 2026-07-28 request (the `io.modelcontextprotocol/tasks` extension): a `tools/call` from a client that declares
//   the extension, to a tool a member runs as a task, answers `resultType: "task"`; `tasks/get`, `tasks/update` and
//   `tasks/cancel` are answered here (`serveModernTask`), before the SDK's handler.
// The member runs the task: a member speaking the 2025-11-25 utility (as server-everything does) through the SDK
// client; a 2026-07-28 member speaking the extension through plain POSTs (`proxy.requestModernTask`: the SDK client
// refuses `resultType: "task"` on a modern connection), for clients of either era. The client
// gets a federated task id: `ft1.<member>.<member's task id>.<tag>` (base64url parts) with an HMAC tag (the
// sealer's tagging key, one every replica derives) over the member, its task id and the client token's subject, so
// any replica routes it without a store, and a forged or another caller's id is refused as an unknown task.
import { isRecord } from "../core/_json.ts";
import { jsonResponse } from "../core/_http.ts";
import { isRequest } from "../core/_jsonrpc.ts";
import {
  CLIENT_CAPABILITIES_META_KEY,
  type JSONRPCMessage,
  type ServerCapabilities,
  type Transport,
} from "../core/_sdk.ts";
import type { CallIdentity, CallOptions } from "../proxy/call_options.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { type MemberTask, taskCancel, taskGet, taskList, taskResult, taskToolCall } from "../proxy/_tasks.ts";
import { toMcpError } from "./_errors.ts";
import type { RequestStateSealer } from "./_sealed_state.ts";
import { HEADER_MISMATCH } from "./_mcp_param.ts";
import type { ToolIndex } from "./_tool_index.ts";

/** The 2026-07-28 tasks extension's identifier (capabilities `extensions` key). */
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

/** The `_meta` key tying a message to a task (2025-11-25). */
const RELATED_TASK_KEY = "io.modelcontextprotocol/related-task";

/** JSON-RPC invalid params: an unknown, forged or another caller's task id. */
const INVALID_PARAMS = -32602;

const ID_VERSION = "ft1";

/** JSON-RPC code of a missing client capability (2026-07-28). */
const MISSING_CAPABILITY = -32021;

/** A JSON-RPC error raised by the task handling (sent as the answer's `error`). */
export class TaskRequestError extends Error {
  /** The JSON-RPC code. */
  readonly code: number;
  /** The error's data, when it has any. */
  readonly data: unknown;

  /**
   * @param code The JSON-RPC code.
   * @param message The message.
   * @param data The error's data.
   */
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = "TaskRequestError";
    this.code = code;
    this.data = data;
  }
}

function b64(text: string): string {
  return new TextEncoder().encode(text).toBase64({ alphabet: "base64url", omitPadding: true });
}

function unb64(text: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.fromBase64(text, { alphabet: "base64url" }));
  } catch {
    return undefined;
  }
}

/** What a federated task id names. */
export interface TaskAddress {
  /** The member running the task. */
  serverId: string;
  /** The member's own task id. */
  taskId: string;
}

function unknownTask(): TaskRequestError {
  return new TaskRequestError(INVALID_PARAMS, "Unknown task");
}

/**
 * The federated id of a member's task, for the client whose token subject is `sub`.
 *
 * @example Hand out a member's task, and route the client's next request (on any replica with the key)
 * ```ts
 * import { decodeTaskId, encodeTaskId } from "./_tasks.ts";
 * import { RequestStateSealer } from "./_sealed_state.ts";
 *
 * const sealer = await RequestStateSealer.fromSecret("a-gateway-client-secret-of-32-bytes!!");
 * const id = await encodeTaskId(sealer, { serverId: "research", taskId: "7f3c" }, "alice");
 * const { serverId, taskId } = await decodeTaskId(sealer, id, "alice"); // research 7f3c
 * ```
 *
 * @param sealer The gateway's sealer (its tagging key).
 * @param address The member and its task id.
 * @param sub The client token's subject (`undefined` for anonymous clients).
 * @returns The id handed to the client.
 */
export async function encodeTaskId(
  sealer: RequestStateSealer,
  address: TaskAddress,
  sub: string | undefined,
): Promise<string> {
  const body = `${ID_VERSION}.${b64(address.serverId)}.${b64(address.taskId)}`;
  return `${body}.${await sealer.tag(`${body}\n${sub ?? ""}`)}`;
}

/**
 * Opens a federated task id.
 *
 * @example Refuse another caller's id
 * ```ts ignore
 * await decodeTaskId(sealer, aliceTaskId, "mallory"); // throws TaskRequestError, code -32602
 * ```
 *
 * @param sealer The gateway's sealer.
 * @param id The client's task id.
 * @param sub The subject of the asking client's token.
 * @returns The member and its task id.
 * @throws {TaskRequestError} `-32602` for anything this gateway did not issue to `sub`.
 */
export async function decodeTaskId(
  sealer: RequestStateSealer,
  id: unknown,
  sub: string | undefined,
): Promise<TaskAddress> {
  if (typeof id !== "string" || id.length > 4096) throw unknownTask();
  const parts = id.split(".");
  if (parts.length !== 4 || parts[0] !== ID_VERSION) throw unknownTask();
  const serverId = unb64(parts[1]!);
  const taskId = unb64(parts[2]!);
  if (serverId === undefined || taskId === undefined) throw unknownTask();
  const body = parts.slice(0, 3).join(".");
  if (!await sealer.verifyTag(`${body}\n${sub ?? ""}`, parts[3]!)) throw unknownTask();
  return { serverId, taskId };
}

/** What task handling works with, for one client. */
export interface TaskScope {
  proxy: FederationProxy;
  sealer: RequestStateSealer;
  /** The client's identity (calls are made on its behalf; ids are bound to its `sub`). */
  identity: CallIdentity | undefined;
  /** Per-call timeout, in ms. */
  callTimeout: number | undefined;
  /**
   * What the member asks or logs while the client waits on one of its requests (a 2025-11-25 session's: a task's
   * elicitation arrives on `tasks/result`); undefined where it cannot be asked.
   */
  relate?: ((requestId: string | number) => Pick<CallOptions, "onrequest" | "onlog">) | undefined;
}

/** Whether a member runs tools as tasks (2025-11-25 `tasks.requests.tools.call`, or the 2026-07-28 extension). */
export function memberRunsToolTasks(proxy: FederationProxy, serverId: string): boolean {
  const capabilities = proxy.getServerCapabilities(serverId) as Record<string, unknown> | undefined;
  if (isModernMember(proxy, serverId)) {
    return isRecord(capabilities?.extensions) && isRecord(capabilities.extensions[TASKS_EXTENSION]);
  }
  const tasks = capabilities?.tasks;
  return isRecord(tasks) && isRecord(tasks.requests) && isRecord(tasks.requests.tools) &&
    isRecord(tasks.requests.tools.call);
}

/** Whether a member speaks 2026-07-28 (its tasks are the extension's, sent by `proxy.requestModernTask`). */
function isModernMember(proxy: FederationProxy, serverId: string): boolean {
  return proxy.getServerStatus(serverId)?.era === "modern";
}

/** A modern member's task (the extension's shape) as a 2025-11-25 task, its inlined `result`/`error` kept. */
function fromModern(task: Record<string, unknown>): MemberTask {
  const { ttlMs, pollIntervalMs, resultType: _resultType, ...rest } = task;
  const out: MemberTask = {
    ...rest,
    taskId: String(task.taskId),
    status: String(task.status),
    createdAt: String(task.createdAt),
    lastUpdatedAt: String(task.lastUpdatedAt ?? task.createdAt),
    ttl: typeof ttlMs === "number" ? ttlMs : null,
  };
  if (typeof pollIntervalMs === "number") out.pollInterval = pollIntervalMs;
  return out;
}

/** The member's task now (`tasks/get`, either era); a modern member's carries its `result` or `error` inline. */
async function memberGet(scope: TaskScope, address: TaskAddress, signal?: AbortSignal): Promise<MemberTask> {
  if (isModernMember(scope.proxy, address.serverId)) {
    return fromModern(
      await scope.proxy.requestModernTask(
        address.serverId,
        "tasks/get",
        { taskId: address.taskId },
        callOptions(scope, signal),
      ),
    );
  }
  return await scope.proxy.request(address.serverId, "tasks/get", taskGet(address.taskId), callOptions(scope, signal));
}

/** Cancels the member's task (either era); its task afterwards. */
async function memberCancel(scope: TaskScope, address: TaskAddress): Promise<MemberTask> {
  if (isModernMember(scope.proxy, address.serverId)) {
    await scope.proxy.requestModernTask(
      address.serverId,
      "tasks/cancel",
      { taskId: address.taskId },
      callOptions(scope),
    );
    return await memberGet(scope, address);
  }
  return await scope.proxy.request(address.serverId, "tasks/cancel", taskCancel(address.taskId), callOptions(scope));
}

/** A modern member's task polled until terminal (a 2025-11-25 client's `tasks/result`): its result. */
async function modernResult(scope: TaskScope, address: TaskAddress): Promise<Record<string, unknown>> {
  const deadline = Date.now() + (scope.callTimeout ?? 3_600_000);
  for (;;) {
    const task = await memberGet(scope, address);
    if (task.status === "completed" || task.status === "failed") {
      if (isRecord(task.result)) {
        const { resultType: _resultType, ...result } = task.result;
        return result;
      }
      const error = isRecord(task.error) ? task.error : {};
      throw new TaskRequestError(
        typeof error.code === "number" ? error.code : -32603,
        typeof error.message === "string" ? error.message : "The task failed",
        error.data,
      );
    }
    if (task.status === "cancelled") throw new TaskRequestError(-32603, "The task was cancelled");
    if (Date.now() > deadline) throw new TaskRequestError(-32603, "The task did not finish in time");
    const wait = typeof task.pollInterval === "number" ? task.pollInterval : 500;
    await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(wait, 50), 5_000)));
  }
}

/** Whether any connected member runs tools as tasks (the gateway then announces tasks). */
export function anyMemberRunsToolTasks(proxy: FederationProxy): boolean {
  return proxy.getConnectedServers().some((serverId) => memberRunsToolTasks(proxy, serverId));
}

/** Whether any connected member lists its tasks (2025-11-25 `tasks.list`). */
function memberListsTasks(proxy: FederationProxy, serverId: string): boolean {
  const tasks = (proxy.getServerCapabilities(serverId) as Record<string, unknown> | undefined)?.tasks;
  return isRecord(tasks) && isRecord(tasks.list);
}

/** The 2025-11-25 `tasks` capability the gateway announces (undefined when no member runs tasks). */
export function legacyTasksCapability(proxy: FederationProxy): Record<string, unknown> | undefined {
  if (!anyMemberRunsToolTasks(proxy)) return undefined;
  return { list: {}, cancel: {}, requests: { tools: { call: {} } } };
}

/** A tool's `execution.taskSupport` (`forbidden` when absent). */
export function taskSupportOf(tool: unknown): string {
  if (!isRecord(tool) || !isRecord(tool.execution)) return "forbidden";
  const support = tool.execution.taskSupport;
  return typeof support === "string" ? support : "forbidden";
}

/** Whether a 2026-07-28 request's envelope declares the tasks extension. */
export function clientDeclaresTasks(meta: unknown): boolean {
  if (!isRecord(meta)) return false;
  const capabilities = meta[CLIENT_CAPABILITIES_META_KEY];
  return isRecord(capabilities) && isRecord(capabilities.extensions) &&
    isRecord(capabilities.extensions[TASKS_EXTENSION]);
}

function callOptions(scope: TaskScope, signal?: AbortSignal): CallOptions {
  const options: CallOptions = {};
  if (scope.identity) options.onBehalfOf = scope.identity;
  if (scope.callTimeout !== undefined) options.timeout = scope.callTimeout;
  if (signal) options.signal = signal;
  return options;
}

/** Most task creators a gateway process remembers for `tasks/list` (the oldest are forgotten first). */
const MAX_TASK_OWNERS = 10_000;

/**
 * Who created each task through this process (`serverId` NUL `taskId` → the creator's `sub`, "" when anonymous).
 * Members do not tell users apart (every user reaches a member over the proxy's connections), so `tasks/list` lists
 * only the tasks this process saw the caller create: never another user's (a task created at another replica is not
 * listed there; its id still works everywhere).
 */
const taskOwners = new WeakMap<FederationProxy, Map<string, string>>();

function ownerKey(serverId: string, taskId: string): string {
  return `${serverId}\u0000${taskId}`;
}

function recordOwner(scope: TaskScope, serverId: string, taskId: string): void {
  let owners = taskOwners.get(scope.proxy);
  if (!owners) taskOwners.set(scope.proxy, owners = new Map());
  owners.set(ownerKey(serverId, taskId), scope.identity?.sub ?? "");
  if (owners.size > MAX_TASK_OWNERS) owners.delete(owners.keys().next().value!);
}

function ownedBy(scope: TaskScope, serverId: string, taskId: string): boolean {
  return taskOwners.get(scope.proxy)?.get(ownerKey(serverId, taskId)) === (scope.identity?.sub ?? "");
}

/** A member's task with its id replaced by the federated one. */
async function federated(
  scope: TaskScope,
  serverId: string,
  task: MemberTask,
): Promise<MemberTask> {
  return { ...task, taskId: await encodeTaskId(scope.sealer, { serverId, taskId: task.taskId }, scope.identity?.sub) };
}

/** The member and name of a federated tool. */
async function resolve(scope: TaskScope, name: unknown): Promise<{ serverId: string; name: string }> {
  if (typeof name !== "string") throw new TaskRequestError(INVALID_PARAMS, "The tool name is missing");
  return await scope.proxy.catalog.resolveTool(name);
}

/** The client's `_meta` passed on to the member (without the reserved namespace and the related-task key). */
function passedMeta(meta: unknown): Record<string, unknown> | undefined {
  if (!isRecord(meta)) return undefined;
  const kept = Object.entries(meta).filter(([key]) => !key.startsWith("io.github.federated-mcp/"));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/**
 * Starts a tool call as a task on its member.
 *
 * @returns The member's task, with the federated id.
 */
async function createTask(
  scope: TaskScope,
  params: Record<string, unknown>,
  task: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<MemberTask> {
  const origin = await resolve(scope, params.name);
  const args = isRecord(params.arguments) ? params.arguments : {};
  if (isModernMember(scope.proxy, origin.serverId)) {
    const meta = passedMeta(params._meta);
    const answer = await scope.proxy.requestModernTask(
      origin.serverId,
      "tools/call",
      { name: origin.name, arguments: args, ...(meta ? { _meta: meta } : {}) },
      callOptions(scope, signal),
    );
    if (answer.resultType !== "task") {
      throw new TaskRequestError(-32603, `Server '${origin.serverId}' did not run '${origin.name}' as a task`);
    }
    return await federated(scope, origin.serverId, fromModern(answer));
  }
  const created = await scope.proxy.request(
    origin.serverId,
    `tools/call '${origin.name}' as a task`,
    taskToolCall(origin.name, args, task, passedMeta(params._meta)),
    callOptions(scope, signal),
  );
  recordOwner(scope, origin.serverId, created.task.taskId);
  return await federated(scope, origin.serverId, created.task);
}

/** A result's `_meta` related-task id replaced by the federated one. */
async function relatedTask(scope: TaskScope, address: TaskAddress, result: Record<string, unknown>) {
  if (!isRecord(result._meta) || !isRecord(result._meta[RELATED_TASK_KEY])) return result;
  const taskId = await encodeTaskId(scope.sealer, address, scope.identity?.sub);
  return { ...result, _meta: { ...result._meta, [RELATED_TASK_KEY]: { taskId } } };
}

/**
 * Answers one 2025-11-25 task request (`tools/call` with `params.task`, `tasks/get|result|list|cancel`).
 *
 * @returns The JSON-RPC result.
 * @throws {TaskRequestError} Or a federation error, mapped by the caller.
 */
export async function legacyTaskRequest(
  scope: TaskScope,
  method: string,
  params: Record<string, unknown>,
  requestId?: string | number,
): Promise<Record<string, unknown>> {
  const sub = scope.identity?.sub;
  switch (method) {
    case "tools/call":
      return { task: await createTask(scope, params, isRecord(params.task) ? params.task : {}) };
    case "tasks/get": {
      const address = await decodeTaskId(scope.sealer, params.taskId, sub);
      const { result: _result, error: _error, ...task } = await memberGet(scope, address);
      return await federated(scope, address.serverId, task as MemberTask);
    }
    case "tasks/cancel": {
      const address = await decodeTaskId(scope.sealer, params.taskId, sub);
      const { result: _result, error: _error, ...task } = await memberCancel(scope, address);
      return await federated(scope, address.serverId, task as MemberTask);
    }
    case "tasks/result": {
      const address = await decodeTaskId(scope.sealer, params.taskId, sub);
      if (isModernMember(scope.proxy, address.serverId)) {
        return await relatedTask(scope, address, await modernResult(scope, address));
      }
      // The member holds the answer until the task is terminal: no call timeout beyond the task's own.
      const { timeout: _timeout, ...options } = callOptions(scope);
      const result = await scope.proxy.request(address.serverId, "tasks/result", taskResult(address.taskId), {
        ...options,
        ...(requestId === undefined ? {} : scope.relate?.(requestId)),
        timeout: scope.callTimeout ?? 3_600_000,
      });
      return await relatedTask(scope, address, result);
    }
    case "tasks/list":
      return { tasks: await listTasks(scope) };
    default:
      throw new TaskRequestError(-32601, `Method not found: ${method}`);
  }
}

/** The caller's tasks among those of every member that lists them (see `taskOwners`). */
async function listTasks(scope: TaskScope): Promise<MemberTask[]> {
  const members = scope.proxy.getConnectedServers().filter((serverId) => memberListsTasks(scope.proxy, serverId));
  const lists = await Promise.all(members.map(async (serverId) => {
    const tasks: MemberTask[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await scope.proxy.request(serverId, "tasks/list", taskList(cursor), callOptions(scope))
        .catch(() => undefined);
      if (!result) break;
      for (const task of result.tasks) {
        if (ownedBy(scope, serverId, task.taskId)) tasks.push(await federated(scope, serverId, task));
      }
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    return tasks;
  }));
  return lists.flat();
}

/** Whether a 2025-11-25 message is a task request the gateway answers itself. */
export function isLegacyTaskRequest(message: JSONRPCMessage): boolean {
  if (!isRequest(message)) return false;
  const { method } = message;
  if (method === "tools/call") return isRecord(message.params) && isRecord(message.params.task);
  return method === "tasks/get" || method === "tasks/result" || method === "tasks/list" ||
    method === "tasks/cancel";
}

/** The JSON-RPC error object of a failure. */
export function rpcErrorOf(error: unknown): { code: number; message: string; data?: unknown } {
  if (error instanceof TaskRequestError) {
    return { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) };
  }
  const mapped = toMcpError(error);
  return { code: mapped.code, message: mapped.message, ...(mapped.data === undefined ? {} : { data: mapped.data }) };
}

/**
 * Answers a 2025-11-25 task request (see {@link isLegacyTaskRequest}) with `send`: its result, or its error.
 *
 * @param message The request.
 * @param scope The session's task scope.
 * @param send Sends the answer on the session's transport.
 */
export function answerLegacyTask(
  message: JSONRPCMessage,
  scope: TaskScope,
  send: (answer: JSONRPCMessage, options: { relatedRequestId: string | number }) => Promise<void>,
): void {
  if (!isRequest(message)) return;
  const { id, method } = message;
  const params = isRecord(message.params) ? message.params : {};
  void legacyTaskRequest(scope, method, params, id).then(
    (result) => ({ jsonrpc: "2.0" as const, id, result }),
    (error) => ({ jsonrpc: "2.0" as const, id, error: rpcErrorOf(error) }),
  ).then((answer) => send(answer as JSONRPCMessage, { relatedRequestId: id })).catch(() => {});
}

/**
 * Takes a 2025-11-25 session's task requests off its transport and answers them on it; everything else goes to the
 * session's `Server` as before. Call it after the server connected (it wraps the handler the server installed).
 *
 * @example Install it between `server.connect` and the request tracker
 * ```ts ignore
 * await session.server.connect(transport);
 * interceptLegacyTasks(transport, () => ({ proxy, sealer, identity: { sub }, callTimeout: undefined }));
 * requests.watch(transport);
 * ```
 *
 * @param transport The session's transport.
 * @param scope The session's task scope.
 */
export function interceptLegacyTasks(transport: Transport, scope: () => TaskScope): void {
  const onmessage = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (!isLegacyTaskRequest(message)) return onmessage?.(message, extra);
    answerLegacyTask(message, scope(), (answer, options) => transport.send(answer, options));
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 2026-07-28: the tasks extension.

/** The extension's task shape from a 2025-11-25 member's task (`ttl` → `ttlMs`, `pollInterval` → `pollIntervalMs`). */
function modernTask(task: MemberTask): Record<string, unknown> {
  const out: Record<string, unknown> = {
    taskId: task.taskId,
    status: task.status,
    createdAt: task.createdAt,
    lastUpdatedAt: task.lastUpdatedAt ?? task.createdAt,
    ttlMs: typeof task.ttl === "number" ? task.ttl : null,
  };
  if (task.statusMessage !== undefined) out.statusMessage = task.statusMessage;
  if (typeof task.pollInterval === "number") out.pollIntervalMs = task.pollInterval;
  return out;
}

/**
 * Answers one 2026-07-28 task request of the extension: a task-augmented `tools/call` (when `asTask`), `tasks/get`,
 * `tasks/update` or `tasks/cancel`.
 *
 * @returns The JSON-RPC result.
 */
export async function modernTaskRequest(
  scope: TaskScope,
  method: string,
  params: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const sub = scope.identity?.sub;
  switch (method) {
    case "tools/call": {
      const origin = await resolve(scope, params.name);
      if (isModernMember(scope.proxy, origin.serverId)) {
        // The member answers with a task or at once; either is passed on (a task with its federated id).
        const meta = passedMeta(params._meta);
        const answer = await scope.proxy.requestModernTask(origin.serverId, "tools/call", {
          name: origin.name,
          arguments: isRecord(params.arguments) ? params.arguments : {},
          ...(meta ? { _meta: meta } : {}),
        }, callOptions(scope, signal));
        if (answer.resultType !== "task") return answer;
        const taskId = await encodeTaskId(
          scope.sealer,
          { serverId: origin.serverId, taskId: String(answer.taskId) },
          scope.identity?.sub,
        );
        return { ...answer, taskId };
      }
      const task = await createTask(scope, params, {}, signal);
      return { resultType: "task", ...modernTask(task) };
    }
    case "tasks/get": {
      const address = await decodeTaskId(scope.sealer, params.taskId, sub);
      if (isModernMember(scope.proxy, address.serverId)) {
        const task = await scope.proxy.requestModernTask(
          address.serverId,
          "tasks/get",
          { taskId: address.taskId },
          callOptions(scope, signal),
        );
        return { ...task, resultType: "complete", taskId: params.taskId };
      }
      const task = await scope.proxy.request(
        address.serverId,
        "tasks/get",
        taskGet(address.taskId),
        callOptions(scope),
      );
      const out: Record<string, unknown> = { resultType: "complete", ...modernTask(task), taskId: params.taskId };
      if (task.status === "input_required") {
        // A 2025-11-25 member asks for its input on the `tasks/result` stream, which a 2026-07-28 client cannot
        // answer: shown as working.
        out.status = "working";
      } else if (task.status === "completed" || task.status === "failed") {
        try {
          const result = await scope.proxy.request(
            address.serverId,
            "tasks/result",
            taskResult(address.taskId),
            callOptions(scope, signal),
          );
          // A tool that ran and reported an error is a completed task with `result.isError` (a 2025-11-25 member
          // marks it failed); `failed` is kept for a call that raised a protocol error.
          const { _meta: _related, ...rest } = result;
          out.status = "completed";
          out.result = { resultType: "complete", ...rest };
        } catch (error) {
          out.status = "failed";
          out.error = rpcErrorOf(error);
        }
      }
      return out;
    }
    case "tasks/cancel": {
      const address = await decodeTaskId(scope.sealer, params.taskId, sub);
      if (isModernMember(scope.proxy, address.serverId)) {
        await scope.proxy.requestModernTask(address.serverId, "tasks/cancel", { taskId: address.taskId }, {
          ...callOptions(scope, signal),
        });
        return { resultType: "complete" };
      }
      await scope.proxy.request(address.serverId, "tasks/cancel", taskCancel(address.taskId), callOptions(scope));
      return { resultType: "complete" };
    }
    case "tasks/update": {
      const address = await decodeTaskId(scope.sealer, params.taskId, sub);
      if (isModernMember(scope.proxy, address.serverId)) {
        const { _meta: _envelope, taskId: _taskId, ...rest } = params;
        await scope.proxy.requestModernTask(
          address.serverId,
          "tasks/update",
          { ...rest, taskId: address.taskId },
          callOptions(scope, signal),
        );
        return { resultType: "complete" };
      }
      // A member speaking the 2025-11-25 utility takes no input through `tasks/update`.
      return { resultType: "complete" };
    }
    default:
      throw new TaskRequestError(-32601, `Method not found: ${method}`);
  }
}

/** The modern task methods the gateway answers itself. */
export const MODERN_TASK_METHODS: ReadonlySet<string> = new Set(["tasks/get", "tasks/update", "tasks/cancel"]);

/**
 * How a 2026-07-28 `tools/call` runs: `"task"` when the client declares the extension and the tool's member runs it
 * as one (`execution.taskSupport` `optional` or `required`, on a member with the tasks utility); `"refuse"` when the
 * tool requires a task and the client did not declare the extension (`-32021`); `undefined` for a plain call.
 */
export async function modernCallMode(
  proxy: FederationProxy,
  params: Record<string, unknown> | undefined,
  tools: Pick<ToolIndex, "find"> = {
    find: async (name) => (await proxy.catalog.listTools()).find((t) => t.name === name),
  },
): Promise<"task" | "refuse" | undefined> {
  if (!params || typeof params.name !== "string") return undefined;
  try {
    const tool = await tools.find(params.name);
    if (tool && clientDeclaresTasks(params._meta)) {
      // A 2026-07-28 member with the extension decides per call whether it answers with a task (its tools carry no
      // `execution.taskSupport`): the call goes to it as one of the extension.
      const origin = await proxy.catalog.resolveTool(params.name);
      if (isModernMember(proxy, origin.serverId) && memberRunsToolTasks(proxy, origin.serverId)) return "task";
    }
    const support = taskSupportOf(tool);
    if (!tool || support === "forbidden") return undefined;
    if (!clientDeclaresTasks(params._meta)) return support === "required" ? "refuse" : undefined;
    const origin = await proxy.catalog.resolveTool(params.name);
    return memberRunsToolTasks(proxy, origin.serverId) ? "task" : undefined;
  } catch {
    return undefined;
  }
}

/** The `-32021` answer naming the tasks extension as the missing client capability. */
function missingTasksCapability(id: string | number | null, what: string): Response {
  return jsonResponse(400, {
    jsonrpc: "2.0",
    id,
    error: {
      code: MISSING_CAPABILITY,
      message: `${what} requires the client capability extensions["${TASKS_EXTENSION}"]`,
      data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
    },
  });
}

/** What {@link serveModernTask} reads of the modern path's settings. */
export interface ModernTaskSettings {
  hub: { proxy: FederationProxy; tools?: Pick<ToolIndex, "find"> };
  sealer: RequestStateSealer;
  issuer: string | undefined;
  callTimeout: number | undefined;
}

/**
 * Answers a 2026-07-28 request of the tasks extension, or a `tools/call` that runs as a task; `undefined` for any
 * other request (the SDK's handler serves it).
 *
 * @example Answer it before the SDK's handler
 * ```ts ignore
 * const task = await serveModernTask(request, message, caller, settings);
 * if (task) return task;
 * return await handler.fetch(request, { authInfo, parsedBody });
 * ```
 *
 * @param request The HTTP request (its signal cancels the member call).
 * @param message The classified request.
 * @param caller The verified token's subject.
 * @param settings The modern path's settings.
 * @returns The JSON-RPC answer, or `undefined`.
 */
export async function serveModernTask(
  request: Request,
  message: { id: string | number | undefined; method: string; params: Record<string, unknown> | undefined },
  caller: { sub: string | undefined },
  settings: ModernTaskSettings,
): Promise<Response | undefined> {
  const proxy = settings.hub.proxy;
  const id = message.id ?? null;
  const isTaskMethod = MODERN_TASK_METHODS.has(message.method);
  if (!isTaskMethod) {
    if (message.method !== "tools/call") return undefined;
    const mode = await modernCallMode(proxy, message.params, settings.hub.tools);
    if (mode === "refuse") return missingTasksCapability(id, `The tool '${String(message.params?.name)}'`);
    if (mode !== "task") return undefined;
  } else if (!clientDeclaresTasks(message.params?._meta)) {
    // SEP-2575: a request that did not declare the extension is refused with Missing Required Client Capability.
    return missingTasksCapability(id, `'${message.method}'`);
  } else {
    const name = request.headers.get("mcp-name");
    if (name !== null && name !== message.params?.taskId) {
      return jsonResponse(400, {
        jsonrpc: "2.0",
        id,
        error: { code: HEADER_MISMATCH, message: "The Mcp-Name header does not match params.taskId" },
      });
    }
  }
  const scope: TaskScope = {
    proxy,
    sealer: settings.sealer,
    identity: caller.sub === undefined
      ? undefined
      : { sub: caller.sub, ...(settings.issuer === undefined ? {} : { iss: settings.issuer }) },
    callTimeout: settings.callTimeout,
  };
  let body: Record<string, unknown>;
  try {
    body = {
      jsonrpc: "2.0",
      id,
      result: await modernTaskRequest(scope, message.method, message.params ?? {}, request.signal),
    };
  } catch (error) {
    body = { jsonrpc: "2.0", id, error: rpcErrorOf(error) };
  }
  return jsonResponse(200, body);
}

/** `capabilities` with the tasks extension announced when a connected member runs tools as tasks. */
export function withTasksExtension(capabilities: ServerCapabilities, proxy: FederationProxy): ServerCapabilities {
  if (!anyMemberRunsToolTasks(proxy)) return capabilities;
  const extensions = (capabilities as { extensions?: Record<string, unknown> }).extensions ?? {};
  return { ...capabilities, extensions: { ...extensions, [TASKS_EXTENSION]: {} } } as ServerCapabilities;
}

/**
 * The tools a client can run: a 2026-07-28 client (its `envelope` given) that does not declare the tasks extension
 * cannot run a tool whose member requires a task (`execution.taskSupport: "required"`), so it is not listed to it.
 * A 2025-11-25 client gets every tool (the gateway runs task-augmented calls for it).
 *
 * @example
 * ```ts
 * import { runnableTools } from "./_tasks.ts";
 *
 * const tools = [{ name: "a", execution: { taskSupport: "required" } }, { name: "b" }];
 * runnableTools(tools, {}).map((t) => t.name); // ["b"]: this client did not declare the extension
 * ```
 *
 * @param tools The federated tools.
 * @param envelope The modern request's `_meta` envelope; `undefined` for a 2025-11-25 session.
 */
export function runnableTools<T>(tools: T[], envelope: Record<string, unknown> | undefined): T[] {
  if (envelope === undefined || clientDeclaresTasks(envelope)) return tools;
  return tools.filter((tool) => taskSupportOf(tool) !== "required");
}
