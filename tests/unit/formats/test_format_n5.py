"""N5: plain arrays, COSEM and BigDataViewer multiscales, every compression, written with
tensorstore (N5 order: `arr.T`) into tmp_path and read back through file:// URIs. Block
layouts tensorstore cannot write (lz4, varlength, clipped edge blocks) are written by hand
from the N5 specification."""

from __future__ import annotations

import itertools
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.chunks import read_chunks
from wk_widget.errors import (
    CorruptChunkError,
    MalformedMetadataError,
    RemoteDatasetError,
    UnsupportedDataError,
)
from wk_widget.formats import n5, parse_uri
from wk_widget.formats.base import ExploreContext, LayerSpec, MagSpec, NotThisFormat
from wk_widget.storage import RequestMeter, run_sync, storage_for

ts = pytest.importorskip("tensorstore")

EXPLORERS = {e.name: e for e in n5.EXPLORERS}
ZYX = {"x": 2, "y": 1, "z": 0}


# --------------------------------------------------------------------------- helpers


def explore(name: str, path: Path, ctx: ExploreContext | None = None) -> list[LayerSpec]:
    return run_sync(EXPLORERS[name].explore(ctx or ExploreContext(), parse_uri(str(path))))


def reader_of(mag: MagSpec) -> n5.N5Reader:
    return run_sync(n5.open_reader(storage_for(mag.path), mag))


def read_all(
    reader: n5.N5Reader, meters: tuple[RequestMeter, ...] = ()
) -> tuple[np.ndarray, list[bytes | None]]:
    chunks = read_chunks(reader, meters)
    return chunks.array, chunks.raw


def ts_write(
    path: Path, zyx: np.ndarray, block_xyz: list[int], compression: dict[str, Any] | None = None
) -> None:
    """Write an array given in reader order (z, y, x) as an N5 dataset (N5 order = `.T`)."""
    store = ts.open(
        {
            "driver": "n5",
            "kvstore": {"driver": "file", "path": str(path)},
            "metadata": {
                "dimensions": list(zyx.shape[::-1]),
                "blockSize": block_xyz,
                "dataType": zyx.dtype.name,
                "compression": compression or {"type": "gzip"},
            },
            "create": True,
        }
    ).result()
    store.write(zyx.T).result()


def attrs(path: Path, doc: dict[str, Any]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "attributes.json").write_text(json.dumps(doc))


def volume(shape_zyx: tuple[int, ...], dtype: Any = np.uint16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is None:
        return rng.standard_normal(shape_zyx).astype(dtype)
    return rng.integers(
        max(info.min, -1000), min(info.max, 60000), shape_zyx, endpoint=True
    ).astype(dtype)


# --------------------------------------------------------------------------- plain arrays


COMPRESSIONS = [
    {"type": "raw"},
    {"type": "gzip"},
    {"type": "gzip", "useZlib": True},
    {"type": "bzip2"},
    {"type": "xz"},
    {"type": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
    {"type": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2},
    {"type": "zstd", "level": 3},
]


@pytest.mark.parametrize(
    "compression", COMPRESSIONS, ids=lambda c: "-".join(str(v) for v in c.values())
)
def test_plain_array_every_compression(tmp_path: Path, compression: dict[str, Any]) -> None:
    root = tmp_path / "raw_data"
    zyx = volume((10, 20, 30))
    ts_write(root, zyx, [16, 16, 8], compression)
    ctx = ExploreContext()
    (layer,) = explore("n5", root, ctx)
    assert ctx.meter.requests == 1
    uri = parse_uri(str(root))
    assert layer.name == "raw_data" and layer.dataset_name == "raw_data"
    assert layer.data_format == "n5" and layer.format_name == "n5"
    assert layer.category == "color" and layer.category_source == "default"
    assert layer.element_class == "uint16"
    assert layer.bounding_box.top_left == (0, 0, 0) and layer.bounding_box.size == (30, 20, 10)
    assert layer.num_channels == 1 and layer.largest_segment_id is None
    assert layer.voxel_size is None and layer.unit is None
    assert layer.additional_axes == [] and layer.coordinate_transformations is None
    assert layer.source_uri == uri.url
    (mag,) = layer.mags
    assert mag.mag == (1, 1, 1) and mag.path.url == uri.url
    assert mag.axis_order == ZYX and mag.channel_index is None
    assert isinstance(mag.array_meta, n5.N5ArrayMeta)
    reader = reader_of(mag)
    assert reader.shape == (10, 20, 30) and reader.chunk_shape == (8, 16, 16)
    assert (
        reader.grid_origin == (0, 0, 0)
        and reader.fill_value == 0
        and reader.dtype == np.dtype("uint16")
    )
    out, raw = read_all(reader)
    assert all(b is not None for b in raw)
    np.testing.assert_array_equal(out, zyx)
    assert reader.block_key((1, 0, 1)) == "1/0/1"  # N5 order: x/y/z


@pytest.mark.parametrize(
    "dtype", ["uint8", "int8", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64"]
)
def test_plain_array_dtypes(tmp_path: Path, dtype: str) -> None:
    root = tmp_path / "a"
    zyx = volume((5, 9, 13), np.dtype(dtype), seed=4)
    ts_write(root, zyx, [4, 4, 4], {"type": "raw"})
    (layer,) = explore("n5", root)
    assert layer.element_class == {"float32": "float", "float64": "double"}.get(dtype, dtype)
    out, _ = read_all(reader_of(layer.mags[0]))
    np.testing.assert_array_equal(out, zyx)


def test_plain_array_4d_channels_and_segmentation_name(tmp_path: Path) -> None:
    root = tmp_path / "labels"
    czyx = volume((2, 6, 7, 8), np.uint32)
    ts_write(root, czyx, [4, 4, 4, 1])
    layers = explore("n5", root)
    assert [layer.name for layer in layers] == ["labels_c0", "labels_c1"]
    for ch, layer in enumerate(layers):
        assert layer.category == "segmentation" and layer.category_source == "name"
        (mag,) = layer.mags
        assert mag.axis_order == {"x": 3, "y": 2, "z": 1, "c": 0} and mag.channel_index == ch
        assert layer.bounding_box.size == (8, 7, 6)
    out, _ = read_all(reader_of(layers[0].mags[0]))
    np.testing.assert_array_equal(out, czyx)


def test_plain_array_own_resolution(tmp_path: Path) -> None:
    root = tmp_path / "img"
    ts_write(root, volume((4, 4, 4)), [4, 4, 4])
    doc = json.loads((root / "attributes.json").read_text())
    doc["pixelResolution"] = {"unit": "nm", "dimensions": [4.0, 5.0, 40.0]}
    (root / "attributes.json").write_text(json.dumps(doc))
    (layer,) = explore("n5", root)
    assert layer.voxel_size == (4.0, 5.0, 40.0) and layer.unit == "nanometer"
    # a COSEM level on its own: its transform gives the voxel size
    del doc["pixelResolution"]
    doc["transform"] = {"axes": ["z", "y", "x"], "scale": [30.0, 8.0, 8.0], "units": ["nm"] * 3}
    (root / "attributes.json").write_text(json.dumps(doc))
    (layer,) = explore("n5", root, ExploreContext())
    assert layer.voxel_size == (8.0, 8.0, 30.0) and layer.unit == "nanometer"
    assert layer.mags[0].axis_order == ZYX


def test_missing_and_corrupt_blocks(tmp_path: Path) -> None:
    root = tmp_path / "img"
    zyx = np.zeros((8, 16, 32), dtype=np.uint16)
    zyx[:, :, :16] = 5  # block x=1 is all fill value: tensorstore does not store it
    ts_write(root, zyx, [16, 16, 8])
    (layer,) = explore("n5", root)
    reader = reader_of(layer.mags[0])
    meter = RequestMeter()
    got = run_sync(reader.fetch([(0, 0, 0), (0, 0, 1)], (meter,)))
    assert got[0] is not None and got[1] is None
    assert meter.requests == 2  # one GET each, no HEAD
    (root / "0" / "0" / "0").write_bytes(b"\x00\x00\x00\x03garbage")
    bad = run_sync(reader.fetch([(0, 0, 0)]))[0]
    assert bad is not None
    with pytest.raises(CorruptChunkError) as info:
        reader.decode((0, 0, 0), bad)
    assert str(info.value).startswith(parse_uri(str(root)).url + "/0/0/0")
    # truncated header, damaged gzip payload
    for blob in [b"", b"\x00", struct.pack(">HH3I", 0, 3, 16, 16, 8) + b"\x1f\x8b\x08\x00broken"]:
        with pytest.raises(CorruptChunkError):
            reader.decode((0, 0, 0), blob)
    # object mode blocks are not numeric data
    with pytest.raises(CorruptChunkError, match="mode 2"):
        reader.decode((0, 0, 0), struct.pack(">HH3I", 2, 3, 16, 16, 8) + b"\x00" * 10)


# --------------------------------------------------------------------------- hand-written blocks


def _block(dims_xyz: list[int], payload: bytes, mode: int = 0, count: int | None = None) -> bytes:
    head = struct.pack(f">HH{len(dims_xyz)}I", mode, len(dims_xyz), *dims_xyz)
    if mode == 1:
        head += struct.pack(">I", count)
    return head + payload


def _lz4_java(data: bytes, block_size: int) -> bytes:
    """lz4-java LZ4BlockOutputStream framing (N5's lz4), incl. a raw block and the end mark."""
    import imagecodecs

    level = max(0, (block_size - 1).bit_length() - 10)
    out = b""
    for i, start in enumerate(range(0, len(data), block_size)):
        chunk = data[start : start + block_size]
        if i % 3 == 2:  # an incompressible-style raw block
            out += (
                b"LZ4Block"
                + bytes([0x10 | level])
                + struct.pack("<iii", len(chunk), len(chunk), 0)
                + chunk
            )
        else:
            packed = imagecodecs.lz4_encode(chunk)
            out += (
                b"LZ4Block"
                + bytes([0x20 | level])
                + struct.pack("<iii", len(packed), len(chunk), 0)
                + packed
            )
    return out + b"LZ4Block" + bytes([0x10 | level]) + struct.pack("<iii", 0, 0, 0)


def test_lz4_varlength_and_clipped_edge_blocks(tmp_path: Path) -> None:
    root = tmp_path / "hand"
    zyx = volume((5, 7, 10), np.int16, seed=8)
    attrs(
        root,
        {
            "dimensions": [10, 7, 5],
            "blockSize": [8, 4, 4],
            "dataType": "int16",
            "compression": {"type": "lz4", "blockSize": 64},
        },
    )
    grid = [2, 2, 2]  # x, y, z
    for gx, gy, gz in itertools.product(*(range(g) for g in grid)):
        sub = zyx[
            gz * 4 : gz * 4 + 4, gy * 4 : gy * 4 + 4, gx * 8 : gx * 8 + 8
        ]  # clipped at the edges
        dims = list(sub.shape[::-1])
        payload = sub.astype(">i2").tobytes()
        if (gx, gy, gz) == (0, 0, 0):
            block = _block(dims, _lz4_java(payload, 64), mode=1, count=sub.size)
        else:
            block = _block(dims, _lz4_java(payload, 64))
        target = root / str(gx) / str(gy) / str(gz)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(block)
    (layer,) = explore("n5", root)
    out, raw = read_all(reader_of(layer.mags[0]))
    assert all(b is not None for b in raw)
    np.testing.assert_array_equal(out, zyx)
    assert n5.decode_lz4_blocks(_lz4_java(b"abc" * 1000, 128)) == b"abc" * 1000


def test_old_style_compression_type_and_unsupported(tmp_path: Path) -> None:
    root = tmp_path / "old"
    attrs(
        root,
        {
            "dimensions": [4, 4, 4],
            "blockSize": [4, 4, 4],
            "dataType": "uint8",
            "compressionType": "raw",
        },
    )
    data = np.arange(64, dtype=np.uint8).reshape(4, 4, 4)
    (root / "0" / "0").mkdir(parents=True)
    (root / "0" / "0" / "0").write_bytes(_block([4, 4, 4], data.tobytes()))
    (layer,) = explore("n5", root)
    out, _ = read_all(reader_of(layer.mags[0]))
    np.testing.assert_array_equal(out, data)

    attrs(
        tmp_path / "weird",
        {
            "dimensions": [4, 4, 4],
            "blockSize": [4, 4, 4],
            "dataType": "uint8",
            "compression": {"type": "jpeg2000"},
        },
    )
    with pytest.raises(UnsupportedDataError) as info:
        explore("n5", tmp_path / "weird")
    assert "jpeg2000" in str(info.value) and parse_uri(str(tmp_path / "weird")).url in str(
        info.value
    )
    attrs(
        tmp_path / "obj",
        {
            "dimensions": [4, 4, 4],
            "blockSize": [4, 4, 4],
            "dataType": "object",
            "compression": {"type": "raw"},
        },
    )
    with pytest.raises(UnsupportedDataError, match="object"):
        explore("n5", tmp_path / "obj")
    attrs(tmp_path / "bad", {"dimensions": [4, 4], "blockSize": [4, 4, 4], "dataType": "uint8"})
    with pytest.raises(MalformedMetadataError):
        explore("n5", tmp_path / "bad")


def test_not_this_format(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    attrs(tmp_path / "group", {"n5": "2.0.0"})
    ts_write(tmp_path / "array", volume((4, 4, 4)), [4, 4, 4])
    for name in EXPLORERS:
        with pytest.raises(NotThisFormat):
            explore(name, tmp_path / "nothing")
        with pytest.raises(NotThisFormat):
            explore(name, tmp_path / "group")
    for name in ("n5-multiscales-cosem", "n5-multiscales-bdv"):
        with pytest.raises(NotThisFormat):
            explore(name, tmp_path / "array")


def test_open_reader_without_array_meta(tmp_path: Path) -> None:
    root = tmp_path / "img"
    zyx = volume((6, 6, 6))
    ts_write(root, zyx, [4, 4, 4], {"type": "xz"})
    (layer,) = explore("n5", root)
    bare = MagSpec((1, 1, 1), layer.mags[0].path, dict(ZYX), None, None)
    reader = run_sync(n5.open_reader(storage_for(bare.path), bare))
    assert reader.meta.dimensions == (6, 6, 6) and reader.meta.compression["type"] == "xz"
    out, _ = read_all(reader)
    np.testing.assert_array_equal(out, zyx)
    missing = MagSpec((1, 1, 1), parse_uri(str(tmp_path / "nope")), dict(ZYX))
    with pytest.raises(RemoteDatasetError, match="nope"):
        run_sync(n5.open_reader(storage_for(missing.path), missing))


# --------------------------------------------------------------------------- multiscales


def _pyramid(
    root: Path, base: np.ndarray, factors_xyz: list[tuple[int, int, int]], block: list[int]
) -> list[np.ndarray]:
    levels = []
    for i, (fx, fy, fz) in enumerate(factors_xyz):
        level = base[::fz, ::fy, ::fx]
        ts_write(root / f"s{i}", level, block, {"type": "gzip"})
        levels.append(level)
    return levels


def test_cosem_multiscales(tmp_path: Path) -> None:
    root = tmp_path / "jrc_cell.n5" / "em" / "fibsem-uint8"
    base = volume((16, 40, 50), np.uint8)
    factors = [(1, 1, 1), (2, 2, 1), (4, 4, 2)]
    levels = _pyramid(root, base, factors, [16, 16, 8])
    datasets = []
    for i, (fx, fy, fz) in enumerate(factors):
        datasets.append(
            {
                "path": f"s{i}",
                "transform": {
                    "axes": ["z", "y", "x"],
                    "ordering": "C",
                    "scale": [5.24 * fz, 4.0 * fy, 4.0 * fx],
                    "translate": [
                        5.24 * 10 + (fz - 1) * 2.62,
                        4.0 * 3 + (fy - 1) * 2,
                        (fx - 1) * 2.0,
                    ],
                    "units": ["nm", "nm", "nm"],
                },
            }
        )
    group = (
        json.loads((root / "attributes.json").read_text())
        if (root / "attributes.json").exists()
        else {}
    )
    attrs(root, {**group, "multiscales": [{"datasets": datasets, "name": "fibsem-uint8"}]})

    ctx = ExploreContext()
    (layer,) = explore("n5-multiscales-cosem", root, ctx)
    assert ctx.meter.requests == 1 + len(factors)  # the group, then each level once
    uri = parse_uri(str(root))
    assert layer.name == "fibsem-uint8" and layer.format_name == "n5-multiscales-cosem"
    assert (
        layer.data_format == "n5" and layer.element_class == "uint8" and layer.category == "color"
    )
    assert [m.mag for m in layer.mags] == factors
    assert [m.path.url for m in layer.mags] == [uri.join(f"s{i}").url for i in range(3)]
    assert all(m.axis_order == ZYX for m in layer.mags)
    assert layer.voxel_size == pytest.approx((4.0, 4.0, 5.24)) and layer.unit == "nanometer"
    assert layer.bounding_box.top_left == (0, 0, 0) and layer.bounding_box.size == (50, 40, 16)
    assert layer.coordinate_transformations == [
        {
            "type": "affine",
            "matrix": [[1, 0, 0, 0.0], [0, 1, 0, 3.0], [0, 0, 1, 10.0], [0, 0, 0, 1]],
        }
    ]
    for mag, expected in zip(layer.mags, levels, strict=True):
        out, _ = read_all(reader_of(mag))
        np.testing.assert_array_equal(out, expected)


def test_cosem_fortran_ordering_units_and_errors(tmp_path: Path) -> None:
    root = tmp_path / "Segmentation"  # the name rule: the whole name (WEBKNOSSOS)
    base = volume((8, 16, 16), np.uint64)
    _pyramid(root, base, [(1, 1, 1), (2, 2, 2)], [8, 8, 8])
    datasets: list[dict[str, Any]] = [
        {
            "path": f"s{i}",
            "transform": {
                "axes": ["x", "y", "z"],
                "ordering": "F",
                "scale": [0.008 * f] * 3,
                "units": ["um"] * 3,
            },
        }
        for i, f in enumerate((1, 2))
    ]
    attrs(root, {"multiscales": [{"datasets": datasets}]})
    (layer,) = explore("n5-multiscales-cosem", root)
    assert [m.mag for m in layer.mags] == [(1, 1, 1), (2, 2, 2)]
    assert layer.mags[0].axis_order == ZYX
    assert layer.voxel_size == pytest.approx((0.008, 0.008, 0.008)) and layer.unit == "micrometer"
    assert layer.category == "segmentation" and layer.category_source == "name"
    assert layer.coordinate_transformations is None
    # missing units are micrometers (WEBKNOSSOS)
    for d in datasets:
        del d["transform"]["units"]
    attrs(root, {"multiscales": [{"datasets": datasets}]})
    (layer,) = explore("n5-multiscales-cosem", root)
    assert layer.unit == "micrometer"
    # a level at 3x is not a power of two
    datasets[1]["transform"]["scale"] = [0.024] * 3
    attrs(root, {"multiscales": [{"datasets": datasets}]})
    with pytest.raises(UnsupportedDataError, match="power of two"):
        explore("n5-multiscales-cosem", root)
    # a level named but absent
    datasets[1]["transform"]["scale"] = [0.016] * 3
    datasets[1]["path"] = "s7"
    attrs(root, {"multiscales": [{"datasets": datasets}]})
    with pytest.raises(MalformedMetadataError, match="s7"):
        explore("n5-multiscales-cosem", root)


@pytest.mark.parametrize(
    ("group", "voxel_size", "unit"),
    [
        (
            {
                "multiScale": True,
                "resolution": [4.0, 4.0, 40.0],
                "downsamplingFactors": [[1, 1, 1], [2, 2, 1], [4, 4, 1]],
            },
            (4.0, 4.0, 40.0),
            "micrometer",
        ),
        (
            {
                "multiScale": True,
                "resolution": [4, 4, 40],
                "unit": "nm",
                "scales": [[1, 1, 1], [2, 2, 1], [4, 4, 1]],
            },
            (4.0, 4.0, 40.0),
            "nanometer",
        ),
        (
            {
                "downsamplingFactors": [[1, 1, 1], [2, 2, 1], [4, 4, 1]],
                "pixelResolution": {"unit": "um", "dimensions": [0.1, 0.1, 0.5]},
            },
            (0.1, 0.1, 0.5),
            "micrometer",
        ),
        (
            {
                "multiScale": True,
                "resolution": [4, 4, 40],
                "units": ["nm", "nm", "um"],
                "downsamplingFactors": [[1, 1, 1], [2, 2, 1], [4, 4, 1]],
            },
            (4.0, 4.0, 40000.0),
            "nanometer",
        ),
    ],
)
def test_bdv_multiscales(
    tmp_path: Path, group: dict[str, Any], voxel_size: tuple[float, ...], unit: str
) -> None:
    root = tmp_path / "c0"
    base = volume((6, 32, 40), np.uint16)
    factors = [(1, 1, 1), (2, 2, 1), (4, 4, 1)]
    levels = _pyramid(root, base, factors, [16, 16, 4])
    attrs(root, group)
    ctx = ExploreContext()
    (layer,) = explore("n5-multiscales-bdv", root, ctx)
    assert ctx.meter.requests == 1 + len(factors)
    assert layer.format_name == "n5-multiscales-bdv" and layer.name == "c0"
    assert [m.mag for m in layer.mags] == factors
    assert all(m.axis_order == ZYX for m in layer.mags)
    assert layer.voxel_size == pytest.approx(voxel_size) and layer.unit == unit
    assert layer.bounding_box.size == (40, 32, 6)
    out, _ = read_all(reader_of(layer.mags[2]))
    np.testing.assert_array_equal(out, levels[2])
    # the other two explorers leave this group alone
    with pytest.raises(NotThisFormat):
        explore("n5-multiscales-cosem", root)
    with pytest.raises(NotThisFormat):
        explore("n5", root)


def test_bdv_errors(tmp_path: Path) -> None:
    root = tmp_path / "g"
    _pyramid(root, volume((4, 8, 8)), [(1, 1, 1), (2, 2, 2)], [4, 4, 4])
    attrs(root, {"multiScale": True, "resolution": [1, 1, 1]})
    with pytest.raises(MalformedMetadataError, match="downsamplingFactors"):
        explore("n5-multiscales-bdv", root)
    attrs(root, {"multiScale": True, "downsamplingFactors": [[1, 1, 1], [3, 3, 3]]})
    with pytest.raises(UnsupportedDataError, match="power of two"):
        explore("n5-multiscales-bdv", root)
    attrs(root, {"multiScale": True, "downsamplingFactors": [[1, 1, 1], [2, 2, 2], [4, 4, 4]]})
    with pytest.raises(MalformedMetadataError, match="s2"):
        explore("n5-multiscales-bdv", root)


def test_ngff_style_multiscales_in_n5_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "ngff_in_n5"
    _pyramid(root, volume((4, 8, 8)), [(1, 1, 1)], [4, 4, 4])
    attrs(
        root,
        {
            "multiscales": [
                {
                    "axes": [{"name": a, "type": "space", "unit": "nanometer"} for a in "zyx"],
                    "datasets": [
                        {
                            "path": "s0",
                            "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}],
                        }
                    ],
                }
            ]
        },
    )
    with pytest.raises(UnsupportedDataError, match="NGFF"):
        explore("n5-multiscales-cosem", root)
