// A color layer's contrast control: the histogram of the visible data behind two range
// handles (drag them), the colour map, invert and gamma.

import { COLORMAPS, DEFAULT_COLORMAP, gradientCss, isColormap, type Colormap } from "../colormaps";
import { h, setData } from "../dom";
import { barHeights, valueToX, xToValue, type Histogram } from "../histogram";
import type { LayerSettings } from "../protocol";

export interface ContrastHost {
  settings(layer: string): LayerSettings | undefined;
  updateSetting(layer: string, patch: Partial<LayerSettings>): void;
  histogram(layer: string): Histogram | null;
}

const WIDTH = 220;
const HEIGHT = 44;

export function colormapOf(s: LayerSettings | undefined): Colormap {
  return isColormap(s?.colormap) ? s.colormap : DEFAULT_COLORMAP;
}

export class ContrastControl {
  readonly el: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  private readonly bar: HTMLDivElement;
  private readonly cmap: HTMLSelectElement;
  private readonly invert: HTMLInputElement;
  private readonly gamma: HTMLInputElement;
  private readonly gammaLabel: HTMLSpanElement;
  private hist: Histogram | null = null;
  private drag: "lo" | "hi" | null = null;

  constructor(private readonly layer: string, private readonly host: ContrastHost) {
    const ds = { layer };
    this.canvas = h("canvas", { testid: "wk-histogram", dataset: ds, className: "wk-histogram", attrs: { width: String(WIDTH), height: String(HEIGHT), "aria-label": `histogram and contrast of ${layer}` } });
    this.bar = h("div", { className: "wk-cmap-bar", testid: "wk-cmap-bar", dataset: ds });
    this.cmap = h("select", { testid: "wk-layer-colormap", dataset: ds, attrs: { "aria-label": `colour map of ${layer}` } },
      ...COLORMAPS.map((c) => h("option", { text: c, attrs: { value: c } })));
    this.cmap.addEventListener("change", () => this.host.updateSetting(layer, { colormap: this.cmap.value as Colormap }));
    this.invert = h("input", { testid: "wk-layer-invert", dataset: ds, attrs: { type: "checkbox", "aria-label": `invert ${layer}` } });
    this.invert.addEventListener("change", () => this.host.updateSetting(layer, { invert: this.invert.checked }));
    this.gamma = h("input", { testid: "wk-layer-gamma", dataset: ds, className: "wk-grow", attrs: { type: "range", min: "0.1", max: "4", step: "0.05", "aria-label": `gamma of ${layer}` } });
    this.gamma.addEventListener("input", () => this.host.updateSetting(layer, { gamma: Number(this.gamma.value) }));
    this.gammaLabel = h("span", { className: "wk-muted" });
    this.canvas.addEventListener("pointerdown", (e) => this.onDown(e));
    this.canvas.addEventListener("pointermove", (e) => this.onMove(e));
    const up = (e: PointerEvent): void => { this.drag = null; this.canvas.releasePointerCapture?.(e.pointerId); };
    this.canvas.addEventListener("pointerup", up);
    this.canvas.addEventListener("pointercancel", up);
    this.el = h("div", { className: "wk-contrast", testid: "wk-contrast", dataset: ds },
      this.canvas, this.bar,
      h("div", { className: "wk-row" }, h("span", { className: "wk-muted", text: "map" }), this.cmap,
        h("label", { className: "wk-muted" }, this.invert, " invert")),
      h("div", { className: "wk-row" }, h("span", { className: "wk-muted", text: "gamma" }), this.gamma, this.gammaLabel));
  }

  private domain(): [number, number] | null {
    return this.hist ? [this.hist.lo, this.hist.hi] : null;
  }

  private xOf(e: PointerEvent): number {
    const r = this.canvas.getBoundingClientRect();
    return ((e.clientX - r.left) / Math.max(1, r.width)) * WIDTH;
  }

  private onDown(e: PointerEvent): void {
    const s = this.host.settings(this.layer);
    const d = this.domain();
    if (!s?.range || !d) return;
    const x = this.xOf(e);
    const xl = valueToX(s.range[0], d[0], d[1], WIDTH);
    const xh = valueToX(s.range[1], d[0], d[1], WIDTH);
    this.drag = Math.abs(x - xl) <= Math.abs(x - xh) ? "lo" : "hi";
    this.canvas.setPointerCapture?.(e.pointerId);
    this.onMove(e);
    e.preventDefault();
    e.stopPropagation();
  }

  private onMove(e: PointerEvent): void {
    const s = this.host.settings(this.layer);
    const d = this.domain();
    if (!this.drag || !s?.range || !d) return;
    const v = xToValue(Math.max(0, Math.min(WIDTH, this.xOf(e))), d[0], d[1], WIDTH);
    const step = d[1] - d[0] > 50 ? 1 : 0;
    const value = step ? Math.round(v) : v;
    const range: [number, number] = this.drag === "lo" ? [Math.min(value, s.range[1]), s.range[1]] : [s.range[0], Math.max(value, s.range[0])];
    this.host.updateSetting(this.layer, { range });
  }

  refresh(): void {
    const s = this.host.settings(this.layer);
    if (!s) return;
    const cm = colormapOf(s);
    if (this.cmap.value !== cm) this.cmap.value = cm;
    const inv = Boolean(s.invert);
    if (this.invert.checked !== inv) this.invert.checked = inv;
    const g = typeof s.gamma === "number" && s.gamma > 0 ? s.gamma : 1;
    if (document.activeElement !== this.gamma && Number(this.gamma.value) !== g) this.gamma.value = String(g);
    this.gammaLabel.textContent = g.toFixed(2);
    this.bar.style.background = gradientCss(cm, s.color, inv, g);
    const hist = this.host.histogram(this.layer);
    if (hist) this.hist = hist;
    this.draw(s);
  }

  private draw(s: LayerSettings): void {
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    ctx.fillStyle = "#111";
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    const hist = this.hist;
    if (!hist) return;
    const bars = barHeights(hist);
    const bw = WIDTH / bars.length;
    ctx.fillStyle = "#7a8699";
    bars.forEach((b, k) => ctx.fillRect(k * bw, HEIGHT - b * (HEIGHT - 4), Math.max(1, bw - 0.5), b * (HEIGHT - 4)));
    setData(this.canvas, "total", String(hist.total));
    setData(this.canvas, "domain", `${hist.lo},${hist.hi}`);
    if (!s.range) return;
    const xl = valueToX(s.range[0], hist.lo, hist.hi, WIDTH);
    const xh = valueToX(s.range[1], hist.lo, hist.hi, WIDTH);
    ctx.fillStyle = "rgba(255, 204, 0, 0.12)";
    ctx.fillRect(xl, 0, xh - xl, HEIGHT);
    ctx.fillStyle = "#ffcc00";
    for (const x of [xl, xh]) ctx.fillRect(Math.round(x) - 1, 0, 3, HEIGHT);
  }
}
