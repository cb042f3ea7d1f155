// Every key and mouse action of the viewer, for the help overlay (one list, so the
// overlay cannot miss one: js/test/keys.test.ts checks it against the key handlers).

export interface Binding {
  keys: string[]; // as KeyboardEvent.key, or a mouse gesture
  action: string;
  mouse?: boolean;
}

export const VIEW_KEYS: Binding[] = [
  { keys: [",", "<", "PageDown", "d", "D"], action: "previous slice (shift: 10)" },
  { keys: [".", ">", "PageUp", "f", "F"], action: "next slice (shift: 10)" },
  { keys: ["ArrowLeft", "a", "A"], action: "pan left (shift: faster)" },
  { keys: ["ArrowRight"], action: "pan right" },
  { keys: ["ArrowUp", "w", "W"], action: "pan up" },
  { keys: ["ArrowDown", "s", "S"], action: "pan down" },
  { keys: ["+", "=", "i"], action: "zoom in" },
  { keys: ["-", "_", "o"], action: "zoom out" },
  { keys: ["1"], action: "XY view" },
  { keys: ["2"], action: "XZ view" },
  { keys: ["3"], action: "YZ view" },
  { keys: ["4"], action: "all three views" },
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
