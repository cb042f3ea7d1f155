// Where things go: the data first. With a dataset, the toolbar and the views come first;
// the add-layer form and the dataset preview are folded away and open from the toolbar
// (or by themselves while a source is being added and reviewed). Without a dataset, the
// form is open. Narrow cells (< NARROW_PX) stack the side panel below the views.

import { setData, setVisible } from "./dom";

/** Below this width (CSS px of the widget) the side panel goes below the views. */
export const NARROW_PX = 900;
/** Views height when Python left `height` at 0 ("fit the window"): these bounds, CSS px. */
export const AUTO_HEIGHT_MIN = 320;
export const AUTO_HEIGHT_MAX = 640;

export interface DrawerInput {
  hasData: boolean; // the views show a dataset
  hasPreview: boolean; // there is something to preview (explored or imported)
  staged: number; // layers explored but not imported yet
  busy: boolean; // an exploration is running
  formOpen: boolean; // the user opened the form
  previewOpen: boolean; // the user opened the preview
}

/** Which folded panels show (pure: the rules of the data-first layout). */
export function drawer(s: DrawerInput): { form: boolean; preview: boolean } {
  const reviewing = s.staged > 0;
  return {
    form: !s.hasData || s.formOpen || reviewing || s.busy,
    preview: s.hasPreview && (!s.hasData || reviewing || s.previewOpen),
  };
}

export function isNarrow(width: number): boolean {
  return width > 0 && width < NARROW_PX;
}

/** Share of the window's height that the views take when `height` is 0. */
export const AUTO_HEIGHT_SHARE = 0.55;

/**
 * Views height in CSS px: `height` > 0 is taken as given (Python or the resize handle set
 * it); 0 fits the window, leaving room for the notebook's chrome (menus, toolbars, the
 * cell's input) and the widget's toolbar, so the views show without scrolling.
 */
export function viewsHeight(height: number, windowHeight: number): number {
  if (Number.isFinite(height) && height > 0) return Math.max(120, Math.round(height));
  const fit = Math.round((windowHeight || 800) * AUTO_HEIGHT_SHARE);
  return Math.max(AUTO_HEIGHT_MIN, Math.min(AUTO_HEIGHT_MAX, fit));
}

export interface LayoutParts {
  root: HTMLElement;
  form: HTMLElement;
  preview: HTMLElement;
}

export class Layout {
  private state: DrawerInput = { hasData: false, hasPreview: false, staged: 0, busy: false, formOpen: false, previewOpen: false };
  private readonly ro: ResizeObserver | null;
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly parts: LayoutParts) {
    this.ro = typeof ResizeObserver !== "undefined" ? new ResizeObserver(() => this.measure()) : null;
    this.ro?.observe(parts.root);
    this.apply();
  }

  destroy(): void {
    this.ro?.disconnect();
  }

  /** Called after every change (the toolbar shows which panels are open). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  get formShown(): boolean {
    return drawer(this.state).form;
  }

  get previewShown(): boolean {
    return drawer(this.state).preview;
  }

  get hasData(): boolean {
    return this.state.hasData;
  }

  /** New facts from the model; folds the panels once the staged layers are imported. */
  update(facts: { hasData: boolean; hasPreview: boolean; staged: number; busy: boolean }): void {
    const imported = this.state.staged > 0 && facts.staged === 0 && facts.hasData;
    const arrived = !this.state.hasData && facts.hasData;
    this.state = { ...this.state, ...facts };
    if (imported || arrived) this.state = { ...this.state, formOpen: false, previewOpen: false };
    this.apply();
  }

  toggleForm(open = !this.state.formOpen): void {
    this.state = { ...this.state, formOpen: open };
    this.apply();
  }

  togglePreview(open = !this.state.previewOpen): void {
    this.state = { ...this.state, previewOpen: open };
    this.apply();
  }

  private measure(): void {
    const width = this.parts.root.getBoundingClientRect().width;
    const narrow = isNarrow(width);
    this.parts.root.classList.toggle("wk-narrow", narrow);
    setData(this.parts.root, "narrow", narrow ? "1" : "0");
  }

  private apply(): void {
    const shown = drawer(this.state);
    setVisible(this.parts.form, shown.form);
    setVisible(this.parts.preview, shown.preview);
    setData(this.parts.root, "layout", this.state.hasData ? "data" : "form");
    this.measure();
    for (const fn of this.listeners) fn();
  }
}
