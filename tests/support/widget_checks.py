"""What every browser test of the Viewer checks, whatever the front end (JupyterLab,
Notebook 7, marimo): non-blank slices, the views first and inside the window, the
add-layer form, dragging, a bad URL. Each takes a ``WidgetPage`` (Playwright sync API);
front-end specifics (kernels, menus) stay in the tests.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tests.support.widget_page import WidgetPage

PLANES = ("xy", "xz", "yz")
_LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "http://localhost", "ws://localhost", "data:", "blob:", "about:")


def watch_external_requests(page: Any) -> list[str]:
    """Collects every request of ``page`` that leaves this machine (none may: the widget's
    JavaScript ships in the package and is never fetched at run time)."""
    seen: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(_LOCAL) else seen.append(r.url))
    return seen


def assert_non_blank(widget: WidgetPage, plane: str) -> None:
    stats = widget.canvas_stats(plane)
    # A blank view (background + crosshair + scale bar) has a handful of colors.
    assert stats["colors"] > 50, (plane, stats)
    assert stats["std"] > 15, (plane, stats)
    assert stats["nonBlack"] > 0.2, (plane, stats)


def assert_views_first(widget: WidgetPage) -> dict[str, dict[str, float]]:
    """The data first: every slice view lies inside the window without scrolling, the
    toolbar is above them, the add-layer form and the preview are folded away."""
    page = widget.page
    viewport = page.viewport_size
    boxes: dict[str, dict[str, float]] = {}
    for plane in PLANES:
        box = widget.canvas(plane).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, (plane, box)
        inside = (
            box["x"] >= 0
            and box["y"] >= 0
            and box["x"] + box["width"] <= viewport["width"] + 0.5
            and box["y"] + box["height"] <= viewport["height"] + 0.5
        )
        assert inside, f"the {plane} view {box} is not inside the {viewport} window"
        boxes[plane] = box
    toolbar = widget.get("wk-toolbar").bounding_box()
    assert toolbar is not None and toolbar["y"] + toolbar["height"] <= min(b["y"] for b in boxes.values()) + 1
    assert not widget.get("wk-form").is_visible(), "the add-layer form is open over a dataset"
    assert not widget.get("wk-preview").is_visible(), "the preview is shown over a dataset"
    return boxes


def assert_layout_fits(widget: WidgetPage) -> None:
    """Side panel beside the views in wide cells, below them in narrow ones (< 900 px)."""
    root = widget.root.bounding_box()
    views = widget.get("wk-views").bounding_box()
    side = widget.get("wk-sidebar").bounding_box()
    narrow = widget.data().get("narrow")
    assert narrow == ("1" if root["width"] < 900 else "0"), (narrow, root)
    if narrow == "1":
        assert side["y"] >= views["y"] + views["height"] - 1, (views, side)
        assert views["width"] >= root["width"] - 2, (views, root)  # the views take the width
    else:
        assert side["x"] >= views["x"] + views["width"] - 1, (views, side)


def shift_error(before: np.ndarray, after: np.ndarray, dx: int, dy: int) -> float:
    """Mean |after - before moved by (dx, dy) screen pixels| over the overlap."""
    h, w, _ = after.shape
    a = after[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)]
    b = before[max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def settled_pixels(widget: WidgetPage, plane: str, timeout: float = 10.0) -> np.ndarray:
    """Canvas pixels once two captures a frame apart agree (and all tiles are drawn)."""
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        widget.wait_complete()
        widget.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        pixels = widget.canvas_pixels(plane)
        if previous is not None and np.array_equal(previous, pixels):
            return pixels
        if time.monotonic() > deadline:
            raise AssertionError(f"the {plane} view did not settle")
        previous = pixels


def drag_pans(widget: WidgetPage, dx: int = 48, dy: int = 32) -> None:
    """A mouse drag in the XY view moves its content with the pointer (checked on the
    pixels) and changes the position readout."""
    page = widget.page
    before = settled_pixels(widget, "xy")
    readout_before = widget.get("wk-position").inner_text()
    gen = widget.counter("viewGen")
    box = widget.canvas("xy").bounding_box()
    x0, y0 = box["x"] + box["width"] / 2 - 20, box["y"] + box["height"] / 2 - 20
    mouse = page.mouse
    mouse.move(x0, y0)
    mouse.down()
    mouse.move(x0 + dx / 2, y0 + dy / 2, steps=4)
    mouse.move(x0 + dx, y0 + dy, steps=4)
    mouse.up()
    widget.wait_complete(after_gen=gen)
    assert widget.get("wk-position").inner_text() != readout_before
    # Hovering highlights the segment under the pointer: move away, let the view settle.
    mouse.move(1, 1)
    after = settled_pixels(widget, "xy")
    errors = {s: shift_error(before, after, *s) for s in [(dx, dy), (0, 0), (-dx, -dy), (dx, 0), (0, dy)]}
    assert min(errors, key=errors.__getitem__) == (dx, dy), errors
    assert errors[(dx, dy)] < 0.5 * errors[(0, 0)], errors


def add_and_import(widget: WidgetPage, url: str, layer: str) -> None:
    """The add-layer form (opened from the toolbar) explores ``url``, the preview shows the
    new layer, Import puts it into the views, whose tiles then draw; the panels fold."""
    before = widget.layer_names()
    views_height = widget.get("wk-views").bounding_box()["height"]
    widget.add_layer(url)
    assert widget.form_error() == ""
    assert widget.get("wk-preview").is_visible(), "the preview does not show what is being added"
    widget.get("wk-preview-layer", layer=layer).locator("[data-testid=wk-preview-new]").wait_for()
    gen = widget.counter("viewGen")
    widget.import_staged()
    widget.wait_layer(layer)
    widget.wait_complete(after_gen=gen)
    assert widget.layer_names() == [*before, layer]
    assert widget.data()["tilesErrors"] == "0"
    widget.get("wk-form").wait_for(state="hidden")
    assert not widget.get("wk-preview").is_visible()
    # a longer layer panel leaves the views as they were
    assert abs(widget.get("wk-views").bounding_box()["height"] - views_height) <= 1


def bad_url_keeps_working(widget: WidgetPage, missing_url: str) -> None:
    """A URL that is not there (and one that is no URL) shows an error in the form, next
    to the field; nothing is added and the views still move and draw."""
    layers = widget.layer_names()
    widget.add_layer(missing_url)
    error = widget.get("wk-form-error")
    error.wait_for(state="visible")
    assert missing_url.rstrip("/").rsplit("/", 1)[-1] in widget.form_error()
    form_box, error_box = widget.get("wk-form").bounding_box(), error.bounding_box()
    uri_box = widget.get("wk-uri").bounding_box()
    assert form_box["y"] <= error_box["y"] <= uri_box["y"] + 200
    assert widget.layer_names() == layers
    widget.add_layer("not a url at all")
    assert widget.form_error() != ""
    gen = widget.counter("viewGen")
    widget.debug("setView", [40, 40, 20])
    widget.wait_complete(after_gen=gen)
    assert_non_blank(widget, "xy")
