"""The example notebooks: committed without outputs, and each one runs top to bottom.

They run headless here (nbclient, the project's python3 kernel); the browser test
(tests/e2e) runs the quickstart in JupyterLab.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
ALL = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
REQUIRED = {"quickstart.ipynb", "ngff.ipynb", "zarr.ipynb", "n5.ipynb", "precomputed.ipynb",
            "webknossos.ipynb", "neuroglancer-link.ipynb"}  # fmt: skip


def test_every_notebook_is_there_and_has_no_outputs() -> None:
    assert set(ALL) >= REQUIRED
    for name in ALL:
        doc = json.loads((NOTEBOOKS / name).read_text())
        for cell in doc["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{name}: clear the outputs"
        assert "widgets" not in doc.get("metadata", {}), f"{name}: saved widget state"


# Writers that end users may not have; the format notebooks fall back to zarr-python or
# hand-written files without them.
OPTIONAL_WRITERS = ("tensorstore", "cloudvolume", "webknossos", "ome_zarr")
BLOCK_OPTIONAL = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in OPTIONAL_WRITERS)


@pytest.mark.parametrize("writers", ["installed", "absent"])
@pytest.mark.parametrize("name", ALL)
def test_notebook_runs(name: str, writers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    if writers == "absent":
        if not any(m in cell.source for cell in nb.cells for m in OPTIONAL_WRITERS):
            pytest.skip("uses no optional writer")
        nb.cells.insert(0, nbformat.v4.new_code_cell(BLOCK_OPTIONAL))
    cwd, scratch = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # the kernel inherits it: temp data lands here
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    widgets = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]  # fmt: skip
    assert widgets, f"{name} shows no widget"
    assert list(cwd.iterdir()) == [], "notebooks must not write next to themselves"
