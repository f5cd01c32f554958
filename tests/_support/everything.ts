// server-everything (the MCP reference server, a 2025-11-25 server; streamableHttp, one process) as a data-only member.
import assert from "node:assert/strict";
import type { FederationProxy } from "../../packages/proxy/federation_proxy.ts";
import type { ServerStatus } from "../../packages/proxy/status.ts";
import { retry, ServerProcess } from "../interop/_support.ts";
import { freePort } from "./ports.ts";

export const EVERYTHING = "npm:@modelcontextprotocol/server-everything@2026.8.31";

/** Starts server-everything over Streamable HTTP; `url` is its MCP endpoint. */
export function startEverything(): { process: ServerProcess; url: string } {
  const port = freePort();
  const process = new ServerProcess(["run", "-A", EVERYTHING, "streamableHttp"], { PORT: String(port) });
  return { process, url: `http://127.0.0.1:${port}/mcp` };
}

/** Registers server-everything as the data-only member `everything` (retried while it starts). */
export async function registerEverything(proxy: FederationProxy, url: string): Promise<ServerStatus> {
  const status = await retry(
    () => proxy.registerServer({ serverId: "everything", endpoints: { data: url }, auth: { type: "none" } }),
    90_000,
  );
  assert.equal(status.state, "connected");
  return status;
}
