import assert from "node:assert/strict";
import { test } from "node:test";
import { debounce, formatBytes } from "../src/dom.ts";

test("debounce sends the latest value once per interval, flush sends now", async () => {
  const calls: number[] = [];
  const d = debounce((v: number) => calls.push(v), 20);
  d(1);
  d(2);
  d(3);
  assert.deepEqual(calls, []);
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(calls, [3]);
  d(4);
  d.flush();
  assert.deepEqual(calls, [3, 4]);
  d(5);
  d.cancel();
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(calls, [3, 4]);
});

test("byte counts for the meters", () => {
  assert.equal(formatBytes(12), "12 B");
  assert.equal(formatBytes(2048), "2.0 kB");
  assert.equal(formatBytes(3 * 1024 * 1024), "3.0 MB");
});
