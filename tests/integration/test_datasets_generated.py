"""The generated test datasets are what the manifest says they are.

Checked only with the writers' own readers and other independent readers (zarr-python,
tensorstore, cloud-volume, the webknossos library, a tiny N5 block decoder here), never
with ``wk_widget``: every truth ``.npy`` must equal what those readers read back.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import struct
import subprocess
import sys
import time
import warnings
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support import datasets as D
from tests.support.datasets import DatasetCase, ExpectedLayer, Manifest, TruthLevel

DATASETS_PY = Path(D.__file__).resolve()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Manifest, float]:
    root = tmp_path_factory.mktemp("datasets")
    start = time.perf_counter()
    manifest = D.generate_all(root)
    return manifest, time.perf_counter() - start


@pytest.fixture(scope="module")
def manifest(generated: tuple[Manifest, float]) -> Manifest:
    return generated[0]


# --------------------------------------------------------------------------- generation


def test_cold_generation_is_fast_and_atomic(generated: tuple[Manifest, float]) -> None:
    manifest, took = generated
    assert took < 60, f"cold generation took {took:.1f} s"
    assert manifest.root.name == manifest.key
    assert (manifest.root / D.MANIFEST_FILE).is_file()
    leftovers = [p.name for p in manifest.root.parent.iterdir() if p.name != manifest.key]
    assert leftovers == [], "temporary folders left behind"
    assert len(manifest.ok_cases()) >= 25 and len(manifest.bad_cases()) >= 6


def test_second_call_in_a_new_process_reuses_the_cache(manifest: Manifest) -> None:
    before = {p: p.stat().st_mtime_ns for p in manifest.root.rglob("*.npy")}
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(DATASETS_PY), str(manifest.root.parent)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    took = time.perf_counter() - start
    assert str(manifest.root / D.MANIFEST_FILE) in out.stdout
    assert took < 5, f"warm call took {took:.1f} s"
    assert {p: p.stat().st_mtime_ns for p in manifest.root.rglob("*.npy")} == before
    t0 = time.perf_counter()
    again = D.generate_all(manifest.root.parent)
    assert time.perf_counter() - t0 < 1
    assert again.to_json() == manifest.to_json()


def test_manifest_round_trips_through_json(manifest: Manifest) -> None:
    data = json.loads((manifest.root / D.MANIFEST_FILE).read_text())
    assert data["schema_version"] == D.SCHEMA_VERSION
    loaded = Manifest.from_json(data, root=manifest.root)
    assert loaded == manifest
    assert json.loads(json.dumps(loaded.to_json())) == loaded.to_json()


def test_key_changes_with_writer_versions() -> None:
    versions = D.writer_versions()
    assert D.cache_key(versions) == D.cache_key(versions)
    assert D.cache_key({**versions, "zarr": "0.0.0"}) != D.cache_key(versions)


def test_to_contract_dims_means_what_it_says() -> None:
    zyx = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    out = D.to_contract_dims(zyx, ("z", "y", "x"))
    assert out.shape == (1, 4, 3, 2)
    assert out[0, 3, 1, 0] == zyx[0, 1, 3]
    tczyx = np.arange(3 * 2 * 2 * 3 * 4).reshape(3, 2, 2, 3, 4)
    out = D.to_contract_dims(tczyx, ("t", "c", "z", "y", "x"), channel_index=1)
    assert out.shape == (3, 1, 4, 3, 2)
    assert out[2, 0, 3, 1, 0] == tczyx[2, 1, 0, 1, 3]
    yx = np.arange(12).reshape(3, 4)
    out = D.to_contract_dims(yx, ("y", "x"))
    assert out.shape == (1, 4, 3, 1) and out[0, 3, 2, 0] == yx[2, 3]
    xyzc = np.arange(4 * 3 * 2 * 2).reshape(4, 3, 2, 2)
    out = D.to_contract_dims(xyzc, ("x", "y", "z", "c"))
    assert out.shape == (2, 4, 3, 2) and out[1, 3, 2, 0] == xyzc[3, 2, 0, 1]


# --------------------------------------------------------------------------- manifest sanity


def test_every_expectation_is_consistent(manifest: Manifest) -> None:
    units = set(D.UNIT_TO_NM)
    for case in manifest.cases:
        assert (manifest.root / case.relpath).is_dir(), case.id
        if case.expected_error is not None:
            assert not case.layers and case.expected_error, case.id
            continue
        assert case.name and case.unit in units and case.voxel_size, case.id
        assert len({layer.name for layer in case.layers}) == len(case.layers), case.id
    for case, layer in manifest.layers():
        where = f"{case.id}/{layer.name}"
        (top_left, size), mags = layer.bounding_box, layer.mags
        assert layer.category in ("color", "segmentation"), where
        assert layer.mags[0] == (1, 1, 1), where
        assert all(v > 0 and v & (v - 1) == 0 for m in mags for v in m), where
        assert len(layer.mag_paths) == len(mags) == len(layer.truth), where
        assert [t.mag for t in layer.truth] == mags, where
        for level in layer.truth:
            arr = manifest.load_truth(level)
            assert arr.shape == level.shape and arr.ndim == len(layer.expected_dims), where
            assert D.ELEMENT_CLASSES[arr.dtype.name] == layer.element_class, where
            assert arr.shape[-4] == layer.num_channels, where
            lo = [t // m for t, m in zip(top_left, level.mag, strict=True)]
            hi = [-(-(t + s) // m) for t, s, m in zip(top_left, size, level.mag, strict=True)]
            assert list(level.offset) == lo, where
            span = [h - low for h, low in zip(hi, lo, strict=True)]
            # ome-zarr floors level sizes; everyone else stores ceil(size / mag)
            assert all(0 <= s - n <= 1 for s, n in zip(span, arr.shape[-3:], strict=True)), where
        s0 = layer.truth[0]
        assert s0.shape[-3:] == size and s0.offset == top_left, where
        for axis in layer.additional_axes:
            dim = layer.expected_dims.index(axis["name"])
            assert axis["bounds"] == [0, s0.shape[dim]], where
        if layer.category == "segmentation" and layer.largest_segment_id is not None:
            assert layer.largest_segment_id == int(manifest.load_truth(s0).max()), where


# --------------------------------------------------------------------------- truth == writer output


def _cut(arr: np.ndarray, level: TruthLevel, padded: bool) -> np.ndarray:
    if not padded:
        assert arr.shape == level.shape
        return arr
    assert all(a >= s for a, s in zip(arr.shape, level.shape, strict=True)), arr.shape
    return arr[tuple(slice(0, s) for s in level.shape)]


def _assert_matches(actual: np.ndarray, truth: np.ndarray, level: TruthLevel, reader: str) -> None:
    assert actual.dtype == truth.dtype, reader
    if level.lossy:
        diff = np.abs(actual.astype(np.float64) - truth.astype(np.float64)).max()
        assert diff <= level.tolerance, f"{reader}: max diff {diff} > {level.tolerance}"
    else:
        np.testing.assert_array_equal(actual, truth, err_msg=reader)


def _read_zarr_python(path: Path) -> np.ndarray:
    import zarr

    return np.asarray(zarr.open_array(path, mode="r")[...])


def _read_tensorstore(spec: dict[str, Any]) -> np.ndarray:
    import tensorstore as ts

    return np.asarray(ts.open(spec, open=True).result().read().result())


def _ts_zarr(path: Path, data_format: str) -> np.ndarray:
    driver = "zarr" if data_format == "zarr" else "zarr3"
    return _read_tensorstore({"driver": driver, "kvstore": {"driver": "file", "path": str(path)}})


def _read_cloudvolume(case_dir: Path, mip: int) -> np.ndarray:
    from cloudvolume import CloudVolume

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vol = CloudVolume(case_dir.as_uri(), mip=mip, progress=False, fill_missing=False)
        return np.asarray(vol[vol.bounds])


def _read_webknossos(case_dir: Path, layer: str, mag: tuple[int, int, int]) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import webknossos as wk

        return np.asarray(wk.Dataset.open(case_dir).get_layer(layer).get_mag(mag).read())


def _n5_by_hand(path: Path) -> np.ndarray:
    """A minimal N5 reader (raw/gzip), independent of tensorstore: returns x, y, z."""
    attrs = json.loads((path / "attributes.json").read_text())
    dims, block = attrs["dimensions"], attrs["blockSize"]
    dtype = np.dtype(attrs["dataType"]).newbyteorder(">")
    out = np.zeros(dims, dtype=np.dtype(attrs["dataType"]))
    grid = [range(math.ceil(d / b)) for d, b in zip(dims, block, strict=True)]
    for idx in product(*grid):
        raw = (path.joinpath(*map(str, idx))).read_bytes()
        mode, ndim = struct.unpack(">HH", raw[:4])
        assert mode == 0
        shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
        body = raw[4 + 4 * ndim :]
        if attrs["compression"]["type"] == "gzip":
            body = gzip.decompress(body)
        data = np.frombuffer(body, dtype=dtype).reshape(shape[::-1]).T  # stored fastest-first
        # tensorstore writes edge blocks at full block size; the N5 spec allows truncated ones
        sel = tuple(
            slice(i * b, min(i * b + s, d))
            for i, b, s, d in zip(idx, block, shape, dims, strict=True)
        )
        out[sel] = data[tuple(slice(0, x.stop - x.start) for x in sel)]
    return out


def _readers(
    manifest: Manifest, case: DatasetCase, layer: ExpectedLayer, index: int
) -> dict[str, np.ndarray]:
    """What independent readers return for one mag, in the writer's array axes."""
    case_dir = manifest.root / case.relpath
    path = case_dir / layer.mag_paths[index]
    mag = layer.mags[index]
    fmt = layer.data_format
    if fmt in ("zarr", "zarr3"):
        out = {"zarr-python": _read_zarr_python(path), "tensorstore": _ts_zarr(path, fmt)}
        if case.writer == "webknossos":  # (c, x, y, z) of the layer's bounding box
            out["webknossos"] = _read_webknossos(case_dir, layer.name, mag)
        return out
    if fmt == "n5":
        out = {
            "tensorstore": _read_tensorstore(
                {"driver": "n5", "kvstore": {"driver": "file", "path": str(path)}}
            )
        }
        attrs = json.loads((path / "attributes.json").read_text())
        if attrs["compression"]["type"] in ("raw", "gzip"):
            out["n5-by-hand"] = _n5_by_hand(path)
        return out
    assert fmt == "neuroglancerPrecomputed"
    spec = {
        "driver": "neuroglancer_precomputed",
        "kvstore": {"driver": "file", "path": str(case_dir)},
        "scale_index": index,
    }
    out = {"cloud-volume": _read_cloudvolume(case_dir, index)}
    info = json.loads((case_dir / "info").read_text())
    if info["scales"][index]["encoding"] in ("raw", "jpeg", "png", "compressed_segmentation"):
        out["tensorstore"] = _read_tensorstore(spec)  # it knows no compresso / jxl
    return out


def test_truth_equals_what_independent_readers_read(manifest: Manifest) -> None:
    checked: dict[str, int] = {}
    for case, layer in manifest.layers():
        for index, level in enumerate(layer.truth):
            truth = manifest.load_truth(level)
            for reader, arr in _readers(manifest, case, layer, index).items():
                where = f"{case.id}/{layer.name}/{level.mag} via {reader}"
                axes = ("c", "x", "y", "z") if reader == "webknossos" else layer.array_axes
                index_c = None if reader == "webknossos" else layer.channel_index
                actual = D.to_contract_dims(arr, axes, index_c)
                padded = case.writer == "webknossos" and reader != "webknossos"
                try:
                    _assert_matches(_cut(actual, level, padded), truth, level, where)
                except AssertionError as e:
                    raise AssertionError(f"{where}: {e}") from e
                checked[reader] = checked.get(reader, 0) + 1
    assert set(checked) >= {
        "zarr-python",
        "tensorstore",
        "cloud-volume",
        "webknossos",
        "n5-by-hand",
    }


# --------------------------------------------------------------------------- writer facts


def test_writer_metadata_facts(manifest: Manifest) -> None:
    """The quirks the case notes promise an explorer are really on disk."""
    root = manifest.root
    ome = json.loads(
        (root / manifest.case("ngff04_multiscale_uint16").relpath / ".zattrs").read_text()
    )
    ms = ome["multiscales"][0]
    assert ms["version"] == "0.4" and [d["path"] for d in ms["datasets"]] == ["s0", "s1", "s2"]
    assert ms["datasets"][0]["coordinateTransformations"][1] == {
        "type": "translation",
        "translation": [0.0, 0.0, 0.0],
    }
    assert ome["omero"]["channels"][0]["label"] == "nuclei"
    labels = root / manifest.case("ngff04_multiscale_uint16").relpath / "labels"
    assert json.loads((labels / ".zattrs").read_text())["labels"] == ["cells"]
    v05 = json.loads(
        (root / manifest.case("ngff05_multiscale_uint8").relpath / "zarr.json").read_text()
    )
    assert v05["attributes"]["ome"]["version"] == "0.5"
    assert "omero" in v05["attributes"]["ome"]

    for cid in ("precomputed_sharded_identity_uint8", "precomputed_sharded_murmur_gzip_uint16"):
        case = manifest.case(cid)
        for key in case.layers[0].mag_paths:
            shards = list((root / case.relpath / key).glob("*.shard"))
            assert len(shards) >= 2 or key != case.layers[0].mag_paths[0], (cid, key, shards)

    sharded = root / manifest.case("zarr3_sharded_uint8").relpath
    meta = json.loads((sharded / "zarr.json").read_text())
    assert meta["codecs"][0]["name"] == "sharding_indexed"
    assert len(list((sharded / "c").rglob("*"))) > 4

    keys_v2 = root / manifest.case("zarr3_v2_chunk_keys_uint32").relpath
    assert (keys_v2 / "0.0.0").is_file() and not (keys_v2 / "c").exists()

    s2 = json.loads(
        (root / manifest.case("ngff04_multiscale_uint16").relpath / "s2/.zarray").read_text()
    )
    assert s2["shape"] == [40, 37, 32]  # floor(150 / 4), floor(130 / 4)

    n5_dir = root / manifest.case("n5_uint16_gzip").relpath
    edge = (n5_dir / "3" / "2" / "1").read_bytes()  # x 96..100, y 64..70, z 16..30
    assert struct.unpack(">HH3I", edge[:16]) == (0, 3, 32, 32, 16)  # full-size edge block
    n5 = json.loads(
        (root / manifest.case("n5_uint16_gzip").relpath / "attributes.json").read_text()
    )
    assert n5["dimensions"] == [100, 70, 30]  # x first

    cv = manifest.case("cloudvolume_segmentation_offset_uint32")
    info = json.loads((root / cv.relpath / "info").read_text())
    assert info["scales"][0]["voxel_offset"] == [10, 20, 5]
    assert info["scales"][1]["voxel_offset"] == [5, 10, 5]
    assert not list((root / cv.relpath).rglob("*.gz"))

    wk = manifest.case("webknossos_zarr3")
    props = json.loads((root / wk.relpath / "datasource-properties.json").read_text())
    assert props["scale"] == {"factor": [11.24, 11.24, 28.0], "unit": "nanometer"}
    seg = next(layer for layer in props["dataLayers"] if layer["name"] == "segmentation")
    assert seg["largestSegmentId"] == wk.layer("segmentation").largest_segment_id


def test_bad_inputs_are_really_bad(manifest: Manifest) -> None:
    import tensorstore as ts
    import zarr

    root = manifest.root
    path = root / manifest.case("bad_ngff04_scale_3x").relpath
    scales = [
        d["coordinateTransformations"][0]["scale"]
        for d in json.loads((path / ".zattrs").read_text())["multiscales"][0]["datasets"]
    ]
    assert scales[1][2] / scales[0][2] == 3

    assert zarr.open_array(root / manifest.case("bad_zarr2_float16").relpath).dtype == np.float16

    with pytest.raises(Exception, match="wk_test_unknown_codec"):
        zarr.open_array(root / manifest.case("bad_zarr3_unknown_codec").relpath)

    path = root / manifest.case("bad_ngff04_malformed_zattrs").relpath
    with pytest.raises(json.JSONDecodeError):
        json.loads((path / ".zattrs").read_text())
    json.loads((path / ".zgroup").read_text())

    path = root / manifest.case("bad_precomputed_unknown_encoding").relpath
    with pytest.raises(ValueError, match="encoding"):
        ts.open(
            {
                "driver": "neuroglancer_precomputed",
                "kvstore": {"driver": "file", "path": str(path)},
            },
            open=True,
        ).result()

    path = root / manifest.case("bad_n5_unknown_compression").relpath
    with pytest.raises(ValueError, match=r"compression|wk_test"):
        ts.open(
            {"driver": "n5", "kvstore": {"driver": "file", "path": str(path)}}, open=True
        ).result()


def test_cli_prints_usage_without_args() -> None:
    out = subprocess.run(
        [sys.executable, str(DATASETS_PY)],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=60,
    )
    assert out.returncode == 2 and "usage" in out.stderr
