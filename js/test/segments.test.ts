import assert from "node:assert/strict";
import { test } from "node:test";
import { idWords, unpackRGBA } from "../src/colors.ts";
import { clickSelection, colorizePalette, colorizeSegments, idKey, parseIds, segmentPainter, wordsToId, type SegmentMode } from "../src/segments.ts";
import fixtures from "./fixtures/analysis.json";

test("segment pixels with a selection equal Python's (segments.render_segments)", () => {
  for (const c of fixtures.segments) {
    const paint = segmentPainter({
      alpha: Math.round(c.opacity * 255), mode: c.mode as SegmentMode, selected: c.selected, hidden: c.hidden,
      colors: (c as { colors?: Record<string, { color?: number[] }> }).colors ?? null,
    });
    c.ids.forEach((id, k) => {
      const [lo, hi] = idWords(BigInt(id));
      assert.deepEqual(unpackRGBA(paint(lo, hi)), c.rgba[k], `${JSON.stringify(c)} id ${id}`);
    });
  }
});

test("colorizePalette paints as colorizeSegments does, one id at a time", () => {
  const paint = segmentPainter({ alpha: 128, mode: "all_but_hidden", selected: [7], hidden: [9], hover: [3, 0] });
  const ids = new Uint32Array([0, 3, 7, 9, 4000000000]);
  const index = new Uint8Array([4, 4, 0, 1, 2, 3, 3, 1, 0]);
  const values = new Uint32Array(index.length).map((_, k) => ids[index[k]!]!);
  const a = new Uint32Array(index.length), b = new Uint32Array(index.length);
  colorizePalette(ids, index, index.length, a, paint);
  colorizeSegments(values, index.length, b, paint);
  assert.deepEqual(a, b);
  const words = new Uint32Array([5, 1, 0, 0]); // ids 2^32 + 5 and 0
  const index16 = new Uint16Array([0, 1, 0]);
  const c = new Uint32Array(3), d = new Uint32Array(3);
  const p64 = segmentPainter({ alpha: 100, mode: "selected", selected: [4294967301], hidden: [] });
  colorizePalette(words, index16, 3, c, p64, true);
  colorizeSegments(new Uint32Array([5, 1, 0, 0, 5, 1]), 3, d, p64, true);
  assert.deepEqual(c, d);
  assert.notEqual(c[0], 0);
});

test("colorizeSegments paints every pixel, 64-bit ids as two words", () => {
  const paint = segmentPainter({ alpha: 100, mode: "selected", selected: [5], hidden: [] });
  const values = Uint32Array.from([5, 5, 0, 6, 5]);
  const out = new Uint32Array(5);
  colorizeSegments(values, 5, out, paint);
  assert.deepEqual([...out].map((p) => unpackRGBA(p)[3]), [255, 255, 0, 0, 255]);
  const words = Uint32Array.from([5, 1, 5, 0]);
  const out64 = new Uint32Array(2);
  colorizeSegments(words, 2, out64, segmentPainter({ alpha: 100, mode: "selected", selected: [4294967301], hidden: [] }), true);
  assert.equal(unpackRGBA(out64[0]!)[3], 255);
  assert.equal(out64[1], 0);
});

test("clicks select, add, toggle and clear", () => {
  assert.deepEqual(clickSelection([1, 2], 3, false), [3]);
  assert.deepEqual(clickSelection([1, 2], 3, true), [1, 2, 3]);
  assert.deepEqual(clickSelection([1, 2], 2, true), [1]);
  assert.deepEqual(clickSelection([1, 2], 0, false), []);
  assert.deepEqual(clickSelection([1, 2], 0, true), [1, 2]);
});

test("typed ids and id keys", () => {
  assert.deepEqual(parseIds("12, 7 33;7 x -4 0"), [12, 7, 33]);
  assert.equal(idKey(4294967301), "1:5");
  assert.equal(idKey(5n), "0:5");
  assert.equal(wordsToId(5, 1), 4294967301);
  assert.equal(wordsToId(1, 0x80000000), (1n << 63n) + 1n);
});
