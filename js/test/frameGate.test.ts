import assert from "node:assert/strict";
import { test } from "node:test";
import { COUNTER_REFRESH_MS, FrameGate, PROGRESSIVE_PAINT_MS } from "../src/frameGate.ts";

function setup() {
  let now = 1000;
  const timers: { fn: () => void; at: number; id: number }[] = [];
  let nextId = 0;
  const log: string[] = [];
  const gate = new FrameGate({
    paint: () => log.push(`paint@${now}`),
    refresh: () => log.push(`refresh@${now}`),
    now: () => now,
    setTimer: (fn, ms) => { const id = ++nextId; timers.push({ fn, at: now + ms, id }); return id; },
    clearTimer: (id) => { const k = timers.findIndex((t) => t.id === id); if (k >= 0) timers.splice(k, 1); },
  });
  const advance = (ms: number) => {
    now += ms;
    for (const t of [...timers].sort((a, b) => a.at - b.at)) {
      if (t.at <= now) { timers.splice(timers.indexOf(t), 1); t.fn(); }
    }
  };
  return { gate, log, advance, timers };
}

test("the arrival that completes the view paints at once", () => {
  const { gate, log } = setup();
  gate.framed({ shown: ["a", "b", "c"], missing: ["a", "b"] });
  assert.equal(gate.arrived("a"), "later");
  assert.equal(gate.arrived("b"), "now");
  assert.deepEqual(log, ["paint@1000"]);
});

test("while a view loads, arrivals paint at most every PROGRESSIVE_PAINT_MS", () => {
  const { gate, log, advance, timers } = setup();
  gate.framed({ shown: ["a", "b", "c", "d"], missing: ["a", "b", "c", "d"] });
  assert.equal(gate.arrived("a"), "later");
  assert.equal(gate.arrived("b"), "later");
  assert.equal(timers.length, 1, "one timer for both");
  advance(PROGRESSIVE_PAINT_MS - 1);
  assert.deepEqual(log, []);
  advance(1);
  assert.deepEqual(log, [`paint@${1000 + PROGRESSIVE_PAINT_MS}`]);
  // long after the last frame, an arrival paints at once
  advance(PROGRESSIVE_PAINT_MS);
  assert.equal(gate.arrived("c"), "now");
});

test("a frame cancels the pending progressive paint", () => {
  const { gate, log, advance, timers } = setup();
  gate.framed({ shown: ["a", "b", "c"], missing: ["a", "b", "c"] });
  gate.arrived("a");
  advance(10);
  gate.framed({ shown: ["a", "b", "c"], missing: ["b", "c"] }); // something else painted meanwhile
  assert.equal(timers.length, 0);
  advance(PROGRESSIVE_PAINT_MS);
  assert.deepEqual(log, []);
});

test("tiles no view shows never paint; they refresh the counters, once per interval", () => {
  const { gate, log, advance } = setup();
  gate.framed({ shown: ["a"], missing: [] });
  assert.equal(gate.arrived("margin-1"), "none");
  assert.equal(gate.arrived("margin-2"), "none");
  advance(COUNTER_REFRESH_MS);
  assert.deepEqual(log, [`refresh@${1000 + COUNTER_REFRESH_MS}`]);
  gate.destroy();
  gate.arrived("margin-3");
  gate.destroy();
  advance(COUNTER_REFRESH_MS);
  assert.equal(log.length, 1, "destroy cancels the timers");
});
