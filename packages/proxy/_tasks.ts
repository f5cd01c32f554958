// Internal: the task requests the gateway sends to a member (the 2025-11-25 `tasks` utility): a task-augmented
// `tools/call`, then `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` by the member's own task id. Each is
// a runner for `FederationProxy.request`, so it takes the routed channel, the caller's identity and its timeout like
// every other call. A v2 SDK client validates each answer with the revision's schema.
import {
  CancelTaskResultSchema,
  CreateTaskResultSchema,
  GetTaskPayloadResultSchema,
  GetTaskResultSchema,
  ListTasksResultSchema,
} from "../core/_sdk.ts";
import type { RequestRunner } from "./request_runner.ts";
import { forwardedMeta } from "./_requests.ts";

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
