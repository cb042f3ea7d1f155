// Segment selection of segmentation layers: which ids are drawn (all, only the selected,
// all but the hidden), how selected and hovered ids stand out, OME image-label colours.
// Twin of src/wk_widget/widget/segments.py (render_segments).

import { idWords, packRGBA, segmentColor, type NumericArray, type RGB } from "./colors";

export type SegmentMode = "all" | "selected" | "all_but_hidden";
export const SEGMENT_MODES: readonly SegmentMode[] = ["all", "selected", "all_but_hidden"];

export interface SegmentStyle {
  alpha: number; // 0..255 for ids that are neither selected nor hovered
  mode: SegmentMode;
  selected: readonly (number | bigint)[];
  hidden: readonly (number | bigint)[];
  colors?: Record<string, { color?: number[] }> | null; // OME image-label colours by id
  hover?: [number, number] | null; // [lo, hi] words of the hovered id
}

/** "hi:lo" key of an id given as words (exact for all 64-bit ids). */
export function wordsKey(lo: number, hi: number): string {
  return `${hi >>> 0}:${lo >>> 0}`;
}

export function idKey(id: number | bigint): string {
  const [lo, hi] = idWords(id);
  return wordsKey(lo, hi);
}

/** The id of two words as a JS number when exact, else as a bigint. */
export function wordsToId(lo: number, hi: number): number | bigint {
  if (hi === 0) return lo >>> 0;
  if (hi < 0x200000) return hi * 4294967296 + (lo >>> 0);
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function isSegmentMode(x: unknown): x is SegmentMode {
  return typeof x === "string" && (SEGMENT_MODES as readonly string[]).includes(x);
}

/** A per-id painter (id words -> packed RGBA) with a cache of the ids it has seen. */
export function segmentPainter(style: SegmentStyle): (lo: number, hi: number) => number {
  const a = Math.max(0, Math.min(255, Math.round(style.alpha)));
  const selected = new Set(style.selected.map(idKey));
  const hidden = new Set(style.hidden.map(idKey));
  const cache = new Map<string, number>();
  const hoverKey = style.hover ? wordsKey(style.hover[0], style.hover[1]) : null;
  return (lo: number, hi: number): number => {
    if (lo === 0 && hi === 0) return 0;
    const key = wordsKey(lo, hi);
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    let c = 0;
    const isSel = selected.has(key);
    const shown = style.mode === "selected" ? isSel : style.mode === "all_but_hidden" ? !hidden.has(key) : true;
    if (shown) {
      const custom = style.colors?.[String(wordsToId(lo, hi))]?.color;
      const [r, g, b] = (custom && custom.length >= 3 ? custom.slice(0, 3) : segmentColor(lo, hi)) as RGB;
      c = isSel || key === hoverKey ? packRGBA((r + 255) >> 1, (g + 255) >> 1, (b + 255) >> 1, 255) : packRGBA(r, g, b, a);
    }
    cache.set(key, c);
    return c;
  };
}

/** Segment ids -> packed RGBA with `paint`; runs of one id are painted once. */
export function colorizeSegments(values: NumericArray, n: number, out: Uint32Array, paint: (lo: number, hi: number) => number, words64 = false): void {
  const signed = values instanceof Int8Array || values instanceof Int16Array || values instanceof Int32Array;
  let lastLo = -1;
  let lastHi = -1;
  let last = 0;
  for (let k = 0; k < n; k++) {
    let lo: number;
    let hi: number;
    if (words64) {
      lo = values[2 * k]!;
      hi = values[2 * k + 1]!;
    } else {
      const v = values[k]!;
      lo = v >>> 0;
      hi = signed && v < 0 ? 0xffffffff : 0;
    }
    if (lo !== lastLo || hi !== lastHi) {
      lastLo = lo;
      lastHi = hi;
      last = paint(lo, hi);
    }
    out[k] = last;
  }
}

/** Palette tiles: one `paint` per distinct id, then each pixel's colour by its index. */
export function colorizePalette(
  ids: NumericArray, index: Uint8Array | Uint16Array, n: number, out: Uint32Array, paint: (lo: number, hi: number) => number, words64 = false,
): void {
  const count = words64 ? ids.length >> 1 : ids.length;
  const colors = new Uint32Array(count);
  const signed = ids instanceof Int16Array || ids instanceof Int32Array;
  for (let i = 0; i < count; i++) {
    if (words64) colors[i] = paint(ids[2 * i]!, ids[2 * i + 1]!);
    else {
      const v = ids[i]!;
      colors[i] = paint(v >>> 0, signed && v < 0 ? 0xffffffff : 0);
    }
  }
  for (let k = 0; k < n; k++) out[k] = colors[index[k]!]!;
}

/** The selection after a click on `id` (0: background). With `additive` (shift/ctrl)
 * the id is toggled; without, it becomes the only selected id; background clears. */
export function clickSelection(current: readonly number[], id: number, additive: boolean): number[] {
  if (id === 0) return additive ? [...current] : [];
  if (!additive) return [id];
  return current.includes(id) ? current.filter((x) => x !== id) : [...current, id];
}

/** Ids typed by a person: "12, 7 33" -> [12, 7, 33] (invalid parts ignored, no duplicates, no 0). */
export function parseIds(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(/[\s,;]+/)) {
    if (!/^\d+$/.test(part)) continue;
    const v = Number(part);
    if (v > 0 && Number.isSafeInteger(v) && !out.includes(v)) out.push(v);
  }
  return out;
}
