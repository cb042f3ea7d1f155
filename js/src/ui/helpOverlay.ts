// The help overlay: every key and mouse action of the viewer (from keys.ts).

import { h, setVisible } from "../dom";
import { ALL_BINDINGS } from "../keys";

export class HelpOverlay {
  readonly el: HTMLDivElement;
  readonly button: HTMLButtonElement;

  constructor() {
    const rows = ALL_BINDINGS.map((b) =>
      h("tr", { testid: "wk-help-row" },
        h("td", { className: "wk-help-keys" }, ...b.keys.flatMap((k, i) => [i > 0 ? " " : null, h("kbd", { text: k })])),
        h("td", { text: b.action })));
    this.el = h("div", { className: "wk-help-overlay", testid: "wk-help-overlay", attrs: { role: "dialog", "aria-label": "keys and mouse actions" } },
      h("div", { className: "wk-help-head" }, h("b", { text: "Keys and mouse" }),
        h("button", { testid: "wk-help-close", text: "×", title: "close (Escape)", on: { click: () => this.toggle(false) } })),
      h("table", {}, h("tbody", {}, ...rows)));
    this.button = h("button", { testid: "wk-help-button", text: "?", title: "keys and mouse actions (?)", on: { click: () => this.toggle() } });
    setVisible(this.el, false);
  }

  get open(): boolean {
    return this.el.style.display !== "none";
  }

  toggle(show = !this.open): void {
    setVisible(this.el, show);
  }
}
