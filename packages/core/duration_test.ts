import assert from "node:assert/strict";
import { parseDuration } from "./duration.ts";

const GOOD: [string | number, number][] = [
  ["1h", 3600],
  ["24h", 86400],
  ["90s", 90],
  ["1500ms", 1.5],
  ["7d", 604800],
  ["2m", 120],
  ["1.5h", 5400],
  [" 1h ", 3600],
  [30, 30],
  ["30", 30],
  [0.5, 0.5],
];

for (const [input, seconds] of GOOD) {
  Deno.test(`parseDuration() reads ${JSON.stringify(input)} as ${seconds} seconds`, () => {
    assert.equal(parseDuration(input), seconds);
  });
}

const BAD: (string | number)[] = ["", "   ", "abc", "-1", "1y", "h", "1hh", "1 h 2m", "0", "0s", 0, -5, NaN, Infinity];

for (const input of BAD) {
  Deno.test(`parseDuration() rejects ${typeof input === "number" ? String(input) : JSON.stringify(input)}`, () => {
    assert.throws(() => parseDuration(input), RangeError);
  });
}

Deno.test("parseDuration() rejects a value that is neither a string nor a number", () => {
  assert.throws(() => parseDuration(null as unknown as string), RangeError);
  assert.throws(() => parseDuration({} as unknown as string), RangeError);
});
