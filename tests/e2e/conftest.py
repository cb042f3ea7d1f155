"""Browser end-to-end fixtures: one JupyterLab server, one Notebook 7 server, one marimo
server and one headless Chromium (a 1280 x 800 window).

Both live for this test package only (package scope): Playwright's sync API keeps an
event loop running in the main thread while the browser is open, which would break the
asyncio tests of the other packages.

- ``lab``: JupyterLab 4 in a subprocess (``--allow-root``, no token, 127.0.0.1, a temp
  root dir, news/update checks off, widget state saved into notebooks), kernel = this venv.
- ``browser``: Playwright driving /usr/bin/chromium (fresh profile, the flags that work
  as root).
- ``open_notebook(name, cells)``: writes the notebook into the lab's root, opens it in a
  new page and waits for its kernel. At teardown, a screenshot of every page goes to
  ``test-artifacts/e2e/<test>.png`` (plus the browser console and the server log when
  the test failed), then the page closes and its kernel shuts down.
- ``served``: the HTTP servers and datasets the tests use (real aiohttp processes).
- ``frontend``: one page per other front end (Notebook 7, marimo) showing the sample in
  a Viewer, opened once and shared by that front end's tests (test_frontends_e2e.py).

Set ``WK_SKIP_BROWSER=1`` to skip these tests on machines without Chromium.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from tests.support.jupyterlab import CHROMIUM, Browser, JupyterLab, NotebookPage
from tests.support.servers import HTTP_AUTH, HttpServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
NOTEBOOKS = ROOT / "notebooks"
# The README's picture of the quickstart, rewritten by every run of the JupyterLab test.
DOCS_SCREENSHOT = ROOT / "docs" / "quickstart.png"
WINDOW = (1280, 800)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = None
    if os.environ.get("WK_SKIP_BROWSER") == "1":
        reason = "WK_SKIP_BROWSER=1"
    elif not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} missing (apt-get install chromium, or set WK_CHROMIUM)"
    if reason:
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"wk_report_{report.when}", report)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/e2e/, emptied at the start of a session (gitignored)."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# Package scope: Playwright's sync API keeps an event loop running in the main thread
# while the browser is open, which would break the asyncio tests that run after these.
@pytest.fixture(scope="package")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    with JupyterLab(tmp_path_factory.mktemp("lab-root")) as server:
        yield server


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with Browser(viewport=WINDOW) as b:
        yield b


OpenNotebook = Callable[..., NotebookPage]


@pytest.fixture
def open_notebook(
    lab: JupyterLab, browser: Browser, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[OpenNotebook]:
    opened: list[NotebookPage] = []

    def open_(name: str, cells: Sequence[str] | None = None, copy_from: Path | None = None) -> NotebookPage:
        if copy_from is not None:
            lab.copy_notebook(copy_from, name)
        else:
            lab.write_notebook(name, cells or [])
        nb = NotebookPage(lab, name, browser.new_page())
        opened.append(nb)
        nb.open()
        return nb

    yield open_

    report = getattr(request.node, "wk_report_call", None)
    failed = report is None or report.failed
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for i, nb in enumerate(opened):
        name = stem if i == 0 else f"{stem}-{i}"
        nb.screenshot(name + ("-FAILED" if failed else ""), artifacts)
        if failed:
            (artifacts / f"{name}-console.log").write_text("\n".join(nb.console))
            (artifacts / f"{name}-jupyterlab.log").write_text(lab.log())
        nb.close()


# --------------------------------------------------------------------------- data


def write_ngff(path: Path, volume_zyx: np.ndarray, voxel_size_xyz: Sequence[float], name: str, label: str) -> Path:
    """A small OME-NGFF 0.4 image (zarr-python, hand-written metadata), 2 scales (y/x)."""
    if path.exists():
        shutil.rmtree(path)
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    vx, vy, vz = voxel_size_xyz
    datasets = []
    for level, f in enumerate((1, 2)):
        root.create_array(f"s{level}", data=np.ascontiguousarray(volume_zyx[:, ::f, ::f]), chunks=(32, 64, 64))
        datasets.append(
            {"path": f"s{level}", "coordinateTransformations": [{"type": "scale", "scale": [vz, vy * f, vx * f]}]}
        )
    root.attrs.update(
        {
            "multiscales": [
                {
                    "version": "0.4",
                    "name": name,
                    "axes": [{"name": a, "type": "space", "unit": "nanometer"} for a in "zyx"],
                    "datasets": datasets,
                }
            ],
            "omero": {"channels": [{"label": label, "color": "FF00FF", "window": {"start": 0, "end": 255}}]},
        }
    )
    return path


@dataclass
class Served:
    http: HttpServer  # no auth
    auth: HttpServer  # basic auth HTTP_AUTH
    extra_url: str  # a second dataset: one color layer "inverted", same voxel size as the sample
    extra_layer: str
    coarse_url: str  # one color layer "coarse" at twice the sample's x/y voxel size
    coarse_layer: str
    private_url: str  # on the auth server: one color layer "private"
    private_layer: str
    missing_url: str  # 404


@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from wk_widget.sample import sample_path

    data = tmp_path_factory.mktemp("e2e-data")
    image = zarr.open_array(str(sample_path() / "s0"), mode="r")[...]
    attrs = json.loads((sample_path() / ".zattrs").read_text())
    scale_zyx = attrs["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"]
    voxel = tuple(reversed(scale_zyx))
    inverted = (255 - image).astype(np.uint8)
    write_ngff(data / "public" / "inverted.ome.zarr", inverted, voxel, "inverted", "inverted")
    coarse = np.ascontiguousarray(image[:, ::2, ::2])
    write_ngff(data / "public" / "coarse.ome.zarr", coarse, (voxel[0] * 2, voxel[1] * 2, voxel[2]), "coarse", "coarse")
    write_ngff(data / "private" / "private.ome.zarr", inverted, voxel, "private", "private")
    with HttpServer(data / "http-root") as http, HttpServer(data / "auth-root", basic_auth=HTTP_AUTH) as auth:
        base = http.publish(data / "public", "public")
        private = auth.publish(data / "private", "private")
        yield Served(
            http=http,
            auth=auth,
            extra_url=f"{base}/inverted.ome.zarr",
            extra_layer="inverted",
            coarse_url=f"{base}/coarse.ome.zarr",
            coarse_layer="coarse",
            private_url=f"{private}/private.ome.zarr",
            private_layer="private",
            missing_url=f"{base}/no-such-dataset.zarr",
        )


def cells(*sources: str) -> list[str]:
    return list(sources)


VIEWER_NOTEBOOK = cells(
    "import wk_widget as wk\nfrom wk_widget.sample import serve_sample\n"
    "server = serve_sample()\nds = wk.explore(server.url)",
    "viewer = wk.Viewer(ds)\nviewer",
)


@pytest.fixture
def viewer_notebook(open_notebook: OpenNotebook, request: pytest.FixtureRequest) -> NotebookPage:
    """A notebook showing ``viewer = wk.Viewer(<the sample>)``, run, first tiles drawn."""
    from tests.support.widget_page import WidgetPage

    name = re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name) + ".ipynb"
    nb = open_notebook(name, VIEWER_NOTEBOOK)
    nb.run_all()
    widget = WidgetPage(nb.page)
    widget.wait_ready()
    widget.wait_complete()
    return nb


def kernel_json(lab: JupyterLab, nb: NotebookPage, expression: str) -> Any:
    return lab.evaluate(nb.name, expression)
