// Histogram of the visible data of a color layer (drawn behind the contrast handles).

import type { NumericArray } from "./colors";

export interface Histogram {
  lo: number; // left edge of the first bin
  hi: number; // right edge of the last bin
  counts: Uint32Array;
  total: number;
}

/** Value k of a tile's values (64-bit data comes as two words per value). */
export function valueOf(values: NumericArray, k: number, words64: boolean): number {
  return words64 ? values[2 * k]! + values[2 * k + 1]! * 4294967296 : values[k]!;
}

/** Counts of `samples` in `bins` equal bins over [lo, hi] (values outside are clamped in). */
export function histogram(samples: ArrayLike<number>, lo: number, hi: number, bins = 128): Histogram {
  const counts = new Uint32Array(Math.max(1, bins));
  let total = 0;
  const span = hi > lo ? hi - lo : 1;
  for (let k = 0; k < samples.length; k++) {
    const v = samples[k]!;
    if (!Number.isFinite(v)) continue;
    const b = Math.floor(((v - lo) / span) * counts.length);
    counts[b < 0 ? 0 : b >= counts.length ? counts.length - 1 : b]!++;
    total++;
  }
  return { lo, hi, counts, total };
}

/** The range a histogram should cover: the data type's range for 8-bit data, else the
 * samples' extent widened to include the current contrast window. */
export function histogramDomain(samples: ArrayLike<number>, elementClass: string, range: [number, number] | null): [number, number] {
  if (elementClass === "uint8") return [0, 255];
  if (elementClass === "int8") return [-128, 127];
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < samples.length; k++) {
    const v = samples[k]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (range) {
    lo = Math.min(lo, range[0]);
    hi = Math.max(hi, range[1]);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return range ?? [0, 255];
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

/** Bar heights 0..1 on a log scale (a few bright pixels stay visible next to the background). */
export function barHeights(h: Histogram): number[] {
  let max = 0;
  for (const c of h.counts) max = Math.max(max, c);
  const m = Math.log1p(max);
  return Array.from(h.counts, (c) => (m > 0 ? Math.log1p(c) / m : 0));
}

/** Screen x (0..width) <-> value over the histogram's domain. */
export function valueToX(v: number, lo: number, hi: number, width: number): number {
  return hi > lo ? ((v - lo) / (hi - lo)) * width : 0;
}

export function xToValue(x: number, lo: number, hi: number, width: number): number {
  return width > 0 ? lo + (x / width) * (hi - lo) : lo;
}

/** Up to `max` samples of a tile's values (evenly strided), appended to `out`. */
export function sampleValues(values: NumericArray, n: number, words64: boolean, max: number, out: number[]): void {
  const stride = Math.max(1, Math.floor(n / Math.max(1, max)));
  for (let k = 0; k < n; k += stride) out.push(valueOf(values, k, words64));
}
