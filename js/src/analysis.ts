// The analysis tools of the viewer: segment selection, clicks for Python, annotations,
// colour maps with a histogram, "save PNG" and the help overlay. The controller calls the
// hooks below (click, key, colorize, overlay); the controls live in ui/, the pure logic in
// segments.ts, annotations.ts, colormaps.ts, histogram.ts and keys.ts.

import type { AnyModel } from "@anywidget/types";
import { boxFromDrag, centerOf, makeAnnotation, readAnnotations, shapeInView, type Annotation } from "./annotations";
import { colorizeIntensity, type NumericArray, type RGB } from "./colors";
import { colorizeMapped, isPlain, type ColorParams } from "./colormaps";
import { h } from "./dom";
import { histogram, histogramDomain, type Histogram } from "./histogram";
import type { TileValues } from "./png";
import {
  MSG_CLICK, type ClickMessage, type DatasetInfo, type LayerInfo, type LayerSettings, type Plane, type Vec3, type WidgetModel,
} from "./protocol";
import { clickSelection, colorizePalette, colorizeSegments, isSegmentMode, segmentPainter, type SegmentMode } from "./segments";
import { PLANE_AXES, screenToVoxel, voxelToScreen, type ViewGeometry } from "./tilemath";
import { AnnotationList } from "./ui/annotationList";
import { ContrastControl, colormapOf } from "./ui/contrastControl";
import { HelpOverlay } from "./ui/helpOverlay";
import { SavePngButton } from "./ui/savePng";
import { SegmentList } from "./ui/segmentList";
import { ToolPicker, TOOLS, type Tool } from "./ui/toolPicker";

export interface AnalysisHost {
  info(): DatasetInfo | null;
  settings(): LayerSettings[];
  updateSetting(name: string, patch: Partial<LayerSettings>): void;
  valueAt(layer: LayerInfo, s: LayerSettings, plane: Plane, voxel: Vec3): number | bigint | null;
  geometry(plane: Plane): ViewGeometry;
  setView(position: Vec3, zoom: number): void;
  zoom(): number;
  redraw(): void;
  samples(name: string): number[];
  canvases(): { canvas: HTMLCanvasElement; x: number; y: number }[];
  listen(name: string, cb: () => void): void;
}

function defaultRange(elementClass: string): [number, number] {
  switch (elementClass) {
    case "int8": return [-128, 127];
    case "uint16": return [0, 65535];
    case "int16": return [-32768, 32767];
    default: return [0, 255];
  }
}

export class Analysis {
  readonly tools: ToolPicker;
  readonly help = new HelpOverlay();
  readonly savePng: SavePngButton;
  readonly annotationList: AnnotationList;
  readonly toolbar: HTMLSpanElement;
  private selected: Record<string, number[]> = {};
  private annotations: Annotation[] = [];
  private pending: { tool: "line" | "box"; plane: Plane; first: Vec3 } | null = null;
  private readonly rowControls = new Map<string, { sig: string; el: HTMLElement; refresh(): void }>();
  private clicks = 0;

  constructor(private readonly model: AnyModel<WidgetModel>, private readonly host: AnalysisHost) {
    this.tools = new ToolPicker(() => { this.pending = null; this.host.redraw(); });
    this.savePng = new SavePngButton({ canvases: () => this.host.canvases(), fileName: () => `${this.host.info()?.name ?? "views"}.png` });
    this.annotationList = new AnnotationList({
      annotations: () => this.annotations,
      setAnnotations: (list) => this.setAnnotations(list),
      jump: (a) => this.host.setView(centerOf(a), this.host.zoom()),
    });
    this.toolbar = h("span", { className: "wk-analysis-tools" }, this.tools.el, this.savePng.el, this.help.button);
    host.listen("selected_segments", () => { this.readSelected(); this.refresh(); this.host.redraw(); });
    host.listen("annotations", () => { this.readAnnotations(); this.refresh(); this.host.redraw(); });
    this.readSelected();
    this.readAnnotations();
  }

  // ---- state <-> model ----

  private readSelected(): void {
    const v = this.model.get("selected_segments");
    const out: Record<string, number[]> = {};
    if (v && typeof v === "object") {
      for (const [k, ids] of Object.entries(v)) if (Array.isArray(ids)) out[k] = ids.filter((x) => typeof x === "number");
    }
    this.selected = out;
  }

  private readAnnotations(): void {
    this.annotations = readAnnotations(this.model.get("annotations"));
  }

  selectedOf(layer: string): number[] {
    return this.selected[layer] ?? [];
  }

  setSelected(layer: string, ids: number[]): void {
    const next = { ...this.selected };
    if (ids.length) next[layer] = ids;
    else delete next[layer];
    this.selected = next;
    this.model.set("selected_segments", next);
    this.model.save_changes();
    this.refresh();
    this.host.redraw();
  }

  private clearSelection(): void {
    if (Object.keys(this.selected).length === 0) return;
    this.selected = {};
    this.model.set("selected_segments", {});
    this.model.save_changes();
    this.refresh();
    this.host.redraw();
  }

  setAnnotations(list: Annotation[]): void {
    this.annotations = list;
    this.model.set("annotations", list.map((a) => ({ ...a, points: a.points.map((p) => [...p]) })));
    this.model.save_changes();
    this.refresh();
    this.host.redraw();
  }

  // ---- layer rows (contrast of color layers, segment list of segmentation layers) ----

  rowExtras(layer: LayerInfo): HTMLElement | null {
    const sig = `${layer.category}`;
    const cached = this.rowControls.get(layer.name);
    if (cached && cached.sig === sig) return cached.el;
    const name = layer.name;
    let ctl: { el: HTMLElement; refresh(): void };
    if (layer.category === "color") {
      ctl = new ContrastControl(name, {
        settings: (n) => this.host.settings().find((s) => s.name === n),
        updateSetting: (n, patch) => this.host.updateSetting(n, patch),
        histogram: (n) => this.histogramOf(n),
      });
    } else {
      ctl = new SegmentList(name, {
        selected: (n) => this.selectedOf(n),
        setSelected: (n, ids) => this.setSelected(n, ids),
        mode: (n) => this.modeOf(this.host.settings().find((s) => s.name === n)),
        hidden: (n) => this.host.settings().find((s) => s.name === n)?.hidden_segments ?? [],
        setMode: (n, mode) => this.host.updateSetting(n, { segments_shown: mode }),
        setHidden: (n, ids) => this.host.updateSetting(n, { hidden_segments: ids }),
        customColor: (n, id) => this.host.info()?.layers.find((l) => l.name === n)?.segments?.[String(id)]?.color ?? null,
        properties: (n, id) => this.host.info()?.layers.find((l) => l.name === n)?.segments?.[String(id)]?.properties ?? null,
      });
    }
    this.rowControls.set(name, { sig, el: ctl.el, refresh: () => ctl.refresh() });
    return ctl.el;
  }

  private histogramOf(name: string): Histogram | null {
    const layer = this.host.info()?.layers.find((l) => l.name === name);
    const s = this.host.settings().find((x) => x.name === name);
    if (!layer || !s) return null;
    const samples = this.host.samples(name);
    if (samples.length === 0) return null;
    const [lo, hi] = histogramDomain(samples, layer.element_class, s.range);
    return histogram(samples, lo, hi, 128);
  }

  refresh(): void {
    const names = new Set(this.host.info()?.layers.map((l) => l.name) ?? []);
    for (const [name, c] of this.rowControls) {
      if (names.has(name)) c.refresh();
      else this.rowControls.delete(name);
    }
    this.annotationList.refresh();
  }

  // ---- colours ----

  private modeOf(s: LayerSettings | undefined): SegmentMode {
    return isSegmentMode(s?.segments_shown) ? s.segments_shown : "all";
  }

  /** Part of a segmentation tile's colour cache key that the selection decides. */
  segmentKey(layer: string, s: LayerSettings): string {
    const mode = this.modeOf(s);
    return `${mode}|${this.selectedOf(layer).join(",")}|${mode === "all_but_hidden" ? (s.hidden_segments ?? []).join(",") : ""}`;
  }

  colorizeSegmentation(
    layer: LayerInfo, s: LayerSettings, values: NumericArray, n: number, out: Uint32Array, hover: [number, number] | null, words64: boolean,
    palette?: TileValues["palette"],
  ): void {
    const paint = segmentPainter({
      alpha: Math.round(Math.max(0, Math.min(1, s.opacity)) * 255), mode: this.modeOf(s),
      selected: this.selectedOf(layer.name), hidden: s.hidden_segments ?? [], colors: layer.segments ?? null, hover,
    });
    if (palette) colorizePalette(palette.ids, palette.index, n, out, paint, words64);
    else colorizeSegments(values, n, out, paint, words64);
  }

  colorParams(layer: LayerInfo, s: LayerSettings): ColorParams {
    const range = s.range ?? defaultRange(layer.element_class);
    const gamma = typeof s.gamma === "number" && s.gamma > 0 ? s.gamma : 1;
    return { lo: range[0], hi: range[1], colormap: colormapOf(s), color: s.color as RGB, invert: Boolean(s.invert), gamma };
  }

  colorKey(p: ColorParams): string {
    return `${p.lo},${p.hi}|${p.color.join(",")}|${p.colormap}|${p.invert ? 1 : 0}|${p.gamma}`;
  }

  colorizeColor(p: ColorParams, values: NumericArray, n: number, out: Uint32Array, words64: boolean): void {
    if (isPlain(p)) colorizeIntensity(values, n, p.lo, p.hi, p.color, out, words64);
    else colorizeMapped(values, n, p, out, words64);
  }

  // ---- input ----

  /** A click (no drag) at screen point (sx, sy) of a view. */
  click(plane: Plane, sx: number, sy: number, mods: { shift: boolean; ctrl: boolean; meta: boolean; alt: boolean }): void {
    const info = this.host.info();
    if (!info) return;
    const v = screenToVoxel(this.host.geometry(plane), sx, sy);
    const voxel: Vec3 = [Math.floor(v[0]), Math.floor(v[1]), Math.floor(v[2])];
    const tool: Tool = this.tools.tool;
    if (tool === "select") {
      const additive = mods.shift || mods.ctrl || mods.meta;
      for (const layer of info.layers) {
        const s = this.host.settings().find((x) => x.name === layer.name);
        if (layer.category !== "segmentation" || !s?.visible) continue;
        const value = this.host.valueAt(layer, s, plane, voxel);
        if (value === null) continue;
        const id = typeof value === "bigint" ? Number(value) : Math.trunc(value);
        const next = clickSelection(this.selectedOf(layer.name), id, additive);
        if (JSON.stringify(next) !== JSON.stringify(this.selectedOf(layer.name))) this.setSelected(layer.name, next);
      }
    } else if (tool === "point") {
      this.setAnnotations([...this.annotations, makeAnnotation("point", [voxel])]);
    } else if (this.pending && this.pending.tool === tool && this.pending.plane === plane) {
      const first = this.pending.first;
      this.pending = null;
      const pts: Vec3[] = tool === "box" ? boxFromDrag(plane, first, voxel) : [first, voxel];
      this.setAnnotations([...this.annotations, makeAnnotation(tool, pts)]);
    } else {
      this.pending = { tool, plane, first: voxel };
      this.host.redraw();
    }
    this.clicks++;
    const modifiers = (["shift", "ctrl", "meta", "alt"] as const).filter((m) => mods[m]);
    const msg: ClickMessage = { type: MSG_CLICK, position: voxel, view: plane, modifiers };
    this.model.send(msg);
  }

  /** Keys of the analysis tools; true when handled. */
  key(e: KeyboardEvent): boolean {
    if (e.key === "Escape") {
      if (this.pending) {
        this.pending = null;
        this.host.redraw();
      } else if (this.help.open) {
        this.help.toggle(false);
      } else {
        this.clearSelection();
      }
      return true;
    }
    if (e.key === "?" || e.key === "h") {
      this.help.toggle();
      return true;
    }
    const t = TOOLS.find((x) => x.key === e.key);
    if (t) {
      this.tools.set(t.tool);
      return true;
    }
    return false;
  }

  // ---- drawing ----

  /** Annotations (and a line or box being drawn) over a view. */
  drawOverlay(ctx: CanvasRenderingContext2D, plane: Plane, g: ViewGeometry, dpr: number): void {
    const w0 = g.position[PLANE_AXES[plane][2]];
    const at = (p: Vec3, half = 0): [number, number] => {
      const [x, y] = voxelToScreen(g, [p[0] + half, p[1] + half, p[2] + half]);
      return [x * dpr, y * dpr];
    };
    ctx.save();
    ctx.lineWidth = Math.max(1.5, 2 * dpr);
    for (const a of this.annotations) {
      const shape = shapeInView(a, plane, w0);
      if (!shape) continue;
      ctx.strokeStyle = a.color;
      ctx.fillStyle = a.color;
      if (shape.kind === "dot") {
        const [x, y] = at(shape.p, 0.5);
        ctx.globalAlpha = shape.near;
        ctx.beginPath();
        ctx.arc(x, y, 4 * dpr, 0, 2 * Math.PI);
        ctx.fill();
        ctx.globalAlpha = 1;
      } else if (shape.kind === "segment") {
        const [x0, y0] = at(shape.a, 0.5);
        const [x1, y1] = at(shape.b, 0.5);
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        ctx.lineTo(x1, y1);
        ctx.stroke();
      } else {
        const [x0, y0] = at(shape.lo);
        const [x1, y1] = at(shape.hi);
        ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      }
    }
    if (this.pending && this.pending.plane === plane) {
      const [x, y] = at(this.pending.first, 0.5);
      ctx.strokeStyle = "#ffcc00";
      ctx.beginPath();
      ctx.moveTo(x - 6 * dpr, y);
      ctx.lineTo(x + 6 * dpr, y);
      ctx.moveTo(x, y - 6 * dpr);
      ctx.lineTo(x, y + 6 * dpr);
      ctx.stroke();
    }
    ctx.restore();
  }

  debugState(): Record<string, unknown> {
    return { selected: this.selected, annotations: this.annotations, tool: this.tools.tool, pending: this.pending, clicks: this.clicks, help: this.help.open };
  }
}
