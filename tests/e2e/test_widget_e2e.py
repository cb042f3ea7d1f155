"""The Viewer in a real JupyterLab + headless Chromium, driven like a user would.

Every test opens its own notebook (own kernel). Waits are on conditions (selectors, the
widget's debug counters, the kernel's state), never fixed sleeps. Screenshots of every
page land in test-artifacts/e2e/.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DOCS_SCREENSHOT, NOTEBOOKS, OpenNotebook, Served
from tests.support.jupyterlab import JupyterLab, NotebookPage
from tests.support.servers import HTTP_AUTH
from tests.support.widget_checks import (
    PLANES,
    add_and_import,
    assert_layout_fits,
    assert_non_blank,
    assert_views_first,
    bad_url_keeps_working,
    drag_pans,
)
from tests.support.widget_page import WidgetPage

pytestmark = pytest.mark.e2e


def _wait_kernel(lab: JupyterLab, nb: NotebookPage, expression: str, predicate: Any, timeout: float = 15.0) -> Any:
    """Poll a JSON expression in the notebook's kernel until ``predicate(value)``."""
    deadline = time.monotonic() + timeout
    while True:
        value = lab.evaluate(nb.name, expression)
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{expression} = {value!r} after {timeout} s")
        nb.page.wait_for_timeout(100)


def _chunk_requests(stats: dict[str, Any], dataset: str) -> int:
    return sum(1 for p in stats["paths"] if dataset in p and "/s" in p and not p.endswith((".zarray", ".zattrs", ".zgroup")))


# ----------------------------------------------------------------------------- (a)


def test_quickstart_run_all_renders_non_blank_slices(open_notebook: OpenNotebook, lab: JupyterLab) -> None:
    nb = open_notebook("quickstart.ipynb", copy_from=NOTEBOOKS / "quickstart.ipynb")
    nb.run_all(timeout=120)
    widget = WidgetPage(nb.page)
    widget.wait_ready()
    counters = widget.wait_complete()
    assert counters["tilesErrors"] == "0", counters
    assert int(counters["tilesReceived"]) > 0 and int(counters["paints"]) > 0, counters
    for plane in PLANES:
        assert_non_blank(widget, plane)
    # The quickstart moves the view from Python: the browser follows.
    state = widget.debug("state")
    assert state["position"] == pytest.approx(lab.evaluate(nb.name, "viewer.position"))
    assert state["zoom"] == pytest.approx(lab.evaluate(nb.name, "viewer.zoom"))
    assert "viewer.position =" in (NOTEBOOKS / "quickstart.ipynb").read_text()
    assert not nb.page.locator("[data-testid=wk-widget-error]:visible").count()
    assert nb.external == [], "requests left this machine"

    # The README's picture (the screen Binder shows too): the viewer's cell at the top.
    nb.page.locator(".jp-CodeCell", has_text="viewer = wk.Viewer(ds)").first.evaluate(
        "(el) => el.scrollIntoView({ block: 'start' })"
    )
    nb.page.mouse.move(1, 1)
    widget.wait_complete()
    assert_views_first(widget)
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    nb.page.screenshot(path=str(DOCS_SCREENSHOT))


# ----------------------------------------------------------------------------- (b)


def test_form_adds_layers_from_a_server(viewer_notebook: NotebookPage, served: Served, lab: JupyterLab) -> None:
    nb, widget = viewer_notebook, WidgetPage(viewer_notebook.page)
    assert widget.layer_names() == ["membrane", "labels-cells"]
    served.http.reset_stats()

    add_and_import(widget, served.extra_url, served.extra_layer)
    assert _chunk_requests(served.http.stats(), "inverted.ome.zarr") > 0  # its tiles were read
    assert lab.evaluate(nb.name, "list(viewer.dataset.layers)") == ["membrane", "labels-cells", served.extra_layer]

    # A layer with twice the voxel size joins at mag (2, 2, 1).
    add_and_import(widget, served.coarse_url, served.coarse_layer)
    mags = lab.evaluate(nb.name, f"[list(m.mag) for m in viewer.dataset.layers[{served.coarse_layer!r}].mags]")
    assert mags[0] == [2, 2, 1]
    for plane in PLANES:
        assert_non_blank(widget, plane)


# ----------------------------------------------------------------------------- (c)


def test_dragging_pans_the_view(viewer_notebook: NotebookPage, lab: JupyterLab) -> None:
    nb, widget = viewer_notebook, WidgetPage(viewer_notebook.page)
    position_before = lab.evaluate(nb.name, "viewer.position")
    drag_pans(widget)
    position = _wait_kernel(lab, nb, "viewer.position", lambda p: p != position_before)
    # Content follows the pointer: the view center moved up-left in voxels, z unchanged.
    assert position[0] < position_before[0] and position[1] < position_before[1]
    assert position[2] == position_before[2]


# ----------------------------------------------------------------------------- (d)


def test_bad_url_shows_an_error_and_the_widget_keeps_working(
    viewer_notebook: NotebookPage, served: Served, lab: JupyterLab
) -> None:
    nb, widget = viewer_notebook, WidgetPage(viewer_notebook.page)
    bad_url_keeps_working(widget, served.missing_url)
    add_and_import(widget, served.extra_url, served.extra_layer)
    assert lab.evaluate(nb.name, "list(viewer.dataset.layers)")[-1] == served.extra_layer


# ----------------------------------------------------------------------------- (f)


def test_the_data_first_layout(viewer_notebook: NotebookPage, lab: JupyterLab, artifacts: Path) -> None:
    """Views first and inside a 1280 x 800 window; the preview on demand; the views resize
    (handle, synced to Python), go full screen, and stack with the side panel when narrow."""
    nb, widget = viewer_notebook, WidgetPage(viewer_notebook.page)
    page = nb.page
    assert page.viewport_size == {"width": 1280, "height": 800}
    boxes = assert_views_first(widget)
    assert_layout_fits(widget)  # JupyterLab's file browser leaves the cell < 900 px: narrow
    narrow = widget.data()["narrow"]
    nb.screenshot("jupyterlab-first-screen", artifacts)
    assert nb.external == [], "requests left this machine"

    # The preview (and its datasource JSON) on demand, from the toolbar.
    widget.get("wk-toggle-preview").click()
    widget.get("wk-datasource-json").wait_for(state="visible")
    assert '"dataLayers"' in widget.get("wk-datasource-json").inner_text()
    nb.screenshot("jupyterlab-preview-on-demand", artifacts)
    widget.get("wk-toggle-preview").click()
    widget.get("wk-preview").wait_for(state="hidden")

    # The resize handle: 100 px up makes the views 100 px shorter; Python gets the height.
    views = widget.get("wk-views")
    height = views.bounding_box()["height"]
    handle = widget.get("wk-resize-handle").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 60, steps=3)
    page.mouse.move(x, y - 100, steps=3)
    page.mouse.up()
    assert views.bounding_box()["height"] == pytest.approx(height - 100, abs=1)
    _wait_kernel(lab, nb, "viewer.height", lambda h: abs(h - (height - 100)) <= 1)
    widget.wait_complete()
    assert_non_blank(widget, "xy")

    # Full screen and back: the views take the screen, then their place again.
    widget.get("wk-fullscreen").click()
    page.wait_for_function("(el) => el.dataset.fullscreen === '1'", arg=widget.root.element_handle())
    page.wait_for_function(
        "([el, h]) => el.getBoundingClientRect().height > h + 50", arg=[views.element_handle(), height]
    )
    widget.wait_complete()
    assert_non_blank(widget, "xy")
    widget.get("wk-fullscreen").click()
    page.wait_for_function("(el) => el.dataset.fullscreen === '0'", arg=widget.root.element_handle())
    assert views.bounding_box()["height"] == pytest.approx(height - 100, abs=1)
    # Where the page may not go full screen (an iframe without allowfullscreen, as in some
    # editors' webviews), the widget covers the window instead; Escape gives the place back.
    page.evaluate("() => { Element.prototype.requestFullscreen = () => Promise.reject(new Error('denied')); }")
    widget.get("wk-fullscreen").click()
    page.wait_for_function("(el) => el.dataset.fullscreen === '1'", arg=widget.root.element_handle())
    # (position: fixed; JupyterLab's notebook panel is its containing block, so it covers that)
    box = widget.root.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 1281 and box["y"] + box["height"] <= 801
    assert views.bounding_box()["height"] > height + 50
    widget.wait_complete()
    assert_non_blank(widget, "xy")
    page.keyboard.press("Escape")
    page.wait_for_function("(el) => el.dataset.fullscreen === '0'", arg=widget.root.element_handle())
    assert views.bounding_box()["height"] == pytest.approx(height - 100, abs=1)

    # Wide and narrow windows: the side panel beside the views, then below them.
    root = widget.root.element_handle()
    try:
        for width, expected in ((1800, "0"), (760, "1")):
            page.set_viewport_size({"width": width, "height": 800})
            page.wait_for_function("([el, n]) => el.dataset.narrow === n", arg=[root, expected])
            assert_layout_fits(widget)
            widget.wait_complete()
            assert_non_blank(widget, "xy")
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})
    page.wait_for_function("([el, n]) => el.dataset.narrow === n", arg=[root, narrow])
    boxes_after = assert_views_first(widget)
    assert boxes_after["xy"]["width"] == pytest.approx(boxes["xy"]["width"], abs=1)

    # Without a dataset the form is open and says what to paste; with one it folds again.
    lab.execute(nb.name, "viewer.dataset = None")
    widget.get("wk-uri").wait_for(state="visible")
    assert "Paste the URL" in widget.get("wk-form-hint").inner_text()
    assert widget.get("wk-placeholder").is_visible()
    assert widget.data()["layout"] == "form"
    nb.screenshot("jupyterlab-no-dataset", artifacts)
    lab.execute(nb.name, "viewer.dataset = ds")
    widget.get("wk-form").wait_for(state="hidden")
    widget.wait_complete()
    assert_views_first(widget)


# ----------------------------------------------------------------------------- (e)

S3_ACCESS_KEY = "AKIAE2EWKWIDGETTEST"
S3_SECRET = "e2e-s3-secret-Zq8pL1vXk3"  # test values, never real secrets
BEARER = "e2e-bearer-token-Hn4Gm7Jc"


def test_secrets_stay_out_of_the_notebook(viewer_notebook: NotebookPage, served: Served, lab: JupyterLab) -> None:
    nb, widget = viewer_notebook, WidgetPage(viewer_notebook.page)
    user, password = HTTP_AUTH
    secrets = [password, S3_SECRET, BEARER]

    # An S3 secret for a bucket that is not there (the endpoint is a plain HTTP server).
    widget.add_layer(
        "s3://e2e-no-bucket/data.zarr",
        credential_type="s3",
        fields={"access_key_id": S3_ACCESS_KEY, "secret_access_key": S3_SECRET, "endpoint_url": served.http.url},
    )
    assert "e2e-no-bucket" in widget.form_error()  # the kernel tried (signed requests reached the server)
    # A bearer token the server does not accept.
    widget.add_layer(served.private_url, credential_type="http_bearer", fields={"token": BEARER})
    assert "401" in widget.form_error()
    # Basic auth that works.
    served.auth.reset_stats()
    widget.add_layer(served.private_url, credential_type="http_basic", fields={"username": user, "password": password})
    assert widget.form_error() == ""
    gen = widget.counter("viewGen")
    widget.import_staged()
    widget.wait_layer(served.private_layer)
    widget.wait_complete(after_gen=gen)
    assert widget.data()["tilesErrors"] == "0"
    assert _chunk_requests(served.auth.stats(), "private.ome.zarr") > 0

    # The form forgot the secrets; the page shows none of them.
    for field in widget.root.locator("[data-testid^=wk-cred-]").all():
        if field.get_attribute("type") == "password" or field.evaluate("(e) => e.tagName") == "TEXTAREA":
            assert field.input_value() == ""
    page_text = nb.page.evaluate(
        "() => document.body.innerText + [...document.querySelectorAll('input, textarea')].map((e) => e.value).join(' ')"
    )
    for secret in secrets:
        assert secret not in page_text

    # Saved notebook (with widget state): no secret anywhere in the file.
    doc = nb.save()
    text = (lab.root / nb.name).read_text()
    assert doc["metadata"].get("widgets"), "widget state was not saved (the check would be empty)"
    assert served.private_layer in text  # the state is there ...
    for secret in secrets:
        assert secret not in text  # ... the secrets are not

    # Nor in the widget's synced state on the kernel side.
    state = lab.evaluate(nb.name, "__import__('json').dumps(viewer.get_state(), default=str)")
    assert served.private_layer in state
    for secret in secrets:
        assert secret not in state
    datasource = json.dumps(lab.evaluate(nb.name, "viewer.dataset.to_datasource()"))
    for secret in secrets:
        assert secret not in datasource
