"""WEBKNOSSOS datasets (datasource-properties.json at the root).

One dataset is written by webknossos-libs (the reference writer); the edge cases use
hand-written datasource files over arrays written by zarr-python.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from tests.support.chunks import read_chunks
from wk_widget.errors import MalformedMetadataError, UnsupportedDataError
from wk_widget.formats import parse_uri
from wk_widget.formats import webknossos as wkf
from wk_widget.formats import zarr as wz
from wk_widget.formats.base import ExploreContext, LayerSpec, NotThisFormat
from wk_widget.storage import run_sync, storage_for


def explore(path: Path, ctx: ExploreContext | None = None) -> list[LayerSpec]:
    return run_sync(wkf.WEBKNOSSOS_EXPLORER.explore(ctx or ExploreContext(), parse_uri(str(path))))


def read_level(layer: LayerSpec, index: int = 0) -> np.ndarray:
    mag = layer.mags[index]
    return read_chunks(run_sync(wz.open_reader(storage_for(mag.path), mag))).array


def test_webknossos_libs_dataset(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import webknossos as wk

    color = np.random.default_rng(0).integers(0, 255, (100, 80, 40), dtype=np.uint8)  # x, y, z
    seg = np.random.default_rng(1).integers(0, 9, (100, 80, 40)).astype(np.uint32)
    ds = wk.Dataset(tmp_path / "wkds", voxel_size=(11.2, 11.2, 25.0))
    layer = ds.add_layer("color", wk.COLOR_CATEGORY, data_format="zarr3", dtype="uint8")
    layer.add_mag(1).write(color, absolute_offset=(0, 0, 0), allow_resize=True)
    layer.add_mag("2-2-1").write(color[::2, ::2, :], absolute_offset=(0, 0, 0), allow_resize=True)
    seg_layer = ds.add_layer(
        "segmentation", wk.SEGMENTATION_CATEGORY, data_format="zarr", dtype="uint32", largest_segment_id=8
    )
    seg_layer.add_mag(1).write(seg, absolute_offset=(0, 0, 0), allow_resize=True)

    ctx = ExploreContext()
    layers = explore(tmp_path / "wkds", ctx)
    assert ctx.meter.requests == 1 + 3  # datasource + one array metadata per mag
    assert [layer.name for layer in layers] == ["color", "segmentation"]
    c, s = layers
    assert c.category == "color" and c.category_source == "datasource"
    assert c.data_format == "zarr3" and c.element_class == "uint8" and c.num_channels == 1
    assert c.bounding_box.top_left == (0, 0, 0) and c.bounding_box.size == (100, 80, 40)
    assert c.voxel_size == (11.2, 11.2, 25.0) and c.unit == "nanometer"
    assert c.format_name == "webknossos" and c.dataset_name == "wkds"
    assert c.source_uri == parse_uri(str(tmp_path / "wkds")).url
    assert [m.mag for m in c.mags] == [(1, 1, 1), (2, 2, 1)]
    assert [m.path.url for m in c.mags] == [parse_uri(str(tmp_path / "wkds" / "color" / p)).url for p in ("1", "2-2-1")]
    assert c.mags[0].axis_order == {"c": 0, "x": 1, "y": 2, "z": 3}
    assert isinstance(c.mags[0].array_meta, wz.ZarrArrayMeta) and c.mags[0].array_meta.sharding is not None
    assert c.largest_segment_id is None
    assert s.category == "segmentation" and s.largest_segment_id == 8
    assert s.data_format == "zarr" and s.element_class == "uint32"
    # the arrays read back as written (c, x, y, z)
    np.testing.assert_array_equal(read_level(c)[0, :100, :80, :40], color)
    np.testing.assert_array_equal(read_level(c, 1)[0, :50, :40, :40], color[::2, ::2, :])
    np.testing.assert_array_equal(read_level(s)[0, :100, :80, :40], seg)


def _datasource(path: Path, layers: list[dict[str, Any]], scale: Any = None, name: str | None = "ds") -> None:
    path.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "scale": scale if scale is not None else {"factor": [4, 4, 40], "unit": "nanometer"},
        "dataLayers": layers,
    }
    if name is not None:
        doc["id"] = {"name": name, "team": ""}
    (path / "datasource-properties.json").write_text(json.dumps(doc))


def _layer(name: str, fmt: str, mags: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "category": "color",
        "dataFormat": fmt,
        "elementClass": "uint8",
        "boundingBox": {"topLeft": [0, 0, 0], "width": 16, "height": 16, "depth": 8},
        "mags": mags,
        **extra,
    }


def _array(path: Path, shape: tuple[int, ...], zarr_format: int = 3, dtype: str = "uint8", **kw: Any) -> None:
    arr = zarr.create_array(str(path), shape=shape, chunks=tuple(min(8, s) for s in shape), dtype=dtype, zarr_format=zarr_format, **kw)
    arr[...] = 1


def test_mags_without_paths_and_fallback_literal(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    _array(root / "color" / "1", (1, 16, 16, 8))
    _array(root / "color" / "2-2-1", (1, 8, 8, 8))
    _array(root / "color" / "4-4-4", (1, 4, 4, 2))  # long form of an isotropic mag
    _datasource(root, [_layer("color", "zarr3", [{"mag": [1, 1, 1]}, {"mag": [2, 2, 1]}, {"mag": [4, 4, 4]}])])
    (layer,) = explore(root)
    assert [m.path.name for m in layer.mags] == ["1", "2-2-1", "4-4-4"]
    # no axisOrder given: WEBKNOSSOS's default, (c,) x, y, z counted from the end
    assert layer.mags[0].axis_order == {"c": 0, "x": 1, "y": 2, "z": 3}


def test_mag_paths_relative_and_absolute(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    elsewhere = tmp_path / "elsewhere" / "level2"
    _array(root / "data" / "s0", (8, 16, 16), zarr_format=2)
    _array(elsewhere, (8, 8, 8), zarr_format=2)
    mags = [
        {"mag": [1, 1, 1], "path": "./data/s0", "axisOrder": {"x": 2, "y": 1, "z": 0}},
        {"mag": "2-2-1", "path": parse_uri(str(elsewhere)).url, "axisOrder": {"x": 2, "y": 1, "z": 0}, "channelIndex": 0},
    ]
    _datasource(root, [_layer("em", "zarr", mags)])
    (layer,) = explore(root)
    assert layer.mags[0].path.url == parse_uri(str(root / "data" / "s0")).url
    assert layer.mags[1].path.url == parse_uri(str(elsewhere)).url
    assert layer.mags[1].mag == (2, 2, 1) and layer.mags[1].channel_index == 0
    assert layer.mags[0].axis_order == {"x": 2, "y": 1, "z": 0}
    assert layer.data_format == "zarr"


def test_scale_forms_units_and_layer_fields(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    _array(root / "seg" / "1", (16, 16, 8), dtype="uint64", dimension_names=["x", "y", "z"])
    layer = _layer(
        "seg", "zarr3", [{"mag": 1}],
        category="segmentation", elementClass="uint64", largestSegmentId=12345, numChannels=1,
        boundingBox={"topLeft": [2, 3, 4], "width": 14, "height": 13, "depth": 4},
        defaultViewConfiguration={"alpha": 50},
        coordinateTransformations=[{"type": "affine", "matrix": [[1, 0, 0, 5], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}],
    )
    _datasource(root, [layer], scale={"factor": [0.5, 0.5, 1.0], "unit": "µm"}, name=None)
    (spec,) = explore(root)
    assert spec.unit == "micrometer" and spec.voxel_size == (0.5, 0.5, 1.0)
    assert spec.category == "segmentation" and spec.largest_segment_id == 12345
    assert spec.bounding_box.top_left == (2, 3, 4) and spec.bounding_box.size == (14, 13, 4)
    assert spec.default_view_configuration == {"alpha": 50}
    assert spec.coordinate_transformations == layer["coordinateTransformations"]
    assert spec.dataset_name == "ds"  # no id: the folder name
    assert spec.mags[0].axis_order == {"x": 0, "y": 1, "z": 2}  # from dimension_names
    # legacy scale: a plain list in nanometers
    _datasource(root, [layer], scale=[11, 11, 30])
    (spec,) = explore(root)
    assert spec.unit == "nanometer" and spec.voxel_size == (11.0, 11.0, 30.0)


def test_additional_axes(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    _array(root / "color" / "1", (5, 1, 16, 16, 8))
    layer = _layer(
        "color", "zarr3", [{"mag": [1, 1, 1], "axisOrder": {"c": 1, "x": 2, "y": 3, "z": 4}}],
        additionalAxes=[{"name": "t", "bounds": [0, 5], "index": 0}],
    )
    _datasource(root, [layer])
    (spec,) = explore(root)
    assert [a.to_json() for a in spec.additional_axes] == [{"name": "t", "bounds": [0, 5], "index": 0}]


def test_other_formats_described_or_skipped(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    _array(root / "color" / "1", (1, 16, 16, 8))
    layers = [
        _layer("color", "zarr3", [{"mag": [1, 1, 1]}]),
        _layer("old", "wkw", [{"mag": [1, 1, 1]}]),
        _layer("n5layer", "n5", [{"mag": [1, 1, 1], "path": "n5data/s0"}]),
        _layer("n5nopath", "n5", [{"mag": [1, 1, 1]}]),
        _layer("pre", "neuroglancerPrecomputed", [{"mag": [1, 1, 1], "path": "gs://bucket/seg/8_8_8"}]),
    ]
    _datasource(root, layers)
    ctx = ExploreContext()
    ctx.notes = []  # type: ignore[attr-defined]
    specs = explore(root, ctx)
    assert [s.name for s in specs] == ["color", "n5layer", "pre"]
    n5, pre = specs[1], specs[2]
    assert n5.data_format == "n5" and n5.mags[0].array_meta is None  # no attributes.json there
    assert n5.mags[0].path.url == parse_uri(str(root / "n5data" / "s0")).url
    assert pre.data_format == "neuroglancerPrecomputed" and pre.mags[0].path.url == "gs://bucket/seg/8_8_8"
    assert len(ctx.notes) == 2  # type: ignore[attr-defined]
    # the datasource, one zarr.json and the n5 mag's attributes.json (its rank decides how
    # axisOrder counts), nothing for precomputed
    assert ctx.meter.requests == 3


def test_only_wkw_layers_is_unsupported(tmp_path: Path) -> None:
    _datasource(tmp_path / "ds", [_layer("old", "wkw", [{"mag": [1, 1, 1]}])])
    with pytest.raises(UnsupportedDataError, match="no layer"):
        explore(tmp_path / "ds")


def test_missing_mag_array_is_malformed(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    _array(root / "color" / "1", (1, 16, 16, 8))
    _datasource(root, [_layer("color", "zarr3", [{"mag": [1, 1, 1]}, {"mag": [2, 2, 1]}])])
    with pytest.raises(MalformedMetadataError, match=r"color/2-2-1"):
        explore(root)


def test_element_class_mismatch_is_malformed(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    _array(root / "color" / "1", (1, 16, 16, 8), dtype="uint16")
    _datasource(root, [_layer("color", "zarr3", [{"mag": [1, 1, 1]}])])
    with pytest.raises(MalformedMetadataError, match="elementClass"):
        explore(root)


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (lambda d: d.update(dataLayers="x"), MalformedMetadataError, "dataLayers"),
        (lambda d: d["dataLayers"][0].update(category="weird"), MalformedMetadataError, "category"),
        (lambda d: d["dataLayers"][0].update(elementClass="int24"), UnsupportedDataError, "int24"),
        (lambda d: d["dataLayers"][0].update(boundingBox={"topLeft": [0, 0]}), MalformedMetadataError, "boundingBox"),
        (lambda d: d["dataLayers"][0].update(mags=[{"mag": "big"}]), MalformedMetadataError, "mag"),
        (lambda d: d.update(scale={"factor": [1, 1], "unit": "nanometer"}), MalformedMetadataError, "scale"),
        (lambda d: d.update(scale={"factor": [1, 1, 1], "unit": "furlong"}), UnsupportedDataError, "furlong"),
    ],
)
def test_malformed_datasource(tmp_path: Path, mutate: Any, error: type[Exception], match: str) -> None:
    root = tmp_path / "ds"
    _array(root / "color" / "1", (1, 16, 16, 8))
    _datasource(root, [_layer("color", "zarr3", [{"mag": [1, 1, 1]}])])
    doc = json.loads((root / "datasource-properties.json").read_text())
    mutate(doc)
    (root / "datasource-properties.json").write_text(json.dumps(doc))
    with pytest.raises(error, match=match):
        explore(root)


def test_malformed_json_and_not_this_format(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "datasource-properties.json").write_text('{"dataLayers": [')
    with pytest.raises(MalformedMetadataError, match="malformed JSON"):
        explore(tmp_path / "a")
    (tmp_path / "b").mkdir()
    with pytest.raises(NotThisFormat):
        explore(tmp_path / "b")


def test_mag_helpers() -> None:
    assert wkf.parse_mag([2, 2, 1]) == (2, 2, 1)
    assert wkf.parse_mag(4) == (4, 4, 4)
    assert wkf.parse_mag("2-2-1") == (2, 2, 1)
    assert wkf.parse_mag("8") == (8, 8, 8)
    assert wkf.parse_mag([0, 1, 1]) is None and wkf.parse_mag("x") is None
    assert wkf.mag_literal((2, 2, 2)) == "2" and wkf.mag_literal((2, 2, 1)) == "2-2-1"
    assert wkf.mag_literal((2, 2, 2), allow_scalar=False) == "2-2-2"


def test_explorer_registry() -> None:
    assert [e.name for e in wkf.EXPLORERS] == ["webknossos"]
    assert wkf.WEBKNOSSOS_EXPLORER.probe_files == ("datasource-properties.json",)
    assert "webknossos" in wkf.WEBKNOSSOS_EXPLORER.hints


def test_layers_from_datasource_without_io(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    _array(root / "color" / "1", (1, 16, 16, 8))
    _array(root / "color" / "2-2-1", (1, 8, 8, 8))
    doc = {
        "id": {"name": "mine", "team": ""},
        "scale": {"factor": [2, 2, 5], "unit": "nanometer"},
        "dataLayers": [
            _layer("color", "zarr3", [{"mag": [2, 2, 1]}, {"mag": [1, 1, 1], "path": parse_uri(str(root / "color" / "1")).url}]),
            _layer("old", "wkw", [{"mag": [1, 1, 1]}]),
        ],
    }
    (layer,) = wkf.layers_from_datasource(doc, parse_uri(str(root)))
    assert layer.name == "color" and layer.dataset_name == "mine" and layer.voxel_size == (2.0, 2.0, 5.0)
    assert [m.mag for m in layer.mags] == [(1, 1, 1), (2, 2, 1)]
    assert [m.path.name for m in layer.mags] == ["1", "2-2-1"]
    assert all(m.array_meta is None for m in layer.mags)
    assert layer.mags[1].axis_order == {"c": 0, "x": 1, "y": 2, "z": 3}
    # the reader fetches the level metadata itself
    reader = run_sync(wz.open_reader(storage_for(layer.mags[1].path), layer.mags[1]))
    assert reader.shape == (1, 8, 8, 8)
    with pytest.raises(MalformedMetadataError):
        wkf.layers_from_datasource({"dataLayers": "x", "scale": [1, 1, 1]}, parse_uri(str(root)))
