import assert from "node:assert/strict";
import {
  AuthenticationError,
  CancelledError,
  ConnectionError,
  ProtocolError,
  ServerNotFoundError,
  TimeoutError,
} from "../core/errors.ts";
import type { ServerStatus } from "../proxy/status.ts";
import { unavailableToolResult } from "./_unavailable.ts";

function statuses(states: Record<string, ServerStatus["state"]>) {
  return {
    getServerStatus(serverId: string): ServerStatus | undefined {
      const state = states[serverId];
      if (state === undefined) return undefined;
      const lastError = new ConnectionError(`Cannot reach server '${serverId}'`, { serverId });
      return {
        serverId,
        state,
        era: undefined,
        channels: {},
        serverInfo: undefined,
        capabilities: undefined,
        lastError,
        inFlight: 0,
      };
    },
  };
}

function textOf(result: { content: unknown } | undefined): string {
  return (result?.content as { text: string }[])[0]!.text;
}

Deno.test("unavailableToolResult() turns a connection failure or a timeout into an isError result naming the tool", () => {
  const none = statuses({});
  const refused = unavailableToolResult("a__t", new ConnectionError("Server 'a' has no usable channel", {}), none);
  assert.equal(refused?.isError, true);
  assert.equal(textOf(refused), "Tool 'a__t' is unavailable: Server 'a' has no usable channel [ERR_CONNECTION_FAILED]");
  const slow = unavailableToolResult("a__t", new TimeoutError("Call to 'a' timed out", { timeoutMs: 5 }), none);
  assert.equal(textOf(slow), "Tool 'a__t' did not answer in time: Call to 'a' timed out [ERR_TIMEOUT]");
});

Deno.test("unavailableToolResult() leaves other failures JSON-RPC errors (member errors, cancellation, auth)", () => {
  const none = statuses({});
  for (
    const error of [
      new ProtocolError("Server 'a' answered with error -32602", { rpcCode: -32602 }),
      new CancelledError("Cancelled"),
      new AuthenticationError("ERR_AUTH_REJECTED", "Refused"),
      new Error("Anything else"),
    ]
  ) {
    assert.equal(unavailableToolResult("a__t", error, none), undefined, error.message);
  }
});

Deno.test("unavailableToolResult() names the down member of a tool that left the catalog, and only then", () => {
  const members = statuses({ "my__srv": "reconnecting", up: "connected" });
  const missing = (name: string) => new ServerNotFoundError(`No tool named '${name}'`, { code: "ERR_NOT_FOUND" });
  const result = unavailableToolResult("my__srv__tool", missing("my__srv__tool"), members);
  assert.equal(
    textOf(result),
    "Tool 'my__srv__tool' is unavailable: server 'my__srv' is reconnecting: Cannot reach server 'my__srv' [ERR_CONNECTION_FAILED]",
  );
  // A usable member that does not offer it, or no such member: the name is unknown.
  assert.equal(unavailableToolResult("up__gone", missing("up__gone"), members), undefined);
  assert.equal(unavailableToolResult("nobody__tool", missing("nobody__tool"), members), undefined);
  assert.equal(unavailableToolResult("plain", missing("plain"), members), undefined);
});
