// Every key and mouse action of the viewer: one table that both the key handler
// (`handleKey`) and the help overlay read, so the help cannot miss a key.

import type { Vec3, ViewMode } from "./protocol";
import { panBy, type ViewGeometry } from "./tilemath";

export interface Binding {
  keys: string[]; // as KeyboardEvent.key, or a mouse gesture
  action: string;
  mouse?: boolean;
  run?: ViewAction; // what the views do on the key (VIEW_KEYS only)
}

/** What a view key does; the controller supplies the implementations. */
export type ViewAction =
  | "slicePrev" | "sliceNext" | "panLeft" | "panRight" | "panUp" | "panDown"
  | "zoomIn" | "zoomOut" | "modeXY" | "modeXZ" | "modeYZ" | "modeOrtho";

/** `shift`: the key was pressed with shift (bigger steps). */
export type ViewActions = Record<ViewAction, (shift: boolean) => void>;

export const VIEW_KEYS: Binding[] = [
  { keys: [",", "<", "PageDown", "d", "D"], action: "previous slice (shift: 10)", run: "slicePrev" },
  { keys: [".", ">", "PageUp", "f", "F"], action: "next slice (shift: 10)", run: "sliceNext" },
  { keys: ["ArrowLeft", "a", "A"], action: "pan left (shift: faster)", run: "panLeft" },
  { keys: ["ArrowRight"], action: "pan right", run: "panRight" },
  { keys: ["ArrowUp", "w", "W"], action: "pan up", run: "panUp" },
  { keys: ["ArrowDown", "s", "S"], action: "pan down", run: "panDown" },
  { keys: ["+", "=", "i"], action: "zoom in", run: "zoomIn" },
  { keys: ["-", "_", "o"], action: "zoom out", run: "zoomOut" },
  { keys: ["1"], action: "XY view", run: "modeXY" },
  { keys: ["2"], action: "XZ view", run: "modeXZ" },
  { keys: ["3"], action: "YZ view", run: "modeYZ" },
  { keys: ["4"], action: "all three views", run: "modeOrtho" },
];

export const ANALYSIS_KEYS: Binding[] = [
  { keys: ["Escape"], action: "clear the selection / cancel the line or box being drawn / close this help" },
  { keys: ["v"], action: "tool: select segments" },
  { keys: ["p"], action: "tool: place points" },
  { keys: ["l"], action: "tool: draw lines (two clicks)" },
  { keys: ["b"], action: "tool: draw boxes (two opposite corners)" },
  { keys: ["?", "h"], action: "show / hide this help" },
];

export const MOUSE_ACTIONS: Binding[] = [
  { keys: ["drag"], action: "pan", mouse: true },
  { keys: ["wheel"], action: "zoom at the cursor", mouse: true },
  { keys: ["shift+wheel"], action: "previous / next slice", mouse: true },
  { keys: ["double-click"], action: "move there", mouse: true },
  { keys: ["click"], action: "select the segment under the cursor (background: clear); Python's on_click callbacks see it", mouse: true },
  { keys: ["shift+click", "ctrl+click"], action: "add / remove the segment to the selection", mouse: true },
  { keys: ["click (point tool)"], action: "place a point", mouse: true },
  { keys: ["click, click (line / box tool)"], action: "a line's ends / a box's opposite corners", mouse: true },
  { keys: ["drag on the histogram"], action: "move the contrast handles", mouse: true },
];

export const ALL_BINDINGS: Binding[] = [...VIEW_KEYS, ...ANALYSIS_KEYS, ...MOUSE_ACTIONS];

/** The binding of a key (undefined when it does nothing). */
export function bindingOf(key: string): Binding | undefined {
  return [...VIEW_KEYS, ...ANALYSIS_KEYS].find((b) => b.keys.includes(key));
}

function isEditable(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return ["INPUT", "TEXTAREA", "SELECT", "BUTTON"].includes(el.tagName) || el.isContentEditable;
}

/** Run the view action bound to a key; true when the key was one (the caller stops the event). */
export function runViewKey(key: string, shift: boolean, actions: ViewActions): boolean {
  const run = VIEW_KEYS.find((b) => b.keys.includes(key))?.run;
  if (!run) return false;
  actions[run](shift);
  return true;
}

/**
 * The views' keydown handler: keys typed into a control and chorded keys are left alone;
 * `first` (the analysis tools' keys) gets the event before the view keys.
 */
export function handleKey(e: KeyboardEvent, actions: ViewActions, first: (e: KeyboardEvent) => boolean): void {
  if (isEditable(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
  if (first(e) || runViewKey(e.key, e.shiftKey, actions)) {
    e.preventDefault();
    e.stopPropagation();
  }
}

/** What the view actions drive (the controller; `geometry` is the active view's). */
export interface ViewKeyHost {
  geometry(): ViewGeometry;
  zoom(): number;
  setView(position: Vec3, zoom: number): void;
  stepSlice(delta: number): void;
  zoomBy(factor: number): void;
  setMode(mode: ViewMode): void;
}

export function viewKeyActions(host: ViewKeyHost): ViewActions {
  const pan = (dx: number, dy: number) => (shift: boolean): void => {
    const g = host.geometry();
    const px = Math.max(16, Math.min(g.width, g.height) / 8) * (shift ? 4 : 1);
    host.setView(panBy(g, dx * px, dy * px), host.zoom());
  };
  return {
    slicePrev: (shift) => host.stepSlice(shift ? -10 : -1),
    sliceNext: (shift) => host.stepSlice(shift ? 10 : 1),
    panLeft: pan(1, 0),
    panRight: pan(-1, 0),
    panUp: pan(0, 1),
    panDown: pan(0, -1),
    zoomIn: () => host.zoomBy(1 / 1.5),
    zoomOut: () => host.zoomBy(1.5),
    modeXY: () => host.setMode("xy"),
    modeXZ: () => host.setMode("xz"),
    modeYZ: () => host.setMode("yz"),
    modeOrtho: () => host.setMode("ortho"),
  };
}
