// The views selector: all three views (ortho) or one plane.

import { h } from "../dom";
import type { ViewMode } from "../protocol";

const MODES: readonly ViewMode[] = ["ortho", "xy", "xz", "yz"];

export class ModeSelect {
  readonly el: HTMLSelectElement;

  constructor(onChange: (mode: ViewMode) => void) {
    this.el = h("select", { testid: "wk-plane-select", attrs: { "aria-label": "views" } },
      ...MODES.map((m) => h("option", { text: m === "ortho" ? "XY + YZ + XZ" : m.toUpperCase(), attrs: { value: m } })));
    this.el.addEventListener("change", () => onChange(this.el.value as ViewMode));
  }

  show(mode: ViewMode): void {
    if (this.el.value !== mode) this.el.value = mode;
  }
}
