// Styles of the analysis controls (kept apart from style.ts, which lays out the widget).

export const ANALYSIS_CSS = `
.wk-analysis-tools { display: inline-flex; gap: 4px; align-items: center; margin-left: 8px; }
.wk-tools { display: inline-flex; gap: 0; }
.wk-tools button { border-radius: 0; }
.wk-tools button.wk-on { background: #ffcc00; color: #000; }
.wk-help-overlay { position: absolute; inset: 8px; z-index: 5; overflow: auto; padding: 8px 12px;
  background: rgba(20, 20, 24, 0.94); color: #eee; font-size: 12px; border: 1px solid #555; border-radius: 4px; }
.wk-help-overlay table { border-collapse: collapse; width: 100%; }
.wk-help-overlay td { padding: 2px 6px; vertical-align: top; border-bottom: 1px solid #333; }
.wk-help-overlay kbd { display: inline-block; padding: 0 4px; border: 1px solid #777; border-radius: 3px; background: #333; font-family: monospace; }
.wk-help-head { display: flex; justify-content: space-between; align-items: center; margin-bottom: 6px; }
.wk-help-head button { color: #111; background: #ddd; min-width: 24px; }
.wk-contrast { margin: 4px 0; }
.wk-histogram { display: block; width: 100%; max-width: 220px; height: 44px; cursor: ew-resize; touch-action: none; }
.wk-cmap-bar { height: 6px; max-width: 220px; margin: 2px 0 4px; }
.wk-segments { margin: 4px 0; }
.wk-segment-ids { display: flex; flex-wrap: wrap; gap: 4px; margin: 2px 0; }
.wk-segment-chip { display: inline-flex; align-items: center; gap: 3px; padding: 1px 4px; border: 1px solid #666; border-radius: 3px; font-size: 11px; }
.wk-segment-chip button { padding: 0 3px; font-size: 10px; }
.wk-swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; }
.wk-annotations { margin-top: 8px; }
/* hundreds of annotations: a bounded, scrolling list whose off-screen rows the browser
   neither lays out nor paints (each of the view's frames otherwise repaints them all) */
.wk-annotation-list { max-height: 18em; overflow: auto; }
.wk-annotation { gap: 4px; content-visibility: auto; contain-intrinsic-size: auto 26px; }
.wk-annotation input[type=text] { min-width: 60px; }
`;
