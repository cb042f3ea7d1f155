// The add-layer form: URI, credentials (credentialFields.ts), Add layer, progress and errors.
// It owns the dataset preview panel (datasetPreview.ts), which the layout places separately.

import type { AnyModel } from "@anywidget/types";
import { h, setText, setVisible } from "../dom";
import { MSG_EXPLORE, type WidgetModel } from "../protocol";
import { CredentialFields } from "./credentialFields";
import { DatasetPreview, type Request } from "./datasetPreview";

/** What to paste, shown at the top of the form. */
export const FORM_HINT =
  "Paste the URL of a Zarr, OME-NGFF, N5, Neuroglancer precomputed or WEBKNOSSOS dataset " +
  "(https://, s3://, gs://) or a Neuroglancer link, then press Add layer.";

export class AddLayerForm {
  /** The form (URI, credentials, Add layer, errors); `preview` is placed separately. */
  readonly el: HTMLDivElement;
  readonly preview: HTMLDivElement;
  private readonly datasetPreview: DatasetPreview;
  private readonly uri: HTMLInputElement;
  private readonly credentials = new CredentialFields();
  private readonly addButton: HTMLButtonElement;
  private readonly progress: HTMLSpanElement;
  private readonly spinner: HTMLSpanElement;
  private readonly error: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private localBusy = false;
  private localError = "";
  private busySince = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
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
    this.addButton = h("button", {
      testid: "wk-add-layer", className: "wk-primary", text: "Add layer",
      on: { click: () => this.submit() },
    });
    this.spinner = h("span", { className: "wk-spinner", testid: "wk-form-spinner" });
    this.progress = h("span", { testid: "wk-progress", className: "wk-muted" });
    this.error = h("div", { testid: "wk-form-error", className: "wk-error", attrs: { role: "alert" } });
    this.status = h("div", { testid: "wk-status", className: "wk-status" });
    this.datasetPreview = new DatasetPreview(model, request);
    this.preview = this.datasetPreview.el;

    this.el = h("div", { className: "wk-panel", testid: "wk-form" },
      h("div", { className: "wk-panel-title", text: "Add a layer" }),
      h("div", { className: "wk-muted wk-hint", testid: "wk-form-hint", text: FORM_HINT }),
      h("div", { className: "wk-row" }, h("label", { text: "URI" }), this.uri),
      h("div", { className: "wk-row" }, h("label", { text: "Credentials" }), this.credentials.select),
      this.credentials.box,
      h("div", { className: "wk-row" }, this.addButton, this.spinner, this.progress),
      this.error,
      this.status,
    );
    // browser_access "none" (set by Python, never by the page) shows no form at all.
    if (model.get("browser_access") === "none") this.el.hidden = true;
    for (const name of ["busy", "status", "form_error"]) {
      const cb = (): void => this.update();
      model.on(`change:${name}`, cb);
      this.handlers.push([`change:${name}`, cb]);
    }
    this.update();
  }

  destroy(): void {
    for (const [name, cb] of this.handlers) this.model.off(name, cb);
    if (this.timer !== null) clearInterval(this.timer);
    this.credentials.clearSecrets();
    this.datasetPreview.destroy();
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
    const taken = this.credentials.take();
    if (!taken.ok) {
      this.localError = `Fill in: ${taken.missing.join(", ")}`;
      this.update();
      return;
    }
    this.localBusy = true;
    this.busySince = Date.now();
    this.localError = "";
    this.update();
    this.request({ type: MSG_EXPLORE, uri, credentials: taken.credentials }).then(
      (res) => {
        this.localBusy = false;
        this.localError = !res.ok && res.error ? res.error : "";
        this.update();
      },
      () => { this.localBusy = false; this.update(); },
    );
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
}
