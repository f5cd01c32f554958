// Three gateway replicas (CLI processes) on one Redis, in front of a 2025-11-25 member that asks during its calls:
// a 2026-07-28 client's rounds may reach any replica; the retry is forwarded over the store's bus to the replica
// holding the parked call, and the rounds of two clients at once never mix.
import assert from "node:assert/strict";
import { textOf } from "../_support/catalog_members.ts";
import { startAskingMember } from "../_support/asking_member.ts";
import { callTool, roundOf } from "../eras/bridge_support.ts";
import { eventually, redisAvailable, RedisServer, Replica, writeReplicaConfig } from "./_support.ts";

const REDIS = redisAvailable();

Deno.test({
  name: "With Redis, a bridged exchange's retries reach any of three replicas and are forwarded to its holder",
  ignore: !REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    await using member = await startAskingMember("old");
    const dir = await Deno.makeTempDir();
    const config = await writeReplicaConfig(dir, redis.url, [{
      serverId: "old",
      endpoints: member.config.endpoints,
      auth: { type: "jwt", config: { secretEnv: "MCP_MEMBER_SECRET" } },
    }]);
    const replicas = await Promise.all(["r1", "r2", "r3"].map((name) => Replica.start(name, config, redis.url)));
    try {
      // Every replica serves the member.
      await Promise.all(replicas.map((replica) =>
        eventually(
          async () => {
            const round = await callTool(replica.url, "old__ask_name").catch(() => undefined);
            return (round?.result as { resultType?: string } | undefined)?.resultType === "input_required"
              ? true
              : undefined;
          },
          20_000,
          `replica ${replica.name} serves old__ask_name`,
        )
      ));
      /** One client's whole two-round call, each request at the next replica from `start`. */
      const run = async (subject: string, start: number) => {
        const at = (i: number) => replicas[(start + i) % replicas.length]!.url;
        const first = roundOf(await callTool(at(0), "old__two_rounds", {}, { subject }));
        const [firstKey] = Object.keys(first.inputRequests);
        const second = roundOf(
          await callTool(at(1), "old__two_rounds", {
            requestState: first.requestState,
            inputResponses: { [firstKey!]: { action: "accept", content: { value: `${subject}-1` } } },
          }, { subject }),
        );
        const [secondKey, secondRequest] = Object.entries(second.inputRequests)[0]!;
        assert.equal(secondRequest.params.message, "Second?");
        const done = await callTool(at(2), "old__two_rounds", {
          requestState: second.requestState,
          inputResponses: { [secondKey]: { action: "accept", content: { value: `${subject}-2` } } },
        }, { subject });
        return textOf(done.result);
      };
      const results = await Promise.all([run("ann", 0), run("bob", 1)]);
      assert.deepEqual(results, ["ann-1+ann-2", "bob-1+bob-2"]);

      // Another subject's retry, forwarded or not, is refused; the exchange stays for its own client.
      const round = roundOf(await callTool(replicas[0]!.url, "old__ask_name", {}, { subject: "ann" }));
      const [key] = Object.keys(round.inputRequests);
      const stolen = await callTool(replicas[1]!.url, "old__ask_name", {
        requestState: round.requestState,
        inputResponses: { [key!]: { action: "accept", content: { value: "eve" } } },
      }, { subject: "eve" });
      assert.equal((stolen.error as { code: number }).code, -32602);
      const own = await callTool(replicas[2]!.url, "old__ask_name", {
        requestState: round.requestState,
        inputResponses: { [key!]: { action: "accept", content: { value: "ann" } } },
      }, { subject: "ann" });
      assert.equal(textOf(own.result), "Hello ann");

      // The holder gone: a retry forwarded to it gets exchange_unreachable.
      const orphan = roundOf(await callTool(replicas[0]!.url, "old__ask_name", {}, { subject: "ann" }));
      await replicas[0]!.kill();
      const [orphanKey] = Object.keys(orphan.inputRequests);
      const lost = await callTool(replicas[1]!.url, "old__ask_name", {
        requestState: orphan.requestState,
        inputResponses: { [orphanKey!]: { action: "accept", content: { value: "x" } } },
      }, { subject: "ann" });
      const error = lost.error as { code: number; data: { reason: string } };
      assert.equal(error.code, -32000, JSON.stringify(lost));
      assert.equal(error.data.reason, "exchange_unreachable");
    } finally {
      await Promise.all(replicas.map((replica) => replica.kill()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
