// "save PNG": the views as they are on screen, in one PNG file (a browser download).

import { h } from "../dom";

export interface PngSource {
  canvases(): { canvas: HTMLCanvasElement; x: number; y: number }[]; // CSS px offsets
  fileName(): string;
}

/** One canvas holding all visible view canvases at their on-screen places. */
export function composeViews(parts: { canvas: HTMLCanvasElement; x: number; y: number }[], dpr: number): HTMLCanvasElement {
  const out = document.createElement("canvas");
  let w = 1;
  let hgt = 1;
  for (const p of parts) {
    w = Math.max(w, Math.round(p.x * dpr) + p.canvas.width);
    hgt = Math.max(hgt, Math.round(p.y * dpr) + p.canvas.height);
  }
  out.width = w;
  out.height = hgt;
  const ctx = out.getContext("2d");
  if (ctx) {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, w, hgt);
    for (const p of parts) ctx.drawImage(p.canvas, Math.round(p.x * dpr), Math.round(p.y * dpr));
  }
  return out;
}

export class SavePngButton {
  readonly el: HTMLButtonElement;

  constructor(private readonly source: PngSource) {
    this.el = h("button", { testid: "wk-save-png", text: "save PNG", title: "save the views as a PNG file", on: { click: () => this.save() } });
  }

  save(): void {
    const canvas = composeViews(this.source.canvases(), window.devicePixelRatio || 1);
    canvas.toBlob((blob) => {
      if (!blob) return;
      const url = URL.createObjectURL(blob);
      const a = h("a", { attrs: { href: url, download: this.source.fileName() } });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }, "image/png");
  }
}
