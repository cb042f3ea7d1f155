// A drag handle under the views that sets their height (pointer drag, or arrow keys when
// focused). `set(px, done)` is called while dragging (done = false) and once at the end.

import { h } from "../dom";

export interface ResizeTarget {
  min: number;
  current(): number;
  set(px: number, done: boolean): void;
}

const KEY_STEP_PX = 40;

export class ResizeHandle {
  readonly el: HTMLDivElement;
  private drag: { id: number; y: number; start: number } | null = null;

  constructor(private readonly target: ResizeTarget) {
    this.el = h("div", {
      className: "wk-resize-handle", testid: "wk-resize-handle", title: "drag to resize the views",
      attrs: { role: "separator", "aria-orientation": "horizontal", "aria-label": "resize the views", tabindex: "0" },
      on: {
        pointerdown: (e) => this.down(e),
        pointermove: (e) => this.move(e),
        pointerup: (e) => this.up(e),
        pointercancel: (e) => this.up(e),
        keydown: (e) => this.key(e),
      },
    });
  }

  private clamp(px: number): number {
    return Math.max(this.target.min, Math.round(px));
  }

  private down(e: PointerEvent): void {
    if (e.button !== 0) return;
    this.drag = { id: e.pointerId, y: e.clientY, start: this.target.current() };
    this.el.setPointerCapture?.(e.pointerId);
    this.el.classList.add("wk-dragging");
    e.preventDefault();
  }

  private move(e: PointerEvent): void {
    if (!this.drag || this.drag.id !== e.pointerId) return;
    this.target.set(this.clamp(this.drag.start + e.clientY - this.drag.y), false);
  }

  private up(e: PointerEvent): void {
    if (!this.drag || this.drag.id !== e.pointerId) return;
    const px = this.clamp(this.drag.start + e.clientY - this.drag.y);
    this.drag = null;
    this.el.releasePointerCapture?.(e.pointerId);
    this.el.classList.remove("wk-dragging");
    this.target.set(px, true);
  }

  private key(e: KeyboardEvent): void {
    const step = e.key === "ArrowDown" ? KEY_STEP_PX : e.key === "ArrowUp" ? -KEY_STEP_PX : 0;
    if (step === 0) return;
    e.preventDefault();
    e.stopPropagation();
    this.target.set(this.clamp(this.target.current() + step), true);
  }
}
