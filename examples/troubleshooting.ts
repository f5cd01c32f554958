/**
 * Troubleshooting (usage guide, "Troubleshooting"): for each member, is it reachable (its health URL), does our
 * secret work (locally, and does the member accept our token), and how fast does it answer (a `ping` per channel,
 * instead of the guide's remove-and-register). Three members are diagnosed: a healthy one, one that has another
 * secret, and one that is not running.
 *
 * ```sh
 * deno run -A examples/troubleshooting.ts
 * ```
 *
 * @module
 */

import {
  AuthManager,
  type Channel,
  consoleLogger,
  type FederationConfig,
  FederationProxy,
} from "@federated-mcp/federation";
import {
  exampleFlags,
  type ExampleMember,
  exampleSecret,
  explain,
  LocalMember,
  probeDataEndpoint,
  startMembers,
} from "./_support.ts";

const flags = exampleFlags({ summary: "Diagnoses availability, authentication and latency of members." });
const SECRET_KEY = exampleSecret(flags);
await using members = await startMembers(flags, SECRET_KEY, ["server-1"]);
await using stranger = await LocalMember.start("stranger", "another-secret-that-the-proxy-does-not-know!");
await using stopped = await LocalMember.start("stopped", SECRET_KEY);
await stopped.stop();
await using proxy = new FederationProxy(SECRET_KEY, { logger: consoleLogger("error") });

// #region availability
// 1. Connection failures: is the member reachable? (GET its health URL; no token needed)
async function checkServerAvailability(url: string): Promise<boolean> {
  try {
    const response = await fetch(url);
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
// #endregion availability

// #region authentication
// 2. Authentication issues: is the secret usable, and does the member accept our token?
async function verifyAuthentication(config: FederationConfig): Promise<boolean> {
  const secret = config.auth?.type === "jwt" ? config.auth.config.secret ?? SECRET_KEY : SECRET_KEY;
  const authManager = new AuthManager(typeof secret === "string" ? secret : await secret());
  try {
    const token = await authManager.createToken({ test: true }, { audience: config.serverId });
    await authManager.verifyToken(token, { audience: config.serverId });
    if (!config.endpoints.data) return true; // a control-only member: registering will tell
    const { status } = await probeDataEndpoint(config.endpoints.data, token);
    return status !== 401 && status !== 403;
  } catch {
    return false;
  }
}
// #endregion authentication

// #region latency
// 3. Performance issues: round-trip time of each channel, the median of a few pings
async function checkLatency(serverId: string): Promise<Partial<Record<Channel, number>>> {
  const latency: Partial<Record<Channel, number>> = {};
  const channels = proxy.getServerStatus(serverId)?.channels ?? {};
  for (const channel of ["control", "data"] as Channel[]) {
    if (channels[channel]?.state !== "up") continue;
    const samples = [];
    for (let i = 0; i < 5; i++) samples.push(await proxy.ping(serverId, { channel }));
    latency[channel] = samples.sort((a, b) => a - b)[2]!;
  }
  return latency;
}
// #endregion latency

async function diagnose(member: ExampleMember): Promise<string> {
  const config: FederationConfig = { serverId: member.serverId, endpoints: member.endpoints };
  if (!await checkServerAvailability(member.healthUrl)) return "unreachable: is the member running?";
  if (!await verifyAuthentication(config)) return "reachable, but it refuses our token: check the shared secret";
  try {
    await proxy.registerServer(config);
  } catch (error) {
    return `reachable and accepts our token, but registration failed: ${explain(error)}`;
  }
  const latency = await checkLatency(member.serverId);
  await proxy.removeServer(member.serverId);
  const ms = Object.entries(latency).map(([channel, value]) => `${channel} ${value.toFixed(2)}ms`).join(", ");
  return `healthy: reachable, token accepted, latency ${ms}`;
}

const expected: Record<string, string> = { stranger: "reachable, but", stopped: "unreachable" };
let surprises = 0;
for (const member of [...members.list, stranger, stopped]) {
  const diagnosis = await diagnose(member);
  console.log(`${member.serverId}: ${diagnosis}`);
  if (!diagnosis.startsWith(expected[member.serverId] ?? "healthy")) surprises++;
}
if (surprises > 0) Deno.exit(1);
