// The toolbar above the views: toggles for the folded panels (add-layer form, dataset
// preview) on the left, then whatever controls are added (`add`), help text last.

import { h } from "../dom";

export interface ToolbarToggle {
  testid: string;
  text: string;
  title: string;
  onClick(): void;
}

export class Toolbar {
  readonly el: HTMLDivElement;
  private readonly slot: HTMLSpanElement;
  private readonly toggles = new Map<string, HTMLButtonElement>();

  constructor(toggles: ToolbarToggle[], help: string) {
    this.slot = h("span", { className: "wk-toolbar-slot" });
    const buttons = toggles.map((t) => {
      const b = h("button", {
        testid: t.testid, text: t.text, title: t.title, className: "wk-toggle",
        attrs: { type: "button", "aria-pressed": "false" }, on: { click: () => t.onClick() },
      });
      this.toggles.set(t.testid, b);
      return b;
    });
    this.el = h("div", { className: "wk-toolbar", testid: "wk-toolbar" },
      ...buttons, this.slot, h("span", { className: "wk-help", text: help }));
  }

  /** Add controls after the toggles (in order). */
  add(...els: HTMLElement[]): void {
    this.slot.append(...els);
  }

  /** Show a toggle as pressed (its panel is open) and whether it can be used. */
  setPressed(testid: string, pressed: boolean, enabled = true): void {
    const b = this.toggles.get(testid);
    if (!b) return;
    const value = pressed ? "true" : "false";
    if (b.getAttribute("aria-pressed") !== value) b.setAttribute("aria-pressed", value);
    b.disabled = !enabled;
  }
}
