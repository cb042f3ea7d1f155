// The annotation tool picker: select segments, place points, draw lines or boxes.

import { h, setData } from "../dom";

export type Tool = "select" | "point" | "line" | "box";
export const TOOLS: { tool: Tool; label: string; key: string }[] = [
  { tool: "select", label: "select", key: "v" },
  { tool: "point", label: "point", key: "p" },
  { tool: "line", label: "line", key: "l" },
  { tool: "box", label: "box", key: "b" },
];

export class ToolPicker {
  readonly el: HTMLSpanElement;
  private readonly buttons = new Map<Tool, HTMLButtonElement>();
  tool: Tool = "select";

  constructor(private readonly onChange: (tool: Tool) => void) {
    this.el = h("span", { className: "wk-tools", testid: "wk-tools", attrs: { role: "group", "aria-label": "tools" } });
    for (const t of TOOLS) {
      const b = h("button", { testid: `wk-tool-${t.tool}`, text: t.label, title: `${t.label} (${t.key})`, on: { click: () => this.set(t.tool) } });
      this.buttons.set(t.tool, b);
      this.el.append(b);
    }
    this.set("select", false);
  }

  set(tool: Tool, notify = true): void {
    this.tool = tool;
    for (const [t, b] of this.buttons) b.classList.toggle("wk-on", t === tool);
    setData(this.el, "tool", tool);
    if (notify) this.onChange(tool);
  }
}
