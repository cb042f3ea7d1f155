// Ties the model (synced traits), the tile pipeline, the slice views, the layer list and
// the form together. One Controller per rendered view of the widget. The work itself lives
// in planner (which tiles), painter (canvas), readouts (text), keys (keymap), debug (e2e).

import type { AnyModel } from "@anywidget/types";
import { Analysis } from "./analysis";
import { autoRange, type NumericArray } from "./colors";
import { debounce, h, setData, setText, setVisible } from "./dom";
import { AddLayerForm } from "./ui/addLayerForm";
import { debugApi, FrameStats, updateDebug } from "./debug";
import { FrameGate } from "./frameGate";
import { handleKey, viewKeyActions } from "./keys";
import { LayerPanel } from "./layers";
import { Layout, viewsHeight } from "./layout";
import { Painter, type Hovered } from "./painter";
import { awaitedTiles, planLayer, planViews, visiblePlanes } from "./planner";
import { decodeTileReply } from "./png";
import {
  STATE_DEBOUNCE_MS, isResult, isStats,
  type DatasetInfo, type LayerSettings, type Plane, type Vec3, type ViewMode, type WidgetModel,
} from "./protocol";
import { tileSamples, updateHover, updateLoading, updateReadouts, valueAtVoxel, type Hover } from "./readouts";
import { Rpc } from "./rpc";
import { ANALYSIS_CSS } from "./ui/analysisStyle";
import { installStyles } from "./style";
import { clampZoom, panBy, screenToVoxel, stepSlicePosition, voxelToScreen, zoomAt, type ViewGeometry } from "./tilemath";
import { TileManager, type CachedTile } from "./tiles";
import { FullscreenToggle } from "./ui/fullscreen";
import { ResizeHandle } from "./ui/resize-handle";
import { StatusBar } from "./ui/statusBar";
import { Toolbar } from "./ui/toolbar";
import { ViewGrid } from "./ui/viewGrid";
import type { SliceView } from "./views";
import { ModeSelect } from "./ui/modeSelect";
import { copySettings, layerSignatures, readViewTraits } from "./state";

export class Controller {
  private readonly root: HTMLDivElement;
  private readonly grid: ViewGrid;
  private readonly bar = new StatusBar();
  private readonly errorEl = h("div", { className: "wk-error", testid: "wk-widget-error" });
  private readonly modeSelect: ModeSelect;
  private readonly views: Record<Plane, SliceView>;
  private readonly form: AddLayerForm;
  private readonly panel: LayerPanel;
  private readonly analysis: Analysis;
  private readonly layout: Layout;
  private readonly toolbar: Toolbar;
  private readonly fullscreen: FullscreenToggle;
  private readonly tm: TileManager;
  private readonly rpc: Rpc;
  private readonly painter: Painter;
  private readonly stats = new FrameStats();
  private readonly gate = new FrameGate({ paint: () => this.scheduleFrame(), refresh: () => this.refreshCounters() });
  private readonly zoomBy = (factor: number): void => this.setView(this.position, this.zoom * factor);

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
  private hover: Hover | null = null;
  private readonly hovered: Hovered = new Map();
  private autoRanged = new Set<string>();
  private stepDir = 0;
  private readonly modelHandlers: [string, (...args: unknown[]) => void][] = [];
  private readonly cleanups: (() => void)[] = [];
  private retryTimer: ReturnType<typeof setInterval> | null = null;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private requestedAt = -Infinity;

  constructor(private readonly model: AnyModel<WidgetModel>, private readonly el: HTMLElement) {
    this.tm = new TileManager(
      (content, buffers) => this.model.send(content, undefined, buffers),
      decodeTileReply,
      {
        cacheBytes: 256 * 1024 * 1024,
        onTile: (tile) => { this.onTile(tile); },
        onError: () => this.scheduleFrame(),
      },
    );
    this.rpc = new Rpc((content) => this.model.send(content), this.tm.clientId);
    this.form = new AddLayerForm(model, (content) => this.rpc.request(content));
    this.analysis = new Analysis(model, {
      info: () => this.info,
      settings: () => this.settings,
      updateSetting: (name, patch) => this.updateSetting(name, patch),
      valueAt: (layer, s, plane, voxel) => valueAtVoxel(this.tm, layer, s, this.geometry(plane), voxel)?.value ?? null,
      geometry: (p) => this.geometry(p),
      setView: (position, zoom) => this.setView(position, zoom),
      zoom: () => this.zoom,
      redraw: () => this.bump(),
      samples: (name) => this.visibleSamples(name),
      canvases: () => visiblePlanes(this.mode).map((p) => {
        const r = this.views[p].el.getBoundingClientRect();
        const base = this.grid.el.getBoundingClientRect();
        return { canvas: this.views[p].canvas, x: r.left - base.left, y: r.top - base.top };
      }),
      listen: (name, cb) => this.listen(name, cb),
    });
    this.painter = new Painter(this.tm, this.analysis, this.hovered);
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
    this.grid = new ViewGrid(callbacks, this.analysis.help.el);
    this.views = this.grid.views;
    this.modeSelect = new ModeSelect((m) => this.setMode(m));
    this.toolbar = new Toolbar([
      { testid: "wk-toggle-form", text: "+ Add layer", title: "add a layer from a URL", onClick: () => this.layout.toggleForm() },
      { testid: "wk-toggle-preview", text: "Dataset", title: "the dataset's preview and datasource-properties.json", onClick: () => this.layout.togglePreview() },
    ], "drag: pan · wheel: zoom · , . or shift+wheel: slice · double-click: move there · 1–4: views");
    this.toolbar.add(
      this.modeSelect.el,
      h("button", { testid: "wk-zoom-in", text: "+", title: "zoom in (+)", on: { click: () => this.zoomBy(1 / 1.5) } }),
      h("button", { testid: "wk-zoom-out", text: "−", title: "zoom out (-)", on: { click: () => this.zoomBy(1.5) } }),
      this.analysis.toolbar,
    );
    const handle = new ResizeHandle({
      min: 120,
      current: () => this.grid.el.getBoundingClientRect().height,
      set: (px, done) => {
        this.grid.el.style.height = `${px}px`;
        if (done) {
          this.model.set("height", px);
          this.model.save_changes();
        }
      },
    });
    this.root = h("div", { className: "wk-root", testid: "wk-root", attrs: { "data-lm-suppress-shortcuts": "true" } },
      this.toolbar.el, this.form.el, this.form.preview,
      h("div", { className: "wk-main" }, h("div", { className: "wk-stage" }, this.grid.el, handle.el), this.panel.el),
      this.bar.el, this.errorEl);
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

    const actions = viewKeyActions({
      geometry: () => this.geometry(this.active), zoom: () => this.zoom, setView: (p, z) => this.setView(p, z),
      stepSlice: (d) => this.stepSlice(this.active, d), zoomBy: (f) => this.zoomBy(f), setMode: (m) => this.setMode(m),
    });
    const onKey = (e: KeyboardEvent): void => handleKey(e, actions, (ev) => this.analysis.key(ev));
    this.grid.el.addEventListener("keydown", onKey);
    this.cleanups.push(() => this.grid.el.removeEventListener("keydown", onKey));

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
    this.gate.destroy();
    if (this.retryTimer !== null) clearInterval(this.retryTimer);
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    for (const [name, cb] of this.modelHandlers) this.model.off(name, cb);
    for (const fn of this.cleanups) fn();
    for (const v of Object.values(this.views)) v.destroy();
    this.form.destroy();
    this.layout.destroy();
    this.fullscreen.destroy();
    this.tm.reset();
    this.painter.clear();
    this.root.remove();
  }

  // ---- model <-> local state ----

  private listen(name: string, cb: () => void): void {
    const wrapped = (): void => { try { cb(); } catch (e) { this.showError(e); } };
    this.model.on(`change:${name}`, wrapped);
    this.modelHandlers.push([`change:${name}`, wrapped]);
  }
  private readView(): void {
    const v = readViewTraits(this.model.get("position"), this.model.get("zoom"), this.model.get("plane"));
    if (v.position) this.position = v.position;
    this.zoom = v.zoom;
    if (v.mode) this.mode = v.mode;
    if (this.mode !== "ortho") this.active = this.mode;
    this.stats.viewGen++;
  }

  private readSettings(): void {
    this.settings = copySettings(this.model.get("layer_settings"));
  }

  private readInfo(): void {
    const info = this.model.get("dataset_info");
    this.info = info ?? null;
    const sigs = layerSignatures(this.info);
    for (const [name, sig] of this.layerSignatures) {
      if (sigs.get(name) !== sig) {
        this.tm.dropLayer(name);
        this.autoRanged.delete(name);
      }
    }
    this.layerSignatures = sigs;
    if (!this.info) this.tm.reset();
    this.stats.infoGen++;
    this.stats.infoAt = performance.now();
    this.readSettings();
    setVisible(this.grid.placeholder, !this.info || this.info.layers.length === 0);
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
    this.stats.viewGen++;
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

  private setMode(mode: ViewMode): void {
    this.mode = mode;
    if (mode !== "ortho") this.active = mode;
    this.applyMode();
    this.syncState();
  }

  private applyMode(): void {
    this.grid.showMode(this.mode);
    this.modeSelect.show(this.mode);
    setData(this.root, "mode", this.mode);
    this.setActive(this.active);
    this.bump();
  }

  private setActive(plane: Plane): void {
    this.active = plane;
    this.grid.setActive(plane, this.mode);
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
    this.grid.el.style.height = `${hgt}px`;
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
    this.stepDir = Math.sign(delta);
    this.setView(stepSlicePosition(this.position, plane, delta), this.zoom);
  }

  // ---- messages ----

  private onMessage(msg: unknown, buffers: DataView[]): void {
    try {
      if (this.tm.handleMessage(msg, buffers ?? [])) return; // painted by onTile / onError
      if (isResult(msg)) {
        this.rpc.resolve(msg);
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
    if (current && current.visible && layer && tile.data) this.painter.colorized(tile, layer, current);
    this.gate.arrived(tile.key);
  }

  /** Samples of a layer's values in the target tiles of the active view (contrast, histogram). */
  private visibleSamples(name: string, max = 4096): number[] {
    const layer = this.info?.layers.find((l) => l.name === name);
    const s = this.settings.find((x) => x.name === name);
    if (!layer || !s) return [];
    return tileSamples(this.tm, planLayer(this.geometry(this.active), layer, s, this.tm).targetTiles, max);
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

  // ---- frames ----

  private geometry(plane: Plane): ViewGeometry {
    const v = this.views[plane];
    return {
      plane, width: v.width, height: v.height, position: this.position, zoom: this.zoom,
      voxelSize: this.info?.voxel_size ?? [1, 1, 1],
    };
  }

  private planViews() {
    return planViews({
      info: this.info, settings: this.settings, mode: this.mode, active: this.active, position: this.position,
      stepDir: this.stepDir, geometry: (p) => this.geometry(p), cache: this.tm,
    });
  }

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
    const planes = visiblePlanes(this.mode);
    for (const p of planes) this.views[p].measure();
    const { plans, complete, desired } = this.planViews();
    this.tm.update(desired);
    this.requestedAt = performance.now();
    let drawnTarget = 0;
    this.painter.drewAny = false;
    for (const plane of planes) {
      drawnTarget += this.painter.paint(this.views[plane], this.geometry(plane), plans.get(plane) ?? [], this.info, this.position);
    }
    this.stats.painted(drawnTarget, complete, this.painter.drewAny);
    this.gate.framed(awaitedTiles(plans, this.tm));
    updateReadouts(this.bar, this.info, this.position, this.zoom, plans);
    if (this.hover) this.updateHover(false);
    this.stats.finished(frameStart);
    this.refreshCounters();
  }

  /** Loading state, meters and counters, also between frames (tiles no view shows arrived). */
  private refreshCounters(): void {
    updateLoading(this.grid, this.info, this.tm);
    this.panel.refreshLive();
    updateDebug(this.root, this.stats, this.tm, this.stats.complete);
  }

  private updateHover(redraw = true): void {
    const changed = updateHover(this.bar, this.hovered, {
      info: this.info, settings: this.settings, hover: this.hover, geometry: (p) => this.geometry(p), tm: this.tm,
    });
    if (changed) {
      this.panel.refreshLive();
      if (redraw) this.scheduleFrame();
    }
  }

  private debugApi() {
    return debugApi({
      stats: this.stats,
      tm: this.tm,
      view: () => ({ position: this.position, zoom: this.zoom, mode: this.mode, active: this.active, settings: this.settings }),
      setView: (position, zoom) => this.setView(position, zoom ?? this.zoom),
      setMode: (mode) => this.setMode(mode),
      hoverAt: (plane, sx, sy) => { this.hover = { plane, sx, sy }; this.updateHover(); },
      analysis: () => this.analysis.debugState(),
      screenOf: (plane, voxel) => voxelToScreen(this.geometry(plane), voxel),
      valueAt: (name, plane, voxel) => {
        const layer = this.info?.layers.find((l) => l.name === name);
        const s = this.settings.find((x) => x.name === name);
        const r = layer && s ? valueAtVoxel(this.tm, layer, s, this.geometry(plane), voxel) : null;
        return r === null || r === undefined ? null : String(r.value);
      },
      send: (content) => this.model.send(content),
      clearCaches: () => { this.tm.cache.clear(); this.painter.clear(); },
    });
  }
}
