"""Every dataset of the third-party corpus (../shared/realworld, see its SOURCES.md), served
by the suite's HTTP server in place, explored and read like a user would, and compared with
the truth arrays made by independent readers (truth/*.npy, dims c, x, y, z)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import wk_widget as wk
from tests.support.realworld import ABSENT_MESSAGE, realworld_root
from tests.support.servers import HttpServer

ROOT = realworld_root()
pytestmark = pytest.mark.skipif(ROOT is None, reason=ABSENT_MESSAGE)


@dataclass
class Box:
    truth: str  # truth/*.npy
    layer: str | None = None  # None: the dataset's only layer
    mag: tuple[int, int, int] = (1, 1, 1)
    offset: tuple[int, int, int] = (0, 0, 0)  # mag-1 voxels
    extra: dict[str, int] = field(default_factory=dict)  # e.g. t=6
    channel: int | None = None  # truth channel of this layer (one layer per channel)
    tolerance: int = 0


@dataclass
class Case:
    path: str  # under data/
    element_class: str
    data_format: str
    layers: list[str]
    category: str = "color"
    num_channels: int = 1
    mags: int = 1
    boxes: list[Box] = field(default_factory=list)
    bbox_size: tuple[int, int, int] | None = None
    zero_box: bool = False  # metadata-only: the whole finest level reads the fill value


CASES: list[Case] = [
    Case("neuroglancer/ome_zarr/simple_0.4", "uint16", "zarr", ["image"], mags=3, bbox_size=(10, 10, 1),
         boxes=[Box("ng_simple_0.4_s0.npy"), Box("ng_simple_0.4_s1.npy", mag=(2, 2, 1))]),
    Case("neuroglancer/ome_zarr/simple_0.5", "uint16", "zarr3", ["image"], mags=3, bbox_size=(10, 10, 1),
         boxes=[Box("ng_simple_0.5_s0.npy"), Box("ng_simple_0.5_s1.npy", mag=(2, 2, 1))]),
    Case("neuroglancer/zarr_v2/data.zarr/3d.chunked.i2", "int16", "zarr", ["3dchunkedi2"],
         boxes=[Box("ng_zarr_v2_3d.chunked.i2.npy")]),
    Case("neuroglancer/zarr_v2/data.zarr/3d.chunked.mixed.i2.F", "int16", "zarr", ["3dchunkedmixedi2F"],
         boxes=[Box("ng_zarr_v2_3d.chunked.mixed.i2.F.npy")]),
    Case("neuroglancer/zarr_v3/data.zarr/3d.chunked.i2", "int16", "zarr3", ["3dchunkedi2"],
         boxes=[Box("ng_zarr_v3_3d.chunked.i2.npy")]),
    Case("neuroglancer/zarr_v3/data.zarr/3d.chunked.compressed.sharded.i2", "int16", "zarr3",
         ["3dchunkedcompressedshardedi2"], boxes=[Box("ng_zarr_v3_3d.chunked.compressed.sharded.i2.npy")]),
    Case("neuroglancer/zarr_v3/data.zarr/3d.chunked.mixed.i2.F", "int16", "zarr3", ["3dchunkedmixedi2F"],
         boxes=[Box("ng_zarr_v3_3d.chunked.mixed.i2.F.npy")]),
    Case("neuroglancer/n5/n5_viewer_multiscale_modern", "uint16", "n5", ["n5_viewer_multiscale_modern"],
         mags=3, bbox_size=(10, 20, 1), zero_box=True),
    Case("neuroglancer/n5/n5_viewer_multiscale_deprecated", "uint16", "n5", ["n5_viewer_multiscale_deprecated"],
         mags=3, bbox_size=(10, 20, 1), zero_box=True),
    Case("neuroglancer/precomputed/one_channel", "uint16", "neuroglancerPrecomputed", ["one_channel"],
         mags=3, bbox_size=(10, 20, 30), boxes=[Box("ng_precomputed_one_channel.npy")]),
    Case("neuroglancer/precomputed/two_channels", "uint16", "neuroglancerPrecomputed", ["two_channels"],
         num_channels=2, mags=3, bbox_size=(10, 20, 30), zero_box=True),
    Case("webknossos-libs/simple_zarr3_dataset", "uint24", "zarr3", ["color"], num_channels=3,
         bbox_size=(24, 24, 24), boxes=[Box("wk_simple_rgb.npy")]),
    Case("webknossos-libs/simple_zarr_dataset", "uint24", "zarr", ["color"], num_channels=3,
         bbox_size=(24, 24, 24), boxes=[Box("wk_simple_rgb.npy")]),
    Case("webknossos-libs/simple_n5_dataset", "uint24", "n5", ["color"], num_channels=3,
         bbox_size=(24, 24, 24), boxes=[Box("wk_simple_rgb.npy")]),
    Case("webknossos-libs/simple_ng_dataset", "uint24", "neuroglancerPrecomputed", ["color"], num_channels=3,
         bbox_size=(24, 24, 24), boxes=[Box("wk_simple_rgb.npy")]),
    Case("webknossos-libs/simple_ng_dataset2/color", "uint8", "neuroglancerPrecomputed", ["color"],
         bbox_size=(24, 24, 24), boxes=[Box("wk_simple_ng2.npy")]),
    Case("webknossos-libs/4D_series_zarr3", "int8", "zarr3", ["color"], mags=2, bbox_size=(439, 167, 5),
         boxes=[Box("wk_4d_mag1_t0.npy", extra={"t": 0}), Box("wk_4d_mag1_t6.npy", extra={"t": 6}),
                Box("wk_4d_mag2_t3.npy", mag=(2, 2, 2), extra={"t": 3})]),
    Case("zarrs/v3/array_blosc_transpose.zarr", "float", "zarr3", ["array_blosc_transpose"],
         boxes=[Box("zarrs_array_blosc_transpose.npy")]),
    Case("zarrs/v3/array_bz2.zarr", "float", "zarr3", ["array_bz2"], boxes=[Box("zarrs_array_bz2.npy")]),
    Case("zarrs/v2/array_blosc_F.zarr", "float", "zarr", ["array_blosc_F"], boxes=[Box("zarrs_array_blosc_F_v2.npy")]),
    Case("zarrs/sharded_array_write_read.zarr/group/array", "uint16", "zarr3", ["array"],
         boxes=[Box("zarrs_sharded_u16.npy")]),
    Case("zarrs/array_write_read.zarr/group/array", "float", "zarr3", ["array"],
         boxes=[Box("zarrs_nan_fill_f32.npy")]),
    Case("cloud-volume/test_seg_unsharded", "uint32", "neuroglancerPrecomputed", ["test_seg_unsharded"],
         category="segmentation", mags=3, bbox_size=(1024, 1024, 512),
         boxes=[Box("cv_compresso_mip2.npy", mag=(4, 4, 1), offset=(256, 256, 16))]),
    Case("ome-ngff-spec/0.4/multiscales_example.zarr", "uint16", "zarr", ["example_c0", "example_c1"], mags=3,
         bbox_size=(37, 22, 9), boxes=[Box("ngff_example_0.4_t1.npy", layer=f"example_c{c}", channel=c, extra={"t": 1}) for c in (0, 1)]),
    Case("ome-ngff-spec/0.5/multiscales_example.zarr", "uint16", "zarr3", ["example_c0", "example_c1"], mags=3,
         bbox_size=(37, 22, 9), boxes=[Box("ngff_example_0.5_t1.npy", layer=f"example_c{c}", channel=c, extra={"t": 1}) for c in (0, 1)]),
    Case("ome-ngff-spec/0.4/multiscales_transformations.zarr", "uint8", "zarr",
         ["image_with_coordinateTransformations"], boxes=[Box("ngff_transformations.npy")]),
    Case("webknossos-n5/fibsem-uint16", "uint16", "n5", ["fibsem-uint16"], mags=2, bbox_size=(1550, 125, 1500),
         zero_box=False),
    Case("derived/fib25_cseg", "uint64", "neuroglancerPrecomputed", ["fib25_cseg"], category="segmentation",
         boxes=[Box("fib25_cseg.npy", offset=(3000, 3000, 3000))]),
    Case("derived/temca2_jpeg", "uint8", "neuroglancerPrecomputed", ["temca2_jpeg"],
         boxes=[Box("temca2_jpeg.npy")]),
]


def test_every_corpus_folder_is_covered() -> None:
    assert ROOT is not None
    covered = {c.path.split("/")[0] for c in CASES}
    assert covered == {p.name for p in (ROOT / "data").iterdir() if p.is_dir()}
    truths = {b.truth for c in CASES for b in c.boxes}
    assert truths == {p.name for p in (ROOT / "truth").glob("*.npy")}


@pytest.fixture(scope="module")
def base(http_server: HttpServer) -> Iterator[str]:
    assert ROOT is not None
    yield http_server.publish(ROOT / "data", "realworld")  # a symlink: files used in place


@pytest.mark.parametrize("case", CASES, ids=[c.path for c in CASES])
def test_explore_and_read(case: Case, base: str) -> None:
    assert ROOT is not None
    ds = wk.explore(f"{base}/{case.path}")
    assert list(ds.layers) == case.layers
    for layer in ds.layers.values():
        assert layer.element_class == case.element_class
        assert layer.data_format == case.data_format
        assert layer.category == case.category
        assert layer.num_channels == case.num_channels
        assert len(layer.mags) == case.mags
        if case.bbox_size is not None:
            assert layer.bounding_box.size == case.bbox_size
    for box in case.boxes:
        truth = np.load(ROOT / "truth" / box.truth)
        if box.channel is not None:
            truth = truth[box.channel : box.channel + 1]
        layer = ds.layers[box.layer or case.layers[0]]
        size = tuple(s * m for s, m in zip(truth.shape[1:], box.mag, strict=True))
        got = layer.read(box.offset, size, mag=box.mag, **box.extra)
        assert got.dtype == truth.dtype and got.shape == truth.shape
        np.testing.assert_array_equal(got, truth)
    if case.zero_box or not case.boxes:
        layer = ds.layers[case.layers[0]]
        coarsest = layer.mags[-1].mag
        bb = layer.bounding_box
        got = layer.read(bb[0], bb[1], mag=coarsest)
        assert got.shape[0] == case.num_channels and got.size > 0
        assert not got.any(), "metadata-only dataset: every voxel is the fill value 0"


def _datasource_roundtrip(ds: Any) -> Any:
    return wk.open_datasource(ds.to_datasource())


@pytest.mark.parametrize(
    "folder", ["webknossos-libs/simple_zarr3_dataset", "webknossos-libs/simple_n5_dataset",
               "webknossos-libs/simple_ng_dataset"])
def test_uint24_round_trips_through_our_export(folder: str, base: str) -> None:
    assert ROOT is not None
    ds = wk.explore(f"{base}/{folder}")
    doc = ds.to_datasource()
    (layer_doc,) = doc["dataLayers"]
    assert layer_doc["elementClass"] == "uint24" and layer_doc["numChannels"] == 3
    again = _datasource_roundtrip(ds)
    (layer,) = again.layers.values()
    assert layer.element_class == "uint24" and layer.num_channels == 3
    np.testing.assert_array_equal(layer.read((0, 0, 0), (24, 24, 24)), np.load(ROOT / "truth" / "wk_simple_rgb.npy"))


@pytest.mark.parametrize(
    "folder", ["webknossos-libs/simple_zarr3_dataset", "webknossos-libs/simple_zarr_dataset",
               "webknossos-libs/simple_n5_dataset", "webknossos-libs/simple_ng_dataset"])
def test_webknossos_libs_reads_our_uint24_export(folder: str, base: str, tmp_path: Path) -> None:
    """Our export of WEBKNOSSOS's own RGB datasets opens in webknossos-libs with the same voxels."""
    import json
    import subprocess
    import sys

    from tests.integration.test_webknossos_readback import _READER, _to_cxyz

    assert ROOT is not None
    out = tmp_path / "export"
    (out / "ds").mkdir(parents=True)
    wk.explore(f"{base}/{folder}").save(out / "ds" / "datasource-properties.json")
    proc = subprocess.run([sys.executable, "-c", _READER, str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ((name, entry),) = json.loads((out / "index.json").read_text()).items()
    data, extra = _to_cxyz(np.load(out / name), entry["axes"])
    assert not extra
    np.testing.assert_array_equal(data, np.load(ROOT / "truth" / "wk_simple_rgb.npy"))
