import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { redactMember } from "../../packages/cluster/mod.ts";
import { LineReader } from "../_support/lines.ts";
import { spawnGatewayCli } from "../_support/gateway.ts";
import { recordingLogger, SECRET, TestMember } from "../_support/members.ts";
import { freePort } from "../_support/ports.ts";

/** The client secret of the CLI's gateway: not the proxy's (a member must not be able to mint client tokens). */
const GATEWAY_SECRET = "gateway-secret-of-at-least-thirty-two-bytes";
/** Query parameters that pass config validation and carry credentials (pre-signed URLs, API gateways). */
const QUERY = "?api-key=SECRET&sig=SECRET&signature=SECRET&X-Amz-Signature=SECRET&client_secret=SECRET";

Deno.test("Redaction: the CLI prints and logs member URLs without query values, reachable or not", async () => {
  await using member = await TestMember.start("signed");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/federation.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      gateway: { port: 0, auth: { secretEnv: "MCP_GATEWAY_SECRET" } },
      members: [
        { ...member.config, endpoints: { data: member.handle.dataUrl + QUERY } },
        { serverId: "down", endpoints: { data: `http://127.0.0.1:${freePort()}/mcp${QUERY}` } },
        { serverId: "downws", endpoints: { control: `ws://127.0.0.1:${freePort()}/${QUERY}` } },
      ],
    }),
  );
  const child = spawnGatewayCli(file, { logLevel: "debug", stderr: "piped", gatewaySecret: GATEWAY_SECRET });
  const reader = new LineReader(child.stdout);
  const stderr = new Response(child.stderr).text();
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  try {
    const output = (await reader.until((l) => l.startsWith("gateway "))).join("\n");
    // The lines still say which endpoint they are about.
    assert.match(output, /^member signed {2}connected {2}data http:\/\/127\.0\.0\.1:\d+\/\?api-key=\*\*\*&sig=\*\*\*/m);
    assert.match(output, /^member down {2}unavailable {2}ERR_CONNECTION_FAILED/m);
    assert.match(output, /^member downws {2}unavailable {2}ERR_CONNECTION_FAILED/m);
    // Let a background retry or two log at debug level, then stop.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    child.kill("SIGTERM");
    const all = output + "\n" + await reader.rest() + "\n" + await stderr;
    assert.ok(all.includes("***"), "redacted URLs are shown");
    assert.ok(
      !all.includes("SECRET"),
      `a credential was printed:\n${all.split("\n").filter((l) => l.includes("SECRET")).join("\n")}`,
    );
    assert.equal((await child.status).code, 0);
  } finally {
    clearTimeout(timer);
    reader.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Redaction: proxy errors and log lines about an unreachable member carry no query value", async () => {
  const log = recordingLogger();
  await using proxy = new FederationProxy(SECRET, { logger: log.logger, connectTimeout: 1_000 });
  for (
    const endpoints of [
      { data: `http://127.0.0.1:${freePort()}/mcp${QUERY}` },
      { control: `ws://127.0.0.1:${freePort()}/${QUERY}` },
    ]
  ) {
    const error = await proxy.registerServer({ serverId: "down", endpoints }).then(() => undefined, (e) => e);
    assert.ok(error instanceof Error);
    assert.equal((error as { code?: string }).code, "ERR_CONNECTION_FAILED");
    assert.ok(!error.message.includes("SECRET"), error.message);
  }
  assert.ok(!JSON.stringify(log.lines).includes("SECRET"), JSON.stringify(log.lines));
});

Deno.test("Redaction: the membership API's view of a member (redactMember) hides query values and passwords", () => {
  const shown = redactMember({
    serverId: "signed",
    endpoints: { control: `wss://m.example/${QUERY}`, data: `https://m.example/mcp${QUERY}` },
    auth: { type: "jwt", config: { sealedSecret: "v1.SECRET" } },
  });
  assert.equal(
    shown.endpoints.data,
    "https://m.example/mcp?api-key=***&sig=***&signature=***&X-Amz-Signature=***&client_secret=***",
  );
  assert.ok(!JSON.stringify(shown).includes("SECRET"), JSON.stringify(shown));
});
