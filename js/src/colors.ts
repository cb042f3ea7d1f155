// Colors: contrast windows, layer colors, hashed segment colors, automatic contrast.
// segmentColor has a twin in src/wk_widget/widget/render.py (segment_color): keep in sync.
// Pixels are packed RGBA in a Uint32Array over ImageData (little-endian: 0xAABBGGRR).

export type RGB = [number, number, number];

export function packRGBA(r: number, g: number, b: number, a: number): number {
  return ((a & 255) << 24 | (b & 255) << 16 | (g & 255) << 8 | (r & 255)) >>> 0;
}

export function unpackRGBA(p: number): [number, number, number, number] {
  return [p & 255, (p >>> 8) & 255, (p >>> 16) & 255, (p >>> 24) & 255];
}

/** MurmurHash3's 32-bit finalizer. */
export function fmix32(h: number): number {
  h >>>= 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

const GOLDEN = 0x9e3779b9;

/** Hash of a 64-bit segment id given as two 32-bit words. */
export function segmentHash(lo: number, hi = 0): number {
  return fmix32((lo >>> 0) ^ fmix32((hi >>> 0) ^ GOLDEN)) >>> 0;
}

function hsvToRgb(hue: number, sat: number, val: number): RGB {
  const i = Math.trunc(hue * 6.0);
  const f = hue * 6.0 - i;
  const p = val * (1.0 - sat);
  const q = val * (1.0 - f * sat);
  const t = val * (1.0 - (1.0 - f) * sat);
  const table: [number, number, number][] = [
    [val, t, p], [q, val, p], [p, val, t], [p, q, val], [t, p, val], [val, p, q],
  ];
  const [r, g, b] = table[i % 6]!;
  return [Math.trunc(r * 255.0 + 0.5), Math.trunc(g * 255.0 + 0.5), Math.trunc(b * 255.0 + 0.5)];
}

/** The color of a segment id (as two 32-bit words); the same as Python's segment_color. */
export function segmentColor(lo: number, hi = 0): RGB {
  const h = segmentHash(lo, hi);
  const hue = (h & 0xffff) / 65536.0;
  const sat = 0.6 + ((h >>> 16) & 0xff) / 255.0 * 0.4;
  const val = 0.85 + ((h >>> 24) & 0xff) / 255.0 * 0.15;
  return hsvToRgb(hue, sat, val);
}

/** Segment id (number or bigint, any sign) -> [lo, hi] 32-bit words of its uint64 form. */
export function idWords(id: number | bigint): [number, number] {
  const big = BigInt.asUintN(64, typeof id === "bigint" ? id : BigInt(Math.trunc(id)));
  return [Number(big & 0xffffffffn) >>> 0, Number(big >> 32n) >>> 0];
}

export function hexToRgb(hex: string): RGB {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return [255, 255, 255];
  const n = parseInt(m[1]!, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function rgbToHex(rgb: readonly number[]): string {
  return "#" + [0, 1, 2].map((k) => Math.max(0, Math.min(255, Math.round(rgb[k] ?? 0))).toString(16).padStart(2, "0")).join("");
}

/** Default colors of color layers in order (WEBKNOSSOS-like: gray, then primaries). */
export const LAYER_COLORS: RGB[] = [
  [255, 255, 255], [0, 255, 0], [255, 0, 255], [0, 255, 255], [255, 255, 0], [255, 0, 0], [0, 0, 255],
];

/** Intensity v windowed by [lo, hi] -> 0..255. */
export function windowValue(v: number, lo: number, hi: number): number {
  if (Number.isNaN(v)) return 0;
  if (hi === lo) return v >= hi ? 255 : 0;
  const t = (v - lo) * (255.0 / (hi - lo));
  if (t <= 0) return 0;
  if (t >= 255) return 255;
  return Math.floor(t + 0.5);
}

export type NumericArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** Lookup table (value - offset -> packed RGBA) for 8- and 16-bit data. */
export function makeLut(lo: number, hi: number, color: RGB, size: number, offset: number): Uint32Array {
  const lut = new Uint32Array(size);
  for (let k = 0; k < size; k++) {
    const g = windowValue(k + offset, lo, hi);
    lut[k] = packRGBA(
      Math.floor((g * color[0] + 127) / 255), Math.floor((g * color[1] + 127) / 255),
      Math.floor((g * color[2] + 127) / 255), 255,
    );
  }
  return lut;
}

/**
 * A color layer's values -> packed RGBA (opaque; the layer's opacity is applied when it is
 * drawn). 64-bit integer data comes as two words per value (`words64`).
 */
export function colorizeIntensity(
  values: NumericArray, n: number, lo: number, hi: number, color: RGB, out: Uint32Array, words64 = false,
): void {
  if (values instanceof Uint8Array || values instanceof Uint16Array) {
    const lut = makeLut(lo, hi, color, values instanceof Uint8Array ? 256 : 65536, 0);
    for (let k = 0; k < n; k++) out[k] = lut[values[k]!]!;
    return;
  }
  if (values instanceof Int8Array || values instanceof Int16Array) {
    const size = values instanceof Int8Array ? 256 : 65536;
    const lut = makeLut(lo, hi, color, size, -size / 2);
    for (let k = 0; k < n; k++) out[k] = lut[values[k]! + size / 2]!;
    return;
  }
  const [cr, cg, cb] = color;
  for (let k = 0; k < n; k++) {
    const v = words64 ? values[2 * k]! + values[2 * k + 1]! * 4294967296 : values[k]!;
    const g = windowValue(v, lo, hi);
    out[k] = packRGBA(Math.floor((g * cr + 127) / 255), Math.floor((g * cg + 127) / 255), Math.floor((g * cb + 127) / 255), 255);
  }
}

/** A contrast range from the data: the 0.5th..99.5th percentiles (of a sample). */
export function autoRange(values: NumericArray, n: number, words64 = false): [number, number] | null {
  const stride = Math.max(1, Math.floor(n / 16384));
  const sample: number[] = [];
  for (let k = 0; k < n; k += stride) {
    const v = words64 ? values[2 * k]! + values[2 * k + 1]! * 4294967296 : values[k]!;
    if (Number.isFinite(v)) sample.push(v);
  }
  if (sample.length === 0) return null;
  sample.sort((x, y) => x - y);
  const at = (q: number): number => sample[Math.min(sample.length - 1, Math.max(0, Math.floor(q * (sample.length - 1))))]!;
  let lo = at(0.005);
  let hi = at(0.995);
  if (hi <= lo) {
    lo = sample[0]!;
    hi = sample[sample.length - 1]!;
  }
  if (hi <= lo) hi = lo + 1;
  return [lo, hi];
}
