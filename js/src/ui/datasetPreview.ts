// The preview of the inferred dataset (editable name, voxel size, unit, layer names and
// categories) with its datasource JSON, and Import / Discard / Export / Download.

import type { AnyModel } from "@anywidget/types";
import { h, onCommit, setText, setVisible } from "../dom";
import {
  CATEGORIES, MSG_DISCARD, MSG_EDIT, MSG_EXPORT, MSG_IMPORT,
  type Preview, type ResultMessage, type WidgetModel,
} from "../protocol";

export type Request = (content: Record<string, unknown>) => Promise<ResultMessage>;

export const UNITS = ["nanometer", "micrometer", "millimeter", "angstrom", "picometer", "centimeter", "meter"];

export class DatasetPreview {
  readonly el: HTMLDivElement;
  private readonly previewFields: HTMLDivElement;
  private readonly previewError: HTMLDivElement;
  private readonly json: HTMLPreElement;
  private readonly reports: HTMLDetailsElement;
  private readonly importButton: HTMLButtonElement;
  private readonly discardButton: HTMLButtonElement;
  private readonly exportPath: HTMLInputElement;
  private readonly exportButton: HTMLButtonElement;
  private readonly downloadButton: HTMLButtonElement;
  private lastPreviewJson = "";
  private readonly onPreview = (): void => this.render(this.model.get("preview"));

  constructor(private readonly model: AnyModel<WidgetModel>, private readonly request: Request) {
    this.previewFields = h("div", { testid: "wk-preview-fields" });
    this.previewError = h("div", { testid: "wk-preview-error", className: "wk-error" });
    this.json = h("pre", { testid: "wk-datasource-json", className: "wk-json" });
    this.reports = h("details", { testid: "wk-reports" });
    this.importButton = h("button", { testid: "wk-import", className: "wk-primary", text: "Import", on: { click: () => this.simple(MSG_IMPORT) } });
    this.discardButton = h("button", { testid: "wk-discard", text: "Discard", on: { click: () => this.simple(MSG_DISCARD) } });
    this.exportPath = h("input", {
      testid: "wk-export-path", className: "wk-grow",
      attrs: { type: "text", value: "datasource-properties.json", "aria-label": "Export path" },
    });
    this.exportButton = h("button", { testid: "wk-export", text: "Export", title: "Save datasource-properties.json next to the notebook's kernel", on: { click: () => this.doExport() } });
    this.downloadButton = h("button", { testid: "wk-download", text: "Download", title: "Download the datasource JSON from the browser", on: { click: () => this.download() } });

    this.el = h("div", { testid: "wk-preview", className: "wk-panel" },
      h("div", { className: "wk-panel-title", text: "Dataset preview" }),
      h("div", { className: "wk-form-grid" },
        h("div", {},
          this.previewFields,
          this.previewError,
          h("div", { className: "wk-row" }, this.importButton, this.discardButton),
          h("div", { className: "wk-row" }, this.exportPath, this.exportButton, this.downloadButton),
          this.reports,
        ),
        h("div", {}, h("div", { className: "wk-muted", text: "datasource-properties.json" }), this.json),
      ),
    );
    // browser_access "public" (set by Python, never by the page) has no Export: nothing is
    // written on the server; Download only.
    if (model.get("browser_access") === "public") {
      this.exportPath.hidden = true;
      this.exportButton.hidden = true;
    }
    model.on("change:preview", this.onPreview);
    this.onPreview();
  }

  destroy(): void {
    this.model.off("change:preview", this.onPreview);
  }

  private simple(type: string): void {
    this.request({ type }).then((res) => {
      setText(this.previewError, res.ok ? "" : res.error ?? "failed");
    }, () => undefined);
  }

  private doExport(): void {
    this.exportButton.disabled = true;
    this.request({ type: MSG_EXPORT, path: this.exportPath.value.trim() }).then((res) => {
      this.exportButton.disabled = false;
      setText(this.previewError, res.ok ? "" : `Export failed: ${res.error ?? ""}`);
    }, () => { this.exportButton.disabled = false; });
  }

  private download(): void {
    const preview = this.model.get("preview");
    if (!preview) return;
    const blob = new Blob([JSON.stringify(preview.datasource, null, 2) + "\n"], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const a = h("a", { attrs: { href: url, download: "datasource-properties.json" } });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  private sendEdit(content: Record<string, unknown>): void {
    this.request({ type: MSG_EDIT, ...content }).then((res) => {
      setText(this.previewError, res.ok ? "" : res.error ?? "edit failed");
    }, () => undefined);
  }

  private render(preview: Preview | null): void {
    // whether the preview shows is the layout's decision (layout.ts)
    if (!preview) {
      this.lastPreviewJson = "";
      return;
    }
    const text = JSON.stringify(preview);
    if (text === this.lastPreviewJson) return;
    this.lastPreviewJson = text;
    const ds = preview.datasource as {
      id?: { name?: string }; scale?: { factor?: number[]; unit?: string };
      dataLayers?: { name: string; category: string; elementClass?: string; dataFormat?: string }[];
    };
    setText(this.json, JSON.stringify(preview.datasource, null, 2));
    const staged = new Set(preview.staged);
    this.importButton.disabled = preview.staged.length === 0;
    this.discardButton.disabled = preview.staged.length === 0;
    this.importButton.textContent = preview.staged.length > 0 ? `Import ${preview.staged.length} layer${preview.staged.length === 1 ? "" : "s"}` : "Import";

    const focused = document.activeElement as HTMLElement | null;
    const focusKey = focused && this.previewFields.contains(focused)
      ? `${focused.dataset["testid"] ?? ""}|${focused.dataset["layer"] ?? ""}` : null;

    const name = h("input", { testid: "wk-preview-name", className: "wk-grow", attrs: { type: "text", value: ds.id?.name ?? "" } });
    onCommit(name, () => this.sendEdit({ name: name.value }));
    const factor = ds.scale?.factor ?? [1, 1, 1];
    const voxel = ["x", "y", "z"].map((axis, k) => {
      const input = h("input", {
        testid: `wk-preview-voxel-${axis}`, attrs: { type: "number", step: "any", min: "0", value: String(factor[k] ?? 1), "aria-label": `voxel size ${axis}` },
        className: "wk-num",
      });
      onCommit(input, () => {
        const values = ["x", "y", "z"].map((_, j) => Number(voxelInputs[j]!.value));
        this.sendEdit({ voxel_size: values });
      });
      return input;
    });
    const voxelInputs = voxel;
    const unitValue = ds.scale?.unit ?? "nanometer";
    const units = UNITS.includes(unitValue) ? UNITS : [unitValue, ...UNITS];
    const unit = h("select", { testid: "wk-preview-unit" }, ...units.map((u) => h("option", { text: u, attrs: { value: u } })));
    unit.value = unitValue;
    unit.addEventListener("change", () => this.sendEdit({ unit: unit.value }));

    const rows = (ds.dataLayers ?? []).map((layer) => {
      const lname = h("input", {
        testid: "wk-preview-layer-name", dataset: { layer: layer.name },
        attrs: { type: "text", value: layer.name, "aria-label": `name of layer ${layer.name}` }, className: "wk-full-width",
      });
      onCommit(lname, () => this.sendEdit({ layers: [{ name: layer.name, new_name: lname.value }] }));
      const cat = h("select", { testid: "wk-preview-layer-category", dataset: { layer: layer.name } },
        ...CATEGORIES.map((c) => h("option", { text: c, attrs: { value: c } })));
      cat.value = layer.category;
      cat.addEventListener("change", () => this.sendEdit({ layers: [{ name: layer.name, category: cat.value }] }));
      return h("tr", { testid: "wk-preview-layer", dataset: { layer: layer.name } },
        h("td", {}, lname),
        h("td", {}, cat),
        h("td", { className: "wk-muted", text: `${layer.elementClass ?? ""} ${layer.dataFormat ?? ""}` }),
        h("td", {}, staged.has(layer.name) ? h("span", { className: "wk-badge", text: "new", testid: "wk-preview-new" }) : null),
      );
    });

    this.previewFields.replaceChildren(
      h("div", { className: "wk-row" }, h("label", { text: "Dataset name" }), name),
      h("div", { className: "wk-row" }, h("label", { text: "Voxel size" }), ...voxel, unit),
      h("table", { className: "wk-table", testid: "wk-preview-layers" },
        h("thead", {}, h("tr", {}, h("th", { text: "Layer" }), h("th", { text: "Category" }), h("th", { text: "Type" }), h("th", {}))),
        h("tbody", {}, ...rows)),
    );
    if (focusKey) {
      const [tid, layer] = focusKey.split("|");
      const again = [...this.previewFields.querySelectorAll<HTMLElement>("[data-testid]")].find(
        (el) => el.dataset["testid"] === tid && (el.dataset["layer"] ?? "") === layer);
      again?.focus();
    }

    const reports = preview.reports ?? [];
    this.reports.replaceChildren(
      h("summary", { className: "wk-muted", text: `Exploration report (${reports.length} URI${reports.length === 1 ? "" : "s"})` }),
      ...reports.map((r) => h("div", { className: "wk-muted" },
        h("div", { text: r.uri }),
        ...r.attempts.map((a) => h("div", { text: `  ${a.format}: ${a.outcome}${a.message ? ` — ${a.message}` : ""}` })),
        ...r.notes.map((n) => h("div", { text: `  note: ${n}` })),
      )),
    );
    setVisible(this.reports, reports.length > 0);
  }
}
