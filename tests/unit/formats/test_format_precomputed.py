"""Neuroglancer precomputed: exploration and reads of datasets written by independent
writers (tensorstore, cloud-volume) into tmp_path, read back through file:// URIs."""

from __future__ import annotations

import asyncio
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.chunks import grid as all_coords
from tests.support.chunks import read_chunks
from wk_widget.errors import CorruptChunkError, RemoteDatasetError, UnsupportedDataError
from wk_widget.formats import parse_uri
from wk_widget.formats import precomputed as pc
from wk_widget.formats._shared.murmur import hash64_uint64, hash64_uint64_array, murmurhash3_x86_128
from wk_widget.formats.base import ExploreContext, LayerSpec, MagSpec, NotThisFormat
from wk_widget.storage import RequestMeter, run_sync, storage_for

ts = pytest.importorskip("tensorstore")

EXPLORER = pc.EXPLORERS[0]


# --------------------------------------------------------------------------- helpers


def explore(path: Path, ctx: ExploreContext | None = None) -> list[LayerSpec]:
    return run_sync(EXPLORER.explore(ctx or ExploreContext(), parse_uri(str(path))))


def reader_of(mag: MagSpec) -> pc.PrecomputedReader:
    return run_sync(pc.open_reader(storage_for(mag.path), mag))


def read_all(
    reader: pc.PrecomputedReader, meters: tuple[RequestMeter, ...] = ()
) -> tuple[np.ndarray, list[tuple[int, ...]], list[bytes | None]]:
    """Every chunk fetched at once and decoded into one array of [grid_origin, shape)."""
    chunks = read_chunks(reader, meters)
    return chunks.array, chunks.coords, chunks.raw


def ts_write(
    path: Path,
    data: np.ndarray,
    *,
    volume_type: str = "image",
    resolution: tuple[float, ...] = (4, 4, 40),
    voxel_offset: tuple[int, int, int] = (0, 0, 0),
    chunk: tuple[int, int, int] = (16, 16, 8),
    encoding: str = "raw",
    sharding: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write `data` (x, y, z, c) as one scale with tensorstore (adds to an existing info)."""
    scale: dict[str, Any] = {
        "size": list(data.shape[:3]),
        "resolution": list(resolution),
        "voxel_offset": list(voxel_offset),
        "chunk_size": list(chunk),
        "encoding": encoding,
    }
    if sharding is not None:
        scale["sharding"] = {"@type": "neuroglancer_uint64_sharded_v1", **sharding}
    scale.update(extra or {})
    spec = {
        "driver": "neuroglancer_precomputed",
        "kvstore": {"driver": "file", "path": str(path)},
        "multiscale_metadata": {
            "type": volume_type,
            "data_type": data.dtype.name,
            "num_channels": data.shape[3],
        },
        "scale_metadata": scale,
        "create": True,
        "open": True,
    }
    store = ts.open(spec).result()
    store[ts.d[:].translate_to[0]].write(data).result()


def segmentation(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # blocky labels with a few distinct values per 8^3 block, large ids
    coarse = rng.integers(1, 6, [(s + 3) // 4 for s in shape[:3]] + [shape[3]])
    labels = coarse.repeat(4, 0).repeat(4, 1).repeat(4, 2)[: shape[0], : shape[1], : shape[2]]
    noise = rng.integers(0, 3, shape)
    big = np.uint64(2**40) if np.dtype(dtype) == np.uint64 else np.uint64(1000)
    return ((labels + noise).astype(np.uint64) * big + np.uint64(7)).astype(dtype)


# --------------------------------------------------------------------------- murmurhash3


def test_murmurhash3_x86_128_published_vectors() -> None:
    # SMHasher's verification value for MurmurHash3_x86_128: hash keys {}, {0}, {0,1}, ...
    # with seed 256 - i, then the concatenated hashes with seed 0; the first 4 bytes.
    buf = b"".join(
        murmurhash3_x86_128(bytes(range(i)), 256 - i).to_bytes(16, "little") for i in range(256)
    )
    assert murmurhash3_x86_128(buf, 0) & 0xFFFFFFFF == 0xB3ECE62A
    # Peter Scott's murmur3 README: MurmurHash3_x86_128("Hello, world!", 123) as 4 words
    h = murmurhash3_x86_128(b"Hello, world!", 123)
    words = [(h >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
    assert "".join(f"{w:08x}" for w in words) == "61c9129e5a1aacd7a41621629e37c886"
    assert murmurhash3_x86_128(b"", 0) == 0


def test_murmurhash3_matches_cloudvolume_and_fast_paths() -> None:
    mmh3 = pytest.importorskip("cloudvolume.datasource.precomputed.mmh3")
    rng = np.random.default_rng(5)
    for n in range(0, 40):
        data = rng.integers(0, 256, n).astype(np.uint8).tobytes()
        seed = int(rng.integers(0, 2**32))
        assert murmurhash3_x86_128(data, seed) == mmh3.hash128(data, seed, x64arch=False) % 2**128
    values = [
        0,
        1,
        2**32,
        2**63 + 5,
        2**64 - 1,
        *map(int, rng.integers(0, 2**63, 300, dtype=np.int64)),
    ]
    expected = [murmurhash3_x86_128(struct.pack("<Q", v)) & (2**64 - 1) for v in values]
    assert [hash64_uint64(v) for v in values] == expected
    assert [int(v) for v in hash64_uint64_array(np.array(values, dtype=np.uint64))] == expected
    # the hash neuroglancer shards use (cloud-volume's sharding.py)
    assert [mmh3.hash64(struct.pack("<Q", v), x64arch=False)[0] % 2**64 for v in values] == expected


def test_compressed_morton_code() -> None:
    # worked example of a published sharded-volume worksheet (grid 671 x 877 x 1286)
    assert pc.compressed_morton_code((335, 438, 1024), (671, 877, 1286)) == 0x434522D9
    # spec: bits that are 0 for every grid cell are skipped
    assert pc.compressed_morton_code((1, 0, 0), (2, 1, 1)) == 1
    assert pc.compressed_morton_code((0, 0, 1), (1, 1, 2)) == 1
    assert pc.compressed_morton_code((3, 1, 0), (4, 2, 1)) == 0b111
    assert pc.compressed_morton_code((2, 0, 0), (4, 2, 1)) == 0b100
    rng = np.random.default_rng(1)
    for grid in [(1, 1, 1), (5, 3, 1), (671, 877, 1286), (2**20, 3, 2**21 + 5)]:
        encoder = pc._MortonEncoder(grid)
        for _ in range(200):
            p = [int(rng.integers(0, g)) for g in grid]
            assert encoder(p) == pc.compressed_morton_code(p, grid)


# --------------------------------------------------------------------------- exploration


def test_explore_cloudvolume_raw_two_scales_and_read(tmp_path: Path) -> None:
    cloudvolume = pytest.importorskip("cloudvolume")
    root = tmp_path / "em_raw"
    info = cloudvolume.CloudVolume.create_new_info(
        num_channels=1,
        layer_type="image",
        data_type="uint16",
        encoding="raw",
        resolution=[5, 6, 30],
        voxel_offset=[10, 20, 3],
        volume_size=[70, 50, 21],
        chunk_size=[32, 32, 8],
    )
    vol = cloudvolume.CloudVolume(f"file://{root}", info=info, compress=False, progress=False)
    vol.commit_info()
    rng = np.random.default_rng(1)
    data = rng.integers(1, 60000, (70, 50, 21)).astype(np.uint16)
    vol[10:80, 20:70, 3:24] = data
    vol.add_scale((2, 2, 1))
    vol.commit_info()
    mip1 = cloudvolume.CloudVolume(f"file://{root}", mip=1, compress=False, progress=False)
    data1 = data[::2, ::2]
    mip1[mip1.bounds] = data1

    ctx = ExploreContext()
    (layer,) = explore(root, ctx)
    assert ctx.meter.requests == 1  # the info file only
    uri = parse_uri(str(root))
    assert layer.name == "em_raw"
    assert layer.dataset_name == "em_raw"
    assert layer.category == "color" and layer.category_source == "precomputed-type"
    assert layer.data_format == "neuroglancerPrecomputed"
    assert layer.format_name == "precomputed"
    assert layer.element_class == "uint16"
    assert layer.bounding_box.top_left == (10, 20, 3)
    assert layer.bounding_box.size == (70, 50, 21)
    assert layer.num_channels == 1
    assert layer.voxel_size == (5.0, 6.0, 30.0) and layer.unit == "nanometer"
    assert layer.largest_segment_id is None
    assert layer.source_uri == uri.url
    assert [m.mag for m in layer.mags] == [(1, 1, 1), (2, 2, 1)]
    assert [m.path.url for m in layer.mags] == [uri.join("5_6_30").url, uri.join("10_12_30").url]
    for m in layer.mags:
        assert m.axis_order == {"x": 0, "y": 1, "z": 2, "c": 3}
        assert m.channel_index is None

    r0 = reader_of(layer.mags[0])
    assert r0.shape == (80, 70, 24, 1) and r0.grid_origin == (10, 20, 3, 0)
    assert r0.chunk_shape == (32, 32, 8, 1) and r0.fill_value == 0 and r0.dtype == np.uint16
    out, _, raw = read_all(r0)
    assert all(b is not None for b in raw)
    np.testing.assert_array_equal(out[..., 0], data)
    # edge chunk extents and names in absolute coordinates
    assert r0.chunk_name((2, 1, 2, 0)) == "74-80_52-70_19-24"
    assert r0.chunk_extent((2, 1, 2, 0)) == (6, 18, 5, 1)

    r1 = reader_of(layer.mags[1])
    assert r1.grid_origin == (5, 10, 3, 0) and r1.shape == (40, 35, 24, 1)
    out1, _, _ = read_all(r1)
    np.testing.assert_array_equal(out1[..., 0], data1)


def test_explore_fields_tensorstore_segmentation_cseg(tmp_path: Path) -> None:
    root = tmp_path / "cells"
    data = segmentation((37, 29, 11, 1), np.uint64)
    ts_write(
        root,
        data,
        volume_type="segmentation",
        resolution=(8, 8, 33),
        voxel_offset=(100, 7, 2),
        chunk=(16, 16, 8),
        encoding="compressed_segmentation",
        extra={"compressed_segmentation_block_size": [8, 8, 8]},
    )
    (layer,) = explore(root)
    assert layer.category == "segmentation" and layer.category_source == "precomputed-type"
    assert layer.element_class == "uint64"
    assert layer.bounding_box.top_left == (100, 7, 2) and layer.bounding_box.size == (37, 29, 11)
    assert layer.voxel_size == (8.0, 8.0, 33.0)
    scale = layer.mags[0].array_meta
    assert isinstance(scale, pc.PrecomputedScale)
    assert scale.encoding == "compressed_segmentation"
    assert scale.compressed_segmentation_block_size == (8, 8, 8)
    out, _, raw = read_all(reader_of(layer.mags[0]))
    assert all(b is not None for b in raw)
    np.testing.assert_array_equal(out, data)


@pytest.mark.parametrize("dtype", ["uint32", "uint64"])
def test_compressed_segmentation_multichannel_edges(tmp_path: Path, dtype: str) -> None:
    root = tmp_path / "seg"
    data = segmentation((21, 18, 9, 2), dtype, seed=3)
    ts_write(
        root,
        data,
        volume_type="segmentation",
        voxel_offset=(1, 2, 3),
        chunk=(16, 16, 8),
        encoding="compressed_segmentation",
        extra={"compressed_segmentation_block_size": [4, 8, 2]},
    )
    (layer,) = explore(root)
    assert layer.num_channels == 2
    reader = reader_of(layer.mags[0])
    out, _, _ = read_all(reader)
    np.testing.assert_array_equal(out, data)


@pytest.mark.parametrize("channels", [1, 2, 4])
def test_raw_multichannel_and_png(tmp_path: Path, channels: int) -> None:
    rng = np.random.default_rng(channels)
    data = rng.integers(0, 255, (33, 20, 10, channels)).astype(np.uint8)
    ts_write(tmp_path / "raw", data, voxel_offset=(5, 0, 9))
    ts_write(tmp_path / "png", data, voxel_offset=(5, 0, 9), encoding="png")
    for name in ("raw", "png"):
        (layer,) = explore(tmp_path / name)
        assert layer.num_channels == channels
        out, _, _ = read_all(reader_of(layer.mags[0]))
        np.testing.assert_array_equal(out, data)


def test_png_uint16(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    data = rng.integers(0, 65535, (20, 17, 9, 1)).astype(np.uint16)
    ts_write(tmp_path / "png16", data, encoding="png", voxel_offset=(3, 3, 3))
    (layer,) = explore(tmp_path / "png16")
    out, _, _ = read_all(reader_of(layer.mags[0]))
    np.testing.assert_array_equal(out, data)


@pytest.mark.parametrize("channels", [1, 3])
def test_jpeg(tmp_path: Path, channels: int) -> None:
    x, y, z = np.meshgrid(np.arange(40), np.arange(35), np.arange(12), indexing="ij")
    smooth = (x * 3 + y * 2 + z * 5) % 256
    data = np.stack([(smooth + 40 * c) % 256 for c in range(channels)], axis=-1).astype(np.uint8)
    ts_write(
        tmp_path / "jpg",
        data,
        encoding="jpeg",
        voxel_offset=(0, 10, 20),
        extra={"jpeg_quality": 95},
    )
    (layer,) = explore(tmp_path / "jpg")
    out, _, raw = read_all(reader_of(layer.mags[0]))
    assert all(b is not None for b in raw)
    err = np.abs(out.astype(np.int16) - data.astype(np.int16))
    assert err.mean() < 3.0, err.mean()


def test_float32_image_and_name_heuristic(tmp_path: Path) -> None:
    data = np.linspace(0, 1, 10 * 9 * 8, dtype=np.float32).reshape(10, 9, 8, 1)
    ts_write(tmp_path / "probabilities", data)
    (layer,) = explore(tmp_path / "probabilities")
    assert layer.element_class == "float"
    out, _, _ = read_all(reader_of(layer.mags[0]))
    np.testing.assert_array_equal(out, data)
    # without a "type", the name decides
    root = tmp_path / "segmentation"  # the whole name, as WEBKNOSSOS
    ts_write(root, segmentation((8, 8, 8, 1), np.uint32), volume_type="segmentation")
    info = json.loads((root / "info").read_text())
    del info["type"]
    (root / "info").write_text(json.dumps(info))
    (layer,) = explore(root)
    assert layer.category == "segmentation" and layer.category_source == "name"


# --------------------------------------------------------------------------- sharded


def _shard_layout(
    reader: pc.PrecomputedReader, coords: list[tuple[int, ...]]
) -> dict[int, set[int]]:
    shards: dict[int, set[int]] = {}
    for c in coords:
        shard, minishard = reader.shard_and_minishard(reader.chunk_id(c))
        shards.setdefault(shard, set()).add(minishard)
    return shards


@pytest.mark.parametrize(
    ("hash_name", "minishard_encoding", "data_encoding", "preshift", "encoding"),
    [
        ("identity", "raw", "raw", 0, "raw"),
        ("identity", "gzip", "gzip", 1, "raw"),
        ("murmurhash3_x86_128", "gzip", "raw", 0, "raw"),
        ("murmurhash3_x86_128", "raw", "gzip", 2, "compressed_segmentation"),
        ("murmurhash3_x86_128", "gzip", "gzip", 0, "jpeg"),
    ],
)
def test_sharded_reads(
    tmp_path: Path,
    hash_name: str,
    minishard_encoding: str,
    data_encoding: str,
    preshift: int,
    encoding: str,
) -> None:
    root = tmp_path / "sharded"
    if encoding == "compressed_segmentation":
        data = segmentation((70, 45, 23, 1), np.uint32, seed=9)
        extra: dict[str, Any] = {"compressed_segmentation_block_size": [8, 8, 8]}
    else:
        x, y, z = np.meshgrid(np.arange(70), np.arange(45), np.arange(23), indexing="ij")
        data = ((x + 2 * y + 3 * z) % 250 + 1).astype(np.uint8)[..., None]
        extra = {}
    sharding = {
        "preshift_bits": preshift,
        "hash": hash_name,
        "minishard_bits": 2,
        "shard_bits": 3,
        "minishard_index_encoding": minishard_encoding,
        "data_encoding": data_encoding,
    }
    ts_write(
        root,
        data,
        voxel_offset=(3, 5, 7),
        chunk=(16, 16, 8),
        encoding=encoding,
        sharding=sharding,
        extra=extra,
    )
    (layer,) = explore(root)
    scale = layer.mags[0].array_meta
    assert isinstance(scale, pc.PrecomputedScale) and scale.sharding is not None
    assert scale.sharding.hash == hash_name
    reader = reader_of(layer.mags[0])
    coords = all_coords(reader)
    layout = _shard_layout(reader, coords)
    assert len(layout) > 1, "the test data should span several shards"
    for shard in layout:
        assert (root / scale.key / reader.shard_name(shard)).is_file()
    assert all(len(reader.shard_name(s)) == len("0.shard") for s in layout)  # ceil(3/4) = 1 digit

    meter = RequestMeter()
    out, _, raw = read_all(reader, (meter,))
    assert all(b is not None for b in raw)
    if encoding == "jpeg":
        assert np.abs(out.astype(int) - data.astype(int)).mean() < 3
    else:
        np.testing.assert_array_equal(out, data)
    # per shard: one range for its index entries, one per minishard index, one coalesced
    # range for the chunk data (all far below 64 KiB apart)
    minishards = sum(len(m) for m in layout.values())
    assert meter.requests == 2 * len(layout) + minishards
    # again: indices come from the cache, only the data is read
    meter2 = RequestMeter()
    run_sync(reader.fetch(coords, (meter2,)))
    assert meter2.requests == len(layout)


def test_sharded_index_entries_read_once_concurrently_and_missing(tmp_path: Path) -> None:
    root = tmp_path / "sharded"
    data = np.zeros((64, 64, 32, 1), dtype=np.uint16)
    data[:40] = 7  # chunks with x >= 48 are all fill value: tensorstore does not store them
    data[5:9, 3:30, 2:20] = 1000
    sharding = {
        "preshift_bits": 0,
        "hash": "murmurhash3_x86_128",
        "minishard_bits": 3,
        "shard_bits": 2,
    }
    ts_write(root, data, chunk=(16, 16, 16), sharding=sharding)
    (layer,) = explore(root)
    reader = reader_of(layer.mags[0])
    coords = all_coords(reader)
    layout = _shard_layout(reader, coords)

    async def twice() -> tuple[list[bytes | None], list[bytes | None]]:
        a, b = await asyncio.gather(
            reader.fetch(coords, (meter,)), reader.fetch(coords[::-1], (meter,))
        )
        return a, b

    meter = RequestMeter()
    first, second = run_sync(twice())
    assert first == second[::-1]
    # Concurrent fetches share the index reads: at most one entry range and one read per
    # minishard index per shard, plus each fetch's coalesced data ranges.
    minishards = sum(len(m) for m in layout.values())
    assert meter.requests <= 3 * len(layout) + minishards
    for coord, chunk in zip(coords, first, strict=True):
        expect_missing = coord[0] == 3
        assert (chunk is None) == expect_missing, coord
        if chunk is not None:
            sl = tuple(slice(c * 16, c * 16 + 16) for c in coord[:3])
            np.testing.assert_array_equal(reader.decode(coord, chunk)[..., 0], data[sl][..., 0])
    # a shard file that does not exist: every chunk of it is missing, no error
    victim = next(iter(layout))
    (root / layer.mags[0].array_meta.key / reader.shard_name(victim)).unlink()
    fresh = reader_of(layer.mags[0])
    got = run_sync(fresh.fetch(coords))
    in_victim = [c for c in coords if fresh.shard_and_minishard(fresh.chunk_id(c))[0] == victim]
    for coord, chunk in zip(coords, got, strict=True):
        if coord in in_victim:
            assert chunk is None
    # the missing shard is remembered: no more requests for its chunks
    again = RequestMeter()
    assert run_sync(fresh.fetch(in_victim, (again,))) == [None] * len(in_victim)
    assert again.requests == 0
    # out-of-grid coordinates read as missing
    assert run_sync(fresh.fetch([(9, 0, 0, 0)])) == [None]


def test_sharded_shard_names_zero_padded(tmp_path: Path) -> None:
    root = tmp_path / "many"
    data = np.arange(32 * 32 * 32, dtype=np.uint32).reshape(32, 32, 32, 1) + 1
    sharding = {
        "preshift_bits": 0,
        "hash": "murmurhash3_x86_128",
        "minishard_bits": 0,
        "shard_bits": 6,
    }
    ts_write(root, data, chunk=(8, 8, 8), sharding=sharding)
    (layer,) = explore(root)
    reader = reader_of(layer.mags[0])
    names = sorted(p.name for p in (root / layer.mags[0].array_meta.key).iterdir())
    assert names and all(len(n) == len("00.shard") for n in names)
    assert {reader.shard_name(s) for s in _shard_layout(reader, all_coords(reader))} == set(names)
    out, _, _ = read_all(reader)
    np.testing.assert_array_equal(out, data)


# --------------------------------------------------------------------------- missing & corrupt


def test_unsharded_missing_and_corrupt_chunks(tmp_path: Path) -> None:
    root = tmp_path / "img"
    data = np.zeros((32, 16, 8, 1), dtype=np.uint16)
    data[:16] = 9  # the chunk at x 16..32 is all fill value: not written
    ts_write(root, data, voxel_offset=(4, 0, 0), chunk=(16, 16, 8))
    (layer,) = explore(root)
    reader = reader_of(layer.mags[0])
    got = run_sync(reader.fetch([(0, 0, 0, 0), (1, 0, 0, 0)]))
    assert got[0] is not None and got[1] is None
    # a chunk with the wrong length
    key = layer.mags[0].array_meta.key
    (root / key / "4-20_0-16_0-8").write_bytes(b"\x01\x02\x03")
    bad = run_sync(reader.fetch([(0, 0, 0, 0)]))[0]
    assert bad is not None
    with pytest.raises(CorruptChunkError) as info:
        reader.decode((0, 0, 0, 0), bad)
    assert "4-20_0-16_0-8" in str(info.value)
    assert isinstance(info.value, RemoteDatasetError)


@pytest.mark.parametrize("encoding", ["compressed_segmentation", "jpeg", "png"])
def test_corrupt_encoded_chunks(tmp_path: Path, encoding: str) -> None:
    root = tmp_path / encoding
    if encoding == "compressed_segmentation":
        data = segmentation((16, 16, 8, 1), np.uint64)
        extra: dict[str, Any] = {"compressed_segmentation_block_size": [8, 8, 8]}
    else:
        data = (np.arange(16 * 16 * 8) % 200).astype(np.uint8).reshape(16, 16, 8, 1)
        extra = {}
    ts_write(root, data, chunk=(16, 16, 8), encoding=encoding, extra=extra)
    (layer,) = explore(root)
    reader = reader_of(layer.mags[0])
    good = run_sync(reader.fetch([(0, 0, 0, 0)]))[0]
    assert good is not None
    rng = np.random.default_rng(0)
    candidates = [
        good[: len(good) // 2],
        b"",
        b"garbage" * 10,
        bytes(rng.integers(0, 256, 500, dtype=np.uint8)),
    ]
    for _ in range(300):  # random damage: decoded or refused, never a crash
        damaged = bytearray(good)
        for _ in range(int(rng.integers(1, 4))):
            damaged[int(rng.integers(0, len(damaged)))] = int(rng.integers(0, 256))
        candidates.append(bytes(damaged))
    refused = 0
    for blob in candidates:
        try:
            arr = reader.decode((0, 0, 0, 0), blob)
        except CorruptChunkError as exc:
            assert "0-16_0-16_0-8" in str(exc)
            refused += 1
        else:
            assert arr.shape == (16, 16, 8, 1)
    assert refused >= 4


def test_sharded_corrupt_chunk_names_the_shard(tmp_path: Path) -> None:
    root = tmp_path / "sh"
    data = (np.arange(32 * 16 * 8) % 100 + 1).astype(np.uint16).reshape(32, 16, 8, 1)
    sharding = {
        "preshift_bits": 0,
        "hash": "identity",
        "minishard_bits": 0,
        "shard_bits": 0,
        "data_encoding": "gzip",
    }
    ts_write(root, data, chunk=(16, 16, 8), sharding=sharding)
    (layer,) = explore(root)
    reader = reader_of(layer.mags[0])
    chunk = run_sync(reader.fetch([(1, 0, 0, 0)]))[0]
    assert chunk is not None
    with pytest.raises(CorruptChunkError) as info:
        reader.decode((1, 0, 0, 0), chunk[:10])
    assert "0.shard" in str(info.value)


# --------------------------------------------------------------------------- open_reader without metadata


def test_open_reader_from_path_only(tmp_path: Path) -> None:
    root = tmp_path / "vol"
    data = np.arange(20 * 20 * 10, dtype=np.uint32).reshape(20, 20, 10, 1)
    ts_write(root, data, resolution=(4, 4, 40), voxel_offset=(2, 2, 2))
    ts_write(root, data[::2, ::2], resolution=(8, 8, 40), voxel_offset=(1, 1, 2))
    (layer,) = explore(root)
    for mag in layer.mags:
        bare = MagSpec(mag.mag, mag.path, mag.axis_order, None, None)
        meter = RequestMeter()
        storage = storage_for(mag.path)
        reader = run_sync(pc.open_reader(storage, bare))
        assert reader.scale == mag.array_meta
        explored = reader_of(mag)
        assert (reader.shape, reader.grid_origin) == (explored.shape, explored.grid_origin)
        out, _, _ = read_all(reader, (meter,))
        expected = data if mag.mag == (1, 1, 1) else data[::2, ::2]
        np.testing.assert_array_equal(out, expected)
    missing = MagSpec((1, 1, 1), parse_uri(str(root)).join("nope"), dict(pc.AXIS_ORDER))
    with pytest.raises(RemoteDatasetError, match="nope"):
        run_sync(pc.open_reader(storage_for(missing.path), missing))


# --------------------------------------------------------------------------- not this format / unsupported


def _info(root: Path, doc: Any) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "info").write_text(json.dumps(doc))
    return root


BASE_SCALE = {
    "key": "s0",
    "size": [10, 10, 10],
    "resolution": [4, 4, 4],
    "chunk_sizes": [[8, 8, 8]],
    "encoding": "raw",
}


def test_not_this_format(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotThisFormat):
        explore(tmp_path / "empty")
    with pytest.raises(NotThisFormat):
        explore(_info(tmp_path / "other", {"hello": "world"}))
    with pytest.raises(NotThisFormat):
        explore(_info(tmp_path / "list", [1, 2, 3]))


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        (
            {
                "type": "image",
                "data_type": "uint8",
                "num_channels": 1,
                "scales": [{**BASE_SCALE, "encoding": "fpzip"}],
            },
            "fpzip",
        ),
        (
            {"type": "image", "data_type": "float16", "num_channels": 1, "scales": [BASE_SCALE]},
            "float16",
        ),
        (
            {
                "type": "image",
                "data_type": "uint16",
                "num_channels": 1,
                "scales": [{**BASE_SCALE, "encoding": "jpeg"}],
            },
            "jpeg",
        ),
        ({"@type": "neuroglancer_skeletons", "vertex_attributes": []}, "neuroglancer_skeletons"),
        (
            {
                "type": "image",
                "data_type": "uint8",
                "num_channels": 1,
                "scales": [BASE_SCALE, {**BASE_SCALE, "key": "s1", "resolution": [12, 12, 4]}],
            },
            "power-of-two",
        ),
        (
            {
                "type": "image",
                "data_type": "uint8",
                "num_channels": 1,
                "scales": [
                    {
                        **BASE_SCALE,
                        "sharding": {
                            "@type": "neuroglancer_uint64_sharded_v1",
                            "hash": "md5",
                            "preshift_bits": 0,
                            "minishard_bits": 0,
                            "shard_bits": 0,
                        },
                    }
                ],
            },
            "md5",
        ),
    ],
)
def test_unsupported_is_a_clear_error(tmp_path: Path, doc: Any, needle: str) -> None:
    root = _info(tmp_path / "vol", doc)
    with pytest.raises(UnsupportedDataError) as info:
        explore(root)
    assert needle in str(info.value)
    assert str(parse_uri(str(root)).url) in str(info.value)


def test_malformed_info(tmp_path: Path) -> None:
    root = _info(
        tmp_path / "vol", {"type": "image", "data_type": "uint8", "scales": [{"key": "s0"}]}
    )
    with pytest.raises(RemoteDatasetError, match="size"):
        explore(root)
