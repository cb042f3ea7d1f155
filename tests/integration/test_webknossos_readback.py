"""WEBKNOSSOS reads what we export: for every case of the explore table, our exported
datasource-properties.json (mag paths are http URLs of the suite's server) is opened with
webknossos-libs (`webknossos.Dataset.open`, which opens remote mag paths through UPath /
fsspec's HTTP filesystem and reads them with tensorstore - nothing special is needed), and
every layer is read at its finest and coarsest mag over the whole bounding box. The values
must equal our `layer.read` and the writers' truth (within the tolerance of lossy codecs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import wk_widget as wk
from tests.integration.conftest import manifest
from tests.support.datasets import DatasetCase, TruthLevel

# webknossos-libs reads precomputed through tensorstore, whose driver knows the encodings raw,
# png, jpeg and compressed_segmentation only ("Expected one of ..."): these cases cannot be read
# back by it (WEBKNOSSOS itself does not read them either; Neuroglancer does).
NOT_READ_BY_WEBKNOSSOS_LIBS = {"cloudvolume_compresso_uint32", "precomputed_jxl_uint8"}

# Runs in a child process (webknossos-libs is heavy and brings its own event loop use).
_READER = r"""
import json, sys
from pathlib import Path
import numpy as np
import webknossos as wk

out = Path(sys.argv[1])
result = {}
for folder in sorted(p for p in out.iterdir() if p.is_dir()):
    ds = wk.Dataset.open(folder)
    for layer in ds.layers.values():
        mags = sorted(layer.mags, key=lambda m: m.to_list()[0] * m.to_list()[1] * m.to_list()[2])
        for mag in {str(mags[0]): mags[0], str(mags[-1]): mags[-1]}.values():
            data = np.asarray(layer.get_mag(mag).read())
            axes = list(layer.bounding_box.axes)
            if data.ndim == len(axes) + 1:
                axes = ["c", *axes]
            name = f"{folder.name}.{layer.name}.{'-'.join(map(str, mag.to_list()))}.npy"
            np.save(out / name, data)
            result[name] = {"case": folder.name, "layer": layer.name, "mag": mag.to_list(), "axes": axes}
(out / "index.json").write_text(json.dumps(result))
"""


def _to_cxyz(data: np.ndarray, axes: list[str]) -> tuple[np.ndarray, list[str]]:
    """Reorder to (extra axes..., c, x, y, z), adding c / z of size 1 when absent."""
    for name in ("c", "z"):
        if name not in axes:
            data = data[..., None]
            axes = [*axes, name]
    extra = [a for a in axes if a not in ("c", "x", "y", "z")]
    order = [axes.index(a) for a in [*extra, "c", "x", "y", "z"]]
    return data.transpose(order), extra


@pytest.fixture(scope="module")
def readback(served_bases: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    m = manifest()
    out = tmp_path_factory.mktemp("wk-readback")
    for case in _cases():
        ds = wk.explore(m.uri(case, served_bases["http"]))
        (out / case.id).mkdir()
        ds.save(out / case.id / "datasource-properties.json")
    proc = subprocess.run([sys.executable, "-c", _READER, str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-6000:]
    return out, json.loads((out / "index.json").read_text())


def _cases() -> list[DatasetCase]:
    return [c for c in manifest().ok_cases() if c.id not in NOT_READ_BY_WEBKNOSSOS_LIBS]


def _truth_level(case: DatasetCase, layer: str, mag: tuple[int, ...]) -> TruthLevel | None:
    for expected in case.layers:
        if layer in (expected.name, *expected.alt_names):
            for level in expected.truth:
                if tuple(level.mag) == mag:
                    return level
    return None


def _compare(got: np.ndarray, want: np.ndarray, tol: float, what: str) -> None:
    common = tuple(slice(0, min(a, b)) for a, b in zip(got.shape, want.shape, strict=True))
    assert all(s.stop > 0 for s in common), what
    a, b = got[common], want[common]
    if tol:
        assert np.abs(a.astype(np.float64) - b.astype(np.float64)).max() <= tol, what
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def test_webknossos_libs_reads_every_export(readback: tuple[Path, dict[str, Any]], served_bases: dict[str, str]) -> None:
    out, index = readback
    m = manifest()
    cases = {c.id: c for c in _cases()}
    seen: set[tuple[str, str]] = set()
    for name, entry in sorted(index.items()):
        case = cases[entry["case"]]
        mag = tuple(entry["mag"])
        what = f"{case.id}/{entry['layer']} mag {mag}"
        data, extra = _to_cxyz(np.load(out / name), entry["axes"])
        ds = wk.open_datasource(out / case.id / "datasource-properties.json")
        layer = ds.layers[entry["layer"]]
        bb = layer.bounding_box
        level = _truth_level(case, layer.name, mag)
        tol = level.tolerance if level is not None and level.lossy else 0.0
        axes = {a.name: a for a in layer.additional_axes}
        assert [a for a in extra] == list(axes), what
        # ours, whole bounding box at this mag, per value of each extra axis
        if extra:
            (t_name,) = extra
            lo = axes[t_name].bounds[0]
            ours = np.stack([layer.read(bb[0], bb[1], mag=mag, **{t_name: lo + i}) for i in range(data.shape[0])])
        else:
            ours = layer.read(bb[0], bb[1], mag=mag)
        assert data.dtype == ours.dtype, what
        _compare(data, ours, tol, f"{what}: webknossos-libs vs layer.read")
        if level is not None:
            truth = m.load_truth(level)
            start = [bb[0][i] // mag[i] - level.offset[i] for i in range(3)]
            assert all(s >= 0 for s in start), what
            truth = truth[(..., *(slice(s, None) for s in start))]
            _compare(data, truth, tol, f"{what}: webknossos-libs vs the writer's truth")
        seen.add((case.id, layer.name))
    expected = {(c.id, layer) for c in _cases() for layer in wk.explore(m.uri(c, served_bases["http"])).layers}
    assert seen == expected
