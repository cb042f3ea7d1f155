// Pure geometry of the slice views: screen <-> voxel, which mag and which tiles a view
// needs, scale bars. No DOM here (unit-tested under node).
// tileRegion's clipping has a twin in src/wk_widget/widget/render.py (tile_region): keep in sync.

import type { Plane, Vec3 } from "./protocol";

export type Axis = 0 | 1 | 2;
export const AXES: readonly Axis[] = [0, 1, 2];

/** Plane -> [u, v, w] axis indices: u is screen-right, v screen-down, w the normal. */
export const PLANE_AXES: Record<Plane, [Axis, Axis, Axis]> = {
  xy: [0, 1, 2],
  xz: [0, 2, 1],
  yz: [2, 1, 0],
};

export const AXIS_NAMES = ["x", "y", "z"] as const;

export interface BBox {
  top_left: Vec3;
  size: Vec3;
}

export interface ViewGeometry {
  plane: Plane;
  width: number; // CSS pixels
  height: number;
  position: Vec3; // mag-1 voxels; the view's center
  zoom: number; // mag-1 voxels (of the axis with the finest voxel size) per screen pixel
  voxelSize: Vec3; // physical size of a mag-1 voxel
}

export const MIN_ZOOM = 1 / 64;
export const MAX_ZOOM = 4096;

export function clampZoom(zoom: number): number {
  if (!Number.isFinite(zoom) || zoom <= 0) return 1;
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}

/** Physical length (in the dataset's unit) of one screen pixel. */
export function unitsPerPixel(zoom: number, voxelSize: Vec3): number {
  return zoom * Math.min(voxelSize[0], voxelSize[1], voxelSize[2]);
}

/** Screen pixels per mag-1 voxel along `axis`. */
export function pixelsPerVoxel(g: Pick<ViewGeometry, "zoom" | "voxelSize">, axis: Axis): number {
  return g.voxelSize[axis] / unitsPerPixel(g.zoom, g.voxelSize);
}

/** Screen point (CSS px, relative to the view's top-left) -> mag-1 voxel coordinates. */
export function screenToVoxel(g: ViewGeometry, sx: number, sy: number): Vec3 {
  const [u, v] = PLANE_AXES[g.plane];
  const out: Vec3 = [g.position[0], g.position[1], g.position[2]];
  out[u] = g.position[u] + (sx - g.width / 2) / pixelsPerVoxel(g, u);
  out[v] = g.position[v] + (sy - g.height / 2) / pixelsPerVoxel(g, v);
  return out;
}

/** Mag-1 voxel coordinates -> screen point (CSS px). */
export function voxelToScreen(g: ViewGeometry, p: Vec3): [number, number] {
  const [u, v] = PLANE_AXES[g.plane];
  return [
    g.width / 2 + (p[u] - g.position[u]) * pixelsPerVoxel(g, u),
    g.height / 2 + (p[v] - g.position[v]) * pixelsPerVoxel(g, v),
  ];
}

/** The position after dragging the view content by (dx, dy) screen pixels. */
export function panBy(g: ViewGeometry, dx: number, dy: number): Vec3 {
  const [u, v] = PLANE_AXES[g.plane];
  const out: Vec3 = [g.position[0], g.position[1], g.position[2]];
  out[u] = g.position[u] - dx / pixelsPerVoxel(g, u);
  out[v] = g.position[v] - dy / pixelsPerVoxel(g, v);
  return out;
}

/** Zoom by `factor` (> 1 zooms out) keeping the voxel under (sx, sy) where it is. */
export function zoomAt(g: ViewGeometry, sx: number, sy: number, factor: number): { position: Vec3; zoom: number } {
  const zoom = clampZoom(g.zoom * factor);
  const anchor = screenToVoxel(g, sx, sy);
  const [u, v] = PLANE_AXES[g.plane];
  const ng: ViewGeometry = { ...g, zoom };
  const out: Vec3 = [g.position[0], g.position[1], g.position[2]];
  out[u] = anchor[u] - (sx - g.width / 2) / pixelsPerVoxel(ng, u);
  out[v] = anchor[v] - (sy - g.height / 2) / pixelsPerVoxel(ng, v);
  return { position: out, zoom };
}

/**
 * The mag to read for a plane at a zoom: the coarsest one whose voxels along the finer of
 * the plane's two axes are at most `bias` screen pixels... i.e. about one voxel per
 * screen pixel. `mags` are finest first; returns an index into `mags`.
 */
export function chooseMag(mags: readonly Vec3[], plane: Plane, zoom: number, voxelSize: Vec3, bias = 1.25): number {
  if (mags.length === 0) return -1;
  const [u, v] = PLANE_AXES[plane];
  const limit = unitsPerPixel(zoom, voxelSize) * bias;
  let best = 0;
  let bestVolume = -1;
  mags.forEach((m, idx) => {
    const extent = Math.min(voxelSize[u] * m[u], voxelSize[v] * m[v]);
    const volume = m[u] * m[v];
    if (extent <= limit && volume > bestVolume) {
      best = idx;
      bestVolume = volume;
    }
  });
  if (bestVolume < 0) {
    // Zoomed in beyond mag 1: the finest there is.
    let finest = 0;
    mags.forEach((m, idx) => {
      const f = mags[finest]!;
      if (m[u] * m[v] < f[u] * f[v]) finest = idx;
    });
    return finest;
  }
  return best;
}

/** Mags coarser than `target` in the plane's two axes, finest first (indices into `mags`). */
export function coarserMags(mags: readonly Vec3[], target: number, plane: Plane): number[] {
  const [u, v] = PLANE_AXES[plane];
  const t = mags[target];
  if (!t) return [];
  return mags
    .map((m, idx) => ({ idx, area: m[u] * m[v] }))
    .filter((e) => e.area > t[u] * t[v])
    .sort((a, b) => a.area - b.area)
    .map((e) => e.idx);
}

/** The position one step of `delta` mag-1 voxels along the plane's normal, from the slice's start. */
export function stepSlicePosition(position: Vec3, plane: Plane, delta: number): Vec3 {
  const w = PLANE_AXES[plane][2];
  const p: Vec3 = [position[0], position[1], position[2]];
  p[w] = Math.floor(p[w]) + delta;
  return p;
}

/** Index of the slice of `plane` at `position`, in voxels of `mag`. */
export function sliceIndex(position: Vec3, plane: Plane, mag: Vec3): number {
  const w = PLANE_AXES[plane][2];
  return Math.floor(position[w] / mag[w]);
}

/** Bounding box (mag-1 voxels) -> [lo, hi) in voxels of `mag`, per axis. */
export function bboxAtMag(bbox: BBox, mag: Vec3): { lo: Vec3; hi: Vec3 } {
  const lo: Vec3 = [0, 0, 0];
  const hi: Vec3 = [0, 0, 0];
  for (const a of AXES) {
    lo[a] = Math.floor(bbox.top_left[a] / mag[a]);
    hi[a] = Math.ceil((bbox.top_left[a] + bbox.size[a]) / mag[a]);
  }
  return { lo, hi };
}

export interface TileIndex {
  i: number;
  j: number;
}

/**
 * Tiles (screen-aligned blocks of tileSize^2 voxels of `mag`) that a view needs for one
 * layer, nearest to the view's center first. Empty when the slice lies outside the box.
 */
export function visibleTiles(g: ViewGeometry, mag: Vec3, tileSize: number, bbox: BBox, maxTiles = 512): TileIndex[] {
  const [u, v, w] = PLANE_AXES[g.plane];
  const { lo, hi } = bboxAtMag(bbox, mag);
  const s = sliceIndex(g.position, g.plane, mag);
  if (s < lo[w] || s >= hi[w]) return [];
  const halfU = g.width / 2 / pixelsPerVoxel(g, u);
  const halfV = g.height / 2 / pixelsPerVoxel(g, v);
  const uMin = Math.max((g.position[u] - halfU) / mag[u], lo[u]);
  const uMax = Math.min((g.position[u] + halfU) / mag[u], hi[u]);
  const vMin = Math.max((g.position[v] - halfV) / mag[v], lo[v]);
  const vMax = Math.min((g.position[v] + halfV) / mag[v], hi[v]);
  if (uMin >= uMax || vMin >= vMax) return [];
  const i0 = Math.floor(uMin / tileSize);
  const i1 = Math.ceil(uMax / tileSize) - 1;
  const j0 = Math.floor(vMin / tileSize);
  const j1 = Math.ceil(vMax / tileSize) - 1;
  const cu = g.position[u] / mag[u] / tileSize - 0.5;
  const cv = g.position[v] / mag[v] / tileSize - 0.5;
  const out: TileIndex[] = [];
  for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) out.push({ i, j });
  out.sort((a, b) => (a.i - cu) ** 2 + (a.j - cv) ** 2 - ((b.i - cu) ** 2 + (b.j - cv) ** 2));
  return out.length > maxTiles ? out.slice(0, maxTiles) : out;
}

/** The part of tile (i, j) inside the bounding box, in voxels of `mag` relative to the tile. */
export function tileRegion(
  plane: Plane, mag: Vec3, slice: number, i: number, j: number, tileSize: number, bbox: BBox,
): { u0: number; v0: number; w: number; h: number } | null {
  const [u, v, w] = PLANE_AXES[plane];
  const { lo, hi } = bboxAtMag(bbox, mag);
  if (slice < lo[w] || slice >= hi[w]) return null;
  const us = i * tileSize;
  const vs = j * tileSize;
  const ua = Math.max(us, lo[u]);
  const ub = Math.min(us + tileSize, hi[u]);
  const va = Math.max(vs, lo[v]);
  const vb = Math.min(vs + tileSize, hi[v]);
  if (ua >= ub || va >= vb) return null;
  return { u0: ua - us, v0: va - vs, w: ub - ua, h: vb - va };
}

/** Screen rectangle (CSS px) of a block of voxels of `mag` starting at tile-relative (u0, v0). */
export function tileScreenRect(
  g: ViewGeometry, mag: Vec3, i: number, j: number, tileSize: number,
  u0: number, v0: number, w: number, h: number,
): { x: number; y: number; w: number; h: number } {
  const [u, v] = PLANE_AXES[g.plane];
  const pu = pixelsPerVoxel(g, u) * mag[u];
  const pv = pixelsPerVoxel(g, v) * mag[v];
  const startU = (i * tileSize + u0) * mag[u];
  const startV = (j * tileSize + v0) * mag[v];
  return {
    x: g.width / 2 + (startU - g.position[u]) * pixelsPerVoxel(g, u),
    y: g.height / 2 + (startV - g.position[v]) * pixelsPerVoxel(g, v),
    w: w * pu,
    h: h * pv,
  };
}

export function axesKey(axes: Record<string, number>): string {
  return Object.keys(axes).sort().map((k) => `${k}=${axes[k]}`).join(";");
}

/** Cache key of one tile. */
export function tileKey(
  layer: string, plane: Plane, mag: Vec3, slice: number, i: number, j: number,
  channel: number, axes: Record<string, number>,
): string {
  return `${layer}\u0001${plane}\u0001${mag.join(",")}\u0001${slice}\u0001${i},${j}\u0001${channel}\u0001${axesKey(axes)}`;
}

// ---- units and scale bars ----

/** Length units (WEBKNOSSOS long names) in nanometers; the short names used for display. */
export const UNIT_NM: Record<string, number> = {
  picometer: 1e-3, angstrom: 0.1, nanometer: 1, micrometer: 1e3, millimeter: 1e6,
  centimeter: 1e7, meter: 1e9, kilometer: 1e12,
};
export const UNIT_SHORT: Record<string, string> = {
  picometer: "pm", angstrom: "Å", nanometer: "nm", micrometer: "µm", millimeter: "mm",
  centimeter: "cm", meter: "m", kilometer: "km",
};

const DISPLAY_UNITS: [string, number][] = [
  ["pm", 1e-3], ["nm", 1], ["µm", 1e3], ["mm", 1e6], ["m", 1e9], ["km", 1e12],
];

/** A length given in `unit` as a short human label ("2 µm", "500 nm"). */
export function formatLength(value: number, unit: string): string {
  const perUnit = UNIT_NM[unit];
  if (perUnit === undefined) return `${trimNumber(value)} ${unit}`;
  const nm = value * perUnit;
  let chosen = DISPLAY_UNITS[0]!;
  for (const du of DISPLAY_UNITS) if (Math.abs(nm) >= du[1]) chosen = du;
  if (unit === "angstrom" && Math.abs(nm) < 1) return `${trimNumber(value)} Å`;
  return `${trimNumber(nm / chosen[1])} ${chosen[0]}`;
}

export function trimNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return String(Number(x.toFixed(digits)));
}

/** A scale bar: a 1/2/5 x 10^k length (in `unit`) close to `targetPx` screen pixels. */
export function scaleBar(unitsPerPx: number, targetPx: number, unit: string): { px: number; value: number; label: string } {
  const ideal = unitsPerPx * targetPx;
  if (!(ideal > 0) || !Number.isFinite(ideal)) return { px: 0, value: 0, label: "" };
  const exp = Math.floor(Math.log10(ideal));
  let best = 10 ** exp;
  for (const f of [1, 2, 5, 10]) {
    const cand = f * 10 ** exp;
    if (cand <= ideal * 1.0000001) best = cand;
  }
  return { px: best / unitsPerPx, value: best, label: formatLength(best, unit) };
}

/** "(12, 34, 5)" for voxel coordinates (floored) of a mag-1 position. */
export function formatVoxel(p: Vec3): string {
  return `${Math.floor(p[0])}, ${Math.floor(p[1])}, ${Math.floor(p[2])}`;
}

/** Physical coordinates of a mag-1 position, in the dataset's unit, as a label. */
export function formatPhysical(p: Vec3, voxelSize: Vec3, unit: string): string {
  const parts = AXES.map((a) => formatLength(Math.floor(p[a]) * voxelSize[a], unit));
  return parts.join(", ");
}
