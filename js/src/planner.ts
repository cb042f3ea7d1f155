// Which tiles each visible view needs, most important first (pure: no DOM, no model).
// The controller feeds it the view state, the layers and a cache lookup; the painter
// draws the plans it returns and the tile manager fetches `desired` in that order.

import { PLANES, TILE_SIZE, type DatasetInfo, type LayerInfo, type LayerSettings, type Plane, type Vec3, type ViewMode } from "./protocol";
import {
  PLANE_AXES, chooseMag, coarserMags, pixelsPerVoxel, sliceIndex, tileKey, visibleTiles, type ViewGeometry,
} from "./tilemath";
import type { DesiredTile } from "./tiles";

export type PlannedTile = DesiredTile & { i: number; j: number };

export interface LayerPlan {
  layer: LayerInfo;
  settings: LayerSettings;
  target: number; // mag index
  drawMags: number[]; // mag indices, coarsest first, target last
  targetTiles: PlannedTile[];
  fallbackTiles: DesiredTile[];
  marginTiles: DesiredTile[];
  complete: boolean;
}

/** What the planner asks of the tile cache. */
export interface TileLookup {
  peek(key: string): unknown; // the cached tile (drawable now), undefined if none
  isPending(key: string): boolean; // requested, on its way
}

export interface ViewsInput {
  info: DatasetInfo | null;
  settings: readonly LayerSettings[];
  mode: ViewMode;
  active: Plane;
  position: Vec3;
  stepDir: number; // -1, 0, 1: the direction of the last slice step (prefetch there)
  geometry: (plane: Plane) => ViewGeometry;
  cache: TileLookup;
}

export interface ViewsPlan {
  plans: Map<Plane, LayerPlan[]>;
  complete: boolean;
  desired: DesiredTile[];
}

export function visiblePlanes(mode: ViewMode): Plane[] {
  return mode === "ortho" ? [...PLANES] : [mode];
}

/** The channel a layer's settings pick, clamped to the layer. */
export function layerChannel(layer: LayerInfo, s: LayerSettings): number {
  return layer.num_channels > 1 ? Math.max(0, Math.min(layer.num_channels - 1, s.channel | 0)) : 0;
}

/** The index on every additional axis (settings' value when inside the bounds, else the first). */
export function layerAxes(layer: LayerInfo, s: LayerSettings): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of layer.additional_axes) {
    const v = s.axes?.[a.name];
    out[a.name] = typeof v === "number" && v >= a.bounds[0] && v < a.bounds[1] ? v : a.bounds[0];
  }
  return out;
}

export function tilesAt(g: ViewGeometry, layer: LayerInfo, s: LayerSettings, magIndex: number, positionOverride?: Vec3): PlannedTile[] {
  const mag = layer.mags[magIndex]!;
  const geo = positionOverride ? { ...g, position: positionOverride } : g;
  const slice = sliceIndex(geo.position, g.plane, mag);
  const channel = layerChannel(layer, s);
  const axes = layerAxes(layer, s);
  return visibleTiles(geo, mag, TILE_SIZE, layer.bbox).map(({ i, j }) => ({
    i, j,
    key: tileKey(layer.name, g.plane, mag, slice, i, j, channel, axes),
    request: {
      layer: layer.name, plane: g.plane, mag, slice, tile: [i, j] as [number, number], size: TILE_SIZE,
      channel, axes, format: "raw" as const,
    },
  }));
}

export function planLayer(g: ViewGeometry, layer: LayerInfo, s: LayerSettings, cache: TileLookup): LayerPlan {
  const target = Math.max(0, chooseMag(layer.mags, g.plane, g.zoom, g.voxelSize));
  const coarser = coarserMags(layer.mags, target, g.plane);
  const targetTiles = tilesAt(g, layer, s, target);
  const complete = targetTiles.every((t) => cache.peek(t.key) !== undefined);
  let fallbackTiles: DesiredTile[] = [];
  if (coarser.length > 0) {
    // a coarser level (two steps up) fills the view fast while the target level loads;
    // once the target is complete, only fallback tiles already on their way are kept
    const all = tilesAt(g, layer, s, coarser[Math.min(1, coarser.length - 1)]!);
    fallbackTiles = complete ? all.filter((t) => cache.isPending(t.key)) : all;
  }
  // a margin of half a tile around the view, fetched last, makes small pans warm
  const [u, v] = PLANE_AXES[g.plane];
  const mag = layer.mags[target]!;
  const marginU = (TILE_SIZE / 2) * mag[u] * pixelsPerVoxel(g, u);
  const marginV = (TILE_SIZE / 2) * mag[v] * pixelsPerVoxel(g, v);
  const wanted = new Set(targetTiles.map((t) => t.key));
  const marginTiles = tilesAt({ ...g, width: g.width + 2 * marginU, height: g.height + 2 * marginV }, layer, s, target)
    .filter((t) => !wanted.has(t.key))
    .map((t) => ({ ...t, request: { ...t.request, prefetch: true } }));
  // coarser levels are drawn under the target level only while it is incomplete
  const drawMags = complete ? [target] : [...coarser.slice(0, 3).reverse(), target];
  return { layer, settings: s, target, drawMags, targetTiles, fallbackTiles, marginTiles, complete };
}

/** The layer plans of the visible views and the tiles they need, most important first. */
export function planViews(input: ViewsInput): ViewsPlan {
  const { info, cache } = input;
  const coarse: DesiredTile[] = [];
  const fine: DesiredTile[] = [];
  const prefetch: DesiredTile[] = [];
  const margin: DesiredTile[] = [];
  const plans = new Map<Plane, LayerPlan[]>();
  let complete = Boolean(info && info.layers.length > 0);
  if (info) {
    for (const plane of visiblePlanes(input.mode)) {
      const g = input.geometry(plane);
      if (g.width === 0 || g.height === 0) continue;
      const list: LayerPlan[] = [];
      for (const layer of info.layers) {
        const s = input.settings.find((x) => x.name === layer.name);
        if (!s || !s.visible || layer.mags.length === 0) continue;
        const plan = planLayer(g, layer, s, cache);
        list.push(plan);
        coarse.push(...plan.fallbackTiles);
        fine.push(...plan.targetTiles);
        margin.push(...plan.marginTiles);
        complete &&= plan.complete;
        if (input.stepDir !== 0 && plane === input.active) {
          const w = PLANE_AXES[plane][2];
          const next: Vec3 = [input.position[0], input.position[1], input.position[2]];
          next[w] = Math.floor(next[w]) + input.stepDir * layer.mags[plan.target]![w];
          prefetch.push(...tilesAt(g, layer, s, plan.target, next));
        }
      }
      // color layers add up first; segmentation is drawn over them
      list.sort((a, b) => Number(a.layer.category === "segmentation") - Number(b.layer.category === "segmentation"));
      plans.set(plane, list);
    }
  }
  // margin tiles wait until the view is complete (those on their way are kept), so that
  // they do not hold up the visible ones in the kernel and on the wire
  const marginNow = complete ? margin : margin.filter((t) => cache.isPending(t.key));
  return { plans, complete, desired: [...coarse, ...fine, ...prefetch, ...marginNow] };
}

/** The tiles the views draw or wait for (target and fallback levels), and the targets not cached. */
export function awaitedTiles(plans: Map<Plane, LayerPlan[]>, cache: TileLookup): { shown: string[]; missing: string[] } {
  const shown: string[] = [];
  const missing: string[] = [];
  for (const list of plans.values()) {
    for (const plan of list) {
      for (const t of plan.targetTiles) {
        shown.push(t.key);
        if (cache.peek(t.key) === undefined) missing.push(t.key);
      }
      for (const t of plan.fallbackTiles) shown.push(t.key);
    }
  }
  return { shown, missing };
}
