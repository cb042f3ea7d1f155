import assert from "node:assert/strict";
import { test } from "node:test";
import { barHeights, histogram, histogramDomain, sampleValues, valueToX, xToValue } from "../src/histogram.ts";

test("histogram counts values into equal bins, clamping outliers", () => {
  const h = histogram([0, 1, 2, 254, 255, 300, -4, NaN], 0, 256, 4);
  assert.deepEqual([...h.counts], [4, 0, 0, 3]);
  assert.equal(h.total, 7);
  const bars = barHeights(h);
  assert.equal(bars[0], 1);
  assert.equal(bars[1], 0);
  assert.ok(bars[3]! > 0 && bars[3]! < 1);
});

test("domain: the type's range for 8-bit, else the data widened by the window", () => {
  assert.deepEqual(histogramDomain([3, 9], "uint8", null), [0, 255]);
  assert.deepEqual(histogramDomain([300, 900], "uint16", [0, 1000]), [0, 1000]);
  assert.deepEqual(histogramDomain([300, 900], "float", null), [300, 900]);
  assert.deepEqual(histogramDomain([], "float", null), [0, 255]);
});

test("screen <-> value and sampling", () => {
  assert.equal(valueToX(50, 0, 100, 200), 100);
  assert.equal(xToValue(100, 0, 100, 200), 50);
  const out: number[] = [];
  sampleValues(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 8, false, 4, out);
  assert.deepEqual(out, [1, 3, 5, 7]);
  const out64: number[] = [];
  sampleValues(Uint32Array.from([5, 1]), 1, true, 10, out64);
  assert.deepEqual(out64, [4294967301]);
});
