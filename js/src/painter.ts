// Canvas work of one frame: composite each view's layer plans (coarser mags under the target
// mag while it loads), the crosshair, the scale bar and the analysis overlay. Colorized tiles
// are kept as canvases (most recently drawn only) so a pan redraws without recolouring.

import type { Analysis } from "./analysis";
import { setData, setText } from "./dom";
import { LRU } from "./lru";
import { TILE_SIZE, type DatasetInfo, type LayerInfo, type LayerSettings, type Vec3 } from "./protocol";
import { PLANE_AXES, scaleBar, tileScreenRect, unitsPerPixel, voxelToScreen, type ViewGeometry } from "./tilemath";
import { tilesAt, type LayerPlan } from "./planner";
import type { CachedTile, TileManager } from "./tiles";
import type { SliceView } from "./views";

const AXIS_COLORS = ["#ff5252", "#69f0ae", "#448aff"]; // x, y, z

interface ColorEntry {
  lut: string;
  tile: CachedTile;
  canvas: HTMLCanvasElement;
}

/** A hovered segment id (its two 32-bit words) per segmentation layer. */
export type Hovered = Map<string, { lo: number; hi: number; text: string }>;

export type PainterAnalysis = Pick<Analysis, "colorParams" | "colorKey" | "segmentKey" | "colorizeColor" | "colorizeSegmentation" | "drawOverlay">;

export class Painter {
  // colorized tiles (4 bytes per pixel, as canvases): the most recently drawn ones only
  private readonly colorCache = new LRU<string, ColorEntry>(512);
  private scratch: ImageData | null = null;
  /** Whether the last `paint` drew any tile with data. */
  drewAny = false;

  constructor(
    private readonly tm: Pick<TileManager, "get" | "peek">,
    private readonly analysis: PainterAnalysis,
    private readonly hovered: Hovered,
  ) {}

  clear(): void {
    this.colorCache.clear();
  }

  /** Draw one view; returns how many target-mag tiles it drew. */
  paint(view: SliceView, g: ViewGeometry, plans: LayerPlan[], info: DatasetInfo | null, position: Vec3): number {
    const plane = g.plane;
    if (view.width === 0 || view.height === 0) return 0;
    const ctx = view.canvas.getContext("2d");
    const lctx = view.layerCanvas.getContext("2d");
    if (!ctx || !lctx) return 0;
    const dpr = view.dpr;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.globalCompositeOperation = "source-over";
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, view.canvas.width, view.canvas.height);
    ctx.imageSmoothingEnabled = false;
    lctx.imageSmoothingEnabled = false;
    let drawn = 0;
    for (const plan of plans) {
      lctx.setTransform(1, 0, 0, 1, 0, 0);
      lctx.clearRect(0, 0, view.layerCanvas.width, view.layerCanvas.height);
      for (const mi of plan.drawMags) {
        const isTarget = mi === plan.target;
        const mag = plan.layer.mags[mi]!;
        const tiles = isTarget ? plan.targetTiles : tilesAt(g, plan.layer, plan.settings, mi);
        for (const t of tiles) {
          const tile = isTarget ? this.tm.get(t.key) : this.tm.peek(t.key);
          if (!tile) continue;
          const r = tileScreenRect(g, mag, t.i, t.j, TILE_SIZE, tile.u0, tile.v0, tile.w, tile.h);
          const x0 = Math.round(r.x * dpr), y0 = Math.round(r.y * dpr);
          const x1 = Math.round((r.x + r.w) * dpr), y1 = Math.round((r.y + r.h) * dpr);
          if (x1 <= x0 || y1 <= y0) continue;
          if (isTarget) {
            lctx.clearRect(x0, y0, x1 - x0, y1 - y0);
            drawn++;
          }
          if (tile.data) {
            lctx.drawImage(this.colorized(tile, plan.layer, plan.settings), x0, y0, x1 - x0, y1 - y0);
            this.drewAny = true;
          }
        }
      }
      const seg = plan.layer.category === "segmentation";
      ctx.globalAlpha = seg ? 1 : Math.max(0, Math.min(1, plan.settings.opacity));
      ctx.globalCompositeOperation = seg ? "source-over" : "lighter";
      ctx.drawImage(view.layerCanvas, 0, 0);
    }
    ctx.globalAlpha = 1;
    ctx.globalCompositeOperation = "source-over";
    // crosshair through the position (the view's center)
    if (info) {
      const [u, v] = PLANE_AXES[plane];
      const [cx, cy] = voxelToScreen(g, position);
      ctx.lineWidth = Math.max(1, dpr);
      ctx.globalAlpha = 0.6;
      ctx.strokeStyle = AXIS_COLORS[u]!;
      ctx.beginPath();
      ctx.moveTo(Math.round(cx * dpr) + 0.5, 0);
      ctx.lineTo(Math.round(cx * dpr) + 0.5, view.canvas.height);
      ctx.stroke();
      ctx.strokeStyle = AXIS_COLORS[v]!;
      ctx.beginPath();
      ctx.moveTo(0, Math.round(cy * dpr) + 0.5);
      ctx.lineTo(view.canvas.width, Math.round(cy * dpr) + 0.5);
      ctx.stroke();
      ctx.globalAlpha = 1;
      const bar = scaleBar(unitsPerPixel(g.zoom, g.voxelSize), Math.min(120, g.width / 4), info.unit);
      view.setScaleBar(bar.px, bar.label);
      setData(view.el, "scaleBar", String(bar.value));
      this.analysis.drawOverlay(ctx, plane, g, dpr);
    } else {
      view.setScaleBar(0, "");
    }
    const first = plans[0];
    const magText = first ? first.layer.mags[first.target]!.join("-") : "";
    setText(view.label, `${plane.toUpperCase()}  ${Math.floor(position[PLANE_AXES[plane][2]])}${magText ? `  mag ${magText}` : ""}`);
    setData(view.el, "mag", magText);
    setData(view.el, "tilesDrawn", String(drawn));
    return drawn;
  }

  /** The tile coloured with the layer's current settings (cached per tile and lookup table). */
  colorized(tile: CachedTile, layer: LayerInfo, s: LayerSettings): HTMLCanvasElement {
    const data = tile.data!;
    const seg = layer.category === "segmentation";
    const hov = seg ? this.hovered.get(layer.name) : undefined;
    const params = seg ? null : this.analysis.colorParams(layer, s);
    const lut = params
      ? `c|${this.analysis.colorKey(params)}`
      : `s|${Math.round(s.opacity * 255)}|${hov ? `${hov.lo},${hov.hi}` : ""}|${this.analysis.segmentKey(layer.name, s)}`;
    const entry = this.colorCache.get(tile.key);
    if (entry && entry.tile === tile && entry.lut === lut) return entry.canvas;
    const canvas = entry?.canvas ?? document.createElement("canvas");
    if (canvas.width !== data.w) canvas.width = data.w;
    if (canvas.height !== data.h) canvas.height = data.h;
    // one scratch image per tile size: putImageData copies it, and a new 256 KiB image per
    // tile is garbage that costs the page a major GC every few pans
    if (this.scratch?.width !== data.w || this.scratch.height !== data.h) this.scratch = new ImageData(data.w, data.h);
    const img = this.scratch;
    const out = new Uint32Array(img.data.buffer);
    const n = data.w * data.h;
    if (params) this.analysis.colorizeColor(params, data.values, n, out, data.words64);
    else this.analysis.colorizeSegmentation(layer, s, data.values, n, out, hov ? [hov.lo, hov.hi] : null, data.words64, data.palette);
    canvas.getContext("2d")?.putImageData(img, 0, 0);
    this.colorCache.set(tile.key, { lut, tile, canvas });
    return canvas;
  }
}
