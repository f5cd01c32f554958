// Internal: the handlers of what a member sends on a channel (DESIGN.md "Many clients, one member"). What it sends
// during a call names the call (see `_relation.ts`) and goes to that call's handlers only; a request that names no
// call in progress is refused, never handed to another call; a log line of no known call is a proxy event only.
import type { Channel } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { type Client, ProtocolError, ProtocolErrorCode, type RequestId } from "../core/_sdk.ts";
import { isRecord } from "../core/_json.ts";
import { takeRelation } from "../core/_relation_meta.ts";
import type { CallTable } from "./_relation.ts";
import type { ServerLogMessage, ServerRequestHandler } from "./server_requests.ts";

/** What of its member the handlers need. */
export interface InboundSettings {
  serverId: string;
  logger: Logger;
  /** The current handler of server-to-client requests that belong to no call (or to one without `onrequest`). */
  serverRequestHandler: () => ServerRequestHandler | undefined;
  /** The member's tool list changed (its tool metadata is stale). */
  toolsChanged: () => void;
  /** A notification for the proxy's events. */
  notify: (method: string, params: Record<string, unknown> | undefined) => void;
}

/** Sets the SDK client's fallback handlers of one channel's connection. */
export function setupInbound(
  client: Client,
  channel: { readonly client: Client | undefined; readonly kind: Channel },
  calls: CallTable,
  inbound: InboundSettings,
): void {
  client.fallbackNotificationHandler = (notification) => {
    if (client !== channel.client) return Promise.resolve();
    // No de-duplication across channels: a member's unsolicited notifications come on one channel only (with a
    // control channel, the data channel opens no standing GET stream), and a notification tied to a request
    // comes on that request's channel, so two equal notifications on two channels are two notifications.
    const { named, related, params } = takeRelation(notification.params);
    if (named && notification.method === "notifications/message") {
      const onlog = calls.get(related as RequestId)?.handlers.onlog;
      if (onlog && isRecord(params)) {
        const message: ServerLogMessage = {
          serverId: inbound.serverId,
          level: String(params.level),
          data: params.data,
        };
        if (typeof params.logger === "string") message.logger = params.logger;
        onlog(message);
        return Promise.resolve();
      }
      // A log line of no known call's, or of a call without `onlog`: a proxy event only, for in-process users.
    }
    if (notification.method === "notifications/tools/list_changed") inbound.toolsChanged();
    inbound.notify(notification.method, params);
    return Promise.resolve();
  };
  client.fallbackRequestHandler = async (request, ctx) => {
    const { named, related, params } = takeRelation(request.params);
    let handler: ServerRequestHandler | undefined;
    if (named) {
      const call = calls.get(related as RequestId);
      if (!call) {
        inbound.logger.warn("Refused a member's request that names no call in progress", {
          serverId: inbound.serverId,
          channel: channel.kind,
          method: request.method,
        });
        throw new ProtocolError(
          ProtocolErrorCode.InvalidRequest,
          `Refused '${request.method}' from server '${inbound.serverId}': it names no call in progress`,
        );
      }
      handler = call.handlers.onrequest ?? inbound.serverRequestHandler();
    } else {
      handler = inbound.serverRequestHandler();
    }
    if (!handler) {
      throw new ProtocolError(
        ProtocolErrorCode.MethodNotFound,
        `No client behind the federation can answer '${request.method}'`,
      );
    }
    return await handler({
      serverId: inbound.serverId,
      method: request.method,
      params,
      signal: ctx.mcpReq.signal,
    }) as never;
  };
}
