// Internal: a tool call whose member cannot be reached, as a result the model can read. The MCP specification keeps
// JSON-RPC errors for requests the server cannot take (an unknown tool, bad arguments) and reports failures of the
// tool's execution in the result with `isError: true`, so that the model sees them and can try something else. A
// member that is down, refused or closed the connection, or did not answer in time is such a failure: the gateway
// answers `tools/call` with an `isError` result naming the tool and why. That holds too for a tool that left the
// catalog because its member is not usable now (the catalog lists usable members only): a name of the form
// `<serverId>__<name>` whose registered member is reconnecting or disconnected. Everything else (a member's own
// JSON-RPC error, a cancelled call, a refused token, a name no registered member owns) stays a JSON-RPC error; so do
// `resources/read` and `prompts/get`, whose results have no error form.
import { ConnectionError, FederationError, TimeoutError } from "../core/errors.ts";
import type { CallToolResult } from "../core/_sdk.ts";
import { NAME_SEPARATOR } from "../proxy/_naming.ts";
import type { ServerStatus } from "../proxy/status.ts";

/** What of the proxy this needs: the status of a registered member. */
export interface MemberStatuses {
  getServerStatus(serverId: string): ServerStatus | undefined;
}

/**
 * The `isError` result of a call of tool `name` that failed with `error`, when the failure says its member is
 * unavailable; `undefined` otherwise. The text is the library's message (it names the member and never holds a
 * token) and the error code, for the model and for whoever reads the transcript.
 */
export function unavailableToolResult(
  name: string,
  error: unknown,
  members: MemberStatuses,
): CallToolResult | undefined {
  if (error instanceof TimeoutError) return isError(`Tool '${name}' did not answer in time: ${describe(error)}`);
  if (error instanceof ConnectionError) return isError(`Tool '${name}' is unavailable: ${describe(error)}`);
  if (!(error instanceof FederationError) || error.code !== "ERR_NOT_FOUND") return undefined;
  const status = unusableOwner(name, members);
  if (!status) return undefined;
  const cause = status.lastError ? `: ${describe(status.lastError)}` : "";
  return isError(`Tool '${name}' is unavailable: server '${status.serverId}' is ${status.state}${cause}`);
}

/** The registered member a prefixed name points at, when that member is not usable now. */
function unusableOwner(name: string, members: MemberStatuses): ServerStatus | undefined {
  // A serverId may itself contain the separator: every split is a candidate.
  for (let at = name.indexOf(NAME_SEPARATOR); at > 0; at = name.indexOf(NAME_SEPARATOR, at + 1)) {
    const status = members.getServerStatus(name.slice(0, at));
    if (status && status.state !== "connected" && status.state !== "degraded") return status;
  }
  return undefined;
}

function describe(error: FederationError): string {
  return `${error.message} [${error.code}]`;
}

function isError(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}
