// Internal: turns what the SDK, fetch and sockets throw into the library's typed errors.
import {
  AuthenticationError,
  CancelledError,
  type Channel,
  ConnectionError,
  FederationError,
  ProtocolError,
  TimeoutError,
} from "../core/errors.ts";
import {
  ProtocolError as SdkProtocolError,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
} from "../core/_sdk.ts";
import { redactUrls } from "../core/_redact.ts";
import { errorMessage } from "../core/_error_message.ts";

export interface ErrorContext {
  serverId: string;
  channel: Channel;
  what: string;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  /**
   * Whether the member answered the request with a JSON-RPC error response (the SDK raises it as a `ProtocolError`;
   * its own local failures, such as "connection closed", are `SdkError`s).
   */
  remote?: boolean | undefined;
}

/** Whether the error means the channel itself is broken (as opposed to one request failing). */
export function isChannelFailure(error: FederationError): boolean {
  return error instanceof ConnectionError || error instanceof AuthenticationError;
}

/**
 * Whether a request's failure means its channel failed: only a failure of the connection itself (a socket that
 * closed, a member that cannot be reached). A member's error response, an HTTP status on one POST (413, 500, even
 * 401) and a message refused before sending fail that request only; the SDK's own "connection closed" follows the
 * transport's close, which fails the channel by itself.
 */
export function failsChannel(raw: unknown, error: FederationError, remote: boolean): boolean {
  if (remote || !isChannelFailure(error)) return false;
  if (raw instanceof SdkProtocolError || raw instanceof SdkHttpError) return false;
  return !(raw instanceof SdkError &&
    (raw.code === SdkErrorCode.ConnectionClosed || raw.code === SdkErrorCode.RequestTimeout));
}

/**
 * Whether a data-channel error means the member lost our HTTP session (HTTP 404 on a session id, legacy era only: a
 * modern member has no session, and answers an unknown method with a 404 that carries the JSON-RPC error).
 */
export function isSessionLost(error: unknown): boolean {
  return error instanceof SdkHttpError && error.status === 404 && rpcErrorOf(error) === undefined;
}

/**
 * The JSON-RPC error answering our request that an HTTP error status carries in its body (how a modern member
 * answers a failed request: 404 for an unknown method, 400 for a missing client capability, …); `undefined` for
 * anything else (an error of no request, such as a lost session, has a null id).
 */
function rpcErrorOf(error: SdkHttpError): { code: number; message: string; data?: unknown } | undefined {
  const text = error.data.text;
  if (typeof text !== "string" || !text.startsWith("{")) return undefined;
  try {
    const body = JSON.parse(text) as { id?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
    if (body.id === null || body.id === undefined || typeof body.error?.code !== "number") return undefined;
    return { code: body.error.code, message: String(body.error.message ?? ""), data: body.error.data };
  } catch {
    return undefined;
  }
}

/**
 * Whether `error` is the member's answer to our request: a JSON-RPC error it sent (as a message, or in the body of an
 * HTTP error status), not a timeout, a cancellation or a lost connection.
 */
export function isMemberAnswer(error: unknown): boolean {
  return error instanceof SdkProtocolError || (error instanceof SdkHttpError && rpcErrorOf(error) !== undefined);
}

/** Maps anything thrown while talking to a member to a {@link FederationError}. */
export function toFederationError(error: unknown, context: ErrorContext): FederationError {
  const { serverId, channel, what } = context;
  if (error instanceof FederationError) {
    return error.serverId === undefined ? attribute(error, serverId, channel) : error;
  }
  const base = { serverId, channel, cause: error };
  if (context.signal?.aborted) return new CancelledError(`${what} on server '${serverId}' was cancelled`, base);
  if (
    error instanceof SdkError && !(error instanceof SdkHttpError) &&
    error.code === SdkErrorCode.EraNegotiationFailed && error.cause !== undefined
  ) {
    // The era probe failed for what its cause says (a refused connection is a ConnectionError, as without a probe).
    return toFederationError(error.cause, context);
  }
  if (error instanceof SdkHttpError) {
    const rpc = rpcErrorOf(error);
    if (rpc) {
      return new ProtocolError(`Server '${serverId}' answered ${what} with error ${rpc.code}: ${rpc.message}`, {
        ...base,
        rpcCode: rpc.code,
        data: rpc.data,
      });
    }
    const status = error.status;
    if (status === 413) {
      return new ProtocolError(
        `Server '${serverId}' refused ${what}: the message is larger than it accepts (HTTP 413)`,
        {
          ...base,
          rpcCode: ProtocolErrorCode.InvalidRequest,
          code: "ERR_MESSAGE_TOO_LARGE",
        },
      );
    }
    if (status === 401 || status === 403) {
      return new AuthenticationError(
        "ERR_AUTH_REJECTED",
        `Server '${serverId}' rejected the token (HTTP ${status})`,
        base,
      );
    }
    if (status === 499) {
      // A 2026-07-28 server closed while the exchange was in flight (the SDK's answer to a closed connection).
      return new ConnectionError(`Connection to server '${serverId}' (${channel}) was lost during ${what}`, {
        ...base,
        code: "ERR_CONNECTION_CLOSED",
      });
    }
    return new ConnectionError(`Server '${serverId}' (${channel}) failed ${what}: HTTP ${status}`, base);
  }
  if (error instanceof SdkError) {
    const data = error.data as { timeout?: number } | undefined;
    if (error.code === SdkErrorCode.RequestTimeout && data?.timeout !== undefined) {
      return new TimeoutError(`${what} on server '${serverId}' timed out (timeout: ${data.timeout}ms)`, {
        ...base,
        timeoutMs: data.timeout,
      });
    }
    if (error.code === SdkErrorCode.ConnectionClosed) {
      return new ConnectionError(`Connection to server '${serverId}' (${channel}) was lost during ${what}`, {
        ...base,
        code: "ERR_CONNECTION_CLOSED",
      });
    }
  }
  if (error instanceof SdkProtocolError) {
    return new ProtocolError(`Server '${serverId}' answered ${what} with error ${error.code}: ${error.message}`, {
      ...base,
      rpcCode: error.code,
      data: error.data,
    });
  }
  if (error instanceof TypeError || (error instanceof Error && /connect|network|socket|closed/i.test(error.message))) {
    return new ConnectionError(
      `Cannot reach server '${serverId}' (${channel}) for ${what}: ${redactUrls(error.message)}`,
      base,
    );
  }
  const message = redactUrls(errorMessage(error));
  return new ProtocolError(`Server '${serverId}' sent an invalid answer to ${what}: ${message}`, {
    ...base,
    rpcCode: ProtocolErrorCode.InternalError,
  });
}

/** Re-issues an error raised below the member level (e.g. by the WebSocket transport) with its member attached. */
function attribute(error: FederationError, serverId: string, channel: Channel): FederationError {
  const options = { serverId, channel, cause: error };
  const message = `Server '${serverId}' (${channel}): ${error.message}`;
  if (error instanceof AuthenticationError) return new AuthenticationError(error.code, message, options);
  if (error instanceof TimeoutError) {
    return new TimeoutError(message, {
      ...options,
      ...(error.timeoutMs === undefined ? {} : { timeoutMs: error.timeoutMs }),
    });
  }
  if (error instanceof CancelledError) return new CancelledError(message, options);
  if (error instanceof ProtocolError) {
    return new ProtocolError(message, {
      ...options,
      rpcCode: error.rpcCode,
      data: error.data,
      code: error.code as "ERR_PROTOCOL" | "ERR_MESSAGE_TOO_LARGE",
    });
  }
  if (error instanceof ConnectionError) {
    return new ConnectionError(message, { ...options, code: error.code as "ERR_CONNECTION_FAILED" });
  }
  return error;
}
