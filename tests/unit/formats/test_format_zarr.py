"""Zarr v2/v3: metadata parsing, plain-array exploration and the chunk reader.

Arrays are written by zarr-python (an independent writer) into tmp_path and read back
through file:// URIs, i.e. through the same Storage / ExploreContext code as remote data.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest
import zarr
from zarr.codecs import (
    BloscCodec,
    BytesCodec,
    Crc32cCodec,
    GzipCodec,
    ShardingCodec,
    TransposeCodec,
    ZstdCodec,
)
from zarr.codecs.sharding import ShardingCodecIndexLocation

from tests.support.chunks import grid as all_coords
from tests.support.chunks import read_chunks
from wk_widget.errors import (
    CorruptChunkError,
    MalformedMetadataError,
    SourceNotFoundError,
    UnsupportedDataError,
)
from wk_widget.formats import parse_uri
from wk_widget.formats import zarr as wz
from wk_widget.formats.base import ExploreContext, MagSpec, NotThisFormat
from wk_widget.storage import RequestMeter, run_sync, storage_for

SHAPE = (19, 45, 70)  # z, y, x: partial edge chunks everywhere


def _data(shape: tuple[int, ...] = SHAPE, dtype: Any = "uint16", seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.normal(100, 20, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dtype)


def explore(explorer: Any, path: Path, ctx: ExploreContext | None = None) -> list[Any]:
    return run_sync(explorer.explore(ctx or ExploreContext(), parse_uri(str(path))))


def reader_for(path: Path, meta: Any = None, data_format: str | None = None) -> wz.ZarrArrayReader:
    uri = parse_uri(str(path))
    mag = MagSpec((1, 1, 1), uri, {"x": 0, "y": 1, "z": 2}, None, meta)
    return run_sync(wz.open_reader(storage_for(uri), mag, data_format))


def read_all(reader: Any, meters: tuple[RequestMeter, ...] = ()) -> tuple[np.ndarray, int]:
    """Every chunk via fetch + decode, assembled; returns (array, number of missing chunks)."""
    chunks = read_chunks(reader, meters)
    return chunks.array, chunks.missing


# --------------------------------------------------------------------------------------
# reading every chunk, compared with zarr-python's own read
# --------------------------------------------------------------------------------------

V3_CASES: dict[str, dict[str, Any]] = {
    "v3-raw": {"chunks": (8, 16, 32), "compressors": None},
    "v3-gzip": {"chunks": (8, 16, 32), "compressors": [GzipCodec(level=5)]},
    "v3-zstd": {"chunks": (8, 16, 32), "compressors": [ZstdCodec(level=3)]},
    "v3-blosc": {"chunks": (8, 16, 32), "compressors": [BloscCodec(cname="lz4", shuffle="bitshuffle")]},
    "v3-zstd-crc32c": {"chunks": (8, 16, 32), "compressors": [ZstdCodec(), Crc32cCodec()]},
    "v3-transpose": {"chunks": (8, 16, 32), "filters": [TransposeCodec(order=[2, 0, 1])], "compressors": [GzipCodec()]},
    "v3-big-endian": {"chunks": (8, 16, 32), "serializer": BytesCodec(endian="big"), "compressors": None},
    "v3-big-endian-transpose-blosc": {
        "chunks": (8, 16, 32),
        "serializer": BytesCodec(endian="big"),
        "filters": [TransposeCodec(order=[2, 1, 0])],
        "compressors": [BloscCodec()],
    },
    "v3-cke-v2": {"chunks": (8, 16, 32), "chunk_key_encoding": {"name": "v2", "separator": "."}},
    "v3-cke-v2-slash": {"chunks": (8, 16, 32), "chunk_key_encoding": {"name": "v2", "separator": "/"}},
    "v3-cke-default-dot": {"chunks": (8, 16, 32), "chunk_key_encoding": {"name": "default", "separator": "."}},
    "v3-sharded": {"chunks": (4, 8, 16), "shards": (8, 16, 32), "compressors": [ZstdCodec()]},
    "v3-sharded-big-shards": {"chunks": (4, 8, 16), "shards": (16, 32, 64), "compressors": [GzipCodec()]},
    "v3-sharded-index-start": {
        "chunks": (8, 16, 32),
        "serializer": ShardingCodec(
            chunk_shape=(4, 8, 16),
            codecs=[TransposeCodec(order=[2, 1, 0]), BytesCodec(endian="big"), BloscCodec()],
            index_location=ShardingCodecIndexLocation.start,
        ),
        "compressors": None,
    },
}

V2_CASES: dict[str, dict[str, Any]] = {
    "v2-blosc-C": {"chunks": (8, 16, 32), "compressors": numcodecs.Blosc(cname="zstd", shuffle=numcodecs.Blosc.SHUFFLE)},
    "v2-zlib-F": {"chunks": (8, 16, 32), "order": "F", "compressors": numcodecs.Zlib(level=3)},
    "v2-raw-F": {"chunks": (8, 16, 32), "order": "F", "compressors": None},
    "v2-gzip-slash": {
        "chunks": (8, 16, 32),
        "compressors": numcodecs.GZip(),
        "chunk_key_encoding": {"name": "v2", "separator": "/"},
    },
    "v2-zstd": {"chunks": (8, 16, 32), "compressors": numcodecs.Zstd(level=1)},
    "v2-lz4": {"chunks": (8, 16, 32), "compressors": numcodecs.LZ4()},
    "v2-bz2": {"chunks": (8, 16, 32), "compressors": numcodecs.BZ2()},
    "v2-delta-filter": {"chunks": (8, 16, 32), "filters": [numcodecs.Delta(dtype="<u2")], "compressors": numcodecs.Zlib()},
}


@pytest.mark.parametrize("case", sorted(V3_CASES))
def test_read_v3_every_chunk_matches_zarr_python(tmp_path: Path, case: str) -> None:
    kwargs = dict(V3_CASES[case])
    data = _data()
    arr = zarr.create_array(str(tmp_path / "a.zarr"), shape=SHAPE, dtype=data.dtype, zarr_format=3, **kwargs)
    arr[...] = data
    (layer,) = explore(wz.ZARR3_EXPLORER, tmp_path / "a.zarr")
    reader = run_sync(wz.open_reader(storage_for(layer.mags[0].path), layer.mags[0]))
    got, missing = read_all(reader)
    assert missing == 0
    np.testing.assert_array_equal(got, zarr.open_array(str(tmp_path / "a.zarr"))[...])
    np.testing.assert_array_equal(got, data)


@pytest.mark.parametrize("case", sorted(V2_CASES))
def test_read_v2_every_chunk_matches_zarr_python(tmp_path: Path, case: str) -> None:
    kwargs = dict(V2_CASES[case])
    data = _data()
    arr = zarr.create_array(str(tmp_path / "a.zarr"), shape=SHAPE, dtype=data.dtype, zarr_format=2, **kwargs)
    arr[...] = data
    (layer,) = explore(wz.ZARR2_EXPLORER, tmp_path / "a.zarr")
    assert layer.data_format == "zarr"
    reader = run_sync(wz.open_reader(storage_for(layer.mags[0].path), layer.mags[0]))
    got, missing = read_all(reader)
    assert missing == 0
    np.testing.assert_array_equal(got, zarr.open_array(str(tmp_path / "a.zarr"))[...])


@pytest.mark.parametrize("dtype", [">u2", ">i4", ">f8", "<i8", "|u1", "<f4", "|i1"])
def test_read_v2_byte_orders_and_types(tmp_path: Path, dtype: str) -> None:
    data = _data(dtype=np.dtype(dtype).newbyteorder("="))
    arr = zarr.create_array(str(tmp_path / "a.zarr"), shape=SHAPE, chunks=(8, 16, 32), dtype=dtype, zarr_format=2)
    arr[...] = data
    reader = reader_for(tmp_path / "a.zarr", data_format="zarr")
    assert reader.dtype == np.dtype(dtype).newbyteorder("=") and reader.dtype.isnative
    got, _ = read_all(reader)
    np.testing.assert_array_equal(got, data)


@pytest.mark.parametrize("fill", [float("nan"), 2.5, None])
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_float_fill_values(tmp_path: Path, fill: float | None, zarr_format: int) -> None:
    arr = zarr.create_array(
        str(tmp_path / "a.zarr"), shape=(10, 10), chunks=(5, 5), dtype="float32", zarr_format=zarr_format, fill_value=fill
    )
    arr[0:5, 0:5] = 1.0
    reader = reader_for(tmp_path / "a.zarr")
    expected = zarr.open_array(str(tmp_path / "a.zarr"))[...]
    got, missing = read_all(reader)
    assert missing == 3
    np.testing.assert_array_equal(got, expected)


def test_missing_chunks_are_none(tmp_path: Path) -> None:
    arr = zarr.create_array(str(tmp_path / "a.zarr"), shape=(20, 20), chunks=(10, 10), dtype="uint8", fill_value=7)
    arr[0:10, 0:10] = 1
    reader = reader_for(tmp_path / "a.zarr")
    raw = run_sync(reader.fetch([(0, 0), (0, 1), (1, 1)]))
    assert raw[0] is not None and raw[1] is None and raw[2] is None
    assert reader.fill_value == 7


def test_sharded_missing_inner_chunks_and_shards_are_none(tmp_path: Path) -> None:
    arr = zarr.create_array(
        str(tmp_path / "a.zarr"), shape=(32, 32), chunks=(8, 8), shards=(16, 16), dtype="uint16", fill_value=0
    )
    arr[0:8, 0:8] = 5  # only inner chunk (0, 0) of shard (0, 0); shards (0,1), (1,*) absent
    reader = reader_for(tmp_path / "a.zarr")
    assert reader.chunk_shape == (8, 8)
    meter = RequestMeter()
    raw = run_sync(reader.fetch([(0, 0), (0, 1), (1, 1), (0, 2), (3, 3)], (meter,)))
    assert raw[0] is not None
    assert raw[1:] == [None, None, None, None]
    np.testing.assert_array_equal(reader.decode((0, 0), raw[0]), np.full((8, 8), 5, np.uint16))
    # 3 shards touched: 3 index reads (2 of them 404s) + 1 data read
    assert meter.requests == 4


def test_sharded_index_read_once_and_ranges_coalesced(tmp_path: Path) -> None:
    data = _data((32, 64, 64), "uint8")
    arr = zarr.create_array(
        str(tmp_path / "a.zarr"), shape=data.shape, chunks=(8, 16, 16), shards=(16, 32, 64), dtype="uint8"
    )
    arr[...] = data
    reader = reader_for(tmp_path / "a.zarr")
    coords = all_coords(reader)
    n_shards = 2 * 2 * 1
    assert len(coords) == 4 * 4 * 4
    meter = RequestMeter()
    got, _ = read_all(reader, (meter,))
    np.testing.assert_array_equal(got, data)
    # one index read per shard, and the (contiguous) inner chunks of a shard in one range
    assert meter.requests == 2 * n_shards
    meter2 = RequestMeter()
    run_sync(reader.fetch(coords, (meter2,)))
    assert meter2.requests == n_shards  # indices cached
    # two inner chunks of one shard far apart (> gap) are two ranges, no second index read
    meter3 = RequestMeter()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wz.reader, "COALESCE_GAP", 0)  # the reader module reads it
        raw = run_sync(reader.fetch([(0, 0, 0), (1, 1, 3)], (meter3,)))
    assert all(r is not None for r in raw)
    assert meter3.requests == 2


def test_sharded_concurrent_fetches_share_one_index_read(tmp_path: Path) -> None:
    import asyncio

    arr = zarr.create_array(str(tmp_path / "a.zarr"), shape=(16, 16), chunks=(4, 4), shards=(16, 16), dtype="uint8")
    arr[...] = 1
    reader = reader_for(tmp_path / "a.zarr")
    meter = RequestMeter()

    async def many() -> list[Any]:
        return await asyncio.gather(*(reader.fetch([(i, j)], (meter,)) for i in range(4) for j in range(4)))

    results = run_sync(many())
    assert all(r[0] is not None for r in results)
    assert meter.requests == 1 + 16


def test_sharded_partial_edge_shards_and_no_head_requests(tmp_path: Path) -> None:
    data = _data((37, 45, 51), "int32")
    arr = zarr.create_array(
        str(tmp_path / "a.zarr"), shape=data.shape, chunks=(5, 8, 8), shards=(10, 16, 32), dtype="int32"
    )
    arr[...] = data
    (layer,) = explore(wz.ZARR3_EXPLORER, tmp_path / "a.zarr")
    reader = run_sync(wz.open_reader(storage_for(layer.mags[0].path), layer.mags[0]))
    got, missing = read_all(reader)
    assert missing == 0
    np.testing.assert_array_equal(got, data)
    assert reader.chunk_extent((7, 5, 6)) == (2, 5, 3)


def test_corrupt_chunk_raises_corrupt_chunk_error(tmp_path: Path) -> None:
    arr = zarr.create_array(str(tmp_path / "a.zarr"), shape=(20, 20), chunks=(10, 10), dtype="uint16", compressors=[GzipCodec()])
    arr[...] = 3
    (tmp_path / "a.zarr" / "c" / "1" / "0").write_bytes(b"\x00garbage\xff" * 10)
    reader = reader_for(tmp_path / "a.zarr")
    raw = run_sync(reader.fetch([(1, 0)]))
    with pytest.raises(CorruptChunkError) as info:
        reader.decode((1, 0), raw[0])  # type: ignore[arg-type]
    assert "a.zarr/c/1/0" in str(info.value)


def test_wrong_size_chunk_and_bad_checksum_raise(tmp_path: Path) -> None:
    arr = zarr.create_array(str(tmp_path / "raw.zarr"), shape=(20, 20), chunks=(10, 10), dtype="uint16", compressors=None)
    arr[...] = 3
    reader = reader_for(tmp_path / "raw.zarr")
    with pytest.raises(CorruptChunkError, match=r"raw.zarr/c/0/0.*expected 200"):
        reader.decode((0, 0), b"\x01" * 100)
    arr = zarr.create_array(
        str(tmp_path / "crc.zarr"), shape=(20, 20), chunks=(10, 10), dtype="uint16", compressors=[Crc32cCodec()]
    )
    arr[...] = 3
    reader = reader_for(tmp_path / "crc.zarr")
    (good,) = run_sync(reader.fetch([(0, 0)]))
    assert good is not None
    bad = bytes([good[0] ^ 1]) + good[1:]
    with pytest.raises(CorruptChunkError, match="crc32c"):
        reader.decode((0, 0), bad)


def test_truncated_shard_index_is_corrupt(tmp_path: Path) -> None:
    arr = zarr.create_array(str(tmp_path / "a.zarr"), shape=(16, 16), chunks=(4, 4), shards=(16, 16), dtype="uint8")
    arr[...] = 1
    (tmp_path / "a.zarr" / "c" / "0" / "0").write_bytes(b"short")
    reader = reader_for(tmp_path / "a.zarr")
    with pytest.raises(CorruptChunkError, match="shard index"):
        run_sync(reader.fetch([(0, 0)]))


def test_open_reader_without_array_meta_fetches_metadata(tmp_path: Path) -> None:
    zarr.create_array(str(tmp_path / "v2.zarr"), shape=(4, 4), chunks=(2, 2), dtype="uint8", zarr_format=2)
    zarr.create_array(str(tmp_path / "v3.zarr"), shape=(4, 4), chunks=(2, 2), dtype="uint8", zarr_format=3)
    assert reader_for(tmp_path / "v2.zarr").meta.zarr_format == 2
    assert reader_for(tmp_path / "v2.zarr", data_format="zarr").meta.zarr_format == 2
    assert reader_for(tmp_path / "v3.zarr").meta.zarr_format == 3
    assert reader_for(tmp_path / "v3.zarr", data_format="zarr3").meta.zarr_format == 3
    with pytest.raises(SourceNotFoundError):
        reader_for(tmp_path / "nothing")


# --------------------------------------------------------------------------------------
# metadata parsing
# --------------------------------------------------------------------------------------


def test_parse_zarray_fields() -> None:
    meta = wz.parse_zarray(
        {
            "zarr_format": 2,
            "shape": [10, 20],
            "chunks": [5, 7],
            "dtype": ">f4",
            "compressor": {"id": "zstd", "level": 1},
            "filters": None,
            "fill_value": "NaN",
            "order": "F",
            "dimension_separator": "/",
        },
        "https://h/a",
    )
    assert meta.shape == (10, 20) and meta.chunk_shape == (5, 7) and meta.read_shape == (5, 7)
    assert meta.dtype == np.dtype("float32") and meta.dtype.isnative and meta.stored_dtype == np.dtype(">f4")
    assert np.isnan(meta.fill_value) and meta.order == "F" and meta.compressor == {"id": "zstd", "level": 1}
    assert meta.chunk_key((1, 2)) == "1/2" and meta.data_format == "zarr"


def test_parse_zarr_json_fields() -> None:
    meta = wz.parse_zarr_json(
        {
            "zarr_format": 3,
            "node_type": "array",
            "shape": [100, 200, 300],
            "data_type": "uint64",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [64, 64, 64]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0,
            "codecs": [
                {
                    "name": "sharding_indexed",
                    "configuration": {
                        "chunk_shape": [32, 32, 32],
                        "codecs": [{"name": "bytes", "configuration": {"endian": "big"}}, {"name": "gzip"}],
                        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                        "index_location": "start",
                    },
                }
            ],
            "dimension_names": ["z", "y", "x"],
            "attributes": {"a": 1},
        }
    )
    assert meta.read_shape == (32, 32, 32) and meta.chunk_shape == (64, 64, 64)
    assert meta.sharding is not None and meta.sharding.index_location == "start"
    assert meta.stored_dtype == np.dtype(">u8") and meta.dtype == np.dtype("uint64")
    assert meta.dimension_names == ("z", "y", "x") and meta.attributes == {"a": 1}
    assert meta.chunk_key((1, 2, 3)) == "c/1/2/3" and meta.data_format == "zarr3"
    wz.validate_readable(meta)


@pytest.mark.parametrize(
    ("value", "dtype", "check"),
    [
        ("NaN", "float32", math.isnan),
        (None, "float64", lambda v: v == 0),
        ("Infinity", "float64", lambda v: v == math.inf),
        ("-Infinity", "float32", lambda v: v == -math.inf),
        ("0x7fc00000", "float32", math.isnan),
        ("0x3f800000", "float32", lambda v: v == 1.0),
        (255, "uint8", lambda v: v == 255),
        (-3, "int16", lambda v: v == -3),
        (2.0, "uint16", lambda v: v == 2),
        (True, "bool", lambda v: v),
    ],
)
def test_fill_values(value: Any, dtype: str, check: Any) -> None:
    fill = wz._parse_fill_value(value, np.dtype(dtype), "x")
    assert fill.dtype == np.dtype(dtype)
    assert check(fill)


@pytest.mark.parametrize(("value", "dtype"), [(256, "uint8"), ("NaN", "int32"), (1.5, "int8"), ("abc", "float32")])
def test_invalid_fill_values(value: Any, dtype: str) -> None:
    with pytest.raises(MalformedMetadataError, match="fill_value"):
        wz._parse_fill_value(value, np.dtype(dtype), "x")


def test_chunk_keys() -> None:
    base: dict[str, Any] = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [10],
        "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5]}},
        "fill_value": 0,
    }
    assert wz.parse_zarr_json(base).chunk_key((1,)) == "c/1"
    assert wz.parse_zarr_json({**base, "chunk_key_encoding": {"name": "v2"}}).chunk_key((1,)) == "1"
    dot = {**base, "chunk_key_encoding": {"name": "default", "configuration": {"separator": "."}}}
    assert wz.parse_zarr_json(dot).chunk_key((1,)) == "c.1"
    zero_d = {**base, "shape": [], "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": []}}}
    assert wz.parse_zarr_json(zero_d).chunk_key(()) == "c"
    assert wz.parse_zarr_json({**zero_d, "chunk_key_encoding": {"name": "v2"}}).chunk_key(()) == "0"


# --------------------------------------------------------------------------------------
# plain-array exploration
# --------------------------------------------------------------------------------------


def test_explore_v3_array_fields(tmp_path: Path) -> None:
    zarr.create_array(str(tmp_path / "raw.zarr"), shape=(30, 40, 50), chunks=(8, 8, 8), dtype="uint16")
    ctx = ExploreContext()
    (layer,) = explore(wz.ZARR3_EXPLORER, tmp_path / "raw.zarr", ctx)
    assert layer.name == "raw"
    assert layer.category == "color" and layer.category_source == "default"
    assert layer.data_format == "zarr3" and layer.format_name == "zarr3"
    assert layer.element_class == "uint16"
    assert layer.bounding_box.top_left == (0, 0, 0) and layer.bounding_box.size == (50, 40, 30)
    assert layer.voxel_size is None and layer.unit is None
    assert layer.num_channels == 1 and layer.additional_axes == []
    assert layer.source_uri == parse_uri(str(tmp_path / "raw.zarr")).url
    assert layer.dataset_name == "raw.zarr"
    (mag,) = layer.mags
    assert mag.mag == (1, 1, 1) and mag.axis_order == {"x": 2, "y": 1, "z": 0} and mag.channel_index is None
    assert mag.path.url == layer.source_uri
    assert isinstance(mag.array_meta, wz.ZarrArrayMeta) and mag.array_meta.shape == (30, 40, 50)
    assert ctx.meter.requests == 1


def test_explore_v2_array_segmentation_by_name(tmp_path: Path) -> None:
    zarr.create_array(str(tmp_path / "segmentation"), shape=(30, 40, 50), chunks=(8, 8, 8), dtype="uint32", zarr_format=2)
    (layer,) = explore(wz.ZARR2_EXPLORER, tmp_path / "segmentation")
    assert layer.category == "segmentation" and layer.category_source == "name"
    assert layer.data_format == "zarr" and layer.format_name == "zarr2" and layer.largest_segment_id is None
    zarr.create_array(str(tmp_path / "labels_f"), shape=(3, 4), chunks=(2, 2), dtype="float32", zarr_format=2)
    (layer,) = explore(wz.ZARR2_EXPLORER, tmp_path / "labels_f")
    assert layer.category == "color"  # float: never a segmentation by name


def test_explore_2d_array(tmp_path: Path) -> None:
    zarr.create_array(str(tmp_path / "img"), shape=(40, 50), chunks=(8, 8), dtype="uint8")
    (layer,) = explore(wz.ZARR3_EXPLORER, tmp_path / "img")
    assert layer.bounding_box.size == (50, 40, 1)
    assert layer.mags[0].axis_order == {"x": 1, "y": 0}


def test_explore_4d_array_one_layer_per_channel(tmp_path: Path) -> None:
    zarr.create_array(str(tmp_path / "img"), shape=(3, 10, 20, 30), chunks=(1, 8, 8, 8), dtype="uint8")
    layers = explore(wz.ZARR3_EXPLORER, tmp_path / "img")
    assert [layer.name for layer in layers] == ["img_c0", "img_c1", "img_c2"]
    for i, layer in enumerate(layers):
        assert layer.mags[0].axis_order == {"x": 3, "y": 2, "z": 1, "c": 0}
        assert layer.mags[0].channel_index == i and layer.num_channels == 1
        assert layer.bounding_box.size == (30, 20, 10)


def test_explore_5d_array_unnamed_has_t_axis(tmp_path: Path) -> None:
    zarr.create_array(str(tmp_path / "img"), shape=(4, 1, 10, 20, 30), chunks=(1, 1, 8, 8, 8), dtype="uint8")
    (layer,) = explore(wz.ZARR3_EXPLORER, tmp_path / "img")
    assert layer.mags[0].axis_order == {"x": 4, "y": 3, "z": 2, "c": 1}
    assert [a.to_json() for a in layer.additional_axes] == [{"name": "t", "bounds": [0, 4], "index": 0}]


def test_explore_dimension_names(tmp_path: Path) -> None:
    zarr.create_array(
        str(tmp_path / "a"), shape=(5, 2, 10, 20, 30), chunks=(1, 1, 8, 8, 8), dtype="uint8",
        dimension_names=["t", "c", "z", "y", "x"],
    )
    layers = explore(wz.ZARR3_EXPLORER, tmp_path / "a")
    assert len(layers) == 2
    assert layers[0].mags[0].axis_order == {"c": 1, "z": 2, "y": 3, "x": 4}
    assert [a.to_json() for a in layers[0].additional_axes] == [{"name": "t", "bounds": [0, 5], "index": 0}]
    # x, y, z named in F order (as tensorstore users often write)
    zarr.create_array(str(tmp_path / "b"), shape=(30, 20, 10), chunks=(8, 8, 8), dtype="uint8", dimension_names=["x", "y", "z"])
    (layer,) = explore(wz.ZARR3_EXPLORER, tmp_path / "b")
    assert layer.mags[0].axis_order == {"x": 0, "y": 1, "z": 2}
    assert layer.bounding_box.size == (30, 20, 10)
    # a 4th-from-last dimension named t is a time axis, not channels
    zarr.create_array(
        str(tmp_path / "c"), shape=(6, 10, 20, 30), chunks=(1, 8, 8, 8), dtype="uint8", dimension_names=["t", None, None, None]
    )
    (layer,) = explore(wz.ZARR3_EXPLORER, tmp_path / "c")
    assert layer.mags[0].axis_order == {"x": 3, "y": 2, "z": 1}
    assert [a.to_json() for a in layer.additional_axes] == [{"name": "t", "bounds": [0, 6], "index": 0}]


@pytest.mark.parametrize("dtype", ["float16", "bool", "complex64"])
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_unsupported_dtype(tmp_path: Path, dtype: str, zarr_format: int) -> None:
    zarr.create_array(str(tmp_path / "a"), shape=(4, 4), chunks=(2, 2), dtype=dtype, zarr_format=zarr_format)
    explorer = wz.ZARR3_EXPLORER if zarr_format == 3 else wz.ZARR2_EXPLORER
    with pytest.raises(UnsupportedDataError, match=dtype.replace("bool", "bool")) as info:
        explore(explorer, tmp_path / "a")
    assert str(tmp_path / "a") in str(info.value)


def _write_json(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)


V3_DOC: dict[str, Any] = {
    "zarr_format": 3,
    "node_type": "array",
    "shape": [10, 10],
    "data_type": "uint8",
    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5, 5]}},
    "chunk_key_encoding": {"name": "default"},
    "fill_value": 0,
    "codecs": [{"name": "bytes"}],
}


def test_unknown_codec_is_unsupported(tmp_path: Path) -> None:
    _write_json(tmp_path / "a" / "zarr.json", {**V3_DOC, "codecs": [{"name": "bytes"}, {"name": "fancy-zip"}]})
    with pytest.raises(UnsupportedDataError, match="fancy-zip"):
        explore(wz.ZARR3_EXPLORER, tmp_path / "a")
    _write_json(
        tmp_path / "b" / ".zarray",
        {"zarr_format": 2, "shape": [4, 4], "chunks": [2, 2], "dtype": "<u2", "compressor": {"id": "no-such-codec"},
         "fill_value": 0, "order": "C", "filters": None},
    )
    with pytest.raises(UnsupportedDataError, match="no-such-codec"):
        explore(wz.ZARR2_EXPLORER, tmp_path / "b")
    _write_json(tmp_path / "c" / "zarr.json", {**V3_DOC, "data_type": "r16"})
    with pytest.raises(UnsupportedDataError, match="r16"):
        explore(wz.ZARR3_EXPLORER, tmp_path / "c")


def test_malformed_metadata(tmp_path: Path) -> None:
    _write_json(tmp_path / "a" / "zarr.json", '{"zarr_format": 3, "node_type": "array", ')
    with pytest.raises(MalformedMetadataError, match="malformed JSON") as info:
        explore(wz.ZARR3_EXPLORER, tmp_path / "a")
    assert "zarr.json" in str(info.value)
    _write_json(tmp_path / "b" / "zarr.json", {k: v for k, v in V3_DOC.items() if k != "shape"})
    with pytest.raises(MalformedMetadataError, match="shape"):
        explore(wz.ZARR3_EXPLORER, tmp_path / "b")
    _write_json(tmp_path / "c" / ".zarray", {"zarr_format": 2, "shape": [4, 4], "chunks": [2], "dtype": "<u2"})
    with pytest.raises(MalformedMetadataError, match="differ in length"):
        explore(wz.ZARR2_EXPLORER, tmp_path / "c")
    _write_json(tmp_path / "d" / ".zarray", "not json at all")
    with pytest.raises(MalformedMetadataError):
        explore(wz.ZARR2_EXPLORER, tmp_path / "d")


def test_not_this_format(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotThisFormat):
        explore(wz.ZARR3_EXPLORER, tmp_path / "empty")
    with pytest.raises(NotThisFormat):
        explore(wz.ZARR2_EXPLORER, tmp_path / "empty")
    zarr.open_group(str(tmp_path / "group"), mode="w", zarr_format=3)
    with pytest.raises(NotThisFormat, match="group"):
        explore(wz.ZARR3_EXPLORER, tmp_path / "group")


def test_explorer_registry() -> None:
    assert [e.name for e in wz.EXPLORERS] == ["zarr3", "zarr2"]
    assert wz.ZARR3_EXPLORER.probe_files == ("zarr.json",) and "zarr3" in wz.ZARR3_EXPLORER.hints
    assert wz.ZARR2_EXPLORER.probe_files == (".zarray",) and "zarr2" in wz.ZARR2_EXPLORER.hints


def test_category_and_name_helpers() -> None:
    assert wz.category_from_name("segmentation", "uint32") == ("segmentation", "name")
    assert wz.category_from_name("my_segmentation", "uint32") == ("color", "default")  # whole name only
    assert wz.category_from_name("Labels", "uint8") == ("segmentation", "name")
    assert wz.category_from_name("seg", "float") == ("color", "default")
    assert wz.category_from_name("em", "uint8") == ("color", "default")
    assert wz.sanitize_name("DAPI (405 nm)!") == "DAPI405nm"
    assert wz.sanitize_name("a_b-c.d") == "a_b-cd"


def test_v2_xarray_dimension_names(tmp_path: Path) -> None:
    arr = zarr.create_array(str(tmp_path / "a"), shape=(30, 20, 10), chunks=(8, 8, 8), dtype="uint8", zarr_format=2)
    arr.attrs["_ARRAY_DIMENSIONS"] = ["x", "y", "z"]
    (layer,) = explore(wz.ZARR2_EXPLORER, tmp_path / "a")
    assert layer.mags[0].axis_order == {"x": 0, "y": 1, "z": 2}
    assert layer.bounding_box.size == (30, 20, 10)


class _WholeFileStorage:
    """A storage whose server ignores Range headers (like `python -m http.server`)."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int | None]] = []

    async def get(self, path: str, *, meters: Any = ()) -> bytes | None:
        p = Path(path)
        return p.read_bytes() if p.is_file() else None

    async def get_range(self, path: str, start: int, length: int | None, *, meters: Any = ()) -> bytes | None:
        self.ranges.append((start, length))
        return await self.get(path)


@pytest.mark.parametrize("location", ["start", "end"])
def test_sharded_reads_survive_servers_that_ignore_range(tmp_path: Path, location: str) -> None:
    data = _data((16, 32), "uint16")
    arr = zarr.create_array(
        str(tmp_path / "a.zarr"), shape=data.shape, chunks=(16, 32), dtype="uint16", compressors=None,
        serializer=ShardingCodec(chunk_shape=(4, 8), codecs=[BytesCodec(), GzipCodec()],
                                 index_location=ShardingCodecIndexLocation(location)),
    )
    arr[...] = data
    uri = parse_uri(str(tmp_path / "a.zarr"))
    meta = wz.parse_zarr_json(json.loads((tmp_path / "a.zarr" / "zarr.json").read_text()), uri.url)
    storage = _WholeFileStorage()
    reader = wz.ZarrArrayReader(storage, uri, meta)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wz.reader, "COALESCE_GAP", 0)  # the reader module reads it
        got, missing = read_all(reader)
    assert missing == 0
    np.testing.assert_array_equal(got, data)
    assert storage.ranges[0][0] == (-16 * 16 - 4 if location == "end" else 0)
