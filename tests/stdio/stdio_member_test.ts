// stdio members of a FederationProxy: the process is spawned, spoken to over stdin/stdout, supervised (restart after
// a kill), isolated from the proxy's environment, bounded (maxStdioMembers), and removed without leftovers.
import assert from "node:assert/strict";
import { ConfigError, ConnectionError, ProtocolError } from "../../packages/core/errors.ts";
import { FederationProxy } from "../../packages/proxy/mod.ts";
import { SECRET } from "../_support/members.ts";
import {
  fixtureConfig,
  fixtureEndpoint,
  groupMembers,
  newMarker,
  ownDescriptors,
  processesWith,
  recordingLogger,
  rejects,
  stdioPipesOf,
  until,
} from "./_support.ts";

function textOf(result: { content: unknown }): string {
  const [first] = result.content as { type: string; text?: string }[];
  return first?.text ?? "";
}

Deno.test("FederationProxy registers a stdio member: catalog, calls and a 'stdio' channel with its pid", async () => {
  const logger = recordingLogger();
  await using proxy = new FederationProxy(SECRET, { logger });
  const marker = newMarker("basic");
  const status = await proxy.registerServer(fixtureConfig("fx", marker));
  assert.deepEqual(status.state, "connected");
  assert.deepEqual(Object.keys(status.channels), ["stdio"]);
  assert.deepEqual(status.channels.stdio?.state, "up");
  assert.deepEqual(status.channels.stdio?.url, `stdio:${Deno.execPath()}`);
  const pid = status.channels.stdio?.pid;
  assert.ok(pid !== undefined && processesWith(marker).includes(pid));
  // The process is the leader of its own group, so that closing it reaches what it started.
  assert.ok(groupMembers(pid).includes(pid));
  assert.deepEqual(textOf(await proxy.callTool("fx", "echo", { text: "hello" })), "hello");
  assert.deepEqual(textOf(await proxy.callTool("fx", "pid", {})), String(pid));
  const names = (await proxy.catalog.listTools()).map((t) => t.name);
  assert.ok(names.includes("fx__echo") && names.includes("fx__ask"));
  // Its stderr reaches the logger line by line with the serverId.
  assert.ok(logger.lines.some((l) => l.data?.serverId === "fx" && l.data?.line === "stdio fixture ready"));
  await proxy.removeServer("fx");
  assert.deepEqual(processesWith(marker), []);
});

Deno.test("FederationProxy restarts a stdio member killed with SIGKILL, and calls succeed again", async () => {
  await using proxy = new FederationProxy(SECRET, {
    logger: recordingLogger(),
    backoff: { initialDelay: 10, maxDelay: 50 },
  });
  const marker = newMarker("kill");
  const first = (await proxy.registerServer(fixtureConfig("fx", marker))).channels.stdio?.pid;
  assert.ok(first !== undefined);
  const states: string[] = [];
  proxy.addEventListener("reconnecting", () => states.push("reconnecting"));
  proxy.addEventListener("connected", () => states.push("connected"));
  Deno.kill(first, "SIGKILL");
  assert.ok(
    await until(() => {
      const pid = proxy.getServerStatus("fx")?.channels.stdio?.pid;
      return proxy.getServerStatus("fx")?.state === "connected" && pid !== undefined && pid !== first;
    }),
  );
  const status = proxy.getServerStatus("fx")!;
  assert.deepEqual(status.channels.stdio?.lastError?.code, "ERR_CONNECTION_CLOSED");
  assert.ok(
    status.channels.stdio?.lastError?.message.includes("signal SIGKILL"),
    status.channels.stdio?.lastError?.message,
  );
  assert.deepEqual(states, ["reconnecting", "connected"]);
  assert.deepEqual(textOf(await proxy.callTool("fx", "echo", { text: "again" })), "again");
  assert.deepEqual(textOf(await proxy.callTool("fx", "pid", {})), String(status.channels.stdio?.pid));
  assert.deepEqual(processesWith(marker).length, 1);
  await proxy.close();
  assert.deepEqual(processesWith(marker), []);
});

Deno.test("FederationProxy refuses a stdio member past maxStdioMembers with a ConfigError", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: recordingLogger(), maxStdioMembers: 2 });
  const marker = newMarker("cap");
  await proxy.registerServer(fixtureConfig("a", marker, "stdio_tiny"));
  await proxy.registerServer(fixtureConfig("b", marker, "stdio_tiny"));
  const error = await rejects(() => proxy.registerServer(fixtureConfig("c", marker, "stdio_tiny")), ConfigError);
  assert.deepEqual(error.code, "ERR_CONFIG_INVALID");
  assert.deepEqual(error.field, "endpoints.stdio");
  assert.deepEqual(processesWith(marker).length, 2);
  // A place freed is a place taken again.
  await proxy.removeServer("a");
  await proxy.registerServer(fixtureConfig("c", marker, "stdio_tiny"));
  assert.deepEqual(processesWith(marker).length, 2);
});

Deno.test("A stdio member gets envFrom by reference and none of the proxy's other variables", async () => {
  const name = `FMCP_TEST_REF_${crypto.randomUUID().slice(0, 8).replaceAll("-", "")}`;
  Deno.env.set(name, "value-of-17-chars");
  Deno.env.set("FMCP_TEST_PROXY_ONLY", "x");
  try {
    await using proxy = new FederationProxy(SECRET, { logger: recordingLogger() });
    const endpoint = fixtureEndpoint(newMarker("env"));
    await proxy.registerServer({
      serverId: "fx",
      endpoints: { stdio: { ...endpoint, env: { PLAIN: "1" }, envFrom: { CHILD_TOKEN: name } } },
    });
    assert.deepEqual(textOf(await proxy.callTool("fx", "secret_length", { name: "CHILD_TOKEN" })), "17");
    const seen = JSON.parse(textOf(await proxy.callTool("fx", "env", { names: ["PLAIN", "FMCP_TEST_PROXY_ONLY"] })));
    assert.deepEqual(seen, [["PLAIN", true], ["FMCP_TEST_PROXY_ONLY", false]]);
  } finally {
    Deno.env.delete(name);
    Deno.env.delete("FMCP_TEST_PROXY_ONLY");
  }
});

Deno.test("FederationProxy.registerServer() fails a stdio member whose envFrom variable is unset, naming it", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: recordingLogger() });
  const marker = newMarker("unset");
  const endpoint = { ...fixtureEndpoint(marker), envFrom: { TOKEN: "FMCP_TEST_NEVER_SET" } };
  const error = await rejects(
    () => proxy.registerServer({ serverId: "fx", endpoints: { stdio: endpoint } }),
    ConfigError,
  );
  assert.deepEqual(error.field, "endpoints.stdio.envFrom.TOKEN");
  assert.ok(error.message.includes("FMCP_TEST_NEVER_SET"));
  assert.deepEqual(proxy.hasServer("fx"), false);
  assert.deepEqual(processesWith(marker), []);
});

Deno.test("FederationProxy.registerServer() fails a stdio member whose command does not exist", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: recordingLogger() });
  const error = await rejects(
    () => proxy.registerServer({ serverId: "fx", endpoints: { stdio: { command: "/nonexistent/fmcp-server" } } }),
    ConnectionError,
  );
  assert.deepEqual(error.code, "ERR_CONNECTION_FAILED");
  assert.deepEqual(error.channel, "stdio");
  assert.ok(error.message.includes("not found"));
});

Deno.test("A stdio member's stderr is logged in bounded lines", async () => {
  const logger = recordingLogger();
  await using proxy = new FederationProxy(SECRET, { logger });
  // A shell wrapper that writes a long line to stderr before running the fixture.
  const endpoint = fixtureEndpoint(newMarker("stderr"), "stdio_tiny");
  const script = `printf '%05000d\\n' 7 >&2; exec "$0" "$@"`;
  await proxy.registerServer({
    serverId: "fx",
    endpoints: { stdio: { command: "sh", args: ["-c", script, endpoint.command, ...(endpoint.args ?? [])] } },
  });
  assert.ok(await until(() => logger.lines.some((l) => l.data?.serverId === "fx" && l.message === "stderr")));
  const line = logger.lines.find((l) => l.data?.serverId === "fx" && l.message === "stderr")!.data!.line as string;
  assert.deepEqual(line.length, 1_001);
  assert.ok(line.endsWith("…"));
});

Deno.test("A stdio member's request during the only call in flight reaches that call's onrequest", async () => {
  await using proxy = new FederationProxy(SECRET, {
    logger: recordingLogger(),
    onServerRequest: () => Promise.reject(new Error("the proxy-wide handler must not be asked")),
  });
  await proxy.registerServer(fixtureConfig("fx", newMarker("one")));
  const asked: string[] = [];
  const result = await proxy.callTool("fx", "ask", { question: "proceed?" }, {
    onrequest: (request) => {
      asked.push(`${request.method}:${(request.params as { message?: string }).message}`);
      return Promise.resolve({ action: "accept", content: { ok: true } });
    },
  });
  assert.deepEqual(textOf(result), "accept");
  assert.deepEqual(asked, ["elicitation/create:proceed?"]);
});

Deno.test("A stdio member's request during two calls in flight is refused: neither caller is asked", async () => {
  const logger = recordingLogger();
  await using proxy = new FederationProxy(SECRET, {
    logger,
    onServerRequest: () => Promise.reject(new Error("the proxy-wide handler must not be asked")),
  });
  await proxy.registerServer(fixtureConfig("fx", newMarker("two")));
  const asked: string[] = [];
  const onrequest = (who: string) => () => {
    asked.push(who);
    return Promise.resolve({ action: "accept" });
  };
  // A slow call keeps a second request outstanding on the process while `ask` runs.
  const slow = proxy.callTool("fx", "slow", { steps: 1, ms: 1_000 }, { onrequest: onrequest("slow") });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const ask = await proxy.callTool("fx", "ask", { question: "whose?" }, { onrequest: onrequest("ask") });
  // The fixture's tool fails with the refusal: a tool error result, not an answer.
  assert.deepEqual(ask.isError, true);
  assert.ok(textOf(ask).includes("cannot be established"));
  assert.deepEqual(textOf(await slow), "done");
  assert.deepEqual(asked, []);
  assert.ok(logger.lines.some((l) => l.level === "warn" && l.data?.method === "elicitation/create"));
  // Once alone again, the same request is related.
  const alone = await proxy.callTool("fx", "ask", { question: "now?" }, { onrequest: onrequest("alone") });
  assert.deepEqual(textOf(alone), "accept");
  assert.deepEqual(asked, ["alone"]);
});

Deno.test("A stdio member's progress reaches the caller's onprogress, also when it comes with the result", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: recordingLogger() });
  await proxy.registerServer(fixtureConfig("fx", newMarker("progress")));
  // Without delay the last progress and the result usually reach the proxy in one read.
  for (const ms of [10, 0, 0, 0, 0, 0]) {
    const progress: number[] = [];
    const result = await proxy.callTool("fx", "slow", { steps: 3, ms }, {
      onprogress: (p) => progress.push(p.progress),
    });
    assert.deepEqual(textOf(result), "done");
    assert.deepEqual(progress, [1, 2, 3], `ms: ${ms}`);
  }
});

Deno.test("A stdio member refuses an oversized message before writing it", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: recordingLogger(), maxMessageBytes: 1_024 });
  await proxy.registerServer(fixtureConfig("fx", newMarker("big"), "stdio_tiny"));
  const error = await rejects(() => proxy.callTool("fx", "echo", { text: "x".repeat(2_000) }), ProtocolError);
  assert.deepEqual(error.code, "ERR_MESSAGE_TOO_LARGE");
  assert.deepEqual(textOf(await proxy.callTool("fx", "echo", { text: "small" })), "small");
});

Deno.test("200 stdio register/remove cycles and a proxy close leave no child process and no open pipe", async () => {
  const marker = newMarker("cycles");
  const proxy = new FederationProxy(SECRET, { logger: recordingLogger() });
  // Our ends of every child's stdin/stdout/stderr pipes (same inodes as the child's ends).
  const pipes = new Set<string>();
  const register = async (serverId: string) => {
    const pid = (await proxy.registerServer(fixtureConfig(serverId, marker, "stdio_tiny"))).channels.stdio!.pid!;
    const own = stdioPipesOf(pid);
    assert.equal(own.length, 3);
    for (const pipe of own) pipes.add(pipe);
    assert.ok(own.every((pipe) => ownDescriptors().has(pipe)), "we hold the other end of each pipe");
  };
  for (let i = 0; i < 200; i++) {
    await register("fx");
    if (i % 50 === 0) assert.deepEqual(textOf(await proxy.callTool("fx", "echo", { text: `${i}` })), `${i}`);
    await proxy.removeServer("fx");
  }
  assert.deepEqual(processesWith(marker), []);
  assert.equal(pipes.size, 600);
  assert.deepEqual([...ownDescriptors()].filter((target) => pipes.has(target)), [], "no pipe left open");
  await register("a");
  await register("b");
  assert.deepEqual(processesWith(marker).length, 2);
  await proxy.close();
  assert.deepEqual(processesWith(marker), []);
  assert.deepEqual([...ownDescriptors()].filter((target) => pipes.has(target)), [], "no pipe left open");
});

Deno.test("Removing a stdio member kills what its process started too (its process group)", async () => {
  await using proxy = new FederationProxy(SECRET, { logger: recordingLogger() });
  const marker = newMarker("group");
  const endpoint = fixtureEndpoint(marker, "stdio_tiny");
  // The program leaves a grandchild behind: a shell that sleeps, whose command line carries the marker.
  const script = `sh -c 'sleep 300; : ${marker}' & exec "$0" "$@"`;
  await proxy.registerServer({
    serverId: "fx",
    endpoints: { stdio: { command: "sh", args: ["-c", script, endpoint.command, ...(endpoint.args ?? [])] } },
  });
  assert.ok(await until(() => processesWith(marker).length === 2), "the server and its grandchild run");
  await proxy.removeServer("fx");
  assert.deepEqual(processesWith(marker), []);
});

Deno.test("FederationProxy.registerServer() fails a stdio member whose process exits at once, with its exit code", async () => {
  const logger = recordingLogger();
  await using proxy = new FederationProxy(SECRET, { logger });
  const error = await rejects(
    () =>
      proxy.registerServer({
        serverId: "fx",
        endpoints: { stdio: { command: "sh", args: ["-c", "echo boom >&2; exit 3"] } },
      }),
    ConnectionError,
  );
  assert.equal(error.code, "ERR_CONNECTION_FAILED");
  assert.match(error.message, /exit code 3/);
  assert.equal(proxy.hasServer("fx"), false);
  assert.ok(logger.lines.some((l) => l.data?.serverId === "fx" && l.data?.line === "boom"));
});
