"""Driving one wk_widget Viewer in a page of any front end (JupyterLab, Notebook 7,
marimo; Playwright sync API).

Only public handles of the widget are used: ``data-testid`` attributes, the debug
counters on the root element's ``data-*`` attributes (``viewGen``, ``complete``,
``completeGen``, ``paints``, ``lastPaint``, ``tiles*`` ...) and the ``__wk`` debug API
on the widget's host element (``state()``, ``setView(position, zoom)``, ...).
"""

from __future__ import annotations

import base64
import time
from typing import Any

import numpy as np

DEFAULT_TIMEOUT_MS = 60_000

_STATS_JS = """
(el) => {
  const ctx = el.getContext('2d');
  const { data } = ctx.getImageData(0, 0, el.width, el.height);
  const n = el.width * el.height;
  let sum = 0, sum2 = 0, nonBlack = 0;
  const colors = new Set();
  for (let i = 0; i < data.length; i += 4) {
    const l = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
    sum += l; sum2 += l * l;
    if (l > 8) nonBlack++;
    if (colors.size < 5000) colors.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
  }
  const mean = sum / n;
  return { width: el.width, height: el.height, mean, std: Math.sqrt(Math.max(0, sum2 / n - mean * mean)),
           nonBlack: nonBlack / n, colors: colors.size };
}
"""


class WidgetPage:
    """The ``index``-th Viewer on ``page`` (``[data-testid=wk-root]``)."""

    def __init__(self, page: Any, index: int = 0) -> None:
        self.page = page
        self.root = page.locator("[data-testid=wk-root]").nth(index)

    # -- locating ---------------------------------------------------------------------
    def get(self, testid: str, **data: str) -> Any:
        selector = f"[data-testid={testid}]" + "".join(f'[data-{k}="{v}"]' for k, v in data.items())
        return self.root.locator(selector)

    def wait_ready(self, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        self.root.wait_for(state="visible", timeout=timeout_ms)

    # -- debug counters ---------------------------------------------------------------------
    def data(self) -> dict[str, str]:
        return dict(self.root.evaluate("(el) => ({ ...el.dataset })"))

    def counter(self, name: str) -> float:
        value = self.data().get(name, "0")
        return float(value) if value else 0.0

    def wait_complete(self, after_gen: float | None = None, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> dict[str, str]:
        """Wait until every visible tile is drawn (``data-complete == 1``), optionally for a
        view generation newer than ``after_gen``. Returns the counters."""
        self.root.evaluate(
            """(el, [after, timeout]) => new Promise((resolve, reject) => {
                const t0 = performance.now();
                const check = () => {
                  const d = el.dataset;
                  const gen = Number(d.viewGen || 0);
                  if (d.complete === '1' && Number(d.completeGen) === gen && (after === null || gen > after)) {
                    resolve(true);
                  } else if (performance.now() - t0 > timeout) {
                    reject(new Error('widget not complete: ' + JSON.stringify({ ...d })));
                  } else {
                    requestAnimationFrame(check);
                  }
                };
                check();
            })""",
            [after_gen, timeout_ms],
        )
        return self.data()

    def debug(self, method: str, *args: Any) -> Any:
        """Call the widget's ``__wk`` debug API (on the anywidget host element)."""
        return self.root.evaluate(
            """(el, [method, args]) => {
                let host = el;
                while (host && !host.__wk) host = host.parentElement;
                if (!host) throw new Error('no __wk debug API found');
                return host.__wk[method](...args);
            }""",
            [method, list(args)],
        )

    # -- pixels ----------------------------------------------------------------------------
    def canvas(self, plane: str = "xy") -> Any:
        return self.get(f"wk-canvas-{plane}")

    def canvas_stats(self, plane: str = "xy") -> dict[str, float]:
        return dict(self.canvas(plane).evaluate(_STATS_JS))

    def canvas_pixels(self, plane: str = "xy") -> np.ndarray:
        """The canvas content as an (h, w, 3) uint8 array (no DOM overlays)."""
        out = self.canvas(plane).evaluate(
            """(el) => {
                const { data, width, height } = el.getContext('2d').getImageData(0, 0, el.width, el.height);
                let text = '';
                for (let i = 0; i < data.length; i += 0x8000) {
                  text += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
                }
                return { width, height, b64: btoa(text) };
            }"""
        )
        rgba = np.frombuffer(base64.b64decode(out["b64"]), np.uint8).reshape(out["height"], out["width"], 4)
        return rgba[:, :, :3].copy()

    # -- the add-layer form --------------------------------------------------------------
    def form_busy(self) -> bool:
        return self.get("wk-form").get_attribute("data-busy") == "1"

    def open_form(self) -> None:
        """Unfold the add-layer form (folded into the toolbar while a dataset is shown)."""
        if not self.get("wk-uri").is_visible():
            self.get("wk-toggle-form").click()
            self.get("wk-uri").wait_for(state="visible")

    def add_layer(
        self,
        uri: str,
        credential_type: str = "none",
        fields: dict[str, str] | None = None,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
    ) -> None:
        """Fill in the form and press "Add layer"; waits until the exploration finished."""
        self.open_form()
        self.get("wk-uri").fill(uri)
        self.get("wk-cred-type").select_option(credential_type)
        for key, value in (fields or {}).items():
            self.get(f"wk-cred-{key.replace('_', '-')}").fill(value)
        self.get("wk-add-layer").click()
        self.wait_form_idle(timeout_ms)

    def wait_form_idle(self, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        # The click makes the form busy at once; wait for the result to come back.
        form = self.get("wk-form")
        deadline = time.monotonic() + timeout_ms / 1000
        while form.get_attribute("data-busy") == "1":
            if time.monotonic() > deadline:
                raise TimeoutError("the add-layer form stayed busy")
            self.page.wait_for_timeout(50)

    def form_error(self) -> str:
        return str(self.get("wk-form-error").inner_text()).strip()

    def import_staged(self, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        button = self.get("wk-import")
        button.wait_for(state="visible", timeout=timeout_ms)
        self.page.wait_for_function("(b) => !b.disabled", arg=button.element_handle(), timeout=timeout_ms)
        button.click()

    def layer_names(self) -> list[str]:
        return list(self.get("wk-layer").evaluate_all("(els) => els.map((e) => e.dataset.layer)"))

    def wait_layer(self, name: str, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Any:
        row = self.get("wk-layer", layer=name)
        row.wait_for(state="visible", timeout=timeout_ms)
        return row
