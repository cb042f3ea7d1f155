// The layer list: per layer visibility, opacity, contrast range, color, channel, and a
// meter of streamed requests and bytes; sliders for extra axes such as t.

import type { LayerMeter } from "./tiles";
import { formatBytes, h, onCommit, setData, setText } from "./dom";
import { rgbToHex, hexToRgb } from "./colors";
import type { DatasetInfo, LayerInfo, LayerSettings } from "./protocol";

export interface LayersHost {
  info(): DatasetInfo | null;
  settings(): LayerSettings[];
  updateSetting(name: string, patch: Partial<LayerSettings>): void;
  autoContrast(name: string): void;
  meter(name: string): LayerMeter;
  hovered(name: string): string;
  // more controls under a layer's row (contrast / segment list, from analysis.ts)
  rowExtras?(layer: LayerInfo): HTMLElement | null;
}

interface Row {
  name: string;
  el: HTMLElement;
  visible: HTMLInputElement;
  opacity: HTMLInputElement;
  min?: HTMLInputElement;
  max?: HTMLInputElement;
  color?: HTMLInputElement;
  channel?: HTMLInputElement;
  channelLabel?: HTMLSpanElement;
  meter: HTMLDivElement;
  error: HTMLDivElement;
  hover?: HTMLSpanElement;
}

function isFocused(el: HTMLElement | undefined): boolean {
  return el !== undefined && el.ownerDocument.activeElement === el;
}

function setValue(el: HTMLInputElement | undefined, value: string): void {
  if (el && !isFocused(el) && el.value !== value) el.value = value;
}

function num(text: string): number | null {
  const v = Number(text);
  return text.trim() !== "" && Number.isFinite(v) ? v : null;
}

export class LayerPanel {
  readonly el: HTMLDivElement;
  private readonly list: HTMLDivElement;
  private readonly axesBox: HTMLDivElement;
  private rows: Row[] = [];
  private axisInputs = new Map<string, { input: HTMLInputElement; label: HTMLSpanElement }>();
  private structure = "";

  constructor(private readonly host: LayersHost) {
    this.axesBox = h("div", { testid: "wk-axes" });
    this.list = h("div", { testid: "wk-layer-list" });
    this.el = h("div", { className: "wk-side", testid: "wk-sidebar" }, this.axesBox, this.list);
  }

  /** Rebuild when the layers change; otherwise only refresh the values. */
  update(): void {
    const info = this.host.info();
    const layers = info?.layers ?? [];
    const structure = JSON.stringify(layers.map((l) => [l.name, l.category, l.num_channels, l.additional_axes, l.element_class]));
    if (structure !== this.structure) {
      this.structure = structure;
      this.build(layers);
    }
    this.refresh();
  }

  private build(layers: LayerInfo[]): void {
    this.rows = layers.map((layer) => this.buildRow(layer));
    this.list.replaceChildren(...this.rows.map((r) => r.el));
    if (layers.length === 0) this.list.append(h("div", { className: "wk-muted", text: "No layers yet." }));
    // extra axes: one slider per axis name over all layers that have it
    const axes = new Map<string, [number, number]>();
    for (const l of layers) {
      for (const a of l.additional_axes) {
        const prev = axes.get(a.name);
        axes.set(a.name, prev ? [Math.min(prev[0], a.bounds[0]), Math.max(prev[1], a.bounds[1])] : [a.bounds[0], a.bounds[1]]);
      }
    }
    this.axisInputs.clear();
    this.axesBox.replaceChildren();
    for (const [name, [lo, hi]] of axes) {
      const input = h("input", {
        testid: `wk-axis-${name}`, dataset: { axis: name },
        attrs: { type: "range", min: String(lo), max: String(hi - 1), step: "1", value: String(lo), "aria-label": `axis ${name}` },
        className: "wk-grow",
      });
      const label = h("span", { testid: `wk-axis-${name}-value`, className: "wk-muted" });
      input.addEventListener("input", () => {
        const value = Math.round(Number(input.value));
        for (const l of this.host.info()?.layers ?? []) {
          const ax = l.additional_axes.find((a) => a.name === name);
          if (!ax) continue;
          const s = this.host.settings().find((x) => x.name === l.name);
          const clamped = Math.max(ax.bounds[0], Math.min(ax.bounds[1] - 1, value));
          this.host.updateSetting(l.name, { axes: { ...(s?.axes ?? {}), [name]: clamped } });
        }
      });
      this.axisInputs.set(name, { input, label });
      this.axesBox.append(h("div", { className: "wk-row wk-panel" }, h("b", { text: name }), input, label));
    }
  }

  private buildRow(layer: LayerInfo): Row {
    const name = layer.name;
    const ds = { layer: name };
    const visible = h("input", { testid: "wk-layer-visible", dataset: ds, attrs: { type: "checkbox", "aria-label": `show ${name}` } });
    visible.addEventListener("change", () => this.host.updateSetting(name, { visible: visible.checked }));
    const opacity = h("input", {
      testid: "wk-layer-opacity", dataset: ds,
      attrs: { type: "range", min: "0", max: "1", step: "0.01", "aria-label": `opacity of ${name}` },
    });
    opacity.addEventListener("input", () => this.host.updateSetting(name, { opacity: Number(opacity.value) }));
    const meter = h("div", { testid: "wk-layer-meter", dataset: ds, className: "wk-meter" });
    const error = h("div", { testid: "wk-layer-error", dataset: ds, className: "wk-error" });
    const row: Row = { name, el: h("div"), visible, opacity, meter, error };
    const parts: HTMLElement[] = [
      h("div", { className: "wk-layer-head" }, visible,
        h("span", { className: "wk-name", text: name, title: `${name} (${layer.element_class}, ${layer.category})` }),
        h("span", { className: "wk-muted", text: layer.category === "segmentation" ? "seg" : layer.element_class })),
      h("div", { className: "wk-row" }, h("span", { className: "wk-muted", text: "opacity" }), opacity),
    ];
    if (layer.category === "color") {
      const min = h("input", { testid: "wk-layer-min", dataset: ds, attrs: { type: "number", step: "any", "aria-label": `contrast min of ${name}` } });
      const max = h("input", { testid: "wk-layer-max", dataset: ds, attrs: { type: "number", step: "any", "aria-label": `contrast max of ${name}` } });
      const onRange = (): void => {
        const lo = num(min.value);
        const hi = num(max.value);
        if (lo !== null && hi !== null) this.host.updateSetting(name, { range: [lo, hi] });
      };
      onCommit(min, onRange);
      onCommit(max, onRange);
      const auto = h("button", { testid: "wk-layer-auto", dataset: ds, text: "auto", title: "contrast from the visible data", on: { click: () => this.host.autoContrast(name) } });
      const color = h("input", { testid: "wk-layer-color", dataset: ds, attrs: { type: "color", "aria-label": `color of ${name}` } });
      color.addEventListener("input", () => this.host.updateSetting(name, { color: hexToRgb(color.value) }));
      parts.push(h("div", { className: "wk-row" }, h("span", { className: "wk-muted", text: "range" }), min, max, auto, color));
      row.min = min;
      row.max = max;
      row.color = color;
    } else {
      const hover = h("span", { testid: "wk-layer-hovered", dataset: ds, className: "wk-muted" });
      parts.push(h("div", { className: "wk-row" }, h("span", { className: "wk-muted", text: "hovered id" }), hover));
      row.hover = hover;
    }
    if (layer.num_channels > 1) {
      const channel = h("input", {
        testid: "wk-layer-channel", dataset: ds, className: "wk-grow",
        attrs: { type: "range", min: "0", max: String(layer.num_channels - 1), step: "1", "aria-label": `channel of ${name}` },
      });
      const channelLabel = h("span", { className: "wk-muted" });
      channel.addEventListener("input", () => this.host.updateSetting(name, { channel: Math.round(Number(channel.value)) }));
      parts.push(h("div", { className: "wk-row" }, h("span", { className: "wk-muted", text: "channel" }), channel, channelLabel));
      row.channel = channel;
      row.channelLabel = channelLabel;
    }
    const extras = this.host.rowExtras?.(layer);
    if (extras) parts.push(extras);
    parts.push(meter, error);
    row.el = h("div", { className: "wk-layer", testid: "wk-layer", dataset: { layer: name, category: layer.category } }, ...parts);
    return row;
  }

  /** Refresh values from the settings (skipping the input being edited). */
  refresh(): void {
    const settings = this.host.settings();
    for (const row of this.rows) {
      const s = settings.find((x) => x.name === row.name);
      if (!s) continue;
      if (row.visible.checked !== s.visible) row.visible.checked = s.visible;
      setValue(row.opacity, String(s.opacity));
      if (s.range) {
        setValue(row.min, String(s.range[0]));
        setValue(row.max, String(s.range[1]));
      }
      setValue(row.color, rgbToHex(s.color));
      if (row.channel) {
        setValue(row.channel, String(s.channel));
        if (row.channelLabel) setText(row.channelLabel, String(s.channel));
      }
    }
    for (const [name, { input, label }] of this.axisInputs) {
      const s = settings.find((x) => name in (x.axes ?? {}));
      const value = s?.axes[name];
      if (value !== undefined) {
        setValue(input, String(value));
        setText(label, `${value} / ${Number(input.max)}`);
      }
    }
  }

  /** Meters and hovered ids: cheap, called after every paint. */
  refreshLive(): void {
    for (const row of this.rows) {
      const m = this.host.meter(row.name);
      setText(row.meter,
        `tiles ${m.received}/${m.requested} (${formatBytes(m.bytes)})` +
        (m.cancelled ? ` · cancelled ${m.cancelled}` : "") +
        ` · source: ${m.remoteRequests} requests, ${formatBytes(m.remoteBytes)}` +
        (m.pan ? ` · whole plane at this zoom ≈ ${formatBytes(m.pan.bytes)}, $${m.pan.cost.toFixed(2)}` : ""));
      if (m.pan) setData(row.meter, "panCost", String(m.pan.cost));
      setData(row.meter, "requests", String(m.remoteRequests));
      setData(row.meter, "bytes", String(m.remoteBytes));
      setData(row.meter, "tiles", String(m.received));
      setData(row.meter, "tileBytes", String(m.bytes));
      setText(row.error, m.errors > 0 ? `${m.errors} tile error${m.errors === 1 ? "" : "s"}: ${m.lastError}` : "");
      if (row.hover) setText(row.hover, this.host.hovered(row.name));
    }
  }
}
