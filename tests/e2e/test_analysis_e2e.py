"""The viewer's analysis tools in a real JupyterLab + headless Chromium, driven like a
user would: clicking segments, drawing annotations, a colour map and the histogram's
handles, "save PNG", and the saved notebook (a static image, no secret).

Truth comes from outside the widget: segment ids are read with zarr-python from the
sample's files, annotations and settings from the kernel.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import pytest
import zarr

from tests.e2e.conftest import VIEWER_NOTEBOOK, OpenNotebook, Served
from tests.support.jupyterlab import JupyterLab, NotebookPage
from tests.support.servers import HTTP_AUTH
from tests.support.widget_page import WidgetPage

pytestmark = pytest.mark.e2e

SEG = "labels-cells"
IMG = "membrane"


def _wait_kernel(lab: JupyterLab, nb: NotebookPage, expression: str, predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = lab.evaluate(nb.name, expression)
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{expression} = {value!r} after {timeout} s")
        nb.page.wait_for_timeout(150)


def _sample_zyx(*parts: str) -> np.ndarray:
    from wk_widget.sample import sample_path

    return np.asarray(zarr.open_array(str(sample_path().joinpath(*parts)), mode="r")[...])


def _single_xy_at_mag1(widget: WidgetPage, z: int) -> None:
    widget.debug("setMode", "xy")
    gen = widget.counter("viewGen")
    widget.debug("setView", [96.0, 80.0, float(z)], 0.5)
    widget.wait_complete(after_gen=gen)


def _click_voxel(nb: NotebookPage, widget: WidgetPage, voxel: tuple[int, int, int], modifiers: list[str] | None = None) -> None:
    widget.canvas("xy").scroll_into_view_if_needed()
    sx, sy = widget.debug("screenOf", "xy", [voxel[0] + 0.5, voxel[1] + 0.5, voxel[2]])
    box = widget.canvas("xy").bounding_box()
    nb.page.mouse.move(box["x"] + sx, box["y"] + sy)
    for m in modifiers or []:
        nb.page.keyboard.down(m)
    nb.page.mouse.down()
    nb.page.mouse.up()
    for m in modifiers or []:
        nb.page.keyboard.up(m)


def _canvas_at(widget: WidgetPage, voxel: tuple[float, float, float]) -> np.ndarray:
    sx, sy = widget.debug("screenOf", "xy", list(voxel))
    pixels = widget.canvas_pixels("xy")
    dpr = pixels.shape[1] / widget.canvas("xy").bounding_box()["width"]
    return pixels[int(sy * dpr), int(sx * dpr)]


def _settle(widget: WidgetPage) -> None:
    widget.wait_complete()
    widget.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def test_clicking_segments_selects_them_and_python_sees_it(open_notebook: OpenNotebook, lab: JupyterLab) -> None:
    nb = open_notebook("analysis_segments.ipynb", [*VIEWER_NOTEBOOK[:1], "viewer = wk.Viewer(ds)\nevents = []\nviewer.on_click(events.append)\nviewer"])
    nb.run_all()
    widget = WidgetPage(nb.page)
    widget.wait_ready()
    widget.wait_complete()
    labels = _sample_zyx("labels", "cells", "s0")
    z = 32
    _single_xy_at_mag1(widget, z)
    # two voxels of different, non-background segments near the view's centre
    ys, xs = np.nonzero(labels[z, 40:120, 40:150])
    first = (int(xs[len(xs) // 2]) + 40, int(ys[len(ys) // 2]) + 40, z)
    id1 = int(labels[z, first[1], first[0]])
    mask = (labels[z] != 0) & (labels[z] != id1)
    mask[:30, :] = False
    mask[130:, :] = False
    mask[:, :30] = False
    mask[:, 160:] = False
    ys2, xs2 = np.nonzero(mask)
    second = (int(xs2[0]), int(ys2[0]), z)
    id2 = int(labels[z, second[1], second[0]])
    assert id1 and id2 and id1 != id2

    _click_voxel(nb, widget, first)
    sel = _wait_kernel(lab, nb, "viewer.selected_segments", lambda v: v == {SEG: [id1]})
    assert sel == {SEG: [id1]}
    event = _wait_kernel(lab, nb, "events[-1] if events else None", lambda v: v is not None)
    assert tuple(event["position"]) == first and event["view"] == "xy"
    assert event["values"][SEG] == id1
    assert event["values"][IMG] == int(_sample_zyx("s0")[z, first[1], first[0]])
    # the widget shows the selection in its segment list
    widget.get("wk-segment-chip", id=str(id1)).wait_for()

    _click_voxel(nb, widget, second, ["Shift"])
    _wait_kernel(lab, nb, "viewer.selected_segments", lambda v: v == {SEG: [id1, id2]})
    # "only selected": the other segments disappear, the selected one stays highlighted
    widget.get("wk-segment-mode", layer=SEG).select_option("selected")
    _wait_kernel(lab, nb, f"[s['segments_shown'] for s in viewer.layer_settings if s['name'] == {SEG!r}]", lambda v: v == ["selected"])

    # Escape clears; so does a click on the background
    widget.get("wk-views").focus()
    nb.page.keyboard.press("Escape")
    _wait_kernel(lab, nb, "viewer.selected_segments", lambda v: v == {})
    # Python -> browser
    lab.execute(nb.name, f"viewer.selected_segments = {{{SEG!r}: [{id2}]}}")
    widget.get("wk-segment-chip", id=str(id2)).wait_for()
    assert widget.debug("analysis")["selected"] == {SEG: [id2]}


def test_drawing_annotations_and_python_edits(open_notebook: OpenNotebook, lab: JupyterLab) -> None:
    nb = open_notebook("analysis_annotations.ipynb", VIEWER_NOTEBOOK)
    nb.run_all()
    widget = WidgetPage(nb.page)
    widget.wait_ready()
    widget.wait_complete()
    z = 20
    _single_xy_at_mag1(widget, z)
    widget.get("wk-tool-point").click()
    _click_voxel(nb, widget, (90, 70, z))
    anns = _wait_kernel(lab, nb, "viewer.annotations", lambda v: len(v) == 1)
    assert anns[0]["type"] == "point" and anns[0]["points"] == [[90, 70, z]]

    widget.get("wk-tool-box").click()
    _click_voxel(nb, widget, (60, 50, z))
    _click_voxel(nb, widget, (110, 95, z))
    anns = _wait_kernel(lab, nb, "viewer.annotations", lambda v: len(v) == 2)
    assert anns[1]["type"] == "box" and anns[1]["points"] == [[60, 50, z], [110, 95, z + 1]]
    assert widget.get("wk-annotation").count() == 2

    # A Python edit shows up in the view: a magenta point where there was none.
    widget.get("wk-tool-select").click()
    lab.execute(nb.name, f"viewer.annotations = [{{'type': 'point', 'points': [[130, 40, {z}]], 'color': '#ff00ff', 'name': 'from python'}}]")
    widget.get("wk-annotation-name").first.wait_for()
    deadline = time.monotonic() + 10
    while True:
        _settle(widget)
        px = _canvas_at(widget, (130.5, 40.5, z))
        if px.tolist() == [255, 0, 255]:
            break
        assert time.monotonic() < deadline, px
    assert widget.get("wk-annotation").count() == 1
    assert widget.get("wk-annotation-name").first.input_value() == "from python"
    # renaming in the list reaches Python
    name = widget.get("wk-annotation-name").first
    name.fill("renamed")
    name.press("Enter")
    _wait_kernel(lab, nb, "[a['name'] for a in viewer.annotations]", lambda v: v == ["renamed"])


def test_colour_map_histogram_save_png_and_saved_notebook(open_notebook: OpenNotebook, lab: JupyterLab, served: Served) -> None:
    user, password = HTTP_AUTH
    nb = open_notebook("analysis_contrast.ipynb", [
        VIEWER_NOTEBOOK[0] + "\nimport os",
        "viewer = wk.Viewer(ds)\n"
        f"viewer.add_layers({served.private_url!r}, credentials={{'type': 'http_basic', 'username': os.environ['WK_E2E_USER'], 'password': os.environ['WK_E2E_PASSWORD']}})\n"
        "viewer",
    ])
    # the secret reaches the kernel's environment, never the notebook's text
    lab.execute(nb.name, f"import os; os.environ['WK_E2E_USER'] = {user!r}; os.environ['WK_E2E_PASSWORD'] = {password!r}")
    nb.run_all()
    widget = WidgetPage(nb.page)
    widget.wait_ready()
    widget.wait_complete()
    lab.execute(nb.name, f"viewer.update_layer({served.private_layer!r}, visible=False)\nviewer.update_layer({SEG!r}, visible=False)\n"
                f"viewer.update_layer({IMG!r}, color=[255, 255, 255])")
    _single_xy_at_mag1(widget, 32)
    _settle(widget)
    before = widget.canvas_pixels("xy")
    assert before.std() > 10
    grey = (before[..., 0] == before[..., 1]) & (before[..., 1] == before[..., 2])
    assert grey.mean() > 0.95  # grey but for the crosshair

    # colour map: viridis makes the grey image coloured, and Python sees the setting
    gen = widget.counter("viewGen")
    widget.get("wk-layer-colormap", layer=IMG).select_option("viridis")
    widget.wait_complete(after_gen=gen)
    _settle(widget)
    mapped = widget.canvas_pixels("xy")
    data = mapped.any(axis=2)  # viridis has no black: this is where the layer has data
    assert data.mean() > 0.1
    assert ((mapped[..., 0] == mapped[..., 1]) & (mapped[..., 1] == mapped[..., 2]))[data].mean() < 0.05
    _wait_kernel(lab, nb, f"[s['colormap'] for s in viewer.layer_settings if s['name'] == {IMG!r}]", lambda v: v == ["viridis"])

    # the histogram shows the visible data; dragging its low handle to the middle
    # raises the window's lower end, which darkens the image
    hist = widget.get("wk-histogram", layer=IMG)
    hist.scroll_into_view_if_needed()
    _wait_kernel(lab, nb, "1", lambda v: int(hist.get_attribute("data-total") or 0) > 1000, timeout=10)
    box = hist.bounding_box()
    nb.page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)
    nb.page.mouse.down()
    nb.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2, steps=5)
    nb.page.mouse.up()
    rng = _wait_kernel(lab, nb, f"[s['range'] for s in viewer.layer_settings if s['name'] == {IMG!r}][0]", lambda v: v[0] > 60)
    assert rng[0] < rng[1]
    _settle(widget)
    windowed = widget.canvas_pixels("xy")
    assert not np.array_equal(windowed, mapped)
    dark = np.array([0x44, 0x01, 0x54])  # viridis at 0
    assert (np.abs(windowed.astype(int) - dark).sum(axis=2) < 4).mean() > (np.abs(mapped.astype(int) - dark).sum(axis=2) < 4).mean()

    # "save PNG" downloads the views as a PNG
    with nb.page.expect_download() as info:
        widget.get("wk-save-png").click()
    path = info.value.path()
    png = imagecodecs.png_decode(Path(path).read_bytes())
    assert png.shape[0] >= widget.canvas("xy").bounding_box()["height"] * 0.9 and png[..., :3].std() > 10

    # the help overlay lists the keys
    widget.get("wk-help-button").click()
    assert widget.get("wk-help-row").count() >= 20
    assert "Escape" in widget.get("wk-help-overlay").inner_text()

    # the saved notebook: the widget's output keeps a static image; no secret anywhere
    doc = nb.save()
    text = (lab.root / nb.name).read_text()
    assert password not in text and user not in text
    outputs = [o for cell in doc["cells"] if cell["cell_type"] == "code" for o in cell.get("outputs", [])]
    bundles = [o["data"] for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert bundles and "image/png" in bundles[0]
    static = imagecodecs.png_decode(base64.b64decode(bundles[0]["image/png"]))
    assert static.shape[2] in (3, 4) and static[..., :3].std() > 10
    assert json.dumps(doc).count("image/png") >= 1
