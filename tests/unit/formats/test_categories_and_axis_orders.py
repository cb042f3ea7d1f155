"""Category from real signals first, the name rule only as WEBKNOSSOS has it; axisOrder per
format as WEBKNOSSOS / webknossos-libs count it; a missing codec module is unsupported data."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import wk_widget as wk
from tests.support.datasets import _ome_write, segments
from wk_widget.errors import CorruptChunkError, UnsupportedDataError
from wk_widget.formats import axis_order
from wk_widget.formats._shared.axis_order import as_cxyz_from_rank
from wk_widget.formats._shared.layers import category_from_name


@pytest.mark.parametrize(
    ("name", "element_class", "category"),
    [
        ("segmentation", "uint32", "segmentation"),
        ("Labels", "uint64", "segmentation"),
        ("LABELS", "uint8", "segmentation"),
        ("segmentation", "float", "color"),  # WEBKNOSSOS: integer types only
        ("labels", "double", "color"),
        ("cells_labels", "uint32", "color"),
        ("em_seg_raw", "uint32", "color"),
        ("raw_unsegmented", "uint16", "color"),
        ("label", "uint32", "color"),
        ("seg", "uint32", "color"),
        ("nuclei_labels", "uint32", "color"),
    ],
)
def test_name_rule_is_webknossos_whole_name_rule(name: str, element_class: str, category: str) -> None:
    got, source = category_from_name(name, element_class)
    assert got == category
    assert source == ("name" if category == "segmentation" else "default")


def test_ngff_image_with_labels_group_is_an_image_named_after_its_folder(tmp_path: Path) -> None:
    """An OME-NGFF image in `cells_labels.zarr` with a labels/ group (ome-zarr writes both):
    the image is color, the label image segmentation (from OME labels, not the name)."""
    import zarr
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_labels

    path = tmp_path / "cells_labels.zarr"
    image = np.arange(8 * 16 * 16, dtype=np.uint16).reshape(8, 16, 16)
    _ome_write(path, image, name="", axes="zyx", scale={"z": 1.0, "y": 1.0, "x": 1.0},
               units={"z": "micrometer", "y": "micrometer", "x": "micrometer"}, chunks=(8, 16, 16), levels=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_labels(segments((16, 16, 8), np.uint32).transpose(2, 1, 0), zarr.open_group(path, mode="r+"),
                     name="cells", scaler=None, scale_factors=[], fmt=FormatV04(), axes="zyx")
    ds = wk.explore(str(path))
    image_layer = ds.layers["cells_labels"]
    assert image_layer.category == "color"
    labels = ds.layers["labels-cells"]
    assert labels.category == "segmentation" and labels.category_source == "ome-labels"
    np.testing.assert_array_equal(image_layer.read((0, 0, 0), (16, 16, 8))[0], image.transpose(2, 1, 0))


def test_float_layer_cannot_become_segmentation(tmp_path: Path) -> None:
    import zarr

    arr = zarr.create_array(tmp_path / "f.zarr", shape=(4, 8, 8), chunks=(4, 8, 8), dtype="float32", zarr_format=3)
    arr[...] = 1.5
    ds = wk.explore(str(tmp_path / "f.zarr"))
    (layer,) = ds.layers.values()
    with pytest.raises(ValueError, match="needs integers"):
        layer.category = "segmentation"
    assert layer.category == "color"
    doc = ds.to_datasource()
    doc["dataLayers"][0]["category"] = "segmentation"
    with pytest.raises(UnsupportedDataError, match="integer elementClass"):
        wk.open_datasource(doc)


def export_axis_order(data_format: str, order: dict[str, int], rank: int) -> dict[str, int] | None:
    return axis_order(data_format).to_datasource(order, rank)


def import_n5_axis_order(given: dict[str, int] | None, rank: int) -> dict[str, int]:
    return axis_order("n5").from_datasource(given, rank)


def test_axis_order_rules() -> None:
    reader_n5_3d = {"x": 2, "y": 1, "z": 0}  # the N5 reader's dims are N5's reversed
    assert export_axis_order("n5", reader_n5_3d, 3) == {"x": 0, "y": 1, "z": 2}
    assert export_axis_order("n5", {"c": 0, "x": 3, "y": 2, "z": 1}, 4) == {"c": 3, "x": 0, "y": 1, "z": 2}
    assert export_axis_order("neuroglancerPrecomputed", {"x": 0, "y": 1, "z": 2, "c": 3}, 4) is None
    assert export_axis_order("zarr3", {"c": 0, "x": 1, "y": 2, "z": 3}, 4) == {"c": 0, "x": 1, "y": 2, "z": 3}
    assert import_n5_axis_order({"x": 0, "y": 1, "z": 2}, 3) == reader_n5_3d
    # without one, WEBKNOSSOS's AxisOrder.asCxyzFromRank counts in N5's dimensions
    assert as_cxyz_from_rank(4) == {"c": 0, "x": 1, "y": 2, "z": 3}
    assert import_n5_axis_order(None, 4) == {"c": 3, "x": 2, "y": 1, "z": 0}


def test_n5_export_counts_positions_in_n5_dimensions(tmp_path: Path) -> None:
    import tensorstore as ts

    vol = np.arange(6 * 5 * 4, dtype=np.uint16).reshape(6, 5, 4)  # x, y, z
    spec = {"driver": "n5", "kvstore": {"driver": "file", "path": str(tmp_path / "a.n5")},
            "metadata": {"dimensions": [6, 5, 4], "blockSize": [4, 4, 4], "dataType": "uint16",
                         "compression": {"type": "gzip"}}}
    ts.open(spec, create=True).result()[...] = vol
    ds = wk.explore(str(tmp_path / "a.n5"))
    doc = ds.to_datasource()
    (mag,) = doc["dataLayers"][0]["mags"]
    assert mag["axisOrder"] == {"x": 0, "y": 1, "z": 2}
    again = wk.open_datasource(json.loads(json.dumps(doc)))
    np.testing.assert_array_equal(again.layers["a"].read((0, 0, 0), (6, 5, 4))[0], vol)


def _sharded_zarr(path: Path) -> np.ndarray:
    import zarr

    data = np.arange(8 * 8 * 8, dtype=np.uint16).reshape(8, 8, 8)
    arr = zarr.create_array(path, shape=data.shape, chunks=(4, 4, 4), shards=(8, 8, 8), dtype="uint16")
    arr[...] = data
    assert any(c["name"] == "crc32c" for c in json.loads((path / "zarr.json").read_text())["codecs"][0]["configuration"]["index_codecs"])
    return data


def test_crc32c_shard_index_reads(tmp_path: Path) -> None:
    data = _sharded_zarr(tmp_path / "s.zarr")
    (layer,) = wk.explore(str(tmp_path / "s.zarr")).layers.values()
    np.testing.assert_array_equal(layer.read((0, 0, 0), (8, 8, 8))[0], data.transpose(2, 1, 0))


@pytest.mark.parametrize(("module", "package"), [("google_crc32c", "google-crc32c")])
def test_missing_codec_module_is_unsupported_data_naming_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, package: str
) -> None:
    _sharded_zarr(tmp_path / "s.zarr")
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed: import raises ImportError
    with pytest.raises(UnsupportedDataError) as info:
        ds = wk.explore(str(tmp_path / "s.zarr"))
        next(iter(ds.layers.values())).read((0, 0, 0), (8, 8, 8))
    assert not isinstance(info.value, CorruptChunkError)
    text = str(info.value)
    assert "crc32c" in text and f"pip install {package}" in text and "s.zarr" in text


def test_missing_compresso_module_is_unsupported_data(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.realworld import ABSENT_MESSAGE, realworld_root

    root = realworld_root()
    if root is None:
        pytest.skip(ABSENT_MESSAGE)
    monkeypatch.setitem(sys.modules, "compresso", None)
    with pytest.raises(UnsupportedDataError, match=r"codec 'compresso' needs the Python package 'compresso'"):
        ds = wk.explore(str(root / "data" / "cloud-volume" / "test_seg_unsharded"))
        next(iter(ds.layers.values())).read((0, 0, 0), (256, 256, 64), mag=(4, 4, 1))


def test_missing_imagecodecs_is_unsupported_data_for_blosc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numcodecs
    import zarr

    arr = zarr.create_array(tmp_path / "b.zarr", shape=(8, 8, 8), chunks=(4, 4, 4), dtype="uint8",
                            zarr_format=2, compressors=numcodecs.Blosc())
    arr[...] = 3
    monkeypatch.setitem(sys.modules, "imagecodecs", None)
    with pytest.raises(UnsupportedDataError, match=r"codec 'blosc' needs .*pip install imagecodecs"):
        ds = wk.explore(str(tmp_path / "b.zarr"))
        next(iter(ds.layers.values())).read((0, 0, 0), (8, 8, 8))
