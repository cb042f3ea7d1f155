// The grid of slice views (XY, YZ, XZ and the info cell in ortho mode) with the placeholder
// shown before any layer and the loading indicator.

import { h, setVisible } from "../dom";
import { PLANES, type Plane, type ViewMode } from "../protocol";
import { SliceView, type ViewCallbacks } from "../views";

export class ViewGrid {
  readonly el: HTMLDivElement;
  readonly placeholder = h("div", {
    className: "wk-placeholder", testid: "wk-placeholder",
    text: "Paste the URL of a dataset into the form above (or call viewer.add_layers(uri)) to see it here.",
  });
  readonly loadingText = h("span", { testid: "wk-loading-text" });
  readonly loading = h("div", { className: "wk-loading", testid: "wk-loading", dataset: { state: "idle" } },
    h("span", { className: "wk-spinner" }), this.loadingText);
  readonly infoCell = h("div", { className: "wk-info-cell", testid: "wk-info" });

  readonly views: Record<Plane, SliceView>;

  constructor(callbacks: ViewCallbacks, help: HTMLElement) {
    const views = { xy: new SliceView("xy", callbacks), xz: new SliceView("xz", callbacks), yz: new SliceView("yz", callbacks) };
    this.views = views;
    this.el = h("div", {
      className: "wk-views", testid: "wk-views",
      attrs: { tabindex: "0", "aria-label": "slice views; drag to pan, wheel to zoom, , and . to step slices" },
    }, views.xy.el, views.yz.el, views.xz.el, this.infoCell, this.placeholder, this.loading, help);
  }

  /** Ortho: the three views and the info cell in a grid; else the one plane. */
  showMode(mode: ViewMode): void {
    const ortho = mode === "ortho";
    this.el.classList.toggle("wk-mode-ortho", ortho);
    this.el.classList.toggle("wk-mode-single", !ortho);
    for (const p of PLANES) setVisible(this.views[p].el, ortho || mode === p);
    setVisible(this.infoCell, ortho);
  }

  /** Highlight the active view (only meaningful with several views shown). */
  setActive(plane: Plane, mode: ViewMode): void {
    for (const p of PLANES) this.views[p].el.classList.toggle("wk-active", p === plane && mode === "ortho");
  }
}
