import assert from "node:assert/strict";
import { test } from "node:test";
import { packRGBA, unpackRGBA, type RGB } from "../src/colors.ts";
import { colorizeMapped, colorOf, gradientCss, isPlain, mapRGB, normalized, type Colormap } from "../src/colormaps.ts";
import fixtures from "./fixtures/analysis.json";

test("colour maps give Python's pixels (colormaps.apply)", () => {
  for (const c of fixtures.colors) {
    const p = { lo: c.range[0]!, hi: c.range[1]!, colormap: c.colormap as Colormap, color: c.color as RGB, invert: c.invert, gamma: c.gamma };
    c.values.forEach((v, k) => {
      const got = unpackRGBA(colorOf(v, p));
      const want = c.rgba[k]!;
      // gamma: Math.pow and numpy may differ in the last bit; allow one step
      got.forEach((g, ch) => assert.ok(Math.abs(g - want[ch]!) <= (c.gamma === 1 ? 0 : 1), `${JSON.stringify(p)} at ${v}: ${got} vs ${want}`));
    });
  }
});

test("lookup tables of 8- and 16-bit data equal the per-value path", () => {
  const p = { lo: 10, hi: 200, colormap: "magma" as Colormap, color: [255, 255, 255] as RGB, invert: true, gamma: 0.7 };
  for (const values of [Uint8Array.from([0, 10, 99, 200, 255]), Int16Array.from([-300, 0, 10, 150, 30000]), Float32Array.from([0, 10, 99.5, 200, 255])]) {
    const out = new Uint32Array(values.length);
    colorizeMapped(values, values.length, p, out);
    values.forEach((v, k) => assert.equal(out[k], colorOf(v, p)));
  }
});

test("window, invert, gamma and the map ends", () => {
  assert.equal(normalized(5, 0, 10), 0.5);
  assert.equal(normalized(-1, 0, 10), 0);
  assert.equal(normalized(NaN, 0, 10), 0);
  assert.equal(normalized(3, 3, 3), 1);
  assert.deepEqual(mapRGB(0, "viridis", [0, 0, 0]), [0x44, 0x01, 0x54]);
  assert.deepEqual(mapRGB(1, "viridis", [0, 0, 0]), [0xfd, 0xe7, 0x25]);
  assert.deepEqual(mapRGB(1, "grey", [255, 0, 0]), [255, 255, 255]);
  assert.deepEqual(mapRGB(1, "tint", [255, 0, 0]), [255, 0, 0]);
  const p = { lo: 0, hi: 100, colormap: "grey" as Colormap, color: [255, 255, 255] as RGB, invert: true, gamma: 1 };
  assert.equal(colorOf(0, p), packRGBA(255, 255, 255, 255));
  assert.equal(colorOf(100, p), packRGBA(0, 0, 0, 255));
  assert.ok(unpackRGBA(colorOf(50, { ...p, invert: false, gamma: 2 }))[0] < 128);
  assert.ok(isPlain({ colormap: "tint", invert: false, gamma: 1 }));
  assert.ok(!isPlain({ colormap: "viridis", invert: false, gamma: 1 }));
  assert.match(gradientCss("viridis", [0, 0, 0], false, 1), /^linear-gradient\(to right, rgb\(68,1,84\) 0%/);
});
