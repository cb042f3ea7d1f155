import assert from "node:assert/strict";
import { test } from "node:test";
import { LRU } from "../src/lru.ts";

test("evicts the least recently used within the budget", () => {
  const evicted: string[] = [];
  const lru = new LRU<string, number>(3, (k) => evicted.push(k));
  lru.set("a", 1);
  lru.set("b", 2);
  lru.set("c", 3);
  assert.equal(lru.get("a"), 1); // a is now the most recent
  lru.set("d", 4);
  assert.deepEqual(evicted, ["b"]);
  assert.equal(lru.has("b"), false);
  assert.deepEqual([...lru.keys()], ["c", "a", "d"]);
});

test("sizes count against the budget; peek does not touch recency", () => {
  const lru = new LRU<string, string>(10);
  lru.set("big", "x", 6);
  lru.set("small", "y", 3);
  assert.equal(lru.totalSize, 9);
  lru.peek("big");
  lru.set("more", "z", 4); // 13 > 10 -> evict big (oldest)
  assert.equal(lru.has("big"), false);
  assert.equal(lru.totalSize, 7);
  lru.set("small", "y2", 1); // replace updates size
  assert.equal(lru.totalSize, 5);
  assert.equal(lru.delete("small"), true);
  assert.equal(lru.totalSize, 4);
  lru.capacity = 2; // shrinking evicts
  assert.equal(lru.size, 0);
});

test("an entry larger than the budget is kept alone", () => {
  const lru = new LRU<string, number>(5);
  lru.set("a", 1, 2);
  lru.set("huge", 2, 50);
  assert.deepEqual([...lru.keys()], ["huge"]);
  lru.clear();
  assert.equal(lru.size, 0);
  assert.equal(lru.totalSize, 0);
});
