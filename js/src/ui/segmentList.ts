// A segmentation layer's segment list: which segments it shows, the selected ids with
// their colours (hide / unselect each), and a field to type ids in.

import { rgbToHex, segmentColor, idWords } from "../colors";
import { h, onCommit, setText } from "../dom";
import { parseIds, type SegmentMode } from "../segments";

export interface SegmentListHost {
  selected(layer: string): number[];
  setSelected(layer: string, ids: number[]): void;
  mode(layer: string): SegmentMode;
  hidden(layer: string): number[];
  setMode(layer: string, mode: SegmentMode): void;
  setHidden(layer: string, ids: number[]): void;
  customColor(layer: string, id: number): number[] | null;
  properties(layer: string, id: number): Record<string, unknown> | null; // OME image-label
}

const MODE_LABELS: Record<SegmentMode, string> = { all: "all", selected: "only selected", all_but_hidden: "all but hidden" };

export class SegmentList {
  readonly el: HTMLDivElement;
  private readonly modeSelect: HTMLSelectElement;
  private readonly ids: HTMLDivElement;
  private readonly input: HTMLInputElement;
  private readonly hiddenEl: HTMLSpanElement;
  private signature = "";

  constructor(private readonly layer: string, private readonly host: SegmentListHost) {
    const ds = { layer };
    this.modeSelect = h("select", { testid: "wk-segment-mode", dataset: ds, attrs: { "aria-label": `segments of ${layer} to show` } },
      ...(Object.keys(MODE_LABELS) as SegmentMode[]).map((m) => h("option", { text: MODE_LABELS[m], attrs: { value: m } })));
    this.modeSelect.addEventListener("change", () => this.host.setMode(layer, this.modeSelect.value as SegmentMode));
    this.input = h("input", { testid: "wk-segment-input", dataset: ds, className: "wk-grow", attrs: { type: "text", placeholder: "ids, e.g. 12 7", "aria-label": `select segment ids of ${layer}` } });
    onCommit(this.input, () => {
      const add = parseIds(this.input.value);
      if (add.length === 0) return;
      const cur = this.host.selected(layer);
      this.host.setSelected(layer, [...cur, ...add.filter((x) => !cur.includes(x))]);
      this.input.value = "";
    });
    this.ids = h("div", { className: "wk-segment-ids", testid: "wk-segment-list", dataset: ds });
    this.hiddenEl = h("span", { className: "wk-muted", testid: "wk-segment-hidden", dataset: ds });
    this.el = h("div", { className: "wk-segments", testid: "wk-segments", dataset: ds },
      h("div", { className: "wk-row" }, h("span", { className: "wk-muted", text: "show" }), this.modeSelect,
        h("button", { testid: "wk-segment-clear", dataset: ds, text: "clear", title: "unselect all (Escape)", on: { click: () => this.host.setSelected(layer, []) } })),
      h("div", { className: "wk-row" }, h("span", { className: "wk-muted", text: "select" }), this.input),
      this.ids, this.hiddenEl);
  }

  refresh(): void {
    const sel = this.host.selected(this.layer);
    const mode = this.host.mode(this.layer);
    const hidden = this.host.hidden(this.layer);
    if (this.modeSelect.value !== mode) this.modeSelect.value = mode;
    const sig = JSON.stringify([sel, hidden]);
    if (sig === this.signature) return;
    this.signature = sig;
    setText(this.hiddenEl, hidden.length ? `hidden: ${hidden.join(", ")}` : "");
    this.ids.replaceChildren(...sel.map((id) => {
      const rgb = this.host.customColor(this.layer, id) ?? segmentColor(...idWords(id));
      const isHidden = hidden.includes(id);
      const props = this.host.properties(this.layer, id);
      const title = props ? Object.entries(props).map(([k, v]) => `${k}: ${String(v)}`).join("\n") : "";
      return h("span", { className: "wk-segment-chip", testid: "wk-segment-chip", dataset: { id: String(id), layer: this.layer }, title },
        h("span", { className: "wk-swatch", style: `background:${rgbToHex(rgb)}` }),
        h("span", { text: String(id) }),
        h("button", {
          text: isHidden ? "show" : "hide", title: isHidden ? "show it again" : "hide it (when showing all but hidden)",
          on: { click: () => this.host.setHidden(this.layer, isHidden ? hidden.filter((x) => x !== id) : [...hidden, id]) },
        }),
        h("button", { text: "×", title: "unselect", on: { click: () => this.host.setSelected(this.layer, sel.filter((x) => x !== id)) } }));
    }));
  }
}
