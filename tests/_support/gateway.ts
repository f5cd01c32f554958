/**
 * Test gateways: one in process in front of one test member ({@link withGateway}), and the gateway CLI in a child
 * process with network access to loopback only ({@link spawnGatewayCli}).
 *
 * @module
 */

import { FederationProxy, type FederationProxyOptions } from "../../mod.ts";
import { type GatewayOptions, serveGateway } from "../../packages/gateway/mod.ts";
import { quiet } from "./catalog_members.ts";
import { GATEWAY_SECRET, SECRET, TestMember } from "./members.ts";

/**
 * Runs `test` against a gateway (client tokens signed with {@link GATEWAY_SECRET}) in front of one test member "a";
 * `url` is the MCP endpoint, `base` the gateway's origin. Everything is closed afterwards.
 */
export async function withGateway(
  options: Partial<GatewayOptions>,
  test: (url: string, base: string) => Promise<void>,
  proxyOptions: Partial<FederationProxyOptions> = {},
): Promise<void> {
  await using member = await TestMember.start("a");
  await using proxy = new FederationProxy(SECRET, { logger: quiet, ...proxyOptions });
  await proxy.registerServer(member.config);
  await using gateway = await serveGateway(proxy, {
    auth: { secret: GATEWAY_SECRET },
    port: 0,
    logger: quiet,
    ...options,
  });
  await test(gateway.url, gateway.url.replace(/\/mcp$/, ""));
}

/**
 * Starts `packages/gateway/cli.ts --config file` with read, env and loopback-only network permissions, the proxy
 * secret {@link SECRET} in `MCP_SECRET_KEY` and `gatewaySecret` in `MCP_GATEWAY_SECRET`; stdout is piped.
 */
export function spawnGatewayCli(
  file: string,
  options: { logLevel: string; gatewaySecret?: string; stderr?: "piped" | "null" },
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-net=127.0.0.1",
      new URL("../../packages/gateway/cli.ts", import.meta.url).pathname,
      "--config",
      file,
      "--log-level",
      options.logLevel,
    ],
    env: {
      RUST_BACKTRACE: "0",
      NO_COLOR: "1",
      MCP_SECRET_KEY: SECRET,
      MCP_GATEWAY_SECRET: options.gatewaySecret ?? GATEWAY_SECRET,
    },
    clearEnv: true,
    stdout: "piped",
    stderr: options.stderr ?? "null",
  }).spawn();
}
