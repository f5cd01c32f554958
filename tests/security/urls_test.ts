import assert from "node:assert/strict";
import { FederationProxy } from "../../mod.ts";
import { recordingLogger, SECRET, waitFor } from "../_support/members.ts";
import { relayedMember, text } from "../_support/relayed.ts";
import { sleep } from "../../packages/core/_sleep.ts";

/** One HTTP request head as the proxy put it on the wire. */
interface RequestHead {
  method: string;
  target: string;
  headers: Map<string, string[]>;
}

/** Every HTTP/1.1 request head in what a client sent on one connection (WebSocket frames after it are masked). */
function requestHeads(stream: string): RequestHead[] {
  const heads: RequestHead[] = [];
  const start = /(GET|POST|DELETE|PUT|PATCH|HEAD|OPTIONS) (\S+) HTTP\/1\.1\r\n/g;
  for (const match of stream.matchAll(start)) {
    const end = stream.indexOf("\r\n\r\n", match.index);
    const lines = stream.slice(match.index + match[0].length, end).split("\r\n");
    const headers = new Map<string, string[]>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      headers.set(name, [...headers.get(name) ?? [], line.slice(colon + 1).trim()]);
    }
    heads.push({ method: match[1]!, target: match[2]!, headers });
  }
  return heads;
}

Deno.test("Security: no request the proxy makes carries a token in its URL; every one carries it in Authorization", async () => {
  const memberLog = recordingLogger();
  const proxyLog = recordingLogger();
  await using setup = await relayedMember("wire", { extra: { logger: memberLog.logger } });
  for (const relay of setup.relays) relay.capture = true;
  await using proxy = new FederationProxy(SECRET, {
    logger: proxyLog.logger,
    heartbeatInterval: 300,
    heartbeatTimeout: 300,
    connectTimeout: 1_000,
    backoff: { initialDelay: 20, maxDelay: 100 },
  });
  // Two-second tokens: renewed in band on control, re-minted for data requests, during the run.
  await proxy.registerServer({ ...setup.config, auth: { type: "jwt", config: { expiresIn: 2 } } });
  const end = performance.now() + 3_500;
  let round = 0;
  while (performance.now() < end) {
    for (const channel of ["control", "data"] as const) {
      await proxy.callTool("wire", "echo", { text: "w" }, { channel, idempotent: true }).catch(() => {});
    }
    if (++round === 20) {
      // New connections: fresh upgrades and a fresh initialize, with tokens minted then.
      for (const relay of setup.relays) relay.cut();
    }
    if (round === 40) {
      // A new member process: the data session is lost and re-initialized.
      await setup.member.stop();
      await setup.member.restart();
    }
    await sleep(20);
  }
  await waitFor(() => proxy.getServerStatus("wire")?.state === "connected", 3_000, "connected");
  assert.equal(text(await proxy.callTool("wire", "echo", { text: "end" })), "end");

  const heads = setup.relays.flatMap((relay) => relay.sentText().flatMap(requestHeads));
  const tokens = new Set<string>();
  for (const head of heads) {
    const authorization = head.headers.get("authorization") ?? [];
    assert.equal(authorization.length, 1, `${head.method} ${head.target}: one Authorization header`);
    const token = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/.exec(authorization[0]!)?.[1];
    assert.ok(token, `${head.method} ${head.target}: a bearer JWT`);
    tokens.add(token);
  }
  for (const head of heads) {
    const url = new URL(head.target, "http://member");
    assert.equal(url.search, "", `${head.method} ${head.target}: no query at all`);
    assert.ok(!/eyJ[\w-]+\.eyJ/.test(head.target), `${head.method} ${head.target}: a JWT in the URL`);
    for (const token of tokens) {
      assert.ok(!head.target.includes(token.split(".")[2]!), `${head.method} ${head.target}: a token in the URL`);
    }
  }
  const upgrades = heads.filter((h) => h.headers.get("upgrade")?.[0]?.toLowerCase() === "websocket").length;
  const methods = new Set(heads.map((h) => h.method));
  console.log(
    `urls: ${heads.length} requests inspected (${upgrades} WebSocket upgrades, methods ${[...methods].join("/")}), ` +
      `${tokens.size} distinct tokens, none in a URL`,
  );
  assert.ok(upgrades >= 2, "the control channel reconnected");
  assert.ok(methods.has("POST") && heads.length > 50);
  assert.ok(tokens.size >= 3, "tokens were renewed during the run");
  for (const line of [...memberLog.lines, ...proxyLog.lines]) {
    assert.ok(!line.includes(SECRET), `a log line holds the secret: ${line}`);
    for (const token of tokens) assert.ok(!line.includes(token.split(".")[2]!), `a log line holds a token: ${line}`);
  }
});
