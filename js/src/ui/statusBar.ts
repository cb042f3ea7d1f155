// The status bar under the views: position, cursor, value under the cursor, zoom, mag.

import { h } from "../dom";

export class StatusBar {
  readonly el: HTMLDivElement;
  readonly positionEl = h("span", { testid: "wk-position" });
  readonly cursorEl = h("span", { testid: "wk-cursor" });
  readonly valueEl = h("span", { testid: "wk-value" });
  readonly zoomEl = h("span", { testid: "wk-zoom" });
  readonly magEl = h("span", { testid: "wk-mag" });

  constructor() {
    this.el = h("div", { className: "wk-bar", testid: "wk-statusbar" },
      h("span", {}, h("b", { text: "Position " }), this.positionEl),
      h("span", {}, h("b", { text: "Cursor " }), this.cursorEl),
      h("span", {}, this.valueEl),
      h("span", {}, this.zoomEl),
      h("span", {}, this.magEl));
  }
}
