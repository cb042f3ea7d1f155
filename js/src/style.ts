// The widget's CSS (scoped under .wk-root). Uses JupyterLab's theme variables where they
// exist, then VS Code's, then fixed fallbacks (Notebook 7 has JupyterLab's; marimo none). installStyles() adopts it as a constructed
// stylesheet where it can (no <style> element, which a strict Content-Security-Policy
// such as VS Code's webview may block) and falls back to a <style> element.

export const CSS = `
.wk-root { --wk-fg: var(--jp-ui-font-color1, var(--vscode-editor-foreground, #222));
  --wk-fg2: var(--jp-ui-font-color2, var(--vscode-descriptionForeground, #666));
  --wk-bg: var(--jp-layout-color1, var(--vscode-editor-background, #fff));
  --wk-bg2: var(--jp-layout-color2, var(--vscode-editorWidget-background, #eee));
  --wk-border: var(--jp-border-color2, var(--vscode-panel-border, #ccc));
  --wk-accent: var(--jp-brand-color1, var(--vscode-focusBorder, #1976d2));
  --wk-error: var(--jp-error-color1, var(--vscode-errorForeground, #d32f2f));
  font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 12px; color: var(--wk-fg);
  display: flex; flex-direction: column; gap: 6px; width: 100%; box-sizing: border-box; }
.wk-root *, .wk-root *::before, .wk-root *::after { box-sizing: border-box; }
.wk-root input, .wk-root select, .wk-root textarea, .wk-root button { font: inherit; color: inherit; }
.wk-root input, .wk-root select, .wk-root textarea { background: var(--wk-bg); border: 1px solid var(--wk-border); border-radius: 3px; padding: 2px 4px; }
.wk-root button { background: var(--wk-bg2); border: 1px solid var(--wk-border); border-radius: 3px; padding: 3px 10px; cursor: pointer; }
.wk-root button.wk-primary { background: var(--wk-accent); color: #fff; border-color: var(--wk-accent); }
.wk-root button:disabled { opacity: .5; cursor: default; }
.wk-panel { border: 1px solid var(--wk-border); border-radius: 4px; padding: 6px 8px; background: var(--wk-bg); }
.wk-panel > summary { cursor: pointer; font-weight: 600; }
.wk-form-grid { display: grid; grid-template-columns: minmax(280px, 1fr) minmax(240px, 1fr); gap: 10px; margin-top: 6px; }
.wk-row { display: flex; gap: 6px; align-items: center; margin: 3px 0; flex-wrap: wrap; }
.wk-row > label { min-width: 90px; color: var(--wk-fg2); }
.wk-grow { flex: 1 1 auto; min-width: 120px; }
.wk-error { color: var(--wk-error); white-space: pre-wrap; word-break: break-word; }
.wk-error:empty { display: none; }
.wk-muted { color: var(--wk-fg2); }
.wk-status { color: var(--wk-fg2); min-height: 1em; word-break: break-word; }
.wk-spinner { display: inline-block; width: 12px; height: 12px; border: 2px solid var(--wk-border); border-top-color: var(--wk-accent); border-radius: 50%; animation: wk-spin .8s linear infinite; vertical-align: middle; }
@keyframes wk-spin { to { transform: rotate(360deg); } }
.wk-json { font-family: var(--jp-code-font-family, monospace); font-size: 11px; max-height: 320px; overflow: auto; background: var(--wk-bg2); padding: 6px; margin: 0; white-space: pre; border-radius: 3px; }
.wk-table { border-collapse: collapse; width: 100%; }
.wk-table td, .wk-table th { padding: 2px 4px; text-align: left; }
.wk-badge { font-size: 10px; padding: 0 4px; border-radius: 6px; background: var(--wk-accent); color: #fff; }
.wk-main { display: flex; gap: 6px; align-items: stretch; }
.wk-views { position: relative; flex: 1 1 auto; min-width: 200px; display: grid; gap: 2px; background: #111; outline: none; }
.wk-views:focus-visible { box-shadow: 0 0 0 2px var(--wk-accent); }
.wk-views.wk-mode-ortho { grid-template-columns: 1fr 1fr; grid-template-rows: 1fr 1fr; }
.wk-views.wk-mode-single { grid-template-columns: 1fr; grid-template-rows: 1fr; }
.wk-view { position: relative; overflow: hidden; background: #000; min-height: 40px; touch-action: none; cursor: grab; }
.wk-view.wk-dragging { cursor: grabbing; }
.wk-view.wk-active { box-shadow: inset 0 0 0 1px #5a8dee; }
.wk-view canvas { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
.wk-view-label { position: absolute; top: 3px; left: 5px; color: #ddd; font-size: 11px; text-shadow: 0 0 2px #000; pointer-events: none; }
.wk-scalebar { position: absolute; bottom: 6px; left: 8px; pointer-events: none; color: #fff; font-size: 11px; text-shadow: 0 0 2px #000; }
.wk-scalebar-bar { height: 4px; background: #fff; box-shadow: 0 0 2px #000; margin-top: 2px; }
.wk-info-cell { background: #1b1b1b; color: #ccc; padding: 8px; font-size: 11px; overflow: auto; }
.wk-loading { position: absolute; top: 4px; right: 6px; z-index: 2; color: #ddd; font-size: 11px; display: flex; gap: 4px; align-items: center; text-shadow: 0 0 2px #000; }
.wk-loading[data-state="idle"] { visibility: hidden; }
.wk-placeholder { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: #aaa; font-size: 13px; text-align: center; padding: 20px; }
.wk-side { flex: 0 0 270px; max-width: 270px; display: flex; flex-direction: column; gap: 6px; overflow: auto; }
.wk-layer { border: 1px solid var(--wk-border); border-radius: 4px; padding: 4px 6px; }
.wk-layer-head { display: flex; gap: 6px; align-items: center; font-weight: 600; }
.wk-layer-head .wk-name { flex: 1 1 auto; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.wk-layer input[type=range] { flex: 1 1 auto; min-width: 60px; }
.wk-layer input[type=number] { width: 72px; }
.wk-meter { font-size: 10px; color: var(--wk-fg2); }
.wk-bar { display: flex; gap: 12px; flex-wrap: wrap; font-size: 11px; font-family: var(--jp-code-font-family, monospace); color: var(--wk-fg); }
.wk-bar b { font-weight: 600; }
.wk-toolbar { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.wk-help { font-size: 11px; color: var(--wk-fg2); }
.wk-toolbar-slot { display: inline-flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.wk-root button.wk-toggle[aria-pressed="true"] { background: var(--wk-accent); color: #fff; border-color: var(--wk-accent); }
.wk-panel-title { font-weight: 600; margin-bottom: 2px; }
.wk-hint { margin: 2px 0 4px; }
.wk-num { width: 72px; }
.wk-full-width { width: 100%; }
.wk-stage { flex: 1 1 auto; min-width: 200px; display: flex; flex-direction: column; }
.wk-stage .wk-views { flex: 0 0 auto; } /* the height is set (or dragged): a tall side panel must not stretch it */
.wk-resize-handle { flex: 0 0 8px; cursor: ns-resize; background: var(--wk-bg2); border-radius: 0 0 3px 3px; touch-action: none; position: relative; outline: none; }
.wk-resize-handle::after { content: ""; position: absolute; left: 50%; top: 3px; width: 40px; height: 2px; margin-left: -20px; background: var(--wk-fg2); opacity: .5; }
.wk-resize-handle:hover, .wk-resize-handle.wk-dragging, .wk-resize-handle:focus-visible { background: var(--wk-border); }
.wk-root.wk-narrow .wk-main { flex-direction: column; }
.wk-root.wk-narrow .wk-side { flex: 0 0 auto; max-width: none; overflow: visible; }
.wk-root.wk-narrow .wk-form-grid { grid-template-columns: minmax(0, 1fr); }
.wk-root.wk-full { background: var(--wk-bg); padding: 6px; overflow: auto; }
.wk-root.wk-pseudo-full { position: fixed; inset: 0; z-index: 10000; width: auto; }
.wk-root.wk-full .wk-main, .wk-root.wk-full .wk-stage { flex: 1 1 auto; min-height: 0; }
.wk-root.wk-full .wk-views { height: auto !important; flex: 1 1 auto; }
.wk-root.wk-full .wk-resize-handle { display: none; }
`;

let sheet: CSSStyleSheet | null = null;

/**
 * Make CSS (and `extra`, the same on every call) apply to `el` (call after `el` is in
 * the page): adopted into its document or
 * shadow root once (marimo renders widgets in a shadow root); otherwise a <style> in `el`.
 */
export function installStyles(el: HTMLElement, extra = ""): void {
  const root = el.getRootNode() as (Document | ShadowRoot) & { adoptedStyleSheets?: CSSStyleSheet[] };
  const adoptable = (root instanceof Document || (typeof ShadowRoot !== "undefined" && root instanceof ShadowRoot))
    && Array.isArray(root.adoptedStyleSheets) && typeof CSSStyleSheet !== "undefined"
    && typeof CSSStyleSheet.prototype.replaceSync === "function";
  if (adoptable) {
    try {
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS + extra);
      }
      if (!root.adoptedStyleSheets!.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets!, sheet];
      return;
    } catch {
      // a sheet constructed in another document cannot be adopted here: use <style>
    }
  }
  const style = document.createElement("style");
  style.textContent = CSS + extra;
  el.prepend(style);
}
