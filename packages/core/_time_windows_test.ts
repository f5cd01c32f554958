import assert from "node:assert/strict";
import { TimeWindows } from "./_time_windows.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("TimeWindows: each window expires once its time has passed, in order; a closed one never does", async () => {
  const window = new TimeWindows(40);
  const expired: string[] = [];
  const started = performance.now();
  const at: Record<string, number> = {};
  const open = (name: string) =>
    window.open(() => {
      expired.push(name);
      at[name] = performance.now() - started;
    });
  open("a");
  const closeB = open("b");
  await sleep(15);
  open("c");
  closeB();
  await sleep(250);
  assert.deepEqual(expired, ["a", "c"]);
  assert.ok(at.a! >= 39 && at.c! >= 54, JSON.stringify(at));
  // Windows opened after the timer went quiet are kept too.
  open("d");
  const closeE = open("e");
  closeE();
  closeE();
  await sleep(250);
  assert.deepEqual(expired, ["a", "c", "d"]);
});

Deno.test("TimeWindows: a callback that throws loses only its own window", async () => {
  const windows = new TimeWindows(20);
  const expired: string[] = [];
  windows.open(() => {
    throw new Error("a broken callback");
  });
  windows.open(() => void expired.push("after"));
  await sleep(150);
  windows.open(() => void expired.push("later"));
  await sleep(150);
  assert.deepEqual(expired, ["after", "later"]);
});
