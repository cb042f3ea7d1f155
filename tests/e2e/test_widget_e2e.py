"""The Viewer in a real JupyterLab + headless Chromium, driven like a user would.

Every test opens its own notebook (own kernel). Waits are on conditions (selectors, the
widget's debug counters, the kernel's state), never fixed sleeps. Screenshots of every
page land in test-artifacts/e2e/.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest

from tests.e2e.conftest import NOTEBOOKS, OpenNotebook, Served
from tests.support.jupyterlab import JupyterLab, NotebookPage
from tests.support.servers import HTTP_AUTH
from tests.support.widget_page import WidgetPage

pytestmark = pytest.mark.e2e


def _assert_non_blank(widget: WidgetPage, plane: str) -> None:
    stats = widget.canvas_stats(plane)
    # A blank view (background + crosshair + scale bar) has a handful of colors.
    assert stats["colors"] > 50, (plane, stats)
    assert stats["std"] > 15, (plane, stats)
    assert stats["nonBlack"] > 0.2, (plane, stats)


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


def _shift_error(before: np.ndarray, after: np.ndarray, dx: int, dy: int) -> float:
    """Mean |after - before moved by (dx, dy) screen pixels| over the overlap."""
    h, w, _ = after.shape
    a = after[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)]
    b = before[max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def _settled_pixels(widget: WidgetPage, plane: str, timeout: float = 10.0) -> np.ndarray:
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
    for plane in ("xy", "xz", "yz"):
        _assert_non_blank(widget, plane)
    # The quickstart moves the view from Python: the browser follows.
    state = widget.debug("state")
    assert state["position"] == pytest.approx(lab.evaluate(nb.name, "viewer.position"))
    assert state["zoom"] == pytest.approx(lab.evaluate(nb.name, "viewer.zoom"))
    assert "viewer.position =" in (NOTEBOOKS / "quickstart.ipynb").read_text()
    assert not nb.page.locator("[data-testid=wk-widget-error]:visible").count()


# ----------------------------------------------------------------------------- (b)


def test_form_adds_layers_from_a_server(viewer_notebook: NotebookPage, served: Served, lab: JupyterLab) -> None:
    nb, widget = viewer_notebook, WidgetPage(viewer_notebook.page)
    assert widget.layer_names() == ["membrane", "labels-cells"]
    served.http.reset_stats()

    widget.add_layer(served.extra_url)
    assert widget.form_error() == ""
    staged = widget.get("wk-preview-layer", layer=served.extra_layer)
    staged.locator("[data-testid=wk-preview-new]").wait_for()
    gen = widget.counter("viewGen")
    widget.import_staged()
    widget.wait_layer(served.extra_layer)
    widget.wait_complete(after_gen=gen)
    assert widget.layer_names() == ["membrane", "labels-cells", served.extra_layer]
    assert _chunk_requests(served.http.stats(), "inverted.ome.zarr") > 0  # its tiles were read
    assert widget.data()["tilesErrors"] == "0"
    assert lab.evaluate(nb.name, "list(viewer.dataset.layers)") == ["membrane", "labels-cells", served.extra_layer]

    # A layer with twice the voxel size joins at mag (2, 2, 1).
    widget.add_layer(served.coarse_url)
    assert widget.form_error() == ""
    gen = widget.counter("viewGen")
    widget.import_staged()
    widget.wait_layer(served.coarse_layer)
    widget.wait_complete(after_gen=gen)
    mags = lab.evaluate(nb.name, f"[list(m.mag) for m in viewer.dataset.layers[{served.coarse_layer!r}].mags]")
    assert mags[0] == [2, 2, 1]
    for plane in ("xy", "xz", "yz"):
        _assert_non_blank(widget, plane)


# ----------------------------------------------------------------------------- (c)


def test_dragging_pans_the_view(viewer_notebook: NotebookPage, lab: JupyterLab) -> None:
    nb, widget = viewer_notebook, WidgetPage(viewer_notebook.page)
    before = _settled_pixels(widget, "xy")
    position_before = lab.evaluate(nb.name, "viewer.position")
    readout_before = widget.get("wk-position").inner_text()
    gen = widget.counter("viewGen")

    box = widget.canvas("xy").bounding_box()
    dx, dy = 48, 32
    x0, y0 = box["x"] + box["width"] / 2 - 20, box["y"] + box["height"] / 2 - 20
    mouse = nb.page.mouse
    mouse.move(x0, y0)
    mouse.down()
    mouse.move(x0 + dx / 2, y0 + dy / 2, steps=4)
    mouse.move(x0 + dx, y0 + dy, steps=4)
    mouse.up()
    widget.wait_complete(after_gen=gen)

    assert widget.get("wk-position").inner_text() != readout_before
    position = _wait_kernel(lab, nb, "viewer.position", lambda p: p != position_before)
    # Content follows the pointer: the view center moved up-left in voxels, z unchanged.
    assert position[0] < position_before[0] and position[1] < position_before[1]
    assert position[2] == position_before[2]

    # Hovering highlights the segment under the pointer: move away, let the view settle.
    mouse.move(1, 1)
    after = _settled_pixels(widget, "xy")
    errors = {shift: _shift_error(before, after, *shift) for shift in [(dx, dy), (0, 0), (-dx, -dy), (dx, 0), (0, dy)]}
    assert min(errors, key=errors.__getitem__) == (dx, dy), errors
    assert errors[(dx, dy)] < 0.5 * errors[(0, 0)], errors


# ----------------------------------------------------------------------------- (d)


def test_bad_url_shows_an_error_and_the_widget_keeps_working(
    viewer_notebook: NotebookPage, served: Served, lab: JupyterLab
) -> None:
    nb, widget = viewer_notebook, WidgetPage(viewer_notebook.page)
    widget.add_layer(served.missing_url)
    error = widget.get("wk-form-error")
    error.wait_for(state="visible")
    assert "no-such-dataset" in widget.form_error()
    # Next to the field: the error sits in the form, right below the URI/Add row.
    form_box, error_box = widget.get("wk-form").bounding_box(), error.bounding_box()
    uri_box = widget.get("wk-uri").bounding_box()
    assert form_box["y"] <= error_box["y"] <= uri_box["y"] + 200
    assert widget.layer_names() == ["membrane", "labels-cells"]

    widget.add_layer("not a url at all")
    assert widget.form_error() != ""

    # Still working: the views pan, and a good URL is explored and imported.
    gen = widget.counter("viewGen")
    widget.debug("setView", [40, 40, 20])
    widget.wait_complete(after_gen=gen)
    _assert_non_blank(widget, "xy")
    widget.add_layer(served.extra_url)
    assert widget.form_error() == ""
    widget.import_staged()
    widget.wait_layer(served.extra_layer)
    assert lab.evaluate(nb.name, "list(viewer.dataset.layers)")[-1] == served.extra_layer


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
