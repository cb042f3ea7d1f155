// The add-layer form (URI, credentials, Add layer), the preview of the inferred dataset
// (editable name, voxel size, unit, layer names and categories) with its datasource JSON,
// and Import / Discard / Export. Secrets live only in the password fields until the
// `explore` message is sent, then the fields are cleared.

import type { AnyModel } from "@anywidget/types";
import { h, onCommit, setText, setVisible } from "../dom";
import {
  CATEGORIES, CREDENTIAL_TYPES, MSG_DISCARD, MSG_EDIT, MSG_EXPLORE, MSG_EXPORT, MSG_IMPORT,
  buildCredentials, missingCredentialFields,
  type CredentialType, type Preview, type ResultMessage, type WidgetModel,
} from "../protocol";

export type Request = (content: Record<string, unknown>) => Promise<ResultMessage>;

const CREDENTIAL_LABELS: Record<CredentialType, string> = {
  none: "None (public)",
  http_basic: "HTTP basic auth",
  http_bearer: "HTTP bearer token",
  s3: "S3 access keys",
  gcs: "GCS service account",
};

interface FieldDef {
  key: string;
  label: string;
  secret: boolean;
  textarea?: boolean;
  placeholder?: string;
}

const CREDENTIAL_FIELDS: Record<CredentialType, FieldDef[]> = {
  none: [],
  http_basic: [
    { key: "username", label: "Username", secret: false },
    { key: "password", label: "Password", secret: true },
  ],
  http_bearer: [{ key: "token", label: "Token", secret: true }],
  s3: [
    { key: "access_key_id", label: "Access key ID", secret: false },
    { key: "secret_access_key", label: "Secret key", secret: true },
    { key: "endpoint_url", label: "Endpoint URL", secret: false, placeholder: "optional, e.g. https://s3.example.org" },
    { key: "region", label: "Region", secret: false, placeholder: "optional" },
  ],
  gcs: [
    {
      key: "service_account", label: "Service account JSON", secret: true, textarea: true,
      placeholder: "paste the key file's JSON; empty = anonymous",
    },
  ],
};

export const UNITS = ["nanometer", "micrometer", "millimeter", "angstrom", "picometer", "centimeter", "meter"];

function testidOf(key: string): string {
  return `wk-cred-${key.replace(/_/g, "-")}`;
}

/** What to paste, shown at the top of the form. */
export const FORM_HINT =
  "Paste the URL of a Zarr, OME-NGFF, N5, Neuroglancer precomputed or WEBKNOSSOS dataset " +
  "(https://, s3://, gs://) or a Neuroglancer link, then press Add layer.";

export class AddLayerForm {
  /** The form (URI, credentials, Add layer, errors); `preview` is placed separately. */
  readonly el: HTMLDivElement;
  readonly preview: HTMLDivElement;
  private readonly uri: HTMLInputElement;
  private readonly credType: HTMLSelectElement;
  private readonly credBox: HTMLDivElement;
  private readonly fields = new Map<string, HTMLInputElement | HTMLTextAreaElement>();
  private readonly addButton: HTMLButtonElement;
  private readonly progress: HTMLSpanElement;
  private readonly spinner: HTMLSpanElement;
  private readonly error: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly previewFields: HTMLDivElement;
  private readonly previewError: HTMLDivElement;
  private readonly json: HTMLPreElement;
  private readonly reports: HTMLDetailsElement;
  private readonly importButton: HTMLButtonElement;
  private readonly discardButton: HTMLButtonElement;
  private readonly exportPath: HTMLInputElement;
  private readonly exportButton: HTMLButtonElement;
  private readonly downloadButton: HTMLButtonElement;
  private localBusy = false;
  private localError = "";
  private busySince = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastPreviewJson = "";
  private readonly handlers: [string, () => void][] = [];

  constructor(private readonly model: AnyModel<WidgetModel>, private readonly request: Request) {
    this.uri = h("input", {
      testid: "wk-uri", className: "wk-grow",
      attrs: {
        type: "text", placeholder: "https://…, s3://…, gs://… or a Neuroglancer link", spellcheck: "false",
        autocomplete: "off", "aria-label": "Dataset URI",
      },
      on: { keydown: (e) => { if (e.key === "Enter") { e.preventDefault(); this.submit(); } } },
    });
    this.credType = h("select", { testid: "wk-cred-type", attrs: { "aria-label": "Credentials" } },
      ...CREDENTIAL_TYPES.map((t) => h("option", { text: CREDENTIAL_LABELS[t], attrs: { value: t } })));
    this.credType.addEventListener("change", () => this.renderCredentialFields());
    this.credBox = h("div", { testid: "wk-cred-fields" });
    this.addButton = h("button", {
      testid: "wk-add-layer", className: "wk-primary", text: "Add layer",
      on: { click: () => this.submit() },
    });
    this.spinner = h("span", { className: "wk-spinner", testid: "wk-form-spinner" });
    this.progress = h("span", { testid: "wk-progress", className: "wk-muted" });
    this.error = h("div", { testid: "wk-form-error", className: "wk-error", attrs: { role: "alert" } });
    this.status = h("div", { testid: "wk-status", className: "wk-status" });

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

    this.preview = h("div", { testid: "wk-preview", className: "wk-panel" },
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

    this.el = h("div", { className: "wk-panel", testid: "wk-form" },
      h("div", { className: "wk-panel-title", text: "Add a layer" }),
      h("div", { className: "wk-muted wk-hint", testid: "wk-form-hint", text: FORM_HINT }),
      h("div", { className: "wk-row" }, h("label", { text: "URI" }), this.uri),
      h("div", { className: "wk-row" }, h("label", { text: "Credentials" }), this.credType),
      this.credBox,
      h("div", { className: "wk-row" }, this.addButton, this.spinner, this.progress),
      this.error,
      this.status,
    );
    // browser_access (set by Python, never by the page): "none" shows no form at all,
    // "public" has no Export (nothing is written on the server; Download only).
    const access = model.get("browser_access");
    if (access === "none") this.el.hidden = true;
    if (access === "public") {
      this.exportPath.hidden = true;
      this.exportButton.hidden = true;
    }
    this.renderCredentialFields();
    for (const name of ["busy", "status", "form_error", "preview"]) {
      const cb = (): void => this.update();
      model.on(`change:${name}`, cb);
      this.handlers.push([`change:${name}`, cb]);
    }
    this.update();
  }

  destroy(): void {
    for (const [name, cb] of this.handlers) this.model.off(name, cb);
    if (this.timer !== null) clearInterval(this.timer);
    this.clearSecrets();
  }

  private renderCredentialFields(): void {
    const type = this.credType.value as CredentialType;
    // keep non-secret values when switching; drop secrets
    const keep = new Map<string, string>();
    for (const [k, el] of this.fields) if (!(el.dataset["secret"] === "1")) keep.set(k, el.value);
    this.fields.clear();
    this.credBox.replaceChildren();
    for (const f of CREDENTIAL_FIELDS[type]) {
      const attrs: Record<string, string> = {
        autocomplete: f.secret ? "new-password" : "off", spellcheck: "false", "aria-label": f.label,
        "data-lpignore": "true", "data-1p-ignore": "true",
      };
      if (f.placeholder) attrs["placeholder"] = f.placeholder;
      let input: HTMLInputElement | HTMLTextAreaElement;
      if (f.textarea) {
        input = h("textarea", { testid: testidOf(f.key), className: "wk-grow", attrs: { ...attrs, rows: "3" } });
      } else {
        input = h("input", { testid: testidOf(f.key), className: "wk-grow", attrs: { ...attrs, type: f.secret ? "password" : "text" } });
      }
      input.dataset["secret"] = f.secret ? "1" : "0";
      input.value = keep.get(f.key) ?? "";
      this.fields.set(f.key, input);
      this.credBox.append(h("div", { className: "wk-row" }, h("label", { text: f.label }), input));
    }
  }

  private clearSecrets(): void {
    for (const el of this.fields.values()) if (el.dataset["secret"] === "1") el.value = "";
  }

  private busy(): boolean {
    return this.localBusy || Boolean(this.model.get("busy"));
  }

  private submit(): void {
    if (this.busy()) return; // no double submit
    const uri = this.uri.value.trim();
    if (!uri) {
      this.localError = "Enter the URI of a dataset (https://, s3://, gs://, or a Neuroglancer link).";
      this.update();
      this.uri.focus();
      return;
    }
    const type = this.credType.value as CredentialType;
    const values: Record<string, string> = {};
    for (const [k, el] of this.fields) values[k] = el.value;
    const missing = missingCredentialFields(type, values);
    if (missing.length > 0) {
      this.localError = `Fill in: ${missing.map((k) => CREDENTIAL_FIELDS[type].find((f) => f.key === k)?.label ?? k).join(", ")}`;
      this.update();
      return;
    }
    const credentials = buildCredentials(type, values);
    for (const k of Object.keys(values)) values[k] = "";
    this.clearSecrets(); // the form forgets secrets once they are sent
    this.localBusy = true;
    this.busySince = Date.now();
    this.localError = "";
    this.update();
    this.request({ type: MSG_EXPLORE, uri, credentials }).then(
      (res) => {
        this.localBusy = false;
        this.localError = !res.ok && res.error ? res.error : "";
        this.update();
      },
      () => { this.localBusy = false; this.update(); },
    );
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

  update(): void {
    const busy = this.busy();
    this.addButton.disabled = busy;
    this.el.dataset["busy"] = busy ? "1" : "0";
    setVisible(this.spinner, busy);
    if (busy && this.timer === null) {
      this.timer = setInterval(() => this.updateProgress(), 250);
    } else if (!busy && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    this.updateProgress();
    setText(this.error, busy ? "" : this.model.get("form_error") || this.localError);
    setText(this.status, busy ? "" : this.model.get("status") ?? "");
    this.renderPreview(this.model.get("preview"));
  }

  private updateProgress(): void {
    if (!this.busy()) {
      setText(this.progress, "");
      return;
    }
    const status = this.model.get("status") || "Exploring …";
    const secs = this.busySince ? ` (${((Date.now() - this.busySince) / 1000).toFixed(1)} s)` : "";
    setText(this.progress, status.includes(" s") ? status : status + secs);
  }

  private renderPreview(preview: Preview | null): void {
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
