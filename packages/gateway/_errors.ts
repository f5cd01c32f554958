// Internal: what a client sees when a federated call fails. A member's own JSON-RPC error keeps its code; local
// failures get MCP's codes. Messages never contain a token (library errors never do).
import { FederationError, ProtocolError } from "../core/errors.ts";
import { ProtocolErrorCode, ServerProtocolError } from "../core/_sdk.ts";

/** JSON-RPC code of a call that timed out (the v1 SDK's `RequestTimeout`; v2 raises timeouts locally only). */
const REQUEST_TIMEOUT = -32001;

/** Maps anything a catalog call throws to the JSON-RPC error the client receives. */
export function toMcpError(error: unknown): ServerProtocolError {
  if (error instanceof ServerProtocolError) return error;
  if (error instanceof ProtocolError) return new ServerProtocolError(error.rpcCode, error.message, error.data);
  if (error instanceof FederationError) {
    switch (error.code) {
      case "ERR_NOT_FOUND":
      case "ERR_SERVER_NOT_FOUND":
        return new ServerProtocolError(ProtocolErrorCode.InvalidParams, error.message);
      case "ERR_TIMEOUT":
        return new ServerProtocolError(REQUEST_TIMEOUT, error.message);
      default:
        return new ServerProtocolError(ProtocolErrorCode.InternalError, error.message, { code: error.code });
    }
  }
  return new ServerProtocolError(ProtocolErrorCode.InternalError, "Internal error in the federation gateway");
}
