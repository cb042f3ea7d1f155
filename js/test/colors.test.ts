import assert from "node:assert/strict";
import { test } from "node:test";
import {
  autoRange, colorizeIntensity, fmix32, hexToRgb, idWords, packRGBA,
  rgbToHex, segmentColor, segmentHash, unpackRGBA, windowValue,
} from "../src/colors.ts";
import { colorizeSegments, segmentPainter } from "../src/segments.ts";
import fixtures from "./fixtures/fixtures.json";

test("segment colors are the same as Python's (render.segment_color)", () => {
  for (const c of fixtures.segment_colors) {
    assert.equal(segmentHash(c.lo, c.hi), c.hash, `hash of ${c.id}`);
    assert.deepEqual(segmentColor(c.lo, c.hi), c.rgb, `color of ${c.id}`);
    assert.deepEqual(idWords(BigInt(c.id)), [c.lo, c.hi]);
  }
  assert.deepEqual(idWords(-1), [0xffffffff, 0xffffffff]);
  assert.equal(fmix32(0), 0);
});

test("pack and unpack RGBA; hex colors", () => {
  assert.deepEqual(unpackRGBA(packRGBA(1, 2, 3, 4)), [1, 2, 3, 4]);
  assert.deepEqual(unpackRGBA(packRGBA(255, 0, 128, 255)), [255, 0, 128, 255]);
  assert.deepEqual(hexToRgb("#ff8000"), [255, 128, 0]);
  assert.deepEqual(hexToRgb("nonsense"), [255, 255, 255]);
  assert.equal(rgbToHex([255, 128, 0]), "#ff8000");
});

test("contrast window", () => {
  assert.equal(windowValue(0, 0, 255), 0);
  assert.equal(windowValue(255, 0, 255), 255);
  assert.equal(windowValue(50, 100, 200), 0);
  assert.equal(windowValue(151, 100, 200), 130);
  assert.equal(windowValue(300, 100, 200), 255);
  assert.equal(windowValue(NaN, 0, 1), 0);
  assert.equal(windowValue(5, 5, 5), 255);
});

test("intensity colorizing through LUTs and direct math agree", () => {
  const u8 = new Uint8Array([0, 100, 151, 255]);
  const out = new Uint32Array(4);
  colorizeIntensity(u8, 4, 100, 200, [255, 0, 255], out);
  assert.deepEqual(unpackRGBA(out[0]!), [0, 0, 0, 255]);
  assert.deepEqual(unpackRGBA(out[2]!), [130, 0, 130, 255]);
  assert.deepEqual(unpackRGBA(out[3]!), [255, 0, 255, 255]);
  const f32 = new Float32Array([0, 100, 151, 255]);
  const out2 = new Uint32Array(4);
  colorizeIntensity(f32, 4, 100, 200, [255, 0, 255], out2);
  assert.deepEqual([...out2], [...out]);
  const i16 = new Int16Array([-32768, -100, 0, 32767]);
  const out3 = new Uint32Array(4);
  colorizeIntensity(i16, 4, -100, 100, [255, 255, 255], out3);
  assert.deepEqual(out3.map((p) => unpackRGBA(p)[0]!), new Uint32Array([0, 0, windowValue(0, -100, 100), 255]));
  // uint64 as words
  const w64 = new Uint32Array([5, 0, 0, 1]);
  const out4 = new Uint32Array(2);
  colorizeIntensity(w64, 2, 0, 10, [255, 255, 255], out4, true);
  assert.deepEqual(unpackRGBA(out4[0]!), [128, 128, 128, 255]);
  assert.deepEqual(unpackRGBA(out4[1]!), [255, 255, 255, 255]);
});

test("segmentation: 0 transparent, hashed colors, hovered id highlighted", () => {
  const ids = new Uint32Array([0, 7, 7, 9]);
  const out = new Uint32Array(4);
  colorizeSegments(ids, 4, out, segmentPainter({ alpha: 128, mode: "all", selected: [], hidden: [], hover: [9, 0] }));
  assert.equal(out[0], 0);
  const [r, g, b] = segmentColor(7);
  assert.deepEqual(unpackRGBA(out[1]!), [r, g, b, 128]);
  assert.equal(out[2], out[1]);
  const [r9, g9, b9] = segmentColor(9);
  assert.deepEqual(unpackRGBA(out[3]!), [(r9 + 255) >> 1, (g9 + 255) >> 1, (b9 + 255) >> 1, 255]);
  // 64-bit words
  const w = new Uint32Array([5, 1, 0, 0]);
  const out2 = new Uint32Array(2);
  colorizeSegments(w, 2, out2, segmentPainter({ alpha: 255, mode: "all", selected: [], hidden: [] }), true);
  const c = segmentColor(5, 1);
  assert.deepEqual(unpackRGBA(out2[0]!), [...c, 255]);
  assert.equal(out2[1], 0);
  // signed ids sign-extend like Python
  const neg = new Int32Array([-1]);
  const out3 = new Uint32Array(1);
  colorizeSegments(neg, 1, out3, segmentPainter({ alpha: 255, mode: "all", selected: [], hidden: [] }));
  assert.deepEqual(unpackRGBA(out3[0]!).slice(0, 3), segmentColor(0xffffffff, 0xffffffff));
});

test("automatic contrast from percentiles", () => {
  const v = new Uint16Array(10000);
  for (let k = 0; k < v.length; k++) v[k] = k % 1000;
  const r = autoRange(v, v.length)!;
  assert.ok(r[0] <= 10 && r[1] >= 990 && r[1] <= 999);
  assert.deepEqual(autoRange(new Uint8Array([7, 7, 7]), 3), [7, 8]);
  assert.equal(autoRange(new Float32Array([NaN]), 1), null);
});
