// One slice view: a canvas with pointer interaction (drag to pan, wheel to zoom, hover,
// double-click to move there), a label and a scale bar. Drawing is done by the controller.

import { h, setText } from "./dom";
import type { Plane } from "./protocol";

export interface ViewCallbacks {
  pan(plane: Plane, dx: number, dy: number): void;
  zoomAt(plane: Plane, sx: number, sy: number, factor: number): void;
  hover(plane: Plane, sx: number, sy: number): void;
  leave(plane: Plane): void;
  activate(plane: Plane): void;
  jump(plane: Plane, sx: number, sy: number): void;
  stepSlice(plane: Plane, delta: number): void;
  resized(): void;
  // a press and release without dragging (annotation tools, segment selection)
  click?(plane: Plane, sx: number, sy: number, mods: { shift: boolean; ctrl: boolean; meta: boolean; alt: boolean }): void;
}

export class SliceView {
  readonly el: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  readonly layerCanvas: HTMLCanvasElement;
  readonly label: HTMLDivElement;
  private readonly scaleLabel: HTMLDivElement;
  private readonly scaleBar: HTMLDivElement;
  width = 0; // CSS px
  height = 0;
  dpr = 1;
  private readonly ro: ResizeObserver | null;
  private drag: { id: number; x: number; y: number; sx: number; sy: number; moved: boolean } | null = null;
  private readonly cleanup: (() => void)[] = [];

  constructor(readonly plane: Plane, private readonly cb: ViewCallbacks) {
    this.canvas = h("canvas", { testid: `wk-canvas-${plane}` });
    this.layerCanvas = document.createElement("canvas");
    this.label = h("div", { className: "wk-view-label", testid: `wk-view-label-${plane}`, text: plane.toUpperCase() });
    this.scaleLabel = h("div", { testid: `wk-scalebar-label-${plane}` });
    this.scaleBar = h("div", { className: "wk-scalebar-bar" });
    this.el = h("div", { className: "wk-view", testid: `wk-view-${plane}`, dataset: { plane } },
      this.canvas, this.label,
      h("div", { className: "wk-scalebar", testid: `wk-scalebar-${plane}` }, this.scaleLabel, this.scaleBar));
    const on = <K extends keyof HTMLElementEventMap>(type: K, fn: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions): void => {
      this.el.addEventListener(type, fn, opts);
      this.cleanup.push(() => this.el.removeEventListener(type, fn, opts));
    };
    on("pointerdown", (e) => this.onDown(e));
    on("pointermove", (e) => this.onMove(e));
    on("pointerup", (e) => this.onUp(e));
    on("pointercancel", (e) => this.onUp(e));
    on("pointerleave", () => { if (!this.drag) this.cb.leave(this.plane); });
    on("wheel", (e) => this.onWheel(e), { passive: false });
    on("dblclick", (e) => { const [x, y] = this.local(e); this.cb.jump(this.plane, x, y); });
    on("contextmenu", (e) => e.preventDefault());
    this.ro = typeof ResizeObserver !== "undefined" ? new ResizeObserver(() => this.measure()) : null;
    this.ro?.observe(this.el);
  }

  destroy(): void {
    this.ro?.disconnect();
    for (const fn of this.cleanup) fn();
  }

  /** Read the element's size; resize the canvases when it changed. Returns true then. */
  measure(): boolean {
    const rect = this.el.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(0, Math.round(rect.width));
    const hgt = Math.max(0, Math.round(rect.height));
    if (w === this.width && hgt === this.height && dpr === this.dpr) return false;
    this.width = w;
    this.height = hgt;
    this.dpr = dpr;
    for (const c of [this.canvas, this.layerCanvas]) {
      c.width = Math.max(1, Math.round(w * dpr));
      c.height = Math.max(1, Math.round(hgt * dpr));
    }
    this.cb.resized();
    return true;
  }

  setScaleBar(px: number, label: string): void {
    this.scaleBar.style.width = `${Math.max(0, Math.round(px))}px`;
    setText(this.scaleLabel, label);
  }

  private local(e: MouseEvent): [number, number] {
    const rect = this.el.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  }

  private onDown(e: PointerEvent): void {
    if (e.button !== 0 && e.button !== 1) return;
    this.cb.activate(this.plane);
    const [x, y] = this.local(e);
    this.drag = { id: e.pointerId, x, y, sx: x, sy: y, moved: false };
    this.el.setPointerCapture?.(e.pointerId);
    this.el.classList.add("wk-dragging");
    (this.el.closest(".wk-views") as HTMLElement | null)?.focus({ preventScroll: true });
    e.preventDefault();
  }

  private onMove(e: PointerEvent): void {
    const [x, y] = this.local(e);
    if (this.drag && this.drag.id === e.pointerId) {
      const dx = x - this.drag.x;
      const dy = y - this.drag.y;
      if (Math.abs(x - this.drag.sx) + Math.abs(y - this.drag.sy) > 3) this.drag.moved = true;
      this.drag.x = x;
      this.drag.y = y;
      if (dx !== 0 || dy !== 0) this.cb.pan(this.plane, dx, dy);
    }
    this.cb.hover(this.plane, x, y);
  }

  private onUp(e: PointerEvent): void {
    if (!this.drag || this.drag.id !== e.pointerId) return;
    const clicked = !this.drag.moved && e.type === "pointerup" && e.button === 0;
    this.drag = null;
    if (clicked) {
      const [x, y] = this.local(e);
      this.cb.click?.(this.plane, x, y, { shift: e.shiftKey, ctrl: e.ctrlKey, meta: e.metaKey, alt: e.altKey });
    }
    this.el.releasePointerCapture?.(e.pointerId);
    this.el.classList.remove("wk-dragging");
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    e.stopPropagation();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
    const delta = (e.deltaY || e.deltaX) * unit;
    if (delta === 0) return;
    if (e.shiftKey) {
      this.cb.stepSlice(this.plane, delta > 0 ? 1 : -1);
      return;
    }
    const [x, y] = this.local(e);
    const factor = Math.pow(2, Math.max(-1, Math.min(1, delta / 300)));
    this.cb.zoomAt(this.plane, x, y, factor);
  }
}
