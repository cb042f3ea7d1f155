// Ties the model (synced traits), the tile pipeline, the slice views, the layer list and
// the form together. One Controller per rendered view of the widget.

import type { AnyModel } from "@anywidget/types";
import { Analysis } from "./analysis";
import { autoRange, idWords, type NumericArray } from "./colors";
import { sampleValues } from "./histogram";
import { debounce, formatBytes, h, setData, setText, setVisible } from "./dom";
import { AddLayerForm } from "./form";
import { LayerPanel } from "./layers";
import { Layout, viewsHeight } from "./layout";
import { LRU } from "./lru";
import { decodePlanesTile, decodeRawPlanesTile, valueAt } from "./png";
import {
  ENCODING_PNG_PLANES, ENCODING_RAW_PLANES, MSG_STATS, PLANES, STATE_DEBOUNCE_MS, TILE_SIZE, isResult, isStats,
  type DatasetInfo, type LayerInfo, type LayerSettings, type Plane, type ResultMessage, type Vec3,
  type ViewMode, type WidgetModel,
} from "./protocol";
import { ANALYSIS_CSS } from "./ui/analysisStyle";
import { installStyles } from "./style";
import {
  AXES, PLANE_AXES, chooseMag, clampZoom, coarserMags, formatLength, formatPhysical, formatVoxel,
  panBy, pixelsPerVoxel, scaleBar, screenToVoxel, sliceIndex, tileKey, tileScreenRect, unitsPerPixel, visibleTiles,
  voxelToScreen, zoomAt, type ViewGeometry,
} from "./tilemath";
import { TileManager, type CachedTile, type DesiredTile } from "./tiles";
import { FullscreenToggle } from "./ui/fullscreen";
import { ResizeHandle } from "./ui/resize-handle";
import { Toolbar } from "./ui/toolbar";
import { SliceView } from "./views";

const AXIS_COLORS = ["#ff5252", "#69f0ae", "#448aff"]; // x, y, z

interface LayerPlan {
  layer: LayerInfo;
  settings: LayerSettings;
  target: number; // mag index
  drawMags: number[]; // mag indices, coarsest first, target last
  targetTiles: (DesiredTile & { i: number; j: number })[];
  fallbackTiles: DesiredTile[];
  marginTiles: DesiredTile[];
  complete: boolean;
}

interface ColorEntry {
  lut: string;
  tile: CachedTile;
  canvas: HTMLCanvasElement;
}

function isEditable(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return ["INPUT", "TEXTAREA", "SELECT", "BUTTON"].includes(el.tagName) || el.isContentEditable;
}

export class Controller {
  private readonly root: HTMLDivElement;
  private readonly viewsEl: HTMLDivElement;
  private readonly placeholder: HTMLDivElement;
  private readonly infoCell: HTMLDivElement;
  private readonly loading: HTMLDivElement;
  private readonly loadingText: HTMLSpanElement;
  private readonly positionEl: HTMLSpanElement;
  private readonly cursorEl: HTMLSpanElement;
  private readonly valueEl: HTMLSpanElement;
  private readonly zoomEl: HTMLSpanElement;
  private readonly magEl: HTMLSpanElement;
  private readonly errorEl: HTMLDivElement;
  private readonly modeSelect: HTMLSelectElement;
  private readonly views: Record<Plane, SliceView>;
  private readonly form: AddLayerForm;
  private readonly panel: LayerPanel;
  private readonly analysis: Analysis;
  private readonly layout: Layout;
  private readonly toolbar: Toolbar;
  private readonly fullscreen: FullscreenToggle;
  private readonly tm: TileManager;
  // colorized tiles (4 bytes per pixel, as canvases): the most recently drawn ones only
  private readonly colorCache = new LRU<string, ColorEntry>(512);

  private position: Vec3 = [0, 0, 0];
  private zoom = 1;
  private mode: ViewMode = "ortho";
  private active: Plane = "xy";
  private settings: LayerSettings[] = [];
  private info: DatasetInfo | null = null;
  private layerSignatures = new Map<string, string>();
  private suppress = false;
  private raf = 0;
  private destroyed = false;
  private hover: { plane: Plane; sx: number; sy: number } | null = null;
  private hovered = new Map<string, { lo: number; hi: number; text: string }>();
  private autoRanged = new Set<string>();
  private stepDir = 0;
  private seq = 0;
  private readonly pending = new Map<string, (r: ResultMessage) => void>();
  private readonly modelHandlers: [string, (...args: unknown[]) => void][] = [];
  private readonly cleanups: (() => void)[] = [];
  private retryTimer: ReturnType<typeof setInterval> | null = null;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  // debug counters (exposed on the root's data-* attributes)
  private viewGen = 0;
  private completeGen = -1;
  private completeAt = 0;
  private tilesDrawn = 0;
  private paints = 0;
  private lastPaint = 0;
  private infoGen = 0;
  private firstTileGen = -1;
  private firstTileAt = 0;
  private drewAny = false;
  private infoAt = 0;
  private frameMs = 0;
  private frameMsMax = 0;
  private requestedAt = -Infinity;

  constructor(private readonly model: AnyModel<WidgetModel>, private readonly el: HTMLElement) {
    this.tm = new TileManager(
      (content, buffers) => this.model.send(content, undefined, buffers),
      (reply, bytes) => {
        if (reply.encoding === ENCODING_RAW_PLANES) {
          try {
            return Promise.resolve(decodeRawPlanesTile(bytes, reply.dtype, reply.w, reply.h));
          } catch (e) {
            return Promise.reject(e);
          }
        }
        if (reply.encoding !== ENCODING_PNG_PLANES) throw new Error(`unexpected tile encoding ${reply.encoding}`);
        return decodePlanesTile(bytes, reply.dtype, reply.w, reply.h);
      },
      {
        cacheBytes: 256 * 1024 * 1024,
        onTile: (tile) => { this.onTile(tile); },
        onError: () => this.scheduleFrame(),
      },
    );
    this.form = new AddLayerForm(model, (content) => this.request(content));
    this.analysis = new Analysis(model, {
      info: () => this.info,
      settings: () => this.settings,
      updateSetting: (name, patch) => this.updateSetting(name, patch),
      valueAt: (layer, s, plane, voxel) => this.valueAtVoxel(layer, s, plane, voxel)?.value ?? null,
      geometry: (p) => this.geometry(p),
      setView: (position, zoom) => this.setView(position, zoom),
      zoom: () => this.zoom,
      redraw: () => this.bump(),
      samples: (name) => this.visibleSamples(name),
      canvases: () => this.visiblePlanes().map((p) => {
        const r = this.views[p].el.getBoundingClientRect();
        const base = this.viewsEl.getBoundingClientRect();
        return { canvas: this.views[p].canvas, x: r.left - base.left, y: r.top - base.top };
      }),
      listen: (name, cb) => this.listen(name, cb),
    });
    this.panel = new LayerPanel({
      rowExtras: (layer) => this.analysis.rowExtras(layer),
      info: () => this.info,
      settings: () => this.settings,
      updateSetting: (name, patch) => this.updateSetting(name, patch),
      autoContrast: (name) => this.autoContrast(name),
      meter: (name) => this.tm.meter(name),
      hovered: (name) => this.hovered.get(name)?.text ?? "–",
    });
    const callbacks = {
      pan: (p: Plane, dx: number, dy: number) => this.setView(panBy(this.geometry(p), dx, dy), this.zoom),
      zoomAt: (p: Plane, sx: number, sy: number, f: number) => {
        const r = zoomAt(this.geometry(p), sx, sy, f);
        this.setView(r.position, r.zoom);
      },
      hover: (p: Plane, sx: number, sy: number) => { this.hover = { plane: p, sx, sy }; this.updateHover(); },
      leave: () => { this.hover = null; this.updateHover(); },
      activate: (p: Plane) => this.setActive(p),
      jump: (p: Plane, sx: number, sy: number) => this.setView(screenToVoxel(this.geometry(p), sx, sy), this.zoom),
      stepSlice: (p: Plane, d: number) => this.stepSlice(p, d),
      resized: () => this.scheduleFrame(),
      click: (p: Plane, sx: number, sy: number, mods: { shift: boolean; ctrl: boolean; meta: boolean; alt: boolean }) => this.analysis.click(p, sx, sy, mods),
    };
    this.views = { xy: new SliceView("xy", callbacks), xz: new SliceView("xz", callbacks), yz: new SliceView("yz", callbacks) };
    this.placeholder = h("div", { className: "wk-placeholder", testid: "wk-placeholder", text: "Paste the URL of a dataset into the form above (or call viewer.add_layers(uri)) to see it here." });
    this.loadingText = h("span", { testid: "wk-loading-text" });
    this.loading = h("div", { className: "wk-loading", testid: "wk-loading", dataset: { state: "idle" } },
      h("span", { className: "wk-spinner" }), this.loadingText);
    this.infoCell = h("div", { className: "wk-info-cell", testid: "wk-info" });
    this.viewsEl = h("div", {
      className: "wk-views", testid: "wk-views",
      attrs: { tabindex: "0", "aria-label": "slice views; drag to pan, wheel to zoom, , and . to step slices" },
    }, this.views.xy.el, this.views.yz.el, this.views.xz.el, this.infoCell, this.placeholder, this.loading, this.analysis.help.el);
    this.positionEl = h("span", { testid: "wk-position" });
    this.cursorEl = h("span", { testid: "wk-cursor" });
    this.valueEl = h("span", { testid: "wk-value" });
    this.zoomEl = h("span", { testid: "wk-zoom" });
    this.magEl = h("span", { testid: "wk-mag" });
    this.errorEl = h("div", { className: "wk-error", testid: "wk-widget-error" });
    this.modeSelect = h("select", { testid: "wk-plane-select", attrs: { "aria-label": "views" } },
      ...(["ortho", "xy", "xz", "yz"] as const).map((m) => h("option", { text: m === "ortho" ? "XY + YZ + XZ" : m.toUpperCase(), attrs: { value: m } })));
    this.modeSelect.addEventListener("change", () => this.setMode(this.modeSelect.value as ViewMode));
    this.toolbar = new Toolbar([
      { testid: "wk-toggle-form", text: "+ Add layer", title: "add a layer from a URL", onClick: () => this.layout.toggleForm() },
      { testid: "wk-toggle-preview", text: "Dataset", title: "the dataset's preview and datasource-properties.json", onClick: () => this.layout.togglePreview() },
    ], "drag: pan · wheel: zoom · , . or shift+wheel: slice · double-click: move there · 1–4: views");
    this.toolbar.add(
      this.modeSelect,
      h("button", { testid: "wk-zoom-in", text: "+", title: "zoom in (+)", on: { click: () => this.zoomBy(1 / 1.5) } }),
      h("button", { testid: "wk-zoom-out", text: "−", title: "zoom out (-)", on: { click: () => this.zoomBy(1.5) } }),
      this.analysis.toolbar,
    );
    const handle = new ResizeHandle({
      min: 120,
      current: () => this.viewsEl.getBoundingClientRect().height,
      set: (px, done) => {
        this.viewsEl.style.height = `${px}px`;
        if (done) {
          this.model.set("height", px);
          this.model.save_changes();
        }
      },
    });
    const bar = h("div", { className: "wk-bar", testid: "wk-statusbar" },
      h("span", {}, h("b", { text: "Position " }), this.positionEl),
      h("span", {}, h("b", { text: "Cursor " }), this.cursorEl),
      h("span", {}, this.valueEl),
      h("span", {}, this.zoomEl),
      h("span", {}, this.magEl));
    this.root = h("div", { className: "wk-root", testid: "wk-root", attrs: { "data-lm-suppress-shortcuts": "true" } },
      this.toolbar.el, this.form.el, this.form.preview,
      h("div", { className: "wk-main" }, h("div", { className: "wk-stage" }, this.viewsEl, handle.el), this.panel.el),
      bar, this.errorEl);
    this.panel.el.append(this.analysis.annotationList.el);
    this.fullscreen = new FullscreenToggle(this.root, () => this.scheduleFrame());
    this.toolbar.add(this.fullscreen.el);
    el.append(this.root);
    installStyles(this.root, ANALYSIS_CSS);
    this.layout = new Layout({ root: this.root, form: this.form.el, preview: this.form.preview });
    this.layout.onChange(() => {
      this.toolbar.setPressed("wk-toggle-form", this.layout.formShown, this.layout.hasData);
      this.toolbar.setPressed("wk-toggle-preview", this.layout.previewShown, this.model.get("preview") !== null);
    });
    const onResize = (): void => { if (!(Number(this.model.get("height")) > 0)) this.applyHeight(); };
    window.addEventListener("resize", onResize);
    this.cleanups.push(() => window.removeEventListener("resize", onResize));

    const onKey = (e: KeyboardEvent): void => this.onKey(e);
    this.viewsEl.addEventListener("keydown", onKey);
    this.cleanups.push(() => this.viewsEl.removeEventListener("keydown", onKey));

    const onMsg = (msg: unknown, buffers: DataView[]): void => this.onMessage(msg, buffers);
    model.on("msg:custom", onMsg);
    this.modelHandlers.push(["msg:custom", onMsg as (...args: unknown[]) => void]);
    this.listen("position", () => { if (!this.suppress) { this.readView(); this.scheduleFrame(); } });
    this.listen("zoom", () => { if (!this.suppress) { this.readView(); this.scheduleFrame(); } });
    this.listen("plane", () => { if (!this.suppress) { this.readView(); this.applyMode(); } });
    this.listen("layer_settings", () => { if (!this.suppress) { this.readSettings(); this.panel.update(); this.analysis.refresh(); this.bump(); } });
    this.listen("dataset_info", () => this.readInfo());
    this.listen("height", () => this.applyHeight());
    this.listen("preview", () => this.updateLayout());
    this.listen("busy", () => this.updateLayout());

    this.readView();
    this.readSettings();
    this.readInfo();
    this.applyMode();
    this.applyHeight();
    this.retryTimer = setInterval(() => { if (this.tm.queued > 0) this.scheduleFrame(); }, 2000);
    this.statsTimer = setInterval(() => { this.panel.refreshLive(); this.analysis.refresh(); }, 1000);
    const api = this.debugApi();
    (this.el as HTMLElement & { __wk?: unknown }).__wk = api;
    (this.root as HTMLElement & { __wk?: unknown }).__wk = api;
    setData(this.root, "ready", "1");
  }

  destroy(): void {
    this.destroyed = true;
    this.syncState.flush();
    if (this.raf) cancelAnimationFrame(this.raf);
    if (this.retryTimer !== null) clearInterval(this.retryTimer);
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    for (const [name, cb] of this.modelHandlers) this.model.off(name, cb);
    for (const fn of this.cleanups) fn();
    for (const v of Object.values(this.views)) v.destroy();
    this.form.destroy();
    this.layout.destroy();
    this.fullscreen.destroy();
    this.tm.reset();
    this.colorCache.clear();
    this.root.remove();
  }

  // ---- model <-> local state ----

  private listen(name: string, cb: () => void): void {
    const wrapped = (): void => { try { cb(); } catch (e) { this.showError(e); } };
    this.model.on(`change:${name}`, wrapped);
    this.modelHandlers.push([`change:${name}`, wrapped]);
  }

  private readView(): void {
    const p = this.model.get("position");
    if (Array.isArray(p) && p.length === 3 && p.every((v) => Number.isFinite(v))) this.position = [p[0], p[1], p[2]];
    this.zoom = clampZoom(Number(this.model.get("zoom")));
    const plane = this.model.get("plane");
    if (plane === "xy" || plane === "xz" || plane === "yz" || plane === "ortho") this.mode = plane;
    if (this.mode !== "ortho") this.active = this.mode;
    this.viewGen++;
  }

  private readSettings(): void {
    const s = this.model.get("layer_settings");
    this.settings = Array.isArray(s) ? s.map((x) => ({ ...x, axes: { ...(x.axes ?? {}) } })) : [];
  }

  private readInfo(): void {
    const info = this.model.get("dataset_info");
    this.info = info ?? null;
    const sigs = new Map<string, string>();
    for (const l of this.info?.layers ?? []) sigs.set(l.name, JSON.stringify([l.mags, l.bbox, l.element_class, l.num_channels, l.additional_axes]));
    for (const [name, sig] of this.layerSignatures) {
      if (sigs.get(name) !== sig) {
        this.tm.dropLayer(name);
        this.autoRanged.delete(name);
      }
    }
    this.layerSignatures = sigs;
    if (!this.info) this.tm.reset();
    this.infoGen++;
    this.infoAt = performance.now();
    this.readSettings();
    setVisible(this.placeholder, !this.info || this.info.layers.length === 0);
    this.updateLayout();
    this.panel.update();
    this.bump();
  }

  private readonly syncState = debounce(() => {
    if (this.destroyed) return;
    this.suppress = true;
    try {
      this.model.set("position", [...this.position] as Vec3);
      this.model.set("zoom", this.zoom);
      this.model.set("plane", this.mode);
      this.model.set("layer_settings", this.settings.map((s) => ({ ...s, axes: { ...s.axes } })));
      this.model.save_changes();
    } finally {
      this.suppress = false;
    }
  }, STATE_DEBOUNCE_MS);

  private bump(): void {
    this.viewGen++;
    this.scheduleFrame();
  }

  private setView(position: Vec3, zoom: number): void {
    if (!position.every((v) => Number.isFinite(v))) return;
    this.position = position;
    this.zoom = clampZoom(zoom);
    this.syncState();
    this.bump();
    this.requestNow();
    if (this.hover) this.updateHover();
  }

  private zoomBy(factor: number): void {
    this.setView(this.position, this.zoom * factor);
  }

  private setMode(mode: ViewMode): void {
    this.mode = mode;
    if (mode !== "ortho") this.active = mode;
    this.applyMode();
    this.syncState();
  }

  private applyMode(): void {
    const ortho = this.mode === "ortho";
    this.viewsEl.classList.toggle("wk-mode-ortho", ortho);
    this.viewsEl.classList.toggle("wk-mode-single", !ortho);
    for (const p of PLANES) setVisible(this.views[p].el, ortho || this.mode === p);
    setVisible(this.infoCell, ortho);
    if (this.modeSelect.value !== this.mode) this.modeSelect.value = this.mode;
    setData(this.root, "mode", this.mode);
    this.setActive(this.active);
    this.bump();
  }

  private setActive(plane: Plane): void {
    this.active = plane;
    for (const p of PLANES) this.views[p].el.classList.toggle("wk-active", p === plane && this.mode === "ortho");
  }

  /** The facts the layout folds and unfolds the form and the preview by. */
  private updateLayout(): void {
    if (!this.layout) return; // readInfo runs once before the layout exists
    const preview = this.model.get("preview");
    this.layout.update({
      hasData: Boolean(this.info && this.info.layers.length > 0),
      hasPreview: preview !== null && preview !== undefined,
      staged: preview?.staged.length ?? 0,
      busy: Boolean(this.model.get("busy")),
    });
  }

  private applyHeight(): void {
    const hgt = viewsHeight(Number(this.model.get("height")), window.innerHeight);
    this.viewsEl.style.height = `${hgt}px`;
    this.scheduleFrame();
  }

  private updateSetting(name: string, patch: Partial<LayerSettings>): void {
    this.settings = this.settings.map((s) => (s.name === name ? { ...s, ...patch } : s));
    this.syncState();
    this.panel.refresh();
    this.analysis.refresh();
    this.bump();
    if (this.hover) this.updateHover();
  }

  private stepSlice(plane: Plane, delta: number): void {
    const w = PLANE_AXES[plane][2];
    const p: Vec3 = [this.position[0], this.position[1], this.position[2]];
    // step by one voxel of the finest mag shown (at least 1)
    p[w] = Math.floor(p[w]) + delta;
    this.stepDir = Math.sign(delta);
    this.setView(p, this.zoom);
  }

  // ---- messages ----

  private request(content: Record<string, unknown>): Promise<ResultMessage> {
    const id = `${this.tm.clientId}-r${++this.seq}`;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.model.send({ ...content, id });
    });
  }

  private onMessage(msg: unknown, buffers: DataView[]): void {
    try {
      if (this.tm.handleMessage(msg, buffers ?? [])) {
        this.scheduleFrame();
        return;
      }
      if (isResult(msg)) {
        const resolve = this.pending.get(msg.id);
        if (resolve) {
          this.pending.delete(msg.id);
          resolve(msg);
        }
        return;
      }
      if (isStats(msg)) {
        this.tm.setRemoteMeters(msg.meters);
        this.panel.refreshLive();
      }
    } catch (e) {
      this.showError(e);
    }
  }

  private onTile(tile: CachedTile): void {
    // automatic contrast for color layers without a range, from their first tile
    const s = this.settings.find((x) => x.name === tile.layer);
    const layer = this.info?.layers.find((l) => l.name === tile.layer);
    if (s && layer && layer.category === "color" && s.range === null && tile.data && !this.autoRanged.has(tile.layer)) {
      const r = autoRange(tile.data.values, tile.data.w * tile.data.h, tile.data.words64);
      if (r) {
        this.autoRanged.add(tile.layer);
        this.updateSetting(tile.layer, { range: r });
      }
    }
    // colorize now, between messages, rather than all at once in the next frame
    const current = this.settings.find((x) => x.name === tile.layer);
    if (current && current.visible && layer && tile.data) this.colorized(tile, layer, current);
    this.scheduleFrame();
  }

  /** Samples of a layer's values in the target tiles of the active view (contrast, histogram). */
  private visibleSamples(name: string, max = 4096): number[] {
    const layer = this.info?.layers.find((l) => l.name === name);
    const s = this.settings.find((x) => x.name === name);
    if (!layer || !s) return [];
    const plan = this.planLayer(this.geometry(this.active), layer, s);
    const samples: number[] = [];
    for (const t of plan.targetTiles) {
      const tile = this.tm.peek(t.key);
      if (tile?.data) sampleValues(tile.data.values, tile.data.w * tile.data.h, tile.data.words64, max, samples);
    }
    return samples;
  }

  private autoContrast(name: string): void {
    const samples = this.visibleSamples(name);
    if (samples.length === 0) return;
    const r = autoRange(Float64Array.from(samples) as NumericArray, samples.length);
    if (r) this.updateSetting(name, { range: r });
  }

  private showError(e: unknown): void {
    const text = e instanceof Error ? `${e.message}` : String(e);
    setText(this.errorEl, `widget error: ${text}`);
    console.error("wk_widget:", e);
  }

  // ---- keyboard ----

  private onKey(e: KeyboardEvent): void {
    if (isEditable(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (this.analysis.key(e)) {
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    const step = e.shiftKey ? 10 : 1;
    const g = this.geometry(this.active);
    const panPx = Math.max(16, Math.min(g.width, g.height) / 8) * (e.shiftKey ? 4 : 1);
    let handled = true;
    switch (e.key) {
      case ",": case "<": case "PageDown": case "d": case "D": this.stepSlice(this.active, -step); break;
      case ".": case ">": case "PageUp": case "f": case "F": this.stepSlice(this.active, step); break;
      case "ArrowLeft": case "a": case "A": this.setView(panBy(g, panPx, 0), this.zoom); break;
      case "ArrowRight": this.setView(panBy(g, -panPx, 0), this.zoom); break;
      case "ArrowUp": case "w": case "W": this.setView(panBy(g, 0, panPx), this.zoom); break;
      case "ArrowDown": case "s": case "S": this.setView(panBy(g, 0, -panPx), this.zoom); break;
      case "+": case "=": case "i": this.zoomBy(1 / 1.5); break;
      case "-": case "_": case "o": this.zoomBy(1.5); break;
      case "1": this.setMode("xy"); break;
      case "2": this.setMode("xz"); break;
      case "3": this.setMode("yz"); break;
      case "4": this.setMode("ortho"); break;
      default: handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  // ---- geometry and planning ----

  private geometry(plane: Plane): ViewGeometry {
    const v = this.views[plane];
    return {
      plane, width: v.width, height: v.height, position: this.position, zoom: this.zoom,
      voxelSize: this.info?.voxel_size ?? [1, 1, 1],
    };
  }

  private layerAxes(layer: LayerInfo, s: LayerSettings): Record<string, number> {
    const out: Record<string, number> = {};
    for (const a of layer.additional_axes) {
      const v = s.axes?.[a.name];
      out[a.name] = typeof v === "number" && v >= a.bounds[0] && v < a.bounds[1] ? v : a.bounds[0];
    }
    return out;
  }

  private tilesAt(g: ViewGeometry, layer: LayerInfo, s: LayerSettings, magIndex: number, positionOverride?: Vec3) {
    const mag = layer.mags[magIndex]!;
    const geo = positionOverride ? { ...g, position: positionOverride } : g;
    const slice = sliceIndex(geo.position, g.plane, mag);
    const channel = layer.num_channels > 1 ? Math.max(0, Math.min(layer.num_channels - 1, s.channel | 0)) : 0;
    const axes = this.layerAxes(layer, s);
    return visibleTiles(geo, mag, TILE_SIZE, layer.bbox).map(({ i, j }) => ({
      i, j,
      key: tileKey(layer.name, g.plane, mag, slice, i, j, channel, axes),
      request: {
        layer: layer.name, plane: g.plane, mag, slice, tile: [i, j] as [number, number], size: TILE_SIZE,
        channel, axes, format: "raw" as const,
      },
    }));
  }

  private planLayer(g: ViewGeometry, layer: LayerInfo, s: LayerSettings): LayerPlan {
    const voxelSize = this.info?.voxel_size ?? [1, 1, 1];
    const target = Math.max(0, chooseMag(layer.mags, g.plane, g.zoom, voxelSize));
    const coarser = coarserMags(layer.mags, target, g.plane);
    const targetTiles = this.tilesAt(g, layer, s, target);
    const complete = targetTiles.every((t) => this.tm.peek(t.key) !== undefined);
    let fallbackTiles: DesiredTile[] = [];
    if (coarser.length > 0) {
      // a coarser level (two steps up) fills the view fast while the target level loads;
      // once the target is complete, only fallback tiles already on their way are kept
      const all = this.tilesAt(g, layer, s, coarser[Math.min(1, coarser.length - 1)]!);
      fallbackTiles = complete ? all.filter((t) => this.tm.isPending(t.key)) : all;
    }
    // a margin of half a tile around the view, fetched last, makes small pans warm
    const [u, v] = PLANE_AXES[g.plane];
    const mag = layer.mags[target]!;
    const marginU = (TILE_SIZE / 2) * mag[u] * pixelsPerVoxel(g, u);
    const marginV = (TILE_SIZE / 2) * mag[v] * pixelsPerVoxel(g, v);
    const wanted = new Set(targetTiles.map((t) => t.key));
    const marginTiles = this.tilesAt({ ...g, width: g.width + 2 * marginU, height: g.height + 2 * marginV }, layer, s, target)
      .filter((t) => !wanted.has(t.key));
    // coarser levels are drawn under the target level only while it is incomplete
    const drawMags = complete ? [target] : [...coarser.slice(0, 3).reverse(), target];
    return { layer, settings: s, target, drawMags, targetTiles, fallbackTiles, marginTiles, complete };
  }

  // ---- frames ----

  private scheduleFrame(): void {
    if (this.raf || this.destroyed) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      try {
        this.frame();
      } catch (e) {
        this.showError(e);
      }
    });
  }

  private visiblePlanes(): Plane[] {
    return this.mode === "ortho" ? [...PLANES] : [this.mode];
  }

  /** The layer plans of the visible views and the tiles they need, most important first. */
  private planViews(): { plans: Map<Plane, LayerPlan[]>; complete: boolean; desired: DesiredTile[] } {
    const info = this.info;
    const coarse: DesiredTile[] = [];
    const fine: DesiredTile[] = [];
    const prefetch: DesiredTile[] = [];
    const margin: DesiredTile[] = [];
    const plans = new Map<Plane, LayerPlan[]>();
    let complete = Boolean(info && info.layers.length > 0);
    if (info) {
      for (const plane of this.visiblePlanes()) {
        const g = this.geometry(plane);
        if (g.width === 0 || g.height === 0) continue;
        const list: LayerPlan[] = [];
        for (const layer of info.layers) {
          const s = this.settings.find((x) => x.name === layer.name);
          if (!s || !s.visible || layer.mags.length === 0) continue;
          const plan = this.planLayer(g, layer, s);
          list.push(plan);
          coarse.push(...plan.fallbackTiles);
          fine.push(...plan.targetTiles);
          margin.push(...plan.marginTiles);
          complete &&= plan.complete;
          if (this.stepDir !== 0 && plane === this.active) {
            const w = PLANE_AXES[plane][2];
            const next: Vec3 = [this.position[0], this.position[1], this.position[2]];
            next[w] = Math.floor(next[w]) + this.stepDir * layer.mags[plan.target]![w];
            prefetch.push(...this.tilesAt(g, layer, s, plan.target, next));
          }
        }
        // color layers add up first; segmentation is drawn over them
        list.sort((a, b) => Number(a.layer.category === "segmentation") - Number(b.layer.category === "segmentation"));
        plans.set(plane, list);
      }
    }
    // margin tiles wait until the view is complete (those on their way are kept), so that
    // they do not hold up the visible ones in the kernel and on the wire
    const marginNow = complete ? margin : margin.filter((t) => this.tm.isPending(t.key));
    return { plans, complete, desired: [...coarse, ...fine, ...prefetch, ...marginNow] };
  }

  /**
   * Ask for the tiles of a new view at once instead of at the next animation frame (up to
   * a frame earlier); at most one such early request per few milliseconds.
   */
  private requestNow(): void {
    if (this.destroyed || !this.info) return;
    const now = performance.now();
    if (now - this.requestedAt < 8) return;
    this.requestedAt = now;
    this.tm.update(this.planViews().desired);
  }

  private frame(): void {
    if (this.destroyed) return;
    const frameStart = performance.now();
    for (const p of this.visiblePlanes()) this.views[p].measure();
    const { plans, complete, desired } = this.planViews();
    this.tm.update(desired);
    this.requestedAt = performance.now();
    let drawnTarget = 0;
    this.drewAny = false;
    for (const plane of this.visiblePlanes()) drawnTarget += this.paint(plane, plans.get(plane) ?? []);
    this.paints++;
    this.lastPaint = performance.now();
    if (complete && this.completeGen !== this.viewGen) {
      this.completeGen = this.viewGen;
      this.completeAt = this.lastPaint;
    }
    this.tilesDrawn += drawnTarget;
    if (this.drewAny && this.firstTileGen !== this.infoGen) {
      this.firstTileGen = this.infoGen;
      this.firstTileAt = this.lastPaint;
    }
    this.updateReadouts(plans);
    if (this.hover) this.updateHover(false);
    this.frameMs = performance.now() - frameStart;
    this.frameMsMax = Math.max(this.frameMsMax, this.frameMs);
    this.updateDebug(complete);
  }

  /** Draw one view; returns how many target-mag tiles it drew. */
  private paint(plane: Plane, plans: LayerPlan[]): number {
    const view = this.views[plane];
    if (view.width === 0 || view.height === 0) return 0;
    const g = this.geometry(plane);
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
        const tiles = isTarget ? plan.targetTiles : this.tilesAt(g, plan.layer, plan.settings, mi);
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
    if (this.info) {
      const [u, v] = PLANE_AXES[plane];
      const [cx, cy] = voxelToScreen(g, this.position);
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
      const bar = scaleBar(unitsPerPixel(g.zoom, g.voxelSize), Math.min(120, g.width / 4), this.info.unit);
      view.setScaleBar(bar.px, bar.label);
      setData(view.el, "scaleBar", String(bar.value));
      this.analysis.drawOverlay(ctx, plane, g, dpr);
    } else {
      view.setScaleBar(0, "");
    }
    const first = plans[0];
    const magText = first ? first.layer.mags[first.target]!.join("-") : "";
    setText(view.label, `${plane.toUpperCase()}  ${Math.floor(this.position[PLANE_AXES[plane][2]])}${magText ? `  mag ${magText}` : ""}`);
    setData(view.el, "mag", magText);
    setData(view.el, "tilesDrawn", String(drawn));
    return drawn;
  }

  private colorized(tile: CachedTile, layer: LayerInfo, s: LayerSettings): HTMLCanvasElement {
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
    const img = new ImageData(data.w, data.h);
    const out = new Uint32Array(img.data.buffer);
    const n = data.w * data.h;
    if (params) this.analysis.colorizeColor(params, data.values, n, out, data.words64);
    else this.analysis.colorizeSegmentation(layer, s, data.values, n, out, hov ? [hov.lo, hov.hi] : null, data.words64);
    canvas.getContext("2d")?.putImageData(img, 0, 0);
    this.colorCache.set(tile.key, { lut, tile, canvas });
    return canvas;
  }

  // ---- readouts ----

  /** The value of a layer at a mag-1 voxel from the finest cached tile that has it. */
  private valueAtVoxel(layer: LayerInfo, s: LayerSettings, plane: Plane, voxel: Vec3): { value: number | bigint; mag: Vec3 } | null {
    const [u, v, w] = PLANE_AXES[plane];
    const g = this.geometry(plane);
    const target = Math.max(0, chooseMag(layer.mags, plane, g.zoom, g.voxelSize));
    const channel = layer.num_channels > 1 ? Math.max(0, Math.min(layer.num_channels - 1, s.channel | 0)) : 0;
    const axes = this.layerAxes(layer, s);
    for (const mi of [target, ...coarserMags(layer.mags, target, plane)]) {
      const mag = layer.mags[mi]!;
      const cu = Math.floor(voxel[u] / mag[u]);
      const cv = Math.floor(voxel[v] / mag[v]);
      const slice = Math.floor(voxel[w] / mag[w]);
      const i = Math.floor(cu / TILE_SIZE);
      const j = Math.floor(cv / TILE_SIZE);
      const tile = this.tm.peek(tileKey(layer.name, plane, mag, slice, i, j, channel, axes));
      if (!tile?.data) continue;
      const x = cu - i * TILE_SIZE - tile.u0;
      const y = cv - j * TILE_SIZE - tile.v0;
      if (x < 0 || y < 0 || x >= tile.w || y >= tile.h) continue;
      return { value: valueAt(tile.data, x, y), mag };
    }
    return null;
  }

  private updateHover(redraw = true): void {
    const info = this.info;
    let changed = false;
    const parts: string[] = [];
    if (!this.hover || !info) {
      setText(this.cursorEl, "–");
      setText(this.valueEl, "");
      if (this.hovered.size > 0) {
        this.hovered.clear();
        changed = true;
      }
    } else {
      const g = this.geometry(this.hover.plane);
      const voxel = screenToVoxel(g, this.hover.sx, this.hover.sy);
      const inside = AXES.every((a) => Number.isFinite(voxel[a]));
      setText(this.cursorEl, inside ? `${formatVoxel(voxel)} (${formatPhysical(voxel, info.voxel_size, info.unit)})` : "–");
      for (const layer of info.layers) {
        const s = this.settings.find((x) => x.name === layer.name);
        if (!s || !s.visible) continue;
        const r = this.valueAtVoxel(layer, s, this.hover.plane, voxel);
        const text = r === null ? "…" : String(r.value);
        parts.push(`${layer.name}: ${layer.category === "segmentation" ? `id ${text}` : text}`);
        if (layer.category === "segmentation") {
          const prev = this.hovered.get(layer.name);
          if (r === null || r.value === 0 || r.value === 0n) {
            if (prev) {
              this.hovered.delete(layer.name);
              changed = true;
            }
          } else {
            const [lo, hi] = idWords(typeof r.value === "bigint" ? r.value : Math.trunc(r.value));
            if (!prev || prev.lo !== lo || prev.hi !== hi) {
              this.hovered.set(layer.name, { lo, hi, text });
              changed = true;
            }
          }
        }
      }
      setText(this.valueEl, parts.join("  "));
    }
    setData(this.valueEl, "hovered", [...this.hovered.values()].map((x) => x.text).join(","));
    if (changed) {
      this.panel.refreshLive();
      if (redraw) this.scheduleFrame();
    }
  }

  private updateReadouts(plans: Map<Plane, LayerPlan[]>): void {
    const info = this.info;
    if (info) {
      setText(this.positionEl, `${formatVoxel(this.position)} vox (${formatPhysical(this.position, info.voxel_size, info.unit)})`);
    } else {
      setText(this.positionEl, "–");
    }
    setData(this.positionEl, "x", String(Math.floor(this.position[0])));
    setData(this.positionEl, "y", String(Math.floor(this.position[1])));
    setData(this.positionEl, "z", String(Math.floor(this.position[2])));
    const upp = info ? unitsPerPixel(this.zoom, info.voxel_size) : 0;
    setText(this.zoomEl, info ? `zoom ${this.zoom.toPrecision(3)} (${formatLength(upp, info.unit)}/px)` : "");
    setData(this.zoomEl, "zoom", String(this.zoom));
    const mags: string[] = [];
    for (const [plane, list] of plans) {
      const first = list[0];
      if (first) mags.push(`${plane}: ${first.layer.mags[first.target]!.join("-")}`);
    }
    setText(this.magEl, mags.length ? `mag ${mags.join(", ")}` : "");
    const inflight = this.tm.inFlight;
    const queued = this.tm.queued;
    const busy = inflight + queued > 0;
    setData(this.loading, "state", busy ? "loading" : "idle");
    setText(this.loadingText, busy ? `loading ${inflight + queued} tile${inflight + queued === 1 ? "" : "s"}` : "");
    if (info) {
      const lines = info.layers.map((l) => {
        const m = this.tm.meter(l.name);
        return `${l.name}: ${m.remoteRequests} req, ${formatBytes(m.remoteBytes)}`;
      });
      setText(this.infoCell, `${info.name}\nvoxel ${info.voxel_size.map((v) => formatLength(v, info.unit)).join(" × ")}\n${lines.join("\n")}`);
      if (this.infoCell.style.whiteSpace !== "pre-wrap") this.infoCell.style.whiteSpace = "pre-wrap";
    } else {
      setText(this.infoCell, ""); // no dataset (any more): nothing to describe
    }
    this.panel.refreshLive();
  }

  private updateDebug(complete: boolean): void {
    const c = this.tm.counters;
    setData(this.root, "tilesRequested", String(c.requested));
    setData(this.root, "tilesReceived", String(c.received));
    setData(this.root, "tilesCancelled", String(c.cancelled));
    setData(this.root, "tilesErrors", String(c.errors));
    setData(this.root, "tilesInflight", String(this.tm.inFlight));
    setData(this.root, "tilesQueued", String(this.tm.queued));
    setData(this.root, "tilesDrawn", String(this.tilesDrawn));
    setData(this.root, "tilesCached", String(this.tm.cache.size));
    setData(this.root, "paints", String(this.paints));
    setData(this.root, "lastPaint", this.lastPaint.toFixed(1));
    setData(this.root, "viewGen", String(this.viewGen));
    setData(this.root, "complete", complete && this.completeGen === this.viewGen ? "1" : "0");
    setData(this.root, "completeGen", String(this.completeGen));
    setData(this.root, "completeAt", this.completeAt.toFixed(1));
    setData(this.root, "frameMs", this.frameMs.toFixed(1));
    setData(this.root, "frameMsMax", this.frameMsMax.toFixed(1));
    setData(this.root, "infoGen", String(this.infoGen));
    setData(this.root, "infoAt", this.infoAt.toFixed(1));
    setData(this.root, "firstTileGen", String(this.firstTileGen));
    setData(this.root, "firstTileAt", this.firstTileAt.toFixed(1));
  }

  private debugApi() {
    return {
      state: () => ({
        position: [...this.position], zoom: this.zoom, mode: this.mode, active: this.active,
        settings: this.settings, counters: { ...this.tm.counters }, timing: { ...this.tm.timing }, inFlight: this.tm.inFlight,
        queued: this.tm.queued, cached: this.tm.cache.size, viewGen: this.viewGen,
        completeGen: this.completeGen, completeAt: this.completeAt, lastPaint: this.lastPaint,
        frameMs: this.frameMs, frameMsMax: this.frameMsMax, paints: this.paints,
      }),
      setView: (position: Vec3, zoom?: number) => this.setView(position, zoom ?? this.zoom),
      setMode: (mode: ViewMode) => this.setMode(mode),
      hoverAt: (plane: Plane, sx: number, sy: number) => { this.hover = { plane, sx, sy }; this.updateHover(); },
      analysis: () => this.analysis.debugState(),
      screenOf: (plane: Plane, voxel: Vec3) => voxelToScreen(this.geometry(plane), voxel),
      valueAt: (name: string, plane: Plane, voxel: Vec3) => {
        const layer = this.info?.layers.find((l) => l.name === name);
        const s = this.settings.find((x) => x.name === name);
        const r = layer && s ? this.valueAtVoxel(layer, s, plane, voxel) : null;
        return r === null || r === undefined ? null : String(r.value);
      },
      requestStats: () => this.model.send({ type: MSG_STATS, id: `${this.tm.clientId}-stats` }),
      resetTiming: () => { this.frameMsMax = 0; this.tm.timing = { rttLast: 0, rttMax: 0, rttSum: 0, decodeSum: 0, serverSum: 0, totalSum: 0, n: 0 }; },
      // empties the browser's caches; the view is not refetched until it changes (or the
      // next frame), so that a setView right after it measures its own tiles only
      clearCache: () => { this.tm.cache.clear(); this.colorCache.clear(); },
    };
  }
}
