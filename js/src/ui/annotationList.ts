// The annotation list: rename, recolour, delete, jump to one.

import type { Annotation } from "../annotations";
import { h, onCommit, setText } from "../dom";

export interface AnnotationListHost {
  annotations(): Annotation[];
  setAnnotations(list: Annotation[]): void;
  jump(a: Annotation): void;
}

function where(a: Annotation): string {
  return a.points.map((p) => p.map((c) => Math.round(c)).join(",")).join(" → ");
}

export class AnnotationList {
  readonly el: HTMLDivElement;
  private readonly list: HTMLDivElement;
  private readonly count: HTMLSpanElement;
  private signature = "";

  constructor(private readonly host: AnnotationListHost) {
    this.list = h("div", { className: "wk-annotation-list", testid: "wk-annotation-list" });
    this.count = h("span", { className: "wk-muted", testid: "wk-annotation-count" });
    this.el = h("div", { className: "wk-panel wk-annotations", testid: "wk-annotations" },
      h("div", { className: "wk-layer-head" }, h("b", { text: "Annotations " }), this.count), this.list);
  }

  refresh(): void {
    const items = this.host.annotations();
    const sig = JSON.stringify(items);
    if (sig === this.signature) return;
    this.signature = sig;
    setText(this.count, String(items.length));
    this.list.replaceChildren(...items.map((a) => this.row(a)));
  }

  private edit(id: string, patch: Partial<Annotation> | null): void {
    const items = this.host.annotations();
    this.host.setAnnotations(patch === null ? items.filter((a) => a.id !== id) : items.map((a) => (a.id === id ? { ...a, ...patch } : a)));
  }

  private row(a: Annotation): HTMLElement {
    const ds = { id: a.id, type: a.type };
    const name = h("input", { testid: "wk-annotation-name", dataset: ds, className: "wk-grow", attrs: { type: "text", value: a.name, "aria-label": "annotation name" } });
    onCommit(name, () => this.edit(a.id, { name: name.value }));
    const color = h("input", { testid: "wk-annotation-color", dataset: ds, attrs: { type: "color", value: a.color, "aria-label": "annotation colour" } });
    color.addEventListener("change", () => this.edit(a.id, { color: color.value.toLowerCase() }));
    return h("div", { className: "wk-row wk-annotation", testid: "wk-annotation", dataset: ds, title: where(a) },
      h("span", { className: "wk-muted", text: a.type }), name, color,
      h("button", { testid: "wk-annotation-jump", dataset: ds, text: "go", title: `jump to ${where(a)}`, on: { click: () => this.host.jump(a) } }),
      h("button", { testid: "wk-annotation-delete", dataset: ds, text: "×", title: "delete", on: { click: () => this.edit(a.id, null) } }));
  }
}
