// Text readouts: the value under the cursor (from the finest cached tile), the hovered
// segment ids, position / zoom / mag in the status bar, loading state and the info cell.

import { idWords } from "./colors";
import { formatBytes, setData, setText } from "./dom";
import { sampleValues } from "./histogram";
import { valueAt } from "./png";
import { TILE_SIZE, type DatasetInfo, type LayerInfo, type LayerSettings, type Plane, type Vec3 } from "./protocol";
import { layerAxes, layerChannel, type LayerPlan } from "./planner";
import type { Hovered } from "./painter";
import {
  AXES, PLANE_AXES, chooseMag, coarserMags, formatLength, formatPhysical, formatVoxel, screenToVoxel, tileKey,
  unitsPerPixel, type ViewGeometry,
} from "./tilemath";
import type { DesiredTile, TileManager } from "./tiles";
import type { StatusBar } from "./ui/statusBar";
import type { ViewGrid } from "./ui/viewGrid";

export interface Hover { plane: Plane; sx: number; sy: number }

/** The value of a layer at a mag-1 voxel from the finest cached tile that has it. */
export function valueAtVoxel(
  tm: Pick<TileManager, "peek">, layer: LayerInfo, s: LayerSettings, g: ViewGeometry, voxel: Vec3,
): { value: number | bigint; mag: Vec3 } | null {
  const plane = g.plane;
  const [u, v, w] = PLANE_AXES[plane];
  const target = Math.max(0, chooseMag(layer.mags, plane, g.zoom, g.voxelSize));
  const channel = layerChannel(layer, s);
  const axes = layerAxes(layer, s);
  for (const mi of [target, ...coarserMags(layer.mags, target, plane)]) {
    const mag = layer.mags[mi]!;
    const cu = Math.floor(voxel[u] / mag[u]);
    const cv = Math.floor(voxel[v] / mag[v]);
    const slice = Math.floor(voxel[w] / mag[w]);
    const i = Math.floor(cu / TILE_SIZE);
    const j = Math.floor(cv / TILE_SIZE);
    const tile = tm.peek(tileKey(layer.name, plane, mag, slice, i, j, channel, axes));
    if (!tile?.data) continue;
    const x = cu - i * TILE_SIZE - tile.u0;
    const y = cv - j * TILE_SIZE - tile.v0;
    if (x < 0 || y < 0 || x >= tile.w || y >= tile.h) continue;
    return { value: valueAt(tile.data, x, y), mag };
  }
  return null;
}

export interface HoverInput {
  info: DatasetInfo | null;
  settings: readonly LayerSettings[];
  hover: Hover | null;
  geometry: (plane: Plane) => ViewGeometry;
  tm: Pick<TileManager, "peek">;
}

/** Cursor and value readouts; updates `hovered` and returns whether it changed. */
export function updateHover(bar: StatusBar, hovered: Hovered, input: HoverInput): boolean {
  const { info, hover } = input;
  let changed = false;
  const parts: string[] = [];
  if (!hover || !info) {
    setText(bar.cursorEl, "–");
    setText(bar.valueEl, "");
    if (hovered.size > 0) {
      hovered.clear();
      changed = true;
    }
  } else {
    const g = input.geometry(hover.plane);
    const voxel = screenToVoxel(g, hover.sx, hover.sy);
    const inside = AXES.every((a) => Number.isFinite(voxel[a]));
    setText(bar.cursorEl, inside ? `${formatVoxel(voxel)} (${formatPhysical(voxel, info.voxel_size, info.unit)})` : "–");
    for (const layer of info.layers) {
      const s = input.settings.find((x) => x.name === layer.name);
      if (!s || !s.visible) continue;
      const r = valueAtVoxel(input.tm, layer, s, g, voxel);
      const text = r === null ? "…" : String(r.value);
      parts.push(`${layer.name}: ${layer.category === "segmentation" ? `id ${text}` : text}`);
      if (layer.category === "segmentation") {
        const prev = hovered.get(layer.name);
        if (r === null || r.value === 0 || r.value === 0n) {
          if (prev) {
            hovered.delete(layer.name);
            changed = true;
          }
        } else {
          const [lo, hi] = idWords(typeof r.value === "bigint" ? r.value : Math.trunc(r.value));
          if (!prev || prev.lo !== lo || prev.hi !== hi) {
            hovered.set(layer.name, { lo, hi, text });
            changed = true;
          }
        }
      }
    }
    setText(bar.valueEl, parts.join("  "));
  }
  setData(bar.valueEl, "hovered", [...hovered.values()].map((x) => x.text).join(","));
  return changed;
}

/** Position, zoom and mag in the status bar (each frame). */
export function updateReadouts(
  bar: StatusBar, info: DatasetInfo | null, position: Vec3, zoom: number, plans: Map<Plane, LayerPlan[]>,
): void {
  if (info) {
    setText(bar.positionEl, `${formatVoxel(position)} vox (${formatPhysical(position, info.voxel_size, info.unit)})`);
  } else {
    setText(bar.positionEl, "–");
  }
  setData(bar.positionEl, "x", String(Math.floor(position[0])));
  setData(bar.positionEl, "y", String(Math.floor(position[1])));
  setData(bar.positionEl, "z", String(Math.floor(position[2])));
  const upp = info ? unitsPerPixel(zoom, info.voxel_size) : 0;
  setText(bar.zoomEl, info ? `zoom ${zoom.toPrecision(3)} (${formatLength(upp, info.unit)}/px)` : "");
  setData(bar.zoomEl, "zoom", String(zoom));
  const mags: string[] = [];
  for (const [plane, list] of plans) {
    const first = list[0];
    if (first) mags.push(`${plane}: ${first.layer.mags[first.target]!.join("-")}`);
  }
  setText(bar.magEl, mags.length ? `mag ${mags.join(", ")}` : "");
}

/** The loading indicator and the info cell's request meters (each frame, and between frames). */
export function updateLoading(grid: ViewGrid, info: DatasetInfo | null, tm: Pick<TileManager, "meter" | "inFlight" | "queued">): void {
  const inflight = tm.inFlight;
  const queued = tm.queued;
  const busy = inflight + queued > 0;
  setData(grid.loading, "state", busy ? "loading" : "idle");
  setText(grid.loadingText, busy ? `loading ${inflight + queued} tile${inflight + queued === 1 ? "" : "s"}` : "");
  if (info) {
    const lines = info.layers.map((l) => {
      const m = tm.meter(l.name);
      return `${l.name}: ${m.remoteRequests} req, ${formatBytes(m.remoteBytes)}`;
    });
    setText(grid.infoCell, `${info.name}\nvoxel ${info.voxel_size.map((v) => formatLength(v, info.unit)).join(" × ")}\n${lines.join("\n")}`);
    if (grid.infoCell.style.whiteSpace !== "pre-wrap") grid.infoCell.style.whiteSpace = "pre-wrap";
  } else {
    setText(grid.infoCell, ""); // no dataset (any more): nothing to describe
  }
}

/** Up to `max` values of the cached tiles among `tiles` (contrast, histogram). */
export function tileSamples(tm: Pick<TileManager, "peek">, tiles: readonly DesiredTile[], max: number): number[] {
  const samples: number[] = [];
  for (const t of tiles) {
    const tile = tm.peek(t.key);
    if (tile?.data) sampleValues(tile.data.values, tile.data.w * tile.data.h, tile.data.words64, max, samples);
  }
  return samples;
}
