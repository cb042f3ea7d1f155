"""Exploration of every independent writer's dataset over HTTP, S3 and GCS.

Every inferred field is checked against what the writer was told (tests/support/datasets.py),
never against our own output.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import wk_widget as wk
from tests.integration.conftest import TRANSPORTS, manifest
from tests.support.datasets import DatasetCase, ExpectedLayer
from wk_widget.errors import RemoteDatasetError


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    m = manifest()
    if "ok_case" in metafunc.fixturenames:
        metafunc.parametrize("ok_case", m.ok_cases(), ids=[c.id for c in m.ok_cases()])
    if "bad_case" in metafunc.fixturenames:
        metafunc.parametrize("bad_case", m.bad_cases(), ids=[c.id for c in m.bad_cases()])
    if "transport" in metafunc.fixturenames:
        metafunc.parametrize("transport", TRANSPORTS)


def _find_layer(ds: wk.Dataset, expected: ExpectedLayer) -> wk.Layer:
    for name in (expected.name, *expected.alt_names):
        if name in ds.layers:
            return ds.layers[name]
    raise AssertionError(f"layer {expected.name!r} not found; have {list(ds.layers)}")


def _close(a: Any, b: Any) -> bool:
    return all(math.isclose(float(x), float(y), rel_tol=1e-6) for x, y in zip(a, b, strict=True))


def check_dataset(ds: wk.Dataset, case: DatasetCase, base: str) -> None:
    m = manifest()
    assert ds.name == case.name
    assert case.voxel_size is not None
    assert ds.unit == case.unit, (ds.unit, case.unit)
    assert _close(ds.voxel_size, case.voxel_size), (ds.voxel_size, case.voxel_size)
    assert len(ds.layers) == len(case.layers), list(ds.layers)
    for expected in case.layers:
        layer = _find_layer(ds, expected)
        where = f"{case.id}/{expected.name}"
        assert layer.category == expected.category, where
        assert layer.data_format == expected.data_format, where
        assert layer.element_class == expected.element_class, where
        bb = layer.bounding_box
        assert (bb.top_left, bb.size) == (tuple(expected.bounding_box[0]), tuple(expected.bounding_box[1])), where
        assert layer.num_channels == expected.num_channels, where
        assert layer.largest_segment_id == expected.largest_segment_id, where
        assert [m_.mag for m_ in layer.mags] == [tuple(v) for v in expected.mags], where
        for i, mag in enumerate(layer.mags):
            assert mag.path == m.mag_uri(case, expected, i, base), where
            assert mag.spec.channel_index == expected.channel_index, where
            assert mag.dims == tuple(expected.expected_dims), where
        assert [a.to_json() for a in layer.additional_axes] == [
            {"name": a["name"], "bounds": list(a["bounds"]), "index": a["index"]} for a in expected.additional_axes
        ], where
        if expected.default_view_configuration is not None:
            got = layer.default_view_configuration or {}
            for key, value in expected.default_view_configuration.items():
                assert got.get(key) == value, (where, key, got)
        if expected.coordinate_transformations is not None:
            assert layer.coordinate_transformations == expected.coordinate_transformations, where


def test_explore_matches_writer(ok_case: DatasetCase, transport: str, served_bases: dict[str, str]) -> None:
    base = served_bases[transport]
    ds = wk.explore(manifest().uri(ok_case, base))
    check_dataset(ds, ok_case, base)


def test_datasource_round_trip(ok_case: DatasetCase, served_bases: dict[str, str], tmp_path: Any) -> None:
    base = served_bases["http"]
    ds = wk.explore(manifest().uri(ok_case, base))
    path = ds.save(tmp_path / "datasource-properties.json")
    again = wk.open_datasource(path)
    assert again == ds
    assert again.to_datasource() == json.loads(path.read_text())
    check_dataset(again, ok_case, base)


def test_webknossos_library_accepts_export(served_bases: dict[str, str], tmp_path: Any) -> None:
    """webknossos-libs' own datasource parser reads every exported datasource."""
    m = manifest()
    docs = []
    for case in m.ok_cases():
        ds = wk.explore(m.uri(case, served_bases["http"]))
        docs.append(ds.to_datasource())
    (tmp_path / "docs.json").write_text(json.dumps(docs))
    script = r"""
import json, sys
from webknossos.dataset_properties import DatasetProperties, get_dataset_converter
dataset_converter = get_dataset_converter()
docs = json.load(open(sys.argv[1]))
for doc in docs:
    props = dataset_converter.structure(doc, DatasetProperties)
    assert len(props.data_layers) == len(doc["dataLayers"]), doc["id"]
    for layer, raw in zip(props.data_layers, doc["dataLayers"]):
        assert layer.name == raw["name"] and layer.category == raw["category"]
        assert len(layer.mags) == len(raw["mags"])
    assert list(props.scale.factor) == doc["scale"]["factor"], (props.scale, doc["scale"])
    assert props.scale.unit.value == doc["scale"]["unit"]
    dataset_converter.unstructure(props)
print("ok", len(docs))
"""
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "docs.json")], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-4000:]
    assert out.stdout.startswith("ok")


def test_bad_inputs_from_writers(bad_case: DatasetCase, served_bases: dict[str, str]) -> None:
    uri = manifest().uri(bad_case, served_bases["http"])
    with pytest.raises(RemoteDatasetError) as info:
        wk.explore(uri)
    text = str(info.value)
    assert bad_case.expected_error is not None
    assert any(hint.lower() in text.lower() for hint in bad_case.expected_error), text
    assert bad_case.relpath in text  # names the URI


def _check_level(mag: wk.Mag, truth: np.ndarray, offset: tuple[int, int, int], tol: float) -> None:
    data = mag.data
    assert data.shape[-3:] == tuple(math.ceil(e / m) for e, m in zip(_bbox_end(mag), mag.mag, strict=True))
    sl = tuple(slice(o, min(o + s, d)) for o, s, d in zip(offset, truth.shape[-3:], data.shape[-3:], strict=True))
    got = np.asarray(data[(..., *sl)].compute())
    want = truth[(..., *(slice(0, s.stop - s.start) for s in sl))]
    if tol:
        assert np.abs(got.astype(np.float64) - want.astype(np.float64)).max() <= tol
    else:
        np.testing.assert_array_equal(got, want)


def _bbox_end(mag: wk.Mag) -> tuple[int, int, int]:
    return mag._layer.bounding_box.bottom_right


def test_data_matches_writer(ok_case: DatasetCase, transport: str, served_bases: dict[str, str]) -> None:
    """Every mag of every layer equals the writer's ground truth (dask path), and random
    boxes through layer.read equal it too (the viewer's path)."""
    m = manifest()
    ds = wk.explore(m.uri(ok_case, served_bases[transport]))
    rng = np.random.default_rng(abs(hash(ok_case.id)) % 2**32)
    for expected in ok_case.layers:
        layer = _find_layer(ds, expected)
        for level in expected.truth:
            truth = m.load_truth(level)
            mag = layer.get_mag(level.mag)
            _check_level(mag, truth, level.offset, level.tolerance if level.lossy else 0.0)
            # Random boxes via layer.read (absolute mag-1 coordinates), including borders.
            n_extra = len(layer.additional_axes)
            extra = {a.name: a.bounds[1] - 1 for a in layer.additional_axes}
            for _ in range(3):
                size_m = [int(rng.integers(1, max(2, s + 1))) for s in truth.shape[-3:]]
                start_m = [int(rng.integers(0, s - z + 1)) + o for s, z, o in zip(truth.shape[-3:], size_m, level.offset, strict=True)]
                offset = [s * f for s, f in zip(start_m, level.mag, strict=True)]
                size = [z * f for z, f in zip(size_m, level.mag, strict=True)]
                got = layer.read(offset, size, mag=level.mag, **extra)
                sel = truth[(-1,) * n_extra] if n_extra else truth  # the last index of each extra axis
                local = tuple(slice(a - o, a - o + z) for a, o, z in zip(start_m, level.offset, size_m, strict=True))
                want = sel[(..., *local)]
                assert got.shape == want.shape, (got.shape, want.shape)
                if level.lossy:
                    assert np.abs(got.astype(float) - want.astype(float)).max() <= level.tolerance
                else:
                    np.testing.assert_array_equal(got, want)
