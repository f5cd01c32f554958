// Internal: what a client sees when a federated call fails. A member's own JSON-RPC error keeps its code; local
// failures get MCP's codes. Messages never contain a token (library errors never do).
import { FederationError, ProtocolError } from "../core/errors.ts";
import { ErrorCode, McpError } from "../core/_sdk.ts";

/** Maps anything a catalog call throws to the JSON-RPC error the client receives. */
export function toMcpError(error: unknown): McpError {
  if (error instanceof McpError) return error;
  if (error instanceof ProtocolError) return new McpError(error.rpcCode, error.message, error.data);
  if (error instanceof FederationError) {
    switch (error.code) {
      case "ERR_NOT_FOUND":
      case "ERR_SERVER_NOT_FOUND":
        return new McpError(ErrorCode.InvalidParams, error.message);
      case "ERR_TIMEOUT":
        return new McpError(ErrorCode.RequestTimeout, error.message);
      default:
        return new McpError(ErrorCode.InternalError, error.message, { code: error.code });
    }
  }
  return new McpError(ErrorCode.InternalError, "Internal error in the federation gateway");
}
