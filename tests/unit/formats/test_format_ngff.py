"""OME-NGFF 0.4 / OME-Zarr 0.5 exploration.

Images come from ome-zarr-py (an independent writer) where it can express the case, and
otherwise from hand-written metadata over arrays written by zarr-python.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from ome_zarr.format import FormatV04, FormatV05
from ome_zarr.io import parse_url
from ome_zarr.writer import write_image, write_labels

from tests.support.chunks import read_chunks
from wk_widget.errors import MalformedMetadataError, UnsupportedDataError
from wk_widget.formats import ngff, parse_uri
from wk_widget.formats import zarr as wz
from wk_widget.formats.base import ExploreContext, LayerSpec, NotThisFormat
from wk_widget.storage import run_sync, storage_for

EXPLORER = {"0.4": ngff.NGFF_V04_EXPLORER, "0.5": ngff.NGFF_V05_EXPLORER}
ZARR_FORMAT = {"0.4": 2, "0.5": 3}


def explore(version: str, path: Path, ctx: ExploreContext | None = None) -> list[LayerSpec]:
    return run_sync(EXPLORER[version].explore(ctx or ExploreContext(), parse_uri(str(path))))


def read_level(layer: LayerSpec, index: int = 0) -> np.ndarray:
    mag = layer.mags[index]
    return read_chunks(run_sync(wz.open_reader(storage_for(mag.path), mag))).array


def write_ngff(
    root: Path,
    levels: list[np.ndarray],
    axes: list[Any],
    scales: list[list[float]],
    *,
    version: str = "0.4",
    translations: list[list[float]] | None = None,
    name: str | None = "img",
    omero: dict[str, Any] | None = None,
    ms_transforms: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    chunks: int = 16,
) -> None:
    """Hand-written NGFF image: arrays by zarr-python, metadata as given."""
    fmt = ZARR_FORMAT[version]
    datasets = []
    for i, (level, scale) in enumerate(zip(levels, scales, strict=True)):
        arr = zarr.create_array(
            str(root / f"s{i}"), shape=level.shape, chunks=tuple(min(chunks, s) for s in level.shape),
            dtype=level.dtype, zarr_format=fmt,
        )
        arr[...] = level
        transforms: list[dict[str, Any]] = [{"type": "scale", "scale": scale}]
        if translations is not None:
            transforms.append({"type": "translation", "translation": translations[i]})
        datasets.append({"path": f"s{i}", "coordinateTransformations": transforms})
    ms: dict[str, Any] = {"axes": axes, "datasets": datasets}
    if name is not None:
        ms["name"] = name
    if ms_transforms is not None:
        ms["coordinateTransformations"] = ms_transforms
    attrs: dict[str, Any] = {"multiscales": [ms], **(extra or {})}
    if omero is not None:
        attrs["omero"] = omero
    group = zarr.open_group(str(root), mode="a", zarr_format=fmt)
    if version == "0.4":
        ms["version"] = "0.4"
        group.attrs.update(attrs)
    else:
        group.attrs["ome"] = {"version": "0.5", **attrs}


def ax(name: str, kind: str, unit: str | None = None) -> dict[str, Any]:
    d = {"name": name, "type": kind}
    if unit is not None:
        d["unit"] = unit
    return d


ZYX = [ax("z", "space"), ax("y", "space"), ax("x", "space")]


def pyramid(shape: tuple[int, ...], n: int, dtype: str = "uint8", factors: tuple[int, ...] | None = None) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 200, shape).astype(dtype)
    factors = factors or (1,) * (len(shape) - 2) + (2, 2)
    levels = [base]
    for _ in range(n - 1):
        levels.append(levels[-1][tuple(slice(None, None, f) for f in factors)])
    return levels


# --------------------------------------------------------------------------------------
# ome-zarr-py written images (0.4 and 0.5) with labels
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_image_with_channels_and_labels(tmp_path: Path, version: str) -> None:
    fmt = FormatV04() if version == "0.4" else FormatV05()
    data = np.random.default_rng(0).integers(0, 255, (2, 16, 64, 48)).astype(np.uint8)
    path = tmp_path / "sample.ome.zarr"
    store = parse_url(str(path), mode="w", fmt=fmt).store
    root = zarr.group(store=store, zarr_format=ZARR_FORMAT[version])
    write_image(data, root, axes="czyx", fmt=fmt, scale_factors=(2, 4), name="sample")
    write_labels((data[0] > 128).astype(np.uint32), root, name="cells", axes="zyx", fmt=fmt, scale_factors=(2, 4))
    label_group = zarr.open_group(str(path / "labels" / "cells"), mode="r")
    label_attrs = label_group.attrs.asdict()
    n_label_levels = len((label_attrs.get("ome") or label_attrs)["multiscales"][0]["datasets"])
    ctx = ExploreContext()
    layers = explore(version, path, ctx)
    # root + 3 levels + labels group + label image + its levels, nothing fetched twice
    assert ctx.meter.requests == 1 + 3 + 1 + 1 + n_label_levels
    assert [layer.name for layer in layers] == ["sample_c0", "sample_c1", "labels-cells"]
    for ch, layer in enumerate(layers[:2]):
        assert layer.category == "color" and layer.category_source == "default"
        assert layer.data_format == ("zarr" if version == "0.4" else "zarr3")
        assert layer.format_name == f"ngff-{version}"
        assert layer.element_class == "uint8"
        assert layer.bounding_box.top_left == (0, 0, 0) and layer.bounding_box.size == (48, 64, 16)
        assert [m.mag for m in layer.mags] == [(1, 1, 1), (2, 2, 1), (4, 4, 1)]
        assert [m.path.name for m in layer.mags] == ["s0", "s1", "s2"]
        assert all(m.axis_order == {"c": 0, "z": 1, "y": 2, "x": 3} for m in layer.mags)
        assert all(m.channel_index == ch for m in layer.mags)
        assert layer.num_channels == 1
        assert layer.voxel_size == (1.0, 1.0, 1.0) and layer.unit == "nanometer"
        assert layer.additional_axes == [] and layer.coordinate_transformations is None
        assert layer.dataset_name == "sample" and layer.largest_segment_id is None
        assert layer.source_uri == parse_uri(str(path)).url
    labels = layers[2]
    assert labels.category == "segmentation" and labels.category_source == "ome-labels"
    assert labels.element_class == "uint32" and labels.bounding_box.size == (48, 64, 16)
    assert [m.mag for m in labels.mags] == [(2**i, 2**i, 1) for i in range(n_label_levels)]
    assert labels.mags[0].path.url.endswith("labels/cells/s0") and labels.mags[0].channel_index is None
    assert labels.mags[0].axis_order == {"z": 0, "y": 1, "x": 2}
    np.testing.assert_array_equal(read_level(layers[0]), data)
    np.testing.assert_array_equal(read_level(labels), (data[0] > 128).astype(np.uint32))


# --------------------------------------------------------------------------------------
# hand-written metadata for the cases the spec allows and writers rarely produce
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize(
    ("unit", "expected"),
    [("micrometer", "micrometer"), ("um", "micrometer"), ("µm", "micrometer"), ("nm", "nanometer"),
     ("millimeter", "millimeter"), ("angstrom", "angstrom"), (None, "nanometer")],
)
def test_units_and_voxel_size(tmp_path: Path, version: str, unit: str | None, expected: str) -> None:
    axes = [ax("z", "space", unit), ax("y", "space", unit), ax("x", "space", unit)]
    write_ngff(tmp_path / "i", pyramid((8, 32, 32), 2), axes, [[2.0, 0.5, 0.5], [2.0, 1.0, 1.0]], version=version)
    (layer,) = explore(version, tmp_path / "i")
    assert layer.unit == expected
    assert layer.voxel_size == (0.5, 0.5, 2.0)
    assert [m.mag for m in layer.mags] == [(1, 1, 1), (2, 2, 1)]


def test_mixed_units_use_the_smallest(tmp_path: Path) -> None:
    axes = [ax("z", "space", "micrometer"), ax("y", "space", "nm"), ax("x", "space", "nanometer")]
    write_ngff(tmp_path / "i", pyramid((8, 32, 32), 1), axes, [[0.1, 4.0, 4.0]])
    (layer,) = explore("0.4", tmp_path / "i")
    assert layer.unit == "nanometer" and layer.voxel_size == (4.0, 4.0, 100.0)


def test_unknown_unit_is_an_error(tmp_path: Path) -> None:
    axes = [ax("z", "space", "parsec-ish"), ax("y", "space"), ax("x", "space")]
    write_ngff(tmp_path / "i", pyramid((8, 32, 32), 1), axes, [[1.0, 1.0, 1.0]])
    with pytest.raises(UnsupportedDataError, match="parsec-ish"):
        explore("0.4", tmp_path / "i")


def test_multiscale_scale_multiplies_and_mags_are_sorted(tmp_path: Path) -> None:
    levels = pyramid((8, 32, 32), 3, factors=(2, 2, 2))
    write_ngff(
        tmp_path / "i", levels, ZYX, [[1, 1, 1], [2, 2, 2], [4, 4, 4]],
        ms_transforms=[{"type": "scale", "scale": [3.0, 1.5, 1.5]}],
    )
    (layer,) = explore("0.4", tmp_path / "i")
    assert layer.voxel_size == (1.5, 1.5, 3.0)
    assert [m.mag for m in layer.mags] == [(1, 1, 1), (2, 2, 2), (4, 4, 4)]
    assert layer.bounding_box.size == (32, 32, 8)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_time_axis_becomes_additional_axis(tmp_path: Path, version: str) -> None:
    axes = [ax("t", "time", "second"), ax("z", "space"), ax("y", "space"), ax("x", "space")]
    write_ngff(tmp_path / "i", pyramid((5, 4, 16, 16), 2), axes, [[1, 1, 1, 1], [1, 1, 2, 2]], version=version)
    (layer,) = explore(version, tmp_path / "i")
    assert [a.to_json() for a in layer.additional_axes] == [{"name": "t", "bounds": [0, 5], "index": 0}]
    assert layer.mags[0].axis_order == {"z": 1, "y": 2, "x": 3}
    assert layer.bounding_box.size == (16, 16, 4)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_2d_image(tmp_path: Path, version: str) -> None:
    axes = [ax("y", "space", "micrometer"), ax("x", "space", "micrometer")]
    write_ngff(tmp_path / "i", pyramid((40, 30), 2), axes, [[0.25, 0.25], [0.5, 0.5]], version=version)
    (layer,) = explore(version, tmp_path / "i")
    assert layer.bounding_box.size == (30, 40, 1)
    assert [m.mag for m in layer.mags] == [(1, 1, 1), (2, 2, 1)]
    assert layer.mags[0].axis_order == {"y": 0, "x": 1}
    assert layer.voxel_size == (0.25, 0.25, 1.0) and layer.unit == "micrometer"


def test_omero_channels_names_and_view_configuration(tmp_path: Path) -> None:
    axes = [ax("c", "channel"), *ZYX]
    omero = {
        "channels": [
            {"label": "DAPI (405 nm)", "color": "0000FF", "window": {"start": 10, "end": 1500, "min": 0, "max": 65535},
             "active": True, "inverted": False},
            {"label": "GFP/green", "color": "#00ff00", "window": {"start": 0.5, "end": 99.5}, "active": False},
            {"label": "%%%", "color": "nonsense"},
        ]
    }
    write_ngff(tmp_path / "i", pyramid((3, 4, 16, 16), 1, dtype="uint16"), axes, [[1, 1, 1, 1]], omero=omero)
    layers = explore("0.4", tmp_path / "i")
    assert [layer.name for layer in layers] == ["DAPI405nm", "GFPgreen", "img_c2"]
    assert layers[0].default_view_configuration == {
        "color": [0, 0, 255], "intensityRange": [10, 1500], "min": 0, "max": 65535,
        "isInverted": False, "isDisabled": False,
    }
    assert layers[1].default_view_configuration == {"color": [0, 255, 0], "intensityRange": [0.5, 99.5], "isDisabled": True}
    assert layers[2].default_view_configuration is None
    assert [layer.mags[0].channel_index for layer in layers] == [0, 1, 2]
    assert all(layer.mags[0].axis_order == {"c": 0, "z": 1, "y": 2, "x": 3} for layer in layers)


def test_duplicate_channel_labels_are_disambiguated(tmp_path: Path) -> None:
    axes = [ax("c", "channel"), *ZYX]
    omero = {"channels": [{"label": "ch"}, {"label": "ch"}]}
    write_ngff(tmp_path / "i", pyramid((2, 4, 16, 16), 1), axes, [[1, 1, 1, 1]], omero=omero)
    assert [layer.name for layer in explore("0.4", tmp_path / "i")] == ["ch_c0", "ch_c1"]


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_translation_becomes_affine_coordinate_transformation(tmp_path: Path, version: str) -> None:
    axes = [ax("z", "space", "micrometer"), ax("y", "space", "micrometer"), ax("x", "space", "micrometer")]
    write_ngff(
        tmp_path / "i", pyramid((8, 32, 32), 2), axes, [[2.0, 0.5, 0.5], [2.0, 1.0, 1.0]], version=version,
        translations=[[20.0, 5.0, 2.5], [20.0, 5.25, 2.75]],
        ms_transforms=[{"type": "translation", "translation": [0.0, 0.0, 1.0]}],
    )
    (layer,) = explore(version, tmp_path / "i")
    assert layer.bounding_box.top_left == (0, 0, 0)
    # x: (2.5 + 1.0) / 0.5 = 7 voxels, y: 5.0 / 0.5 = 10, z: 20 / 2 = 10
    assert layer.coordinate_transformations == [
        {"type": "affine", "matrix": [[1.0, 0.0, 0.0, 7.0], [0.0, 1.0, 0.0, 10.0], [0.0, 0.0, 1.0, 10.0], [0.0, 0.0, 0.0, 1.0]]}
    ]


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_mag_not_power_of_two(tmp_path: Path, version: str) -> None:
    write_ngff(tmp_path / "i", pyramid((8, 30, 30), 2, factors=(1, 3, 3)), ZYX, [[1, 1, 1], [1, 3, 3]], version=version)
    with pytest.raises(UnsupportedDataError, match="not a power of two") as info:
        explore(version, tmp_path / "i")
    assert "s1" in str(info.value)


def test_float16_is_unsupported(tmp_path: Path) -> None:
    write_ngff(tmp_path / "i", [np.zeros((4, 8, 8), np.float16)], ZYX, [[1, 1, 1]])
    with pytest.raises(UnsupportedDataError, match="float16"):
        explore("0.4", tmp_path / "i")


def test_name_heuristic_and_dataset_name(tmp_path: Path) -> None:
    write_ngff(tmp_path / "my_data.zarr", pyramid((4, 8, 8), 1, dtype="uint32"), ZYX, [[1, 1, 1]], name="segmentation")
    (layer,) = explore("0.4", tmp_path / "my_data.zarr")
    assert layer.name == "segmentation" and layer.dataset_name == "segmentation"
    assert layer.category == "segmentation" and layer.category_source == "name"
    write_ngff(tmp_path / "noname.ome.zarr", pyramid((4, 8, 8), 1), ZYX, [[1, 1, 1]], name=None)
    (layer,) = explore("0.4", tmp_path / "noname.ome.zarr")
    assert layer.name == "noname" and layer.dataset_name == "noname.ome.zarr"


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_labels_inherit_parent_unit_and_are_segmentations(tmp_path: Path, version: str) -> None:
    um = [ax("z", "space", "micrometer"), ax("y", "space", "micrometer"), ax("x", "space", "micrometer")]
    root = tmp_path / "img.zarr"
    write_ngff(root, pyramid((4, 16, 16), 2), um, [[1.0, 0.5, 0.5], [1.0, 1.0, 1.0]], version=version)
    write_ngff(root / "labels" / "nuclei", pyramid((4, 16, 16), 2, dtype="uint16"), ZYX,
               [[1.0, 0.5, 0.5], [1.0, 1.0, 1.0]], version=version, name="nuclei")
    write_ngff(root / "labels" / "cells", pyramid((4, 16, 16), 1, dtype="uint8"), ZYX, [[1.0, 0.5, 0.5]],
               version=version, name="cells", extra={"image-label": {"version": version, "largestSegmentId": 17}})
    group = zarr.open_group(str(root / "labels"), mode="a", zarr_format=ZARR_FORMAT[version])
    if version == "0.4":
        group.attrs["labels"] = ["nuclei", "cells"]
    else:
        group.attrs["ome"] = {"version": "0.5", "labels": ["nuclei", "cells"]}
    ctx = ExploreContext()
    layers = explore(version, root, ctx)
    assert [layer.name for layer in layers] == ["img", "labels-nuclei", "labels-cells"]
    image, nuclei, cells = layers
    assert image.unit == nuclei.unit == cells.unit == "micrometer"
    assert image.voxel_size == nuclei.voxel_size == (0.5, 0.5, 1.0)
    for layer in (nuclei, cells):
        assert layer.category == "segmentation" and layer.category_source == "ome-labels"
        assert layer.dataset_name == "img"
    assert nuclei.largest_segment_id is None and cells.largest_segment_id == 17
    assert [m.mag for m in nuclei.mags] == [(1, 1, 1), (2, 2, 1)]
    assert nuclei.element_class == "uint16"
    # root, 2 levels, labels group, 2 label images, 3 label levels
    assert ctx.meter.requests == 9


def test_broken_label_is_skipped_not_fatal(tmp_path: Path) -> None:
    root = tmp_path / "img.zarr"
    write_ngff(root, pyramid((4, 16, 16), 1), ZYX, [[1, 1, 1]])
    zarr.open_group(str(root / "labels"), mode="a", zarr_format=2).attrs["labels"] = ["missing"]
    ctx = ExploreContext()
    ctx.notes = []  # type: ignore[attr-defined]
    layers = explore("0.4", root, ctx)
    assert [layer.name for layer in layers] == ["img"]
    assert any("missing" in note for note in ctx.notes)  # type: ignore[attr-defined]


def test_ngff_03_string_axes_and_missing_transforms(tmp_path: Path) -> None:
    levels = pyramid((4, 32, 32), 3)
    write_ngff(tmp_path / "i", levels, ["z", "y", "x"], [[1, 1, 1]] * 3)
    attrs_path = tmp_path / "i" / ".zattrs"
    attrs = json.loads(attrs_path.read_text())
    for ds in attrs["multiscales"][0]["datasets"]:
        del ds["coordinateTransformations"]
    attrs["multiscales"][0]["version"] = "0.3"
    attrs_path.write_text(json.dumps(attrs))
    (layer,) = explore("0.4", tmp_path / "i")
    assert [m.mag for m in layer.mags] == [(1, 1, 1), (2, 2, 1), (4, 4, 1)]
    assert layer.mags[0].axis_order == {"z": 0, "y": 1, "x": 2}
    assert layer.format_name == "ngff-0.3"


def test_missing_x_axis_is_malformed(tmp_path: Path) -> None:
    write_ngff(tmp_path / "i", pyramid((4, 8, 8), 1), [ax("z", "space"), ax("y", "space"), ax("q", "space")], [[1, 1, 1]])
    with pytest.raises(MalformedMetadataError, match="x and y"):
        explore("0.4", tmp_path / "i")


def test_missing_level_is_malformed(tmp_path: Path) -> None:
    write_ngff(tmp_path / "i", pyramid((4, 8, 8), 2), ZYX, [[1, 1, 1], [1, 2, 2]])
    (tmp_path / "i" / "s1" / ".zarray").unlink()
    with pytest.raises(MalformedMetadataError, match="s1"):
        explore("0.4", tmp_path / "i")


def test_axes_and_array_rank_disagree(tmp_path: Path) -> None:
    write_ngff(tmp_path / "i", pyramid((2, 4, 8, 8), 1), ZYX, [[1, 1, 1, 1]])
    with pytest.raises(MalformedMetadataError, match="dimensions"):
        explore("0.4", tmp_path / "i")


def test_malformed_json(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".zattrs").write_text('{"multiscales": [')
    with pytest.raises(MalformedMetadataError, match="malformed JSON"):
        explore("0.4", tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "zarr.json").write_text("{nope")
    with pytest.raises(MalformedMetadataError, match="malformed JSON"):
        explore("0.5", tmp_path / "b")


def test_not_this_format(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotThisFormat):
        explore("0.4", tmp_path / "empty")
    with pytest.raises(NotThisFormat):
        explore("0.5", tmp_path / "empty")
    zarr.open_group(str(tmp_path / "g2"), mode="w", zarr_format=2).attrs["foo"] = 1
    with pytest.raises(NotThisFormat, match="multiscales"):
        explore("0.4", tmp_path / "g2")
    zarr.open_group(str(tmp_path / "plate"), mode="w", zarr_format=2).attrs["plate"] = {"rows": []}
    with pytest.raises(NotThisFormat, match="plate"):
        explore("0.4", tmp_path / "plate")
    zarr.open_group(str(tmp_path / "g3"), mode="w", zarr_format=3)
    with pytest.raises(NotThisFormat, match=r"attributes\.ome"):
        explore("0.5", tmp_path / "g3")
    zarr.create_array(str(tmp_path / "arr"), shape=(4, 4), chunks=(2, 2), dtype="uint8")
    with pytest.raises(NotThisFormat, match="array"):
        explore("0.5", tmp_path / "arr")


def test_explorer_registry() -> None:
    assert [e.name for e in ngff.EXPLORERS] == ["ngff-0.4", "ngff-0.5"]
    assert ngff.NGFF_V04_EXPLORER.probe_files == (".zattrs",)
    assert ngff.NGFF_V05_EXPLORER.probe_files == ("zarr.json",)


def test_view_configuration_from_omero() -> None:
    assert ngff.view_configuration_from_omero({"color": "FFFFFF"}) == {"color": [255, 255, 255]}
    assert ngff.view_configuration_from_omero({"color": "FF000080"}) == {"color": [255, 0, 0]}
    assert ngff.view_configuration_from_omero({}) is None
    assert ngff.view_configuration_from_omero("x") is None


@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize("with_series_list", [True, False])
def test_bioformats2raw_container(tmp_path: Path, version: str, with_series_list: bool) -> None:
    root = tmp_path / "converted.zarr"
    fmt = ZARR_FORMAT[version]
    write_ngff(root / "0", pyramid((4, 16, 16), 1), ZYX, [[1, 1, 1]], version=version, name="first")
    write_ngff(root / "1", pyramid((4, 8, 8), 1), ZYX, [[1, 1, 1]], version=version, name="second")
    top = zarr.open_group(str(root), mode="a", zarr_format=fmt)
    meta = zarr.open_group(str(root / "OME"), mode="a", zarr_format=fmt)
    if version == "0.4":
        top.attrs["bioformats2raw.layout"] = 3
        if with_series_list:
            meta.attrs["series"] = ["0", "1"]
    else:
        top.attrs["ome"] = {"version": "0.5", "bioformats2raw.layout": 3}
        if with_series_list:
            meta.attrs["ome"] = {"version": "0.5", "series": ["0", "1"]}
    layers = explore(version, root)
    assert [layer.name for layer in layers] == (["first", "second"] if with_series_list else ["first"])
    assert layers[0].mags[0].path.url == parse_uri(str(root / "0" / "s0")).url


def test_segmentation_by_image_name_with_channel_labels(tmp_path: Path) -> None:
    axes = [ax("c", "channel"), *ZYX]
    write_ngff(tmp_path / "i", pyramid((1, 4, 16, 16), 1, dtype="uint16"), axes, [[1, 1, 1, 1]],
               name="Segmentation", omero={"channels": [{"label": "ch0"}]})
    (layer,) = explore("0.4", tmp_path / "i")
    assert layer.name == "ch0" and layer.category == "segmentation" and layer.category_source == "name"
