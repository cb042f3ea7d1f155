// Colour maps of color layers: contrast window, invert, gamma, then grey / tint / a
// perceptual map. Twin of src/wk_widget/widget/colormaps.py (same anchors, arithmetic and
// rounding), so that Python's screenshot() gives the browser's pixels.

import { packRGBA, type NumericArray, type RGB } from "./colors";

export type Colormap = "grey" | "tint" | "viridis" | "magma";
export const COLORMAPS: readonly Colormap[] = ["grey", "tint", "viridis", "magma"];
export const DEFAULT_COLORMAP: Colormap = "tint";

// 9 evenly spaced samples of matplotlib's maps, interpolated linearly in between.
const ANCHORS: Record<"viridis" | "magma", RGB[]> = {
  viridis: [
    [0x44, 0x01, 0x54], [0x47, 0x2d, 0x7b], [0x3b, 0x52, 0x8b], [0x2c, 0x72, 0x8e],
    [0x21, 0x91, 0x8c], [0x28, 0xae, 0x80], [0x5e, 0xc9, 0x62], [0xad, 0xdc, 0x30],
    [0xfd, 0xe7, 0x25],
  ],
  magma: [
    [0x00, 0x00, 0x04], [0x1d, 0x11, 0x47], [0x51, 0x12, 0x7c], [0x83, 0x26, 0x81],
    [0xb7, 0x37, 0x79], [0xe7, 0x52, 0x63], [0xfc, 0x89, 0x61], [0xfe, 0xc4, 0x88],
    [0xfc, 0xfd, 0xbf],
  ],
};

export interface ColorParams {
  lo: number;
  hi: number;
  colormap: Colormap;
  color: RGB;
  invert: boolean;
  gamma: number;
}

export function isColormap(x: unknown): x is Colormap {
  return typeof x === "string" && (COLORMAPS as readonly string[]).includes(x);
}

/** True for the classic "windowed intensity times the layer colour" (colors.ts does it). */
export function isPlain(p: Pick<ColorParams, "colormap" | "invert" | "gamma">): boolean {
  return p.colormap === DEFAULT_COLORMAP && !p.invert && p.gamma === 1;
}

/** A value -> 0..1 over the window [lo, hi], clipped; NaN -> 0. */
export function normalized(v: number, lo: number, hi: number): number {
  if (Number.isNaN(v)) return 0;
  if (hi === lo) return v >= hi ? 1 : 0;
  const t = (v - lo) / (hi - lo);
  return t <= 0 ? 0 : t >= 1 ? 1 : t;
}

/** 0..1 -> RGB of the colour map. */
export function mapRGB(t: number, colormap: Colormap, color: RGB): RGB {
  if (colormap === "viridis" || colormap === "magma") {
    const a = ANCHORS[colormap];
    const pos = t * (a.length - 1);
    const k = Math.min(Math.floor(pos), a.length - 2);
    const f = pos - k;
    const c0 = a[k]!;
    const c1 = a[k + 1]!;
    return [0, 1, 2].map((c) => Math.floor(c0[c]! + (c1[c]! - c0[c]!) * f + 0.5)) as RGB;
  }
  const rgb: RGB = colormap === "grey" ? [255, 255, 255] : color;
  return [Math.floor(t * rgb[0] + 0.5), Math.floor(t * rgb[1] + 0.5), Math.floor(t * rgb[2] + 0.5)];
}

/** The full pipeline for one value -> packed opaque RGBA. */
export function colorOf(v: number, p: ColorParams): number {
  let t = normalized(v, p.lo, p.hi);
  if (p.invert) t = 1 - t;
  if (p.gamma !== 1) t = Math.pow(t, p.gamma);
  const [r, g, b] = mapRGB(t, p.colormap, p.color);
  return packRGBA(r, g, b, 255);
}

/** A color layer's values -> packed RGBA with the colour map (lookup table for 8/16 bit). */
export function colorizeMapped(values: NumericArray, n: number, p: ColorParams, out: Uint32Array, words64 = false): void {
  const small = values instanceof Uint8Array || values instanceof Int8Array || values instanceof Uint16Array || values instanceof Int16Array;
  if (small) {
    const size = values instanceof Uint8Array || values instanceof Int8Array ? 256 : 65536;
    const offset = values instanceof Int8Array || values instanceof Int16Array ? size / 2 : 0;
    const lut = new Uint32Array(size);
    for (let k = 0; k < size; k++) lut[k] = colorOf(k - offset, p);
    for (let k = 0; k < n; k++) out[k] = lut[values[k]! + offset]!;
    return;
  }
  for (let k = 0; k < n; k++) {
    const v = words64 ? values[2 * k]! + values[2 * k + 1]! * 4294967296 : values[k]!;
    out[k] = colorOf(v, p);
  }
}

/** CSS gradient of a colour map (for the contrast control's bar). */
export function gradientCss(colormap: Colormap, color: RGB, invert: boolean, gamma: number): string {
  const stops: string[] = [];
  for (let k = 0; k <= 8; k++) {
    let t = k / 8;
    if (invert) t = 1 - t;
    if (gamma !== 1) t = Math.pow(t, gamma);
    const [r, g, b] = mapRGB(t, colormap, color);
    stops.push(`rgb(${r},${g},${b}) ${(k / 8) * 100}%`);
  }
  return `linear-gradient(to right, ${stops.join(", ")})`;
}
