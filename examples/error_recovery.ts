/**
 * Error recovery (usage guide, "Common Use Cases" 3): `registerWithRetry` against a member that comes up late.
 * The member's ports are chosen first and it starts `--delay` ms later; the first attempts fail with a
 * `ConnectionError`, a later one succeeds.
 *
 * ```sh
 * deno run -A examples/error_recovery.ts --delay 1500
 * ```
 *
 * @module
 */

import { type FederationConfig, FederationError, FederationProxy } from "@federated-mcp/federation";
import { exampleFlags, exampleSecret, LocalMember, MemberSet, startMembers } from "./_support.ts";

const flags = exampleFlags({
  summary: "Registers a member that starts late, retrying with a growing delay.",
  strings: ["delay"],
  usage: "[--delay 1500]",
});
const delay = flags.number("delay", 1_500);
const SECRET_KEY = exampleSecret(flags);
await using proxy = new FederationProxy(SECRET_KEY);

// #region register-with-retry
async function registerWithRetry(config: FederationConfig, maxRetries = 3) {
  let attempts = 0;

  while (attempts < maxRetries) {
    try {
      await proxy.registerServer(config);
      console.log(`${config.serverId} registered successfully`);
      return;
    } catch (error) {
      attempts++;
      const reason = error instanceof FederationError ? `${error.code}: ${error.message}` : String(error);
      console.error(`Attempt ${attempts} failed: ${reason}`);

      if (attempts === maxRetries) {
        throw new Error(`Failed to register after ${maxRetries} attempts`, { cause: error });
      }

      // Wait before retrying
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempts));
    }
  }
}
// #endregion register-with-retry

// Without --control/--data: a member whose ports are known now but which only starts listening after `delay` ms.
const external = flags.control.length + flags.data.length > 0;
await using members = external
  ? await startMembers(flags, SECRET_KEY, ["server-1"])
  : new MemberSet([LocalMember.reserve("server-1", SECRET_KEY)]);
const member = members.list[0]!;
let late = Promise.resolve();
if (!external) {
  console.log(`Member server-1 will start in ${delay}ms at ${member.endpoints.control} and ${member.endpoints.data}`);
  late = new Promise((resolve) => setTimeout(resolve, delay)).then(() => member.start())
    .then(() => console.log("(server-1 is up now)"));
}

const started = performance.now();
await registerWithRetry({ serverId: member.serverId, endpoints: member.endpoints, auth: { type: "jwt", config: {} } });
const state = proxy.getServerStatus(member.serverId)?.state;
console.log(`Registered after ${Math.round(performance.now() - started)}ms; state: ${state}`);
await late;
