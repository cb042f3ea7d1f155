import assert from "node:assert/strict";
import { test } from "node:test";
import { deflateSync } from "node:zlib";
import { decodePaletteTile, decodePlanesTile, decodePng, decodeRawPlanesTile, inflateSync, inflateZlib, planesToValues, valueAt } from "../src/png.ts";
import fixtures from "./fixtures/fixtures.json";

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));

test("decodes every dtype Python's encode_png_planes sends, exactly", async () => {
  for (const t of fixtures.tiles) {
    const tile = await decodePlanesTile(b64(t.png), t.dtype, t.w, t.h);
    assert.equal(tile.w, t.w);
    for (let k = 0; k < t.w * t.h; k++) {
      const got = valueAt(tile, k % t.w, Math.floor(k / t.w));
      const want = t.values[k]!;
      if (typeof want === "string") assert.equal(String(got), want, `${t.dtype}[${k}]`);
      else assert.equal(got, want, `${t.dtype}[${k}]`);
    }
  }
});

test("decodes Python's palette tiles (segment ids) exactly, with the palette for colouring", async () => {
  assert.ok(fixtures.palette_tiles.length >= 6);
  for (const t of fixtures.palette_tiles) {
    const tile = await decodePaletteTile(b64(t.data), t.dtype, t.w, t.h);
    assert.ok(tile.palette);
    const distinct = new Set(t.values.map(String));
    assert.equal(tile.palette.ids.length, distinct.size * (tile.words64 ? 2 : 1));
    assert.equal(tile.palette.index instanceof Uint16Array, distinct.size > 256);
    for (let k = 0; k < t.w * t.h; k++) {
      const got = valueAt(tile, k % t.w, Math.floor(k / t.w));
      const want = t.values[k]!;
      if (typeof want === "string") assert.equal(String(got), want, `${t.dtype}[${k}]`);
      else assert.equal(got, want, `${t.dtype}[${k}]`);
    }
  }
  const t = fixtures.palette_tiles[1]!;
  const bytes = b64(t.data);
  await assert.rejects(decodePaletteTile(bytes.subarray(0, 3), t.dtype, t.w, t.h), /too short/);
  await assert.rejects(decodePaletteTile(bytes, t.dtype, t.w, t.h + 1), /expected/);
  await assert.rejects(decodePaletteTile(bytes, "uint8", t.w, t.h), /no palette/);
  const small = bytes.slice();
  small[0] = 2; // fewer ids than the index refers to: the ids' bytes shift into the PNG
  await assert.rejects(decodePaletteTile(small, t.dtype, t.w, t.h));
});

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let k = 0; k < 4; k++) out[4 + k] = type.charCodeAt(k);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A gray8 PNG whose rows use the given filters (encoded here, by the PNG rules). */
function makePng(pixels: number[][], filters: number[]): Uint8Array {
  const h = pixels.length;
  const w = pixels[0]!.length;
  const raw: number[] = [];
  for (let y = 0; y < h; y++) {
    const f = filters[y]!;
    raw.push(f);
    for (let x = 0; x < w; x++) {
      const cur = pixels[y]![x]!;
      const a = x > 0 ? pixels[y]![x - 1]! : 0;
      const b = y > 0 ? pixels[y - 1]![x]! : 0;
      const c = x > 0 && y > 0 ? pixels[y - 1]![x - 1]! : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      raw.push((cur - pred + 256) & 255);
    }
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, w);
  dv.setUint32(4, h);
  ihdr[8] = 8;
  ihdr[9] = 0;
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(new Uint8Array(raw)))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test("the synchronous and the stream inflate agree", async () => {
  const data = new Uint8Array(5000).map((_, k) => (k * 7) % 251);
  const z = new Uint8Array(deflateSync(data));
  assert.deepEqual(inflateSync(z), data);
  assert.deepEqual(await inflateZlib(z), data);
  for (const t of fixtures.tiles.slice(0, 3)) {
    const a = await decodePlanesTile(b64(t.png), t.dtype, t.w, t.h, inflateSync);
    const b = await decodePlanesTile(b64(t.png), t.dtype, t.w, t.h, inflateZlib);
    assert.deepEqual([...a.values], [...b.values]);
  }
});

test("all five PNG filters", async () => {
  const pixels = [
    [10, 200, 30, 255, 0],
    [11, 12, 250, 3, 99],
    [200, 100, 50, 25, 12],
    [0, 255, 0, 255, 0],
    [77, 78, 79, 80, 81],
  ];
  const png = await decodePng(makePng(pixels, [0, 1, 2, 3, 4]));
  assert.equal(png.width, 5);
  assert.equal(png.height, 5);
  assert.deepEqual([...png.pixels], pixels.flat());
});

test("rejects what is not a PNG and truncated data", async () => {
  await assert.rejects(decodePng(new Uint8Array([1, 2, 3])), /not a PNG/);
  assert.throws(() => planesToValues(new Uint8Array(3), 2, 2, "uint8"), /too short/);
  assert.throws(() => planesToValues(new Uint8Array(8), 2, 2, "complex"), /unknown dtype/);
});

test("byte planes reassemble little-endian values", () => {
  // two uint16 values 0x0102 and 0x0304: plane 0 = low bytes, plane 1 = high bytes
  const t = planesToValues(new Uint8Array([0x02, 0x04, 0x01, 0x03]), 2, 1, "uint16");
  assert.deepEqual([...t.values], [0x0102, 0x0304]);
  assert.equal(valueAt(t, 1, 0), 0x0304);
});

test("raw-planes tiles: the byte planes uncompressed, length checked", () => {
  const t = decodeRawPlanesTile(new Uint8Array([0x02, 0x04, 0x01, 0x03]), "uint16", 2, 1);
  assert.deepEqual([...t.values], [0x0102, 0x0304]);
  const g = decodeRawPlanesTile(new Uint8Array([1, 2, 3, 4, 5, 6]), "uint8", 3, 2);
  assert.equal(valueAt(g, 2, 1), 6);
  assert.throws(() => decodeRawPlanesTile(new Uint8Array(5), "uint8", 3, 2), /expected 6/);
});

test("32-bit planes become whole words: uint32, int32 and float", () => {
  const want = [0xdeadbeef, 1, 0x80000000];
  const planes = new Uint8Array(12);
  want.forEach((v, p) => { for (let k = 0; k < 4; k++) planes[k * 3 + p] = (v >>> (8 * k)) & 255; });
  assert.deepEqual([...planesToValues(planes, 3, 1, "uint32").values], want);
  assert.deepEqual([...planesToValues(planes, 3, 1, "int32").values], want.map((v) => v | 0));
  const f = new Float32Array(new Uint32Array(want).buffer);
  assert.deepEqual([...planesToValues(planes, 3, 1, "float").values], [...f]);
});
