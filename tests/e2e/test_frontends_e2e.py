"""The Viewer in the other notebook front ends users have: Notebook 7 and marimo
(``mo.ui.anywidget``), in headless Chromium against real servers started here.

Each front end gets one server and one page (one kernel), shared by its tests in file
order: the first screen, the add-layer form, dragging, a bad URL. The checks are the
JupyterLab tests' own (tests/support/widget_checks.py). VS Code's notebook renderer
cannot run headless here: see the README ("Front ends") for what is checked there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import VIEWER_NOTEBOOK, Served
from tests.support.jupyterlab import Browser, JupyterLab, NotebookPage
from tests.support.marimo import Marimo
from tests.support.widget_checks import (
    PLANES,
    add_and_import,
    assert_layout_fits,
    assert_non_blank,
    assert_views_first,
    bad_url_keeps_working,
    drag_pans,
    watch_external_requests,
)
from tests.support.widget_page import WidgetPage

pytestmark = pytest.mark.e2e

# The same viewer as VIEWER_NOTEBOOK, as one marimo cell.
MARIMO_VIEWER = """
import marimo as mo
import wk_widget as wk
from wk_widget.sample import serve_sample

server = serve_sample()
viewer = wk.Viewer(wk.explore(server.url))
mo.ui.anywidget(viewer)
"""


@dataclass
class FrontEnd:
    name: str
    page: Any
    widget: WidgetPage
    external: list[str]  # requests that left this machine
    kernel_layers: Callable[[], list[str]] | None  # viewer.dataset.layers, where a test can ask the kernel


def _artifact(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


@pytest.fixture(scope="module", params=["notebook7", "marimo"])
def frontend(
    request: pytest.FixtureRequest, browser: Browser, artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FrontEnd]:
    name = str(request.param)
    root = tmp_path_factory.mktemp(f"{name}-root")
    if name == "notebook7":
        with JupyterLab(root, app="notebook") as server:
            server.write_notebook("viewer.ipynb", VIEWER_NOTEBOOK)
            nb = NotebookPage(server, "viewer.ipynb", browser.new_page())
            try:
                nb.open()
                nb.run_all()
                widget = WidgetPage(nb.page)
                widget.wait_ready()
                yield FrontEnd(
                    name, nb.page, widget, nb.external,
                    lambda: list(server.evaluate(nb.name, "list(viewer.dataset.layers)")),
                )  # fmt: skip
            finally:
                nb.screenshot(f"{name}-last", artifacts)
                (artifacts / f"{name}-console.log").write_text("\n".join(nb.console))
                (artifacts / f"{name}-server.log").write_text(server.log())
                nb.close()
    else:
        server = Marimo(root)
        app = server.write_app("viewer.py", MARIMO_VIEWER)
        with server:
            page = browser.new_page()
            console: list[str] = []
            page.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
            page.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
            external = watch_external_requests(page)
            try:
                page.goto(server.app_url(app))
                widget = WidgetPage(page)
                widget.wait_ready(timeout_ms=120_000)
                yield FrontEnd(name, page, widget, external, None)
            finally:
                page.screenshot(path=str(artifacts / f"{name}-last.png"))
                (artifacts / f"{name}-console.log").write_text("\n".join(console))
                (artifacts / f"{name}-server.log").write_text(server.log())
                page.close()


def test_views_first_and_non_blank(frontend: FrontEnd, artifacts: Path) -> None:
    widget = frontend.widget
    counters = widget.wait_complete()
    assert counters["tilesErrors"] == "0", counters
    assert frontend.page.viewport_size == {"width": 1280, "height": 800}
    frontend.page.mouse.move(1, 1)
    assert_views_first(widget)
    assert_layout_fits(widget)
    for plane in PLANES:
        assert_non_blank(widget, plane)
    frontend.page.screenshot(path=str(artifacts / f"{_artifact(frontend.name)}-first-screen.png"))
    assert frontend.external == [], "requests left this machine"


def test_the_form_adds_a_layer(frontend: FrontEnd, served: Served) -> None:
    add_and_import(frontend.widget, served.extra_url, served.extra_layer)
    for plane in PLANES:
        assert_non_blank(frontend.widget, plane)
    if frontend.kernel_layers is not None:
        assert frontend.kernel_layers()[-1] == served.extra_layer


def test_dragging_pans(frontend: FrontEnd) -> None:
    drag_pans(frontend.widget)


def test_a_bad_url_shows_an_error_and_the_widget_keeps_working(frontend: FrontEnd, served: Served) -> None:
    bad_url_keeps_working(frontend.widget, served.missing_url)
    add_and_import(frontend.widget, served.coarse_url, served.coarse_layer)
    if frontend.kernel_layers is not None:
        assert frontend.kernel_layers()[-1] == served.coarse_layer
    assert frontend.external == [], "requests left this machine"
