"""Assembling layers into one dataset: common voxel size, power-of-two rescaling, names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import wk_widget as wk
from wk_widget.dataset import Dataset
from wk_widget.errors import IncompatibleLayersError, MalformedMetadataError
from wk_widget.formats import parse_uri
from wk_widget.formats.base import BoundingBox, LayerSpec, MagSpec


def spec(
    name: str,
    voxel_size: tuple[float, float, float] | None,
    unit: str | None = "nanometer",
    mags: tuple[tuple[int, int, int], ...] = ((1, 1, 1), (2, 2, 1)),
    size: tuple[int, int, int] = (100, 80, 20),
    category: str = "color",
    credentials: object = None,
    base: str = "https://example.org",
) -> LayerSpec:
    root = parse_uri(f"{base}/{name}")
    return LayerSpec(
        name=name,
        category=category,  # type: ignore[arg-type]
        data_format="zarr",
        element_class="uint8",
        bounding_box=BoundingBox((0, 0, 0), size),
        mags=[MagSpec(m, root.join(f"s{i}"), {"x": 2, "y": 1, "z": 0}) for i, m in enumerate(mags)],
        voxel_size=voxel_size,
        unit=unit,
        source_uri=root.url,
        credentials=credentials,  # type: ignore[arg-type]
    )


def test_finest_voxel_size_and_power_of_two_rescaling() -> None:
    ds = Dataset()
    ds._add_specs([spec("fine", (4, 4, 40)), spec("coarse", (8, 8, 40), size=(50, 40, 20))])
    assert ds.voxel_size == (4.0, 4.0, 40.0) and ds.unit == "nanometer"
    coarse = ds.layers["coarse"]
    assert [m.mag for m in coarse.mags] == [(2, 2, 1), (4, 4, 1)]
    assert coarse.bounding_box == BoundingBox((0, 0, 0), (100, 80, 20))


def test_adding_a_finer_layer_later_rescales_the_others() -> None:
    ds = Dataset()
    ds._add_specs([spec("coarse", (8, 8, 40))])
    assert [m.mag for m in ds.layers["coarse"].mags] == [(1, 1, 1), (2, 2, 1)]
    ds._add_specs([spec("fine", (4, 4, 20))])
    assert ds.voxel_size == (4.0, 4.0, 20.0)
    assert [m.mag for m in ds.layers["coarse"].mags] == [(2, 2, 2), (4, 4, 2)]
    assert ds.layers["coarse"].bounding_box.size == (200, 160, 40)


def test_units_are_converted_to_one() -> None:
    ds = Dataset()
    ds._add_specs([spec("um", (0.008, 0.008, 0.04), unit="micrometer"), spec("nm", (4, 4, 40))])
    assert ds.unit == "micrometer"
    assert ds.voxel_size == pytest.approx((0.004, 0.004, 0.04))
    assert [m.mag for m in ds.layers["um"].mags] == [(2, 2, 1), (4, 4, 1)]


def test_incompatible_voxel_sizes() -> None:
    ds = Dataset()
    with pytest.raises(IncompatibleLayersError, match="not compatible"):
        ds._add_specs([spec("a", (4, 4, 40)), spec("b", (6, 6, 40))])


def test_user_voxel_size_and_unit() -> None:
    ds = Dataset(voxel_size=(11.24, 11.24, 28), unit="nm")
    ds._add_specs([spec("plain", None)])
    assert ds.voxel_size == (11.24, 11.24, 28.0) and ds.unit == "nanometer"
    ds2 = Dataset()
    ds2._add_specs([spec("a", (4, 4, 40))])
    ds2.unit = "um"  # a unit alone converts the inferred voxel size
    assert ds2.unit == "micrometer" and ds2.voxel_size == pytest.approx((0.004, 0.004, 0.04))
    with pytest.raises(ValueError):
        ds2.unit = "furlong"
    with pytest.raises(ValueError):
        ds2.voxel_size = (1, -1, 1)


def test_unknown_voxel_sizes_default_to_1_nm() -> None:
    ds = Dataset()
    ds._add_specs([spec("plain", None, unit=None)])
    assert ds.voxel_size == (1.0, 1.0, 1.0) and ds.unit == "nanometer"


def test_unique_names_rename_and_category() -> None:
    ds = Dataset()
    ds._add_specs([spec("x", (4, 4, 40)), spec("x", (4, 4, 40)), spec("x", (4, 4, 40))])
    assert list(ds.layers) == ["x", "x_2", "x_3"]
    ds.rename_layer("x_2", "membranes")
    assert list(ds.layers) == ["x", "membranes", "x_3"]
    with pytest.raises(ValueError):
        ds.rename_layer("x", "x_3")
    layer = ds.layers["membranes"]
    layer.category = "segmentation"
    assert layer.category_source == "user"
    doc = ds.to_datasource()
    assert doc["dataLayers"][1]["category"] == "segmentation"
    assert doc["dataLayers"][1]["largestSegmentId"] is None
    with pytest.raises(ValueError):
        layer.category = "mesh"


def test_datasource_has_no_secret() -> None:
    secret = "super-secret-key-0987"
    creds = wk.S3Credentials("AKIAEXAMPLE", secret, endpoint_url="http://127.0.0.1:9")
    ds = Dataset(name="secret-test")
    ds._add_specs([spec("a", (4, 4, 40), credentials=creds, base="s3://bucket/prefix")])
    text = json.dumps(ds.to_datasource())
    assert secret not in text and "AKIAEXAMPLE" not in text
    # the custom endpoint is written path-style, so the exported file opens again
    assert ds.to_datasource()["dataLayers"][0]["mags"][0]["path"] == "s3://127.0.0.1:9/bucket/prefix/a/s0"
    assert secret not in repr(ds) and secret not in repr(ds.layers["a"])


def test_incompatible_error_names_the_added_source() -> None:
    ds = Dataset()
    ds._add_specs([spec("six", (6, 6, 40))])
    with pytest.raises(IncompatibleLayersError) as info:
        ds._add_specs([spec("four", (4, 4, 40))])
    assert str(info.value).startswith("https://example.org/four:")
    assert "https://example.org/six" in str(info.value)
    assert list(ds.layers) == ["six"]  # the dataset is unchanged


def test_bounding_box_is_the_contracts_tuple() -> None:
    ds = Dataset()
    ds._add_specs([spec("a", (4, 4, 40), size=(100, 80, 20))])
    top_left, size = ds.layers["a"].bounding_box
    assert (top_left, size) == ((0, 0, 0), (100, 80, 20))
    assert ds.layers["a"].bounding_box == ((0, 0, 0), (100, 80, 20))


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ('{"dataLayers": [', "malformed JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("\udcff", "not UTF-8"),
    ],
)
def test_open_datasource_reads_a_bad_local_file_as_malformed(tmp_path: Path, text: str, cause: str) -> None:
    path = tmp_path / "datasource-properties.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(MalformedMetadataError, match=cause) as info:
        wk.open_datasource(path)
    assert str(path) in str(info.value)
