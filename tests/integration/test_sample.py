"""The bundled sample dataset and its local server (wk_widget.sample).

Expected values come from the metadata that scripts/make-sample-data wrote, not from
constants repeated here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

import wk_widget as wk
from wk_widget.sample import SAMPLE_NAME, sample_path, serve_directory, serve_sample

ROOT = Path(__file__).resolve().parents[2]
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def meta() -> dict[str, Any]:
    root = sample_path()
    image = _json(root / ".zattrs")
    labels_group = _json(root / "labels" / ".zattrs")
    label_name = labels_group["labels"][0]
    label = _json(root / "labels" / label_name / ".zattrs")
    ms = image["multiscales"][0]
    scales = [d["coordinateTransformations"][0]["scale"] for d in ms["datasets"]]
    shape_zyx = _json(root / ms["datasets"][0]["path"] / ".zarray")["shape"]
    return {
        "name": ms["name"],
        "unit": ms["axes"][0]["unit"],
        "voxel_size": tuple(reversed(scales[0])),  # axes are z, y, x
        "mags": [tuple(round(s / s0) for s, s0 in zip(reversed(sc), reversed(scales[0]), strict=True)) for sc in scales],
        "size": tuple(reversed(shape_zyx)),
        "channel": image["omero"]["channels"][0],
        "label_name": label_name,
        "label_paths": [d["path"] for d in label["multiscales"][0]["datasets"]],
        "largest": label["multiscales"][0]["metadata"]["largestSegmentId"],
        "paths": [d["path"] for d in ms["datasets"]],
    }


@pytest.fixture(scope="module")
def dataset() -> wk.Dataset:
    return wk.explore(serve_sample().url)


def _get(url: str, **headers: str) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, headers=headers)
    with OPENER.open(request, timeout=10) as resp:
        return resp.status, resp.read(), resp.headers


def test_sample_is_small_and_complete(meta: dict[str, Any]) -> None:
    root = sample_path()
    assert root.name == SAMPLE_NAME
    files = [p for p in root.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 2_000_000
    for path in meta["paths"]:
        assert (root / path / ".zarray").is_file()
    for path in meta["label_paths"]:
        assert (root / "labels" / meta["label_name"] / path / ".zarray").is_file()


def test_server_serves_ranges_and_head_only_below_the_folder() -> None:
    server = serve_sample()
    assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/" + SAMPLE_NAME)
    whole = (sample_path() / ".zattrs").read_bytes()
    status, body, _ = _get(server.url + "/.zattrs")
    assert (status, body) == (200, whole)
    status, body, headers = _get(server.url + "/.zattrs", Range="bytes=2-11")
    assert (status, body) == (206, whole[2:12])
    assert headers["Content-Range"] == f"bytes 2-11/{len(whole)}"
    with OPENER.open(urllib.request.Request(server.url + "/s0/.zarray", method="HEAD"), timeout=10) as resp:
        assert resp.status == 200 and int(resp.headers["Content-Length"]) > 0 and resp.read() == b""
    for bad in ("/../sample.py", "/%2e%2e/sample.py", "/s0", "/missing", "/../../../../etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as info:
            _get(server.url + bad)
        assert info.value.code == 404, bad
    with pytest.raises(urllib.error.HTTPError) as info:
        OPENER.open(urllib.request.Request(server.url + "/.zattrs", data=b"x", method="PUT"), timeout=10)
    assert info.value.code == 405


def test_server_is_idempotent_and_restartable(tmp_path: Path) -> None:
    assert serve_sample() is serve_sample()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "hello.txt").write_text("hi")
    (tmp_path / "secret.txt").write_text("outside")
    first = serve_directory(tmp_path / "data")
    assert serve_directory(tmp_path / "data") is first
    assert _get(first.url + "/hello.txt")[1] == b"hi"
    assert first.url_for("hello.txt") == first.url + "/hello.txt"
    with pytest.raises(urllib.error.HTTPError):
        _get(first.base_url + "/secret.txt")
    first.stop()
    assert not first.running
    with pytest.raises(urllib.error.URLError):
        _get(first.url + "/hello.txt")
    second = serve_directory(tmp_path / "data", name="renamed")
    try:
        assert second is not first and second.url.endswith("/renamed")
        assert _get(second.url + "/hello.txt")[1] == b"hi"
    finally:
        second.stop()


def test_explores_to_the_written_metadata(dataset: wk.Dataset, meta: dict[str, Any]) -> None:
    assert dataset.name == meta["name"]
    assert dataset.unit == meta["unit"] == "nanometer"
    assert dataset.voxel_size == pytest.approx(meta["voxel_size"])
    assert len(dataset.layers) == 2
    color, seg = dataset.layers.values()
    assert color.name == meta["channel"]["label"]
    assert color.category == "color" and color.element_class == "uint8"
    assert meta["label_name"] in seg.name
    assert seg.category == "segmentation" and seg.element_class == "uint32"
    assert seg.largest_segment_id == meta["largest"]
    for layer in (color, seg):
        assert layer.data_format == "zarr"
        top_left, size = layer.bounding_box  # the contract's ((x, y, z), (w, h, d))
        assert (tuple(top_left), tuple(size)) == ((0, 0, 0), meta["size"])
        assert [m.mag for m in layer.mags] == meta["mags"]
    view = color.default_view_configuration or {}
    hex_color = meta["channel"]["color"]
    assert view.get("color") == [int(hex_color[i : i + 2], 16) for i in (0, 2, 4)]
    window = meta["channel"]["window"]
    assert view.get("intensityRange") == [window["start"], window["end"]]
    doc = dataset.to_datasource()
    assert doc["scale"] == {"factor": list(meta["voxel_size"]), "unit": "nanometer"}
    assert all(m["path"].startswith("http://127.0.0.1:") for layer in doc["dataLayers"] for m in layer["mags"])


def test_reads_non_blank_data_matching_the_arrays(dataset: wk.Dataset, meta: dict[str, Any]) -> None:
    color, seg = dataset.layers.values()
    sx, sy, sz = meta["size"]
    z = sz // 2
    plane = color.read((0, 0, z), (sx, sy, 1))
    assert plane.shape == (1, sx, sy, 1)
    assert plane.std() > 20 and plane.max() > 150  # membranes on a dark background
    labels = seg.read((0, 0, z), (sx, sy, 1))
    assert len(np.unique(labels)) >= 5 and labels.min() == 0
    truth = zarr.open_array(str(sample_path() / meta["paths"][1]), mode="r")[z]  # (y, x) at mag 2
    coarse = color.read((0, 0, z), (sx, sy, 1), mag=meta["mags"][1])
    np.testing.assert_array_equal(coarse[0, :, :, 0], truth.T)
    # Cells are bright where the segmentation says so.
    inside = labels[0, :, :, 0] > 0
    assert plane[0, :, :, 0][inside].mean() > plane[0, :, :, 0][~inside].mean() + 20


def test_generator_reproduces_the_committed_sample(tmp_path: Path) -> None:
    out = tmp_path / SAMPLE_NAME
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make-sample-data"), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    committed = sample_path()
    metadata = {".zattrs", ".zgroup", ".zarray"}
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.name in metadata)
    assert names == sorted(p.relative_to(committed).as_posix() for p in committed.rglob("*") if p.name in metadata)
    for name in names:
        assert _json(out / name) == _json(committed / name), name
    # Voxels: identical up to rounding differences of another numpy/FFT build.
    for array in ("s0", "labels/cells/s0"):
        new = zarr.open_array(str(out / array), mode="r")[...]
        old = zarr.open_array(str(committed / array), mode="r")[...]
        assert np.mean(new != old) < 1e-3, array
