"""The plane-aware slab cache of the viewer's tiles (engine.PlaneSlabs, tiles.TILE_SLABS):
the same voxels as a direct read, bounded memory, LRU eviction, speculative reads that keep
whole chunks out of the shared cache, and tiles drawn again without a fetch."""

from __future__ import annotations

import asyncio
import itertools
import math
from typing import Any

import numpy as np
import pytest
import zarr

import wk_widget as wk
from wk_widget.engine import CHUNK_CACHE, ChunkCache, PlaneSlabs, get_reader, read_box
from wk_widget.formats.base import ArrayReader
from wk_widget.storage import RequestMeter, run_sync
from wk_widget.widget import tiles
from wk_widget.widget.viewer import Viewer

SHAPE = (40, 70, 90)  # z, y, x
CHUNKS = (16, 32, 32)


@pytest.fixture(scope="module")
def volume() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 2**32 - 1, SHAPE, dtype=np.uint32)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory, volume: np.ndarray) -> wk.Dataset:
    """An OME-NGFF 0.4 uint32 volume written by zarr-python (one level)."""
    path = tmp_path_factory.mktemp("slabs") / "seg.ome.zarr"
    g = zarr.open_group(str(path), mode="w", zarr_format=2)
    a = g.create_array("0", shape=SHAPE, dtype=volume.dtype, chunks=CHUNKS)
    a[...] = volume
    g.attrs["multiscales"] = [
        {
            "version": "0.4",
            "name": "seg",
            "axes": [{"name": n, "type": "space", "unit": "nanometer"} for n in "zyx"],
            "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0, 1.0]}]}],
        }
    ]
    return wk.explore(path.as_uri())


def run(coro: Any) -> Any:
    return run_sync(coro)  # on the I/O loop, as the package's own reads


def reader_of(ds: wk.Dataset) -> ArrayReader:
    layer = next(iter(ds))
    return run(get_reader(layer.get_mag(1).handle))


def plane_box(axis: int, index: int) -> tuple[list[int], list[int]]:
    start = [3, 5, 7]
    stop = [SHAPE[0] - 2, SHAPE[1] - 1, SHAPE[2] - 4]
    start[axis], stop[axis] = index, index + 1
    return start, stop


def chunks_touched(start: list[int], stop: list[int]) -> int:
    return math.prod((b - 1) // c - a // c + 1 for a, b, c in zip(start, stop, CHUNKS, strict=True))


@pytest.mark.parametrize(("axis", "index"), [(0, 0), (0, 21), (1, 33), (2, 89)])
def test_plane_reads_match_direct_reads_and_are_served_from_slabs(
    dataset: wk.Dataset, volume: np.ndarray, axis: int, index: int
) -> None:
    reader = reader_of(dataset)
    start, stop = plane_box(axis, index)
    expected = volume[tuple(slice(a, b) for a, b in zip(start, stop, strict=True))]
    slabs = ChunkCache(64 << 20)
    CHUNK_CACHE.clear()
    first = run(read_box(reader, start, stop, planes=PlaneSlabs(slabs, axis)))
    np.testing.assert_array_equal(first, expected)
    # one slab per chunk touched, each one voxel thick: a plane of the chunk, not the chunk
    assert len(slabs) == chunks_touched(start, stop)
    chunk_plane = math.prod(c for d, c in enumerate(CHUNKS) if d != axis) * volume.itemsize
    assert 0 < slabs.nbytes <= len(slabs) * chunk_plane
    # the whole chunks gone from the shared cache: the slabs alone give the same voxels
    CHUNK_CACHE.clear()
    meter = RequestMeter()
    again = run(read_box(reader, start, stop, [meter], planes=PlaneSlabs(slabs, axis)))
    np.testing.assert_array_equal(again, expected)
    assert meter.requests == 0
    # another plane of the same chunks is not in the slabs: it is fetched
    other_start, other_stop = plane_box(axis, index + 1 if index + 1 < SHAPE[axis] else index - 1)
    other = run(read_box(reader, other_start, other_stop, [meter], planes=PlaneSlabs(slabs, axis)))
    np.testing.assert_array_equal(other, volume[tuple(slice(a, b) for a, b in zip(other_start, other_stop, strict=True))])
    assert meter.requests == chunks_touched(other_start, other_stop)


def test_slabs_come_from_whole_chunks_already_cached(dataset: wk.Dataset, volume: np.ndarray) -> None:
    reader = reader_of(dataset)
    CHUNK_CACHE.clear()
    run(read_box(reader, [0, 0, 0], list(SHAPE)))  # a plain read fills the shared cache
    slabs = ChunkCache(64 << 20)
    meter = RequestMeter()
    start, stop = plane_box(0, 17)
    out = run(read_box(reader, start, stop, [meter], planes=PlaneSlabs(slabs, 0)))
    np.testing.assert_array_equal(out, volume[17:18, 5:69, 7:86])
    assert meter.requests == 0 and len(slabs) == chunks_touched(start, stop)


def test_speculative_plane_reads_keep_whole_chunks_out_of_the_shared_cache(
    dataset: wk.Dataset, volume: np.ndarray
) -> None:
    reader = reader_of(dataset)
    CHUNK_CACHE.clear()
    slabs = ChunkCache(64 << 20)
    start, stop = plane_box(0, 30)
    out = run(read_box(reader, start, stop, planes=PlaneSlabs(slabs, 0, keep_chunks=False)))
    np.testing.assert_array_equal(out, volume[30:31, 5:69, 7:86])
    assert len(CHUNK_CACHE) == 0
    assert len(slabs) == chunks_touched(start, stop)


def test_slab_cache_stays_within_its_budget_and_evicts_the_oldest(
    dataset: wk.Dataset, volume: np.ndarray
) -> None:
    reader = reader_of(dataset)
    slab_bytes = CHUNKS[1] * CHUNKS[2] * volume.itemsize  # a full z-plane of one chunk
    slabs = ChunkCache(2 * slab_bytes)
    planes = PlaneSlabs(slabs, 0)
    CHUNK_CACHE.clear()
    # chunk (0, 0, 0) then (0, 0, 1), then (0, 0, 2): the first one is evicted
    for x0 in (0, 32, 64):
        run(read_box(reader, [4, 0, x0], [5, 32, x0 + 26], planes=planes))
        assert slabs.nbytes <= slabs.budget_bytes
    assert len(slabs) == 2
    CHUNK_CACHE.clear()
    meter = RequestMeter()
    out = run(read_box(reader, [4, 0, 32], [5, 32, 58], [meter], planes=planes))
    assert meter.requests == 0  # still held
    out = run(read_box(reader, [4, 0, 0], [5, 32, 26], [meter], planes=planes))
    assert meter.requests == 1  # evicted: fetched again
    np.testing.assert_array_equal(out, volume[4:5, 0:32, 0:26])


def test_a_plane_read_must_be_one_voxel_thick(dataset: wk.Dataset) -> None:
    reader = reader_of(dataset)
    with pytest.raises(ValueError, match="one voxel thick"):
        run(read_box(reader, [0, 0, 0], [2, 8, 8], planes=PlaneSlabs(ChunkCache(1 << 20), 0)))


# --------------------------------------------------------------------------- the viewer


def _tiles_of(sent: list[tuple[dict[str, Any], list[bytes]]]) -> list[dict[str, Any]]:
    return [t for content, _ in sent if content.get("type") == "tile_batch" for t in content["tiles"]]


async def _serve(viewer: Viewer, sent: list[Any], requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    before = len(_tiles_of(sent))
    viewer._on_msg(viewer, {"type": "tiles", "requests": requests}, [])
    loop = asyncio.get_running_loop()
    end = loop.time() + 30
    while len(_tiles_of(sent)) < before + len(requests):
        assert loop.time() < end, "tiles not served"
        await asyncio.sleep(0.005)
    return _tiles_of(sent)[before:]


def _request(rid: str, slice_: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": rid, "layer": "seg", "plane": "xy", "mag": [1, 1, 1], "slice": slice_, "tile": [0, 0],
        "size": 256, "channel": 0, "axes": {}, "format": "raw", **extra,
    }  # fmt: skip


async def test_viewer_tiles_are_drawn_again_from_slabs(dataset: wk.Dataset) -> None:
    viewer = Viewer(dataset)
    sent: list[tuple[dict[str, Any], list[bytes]]] = []
    viewer.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))  # type: ignore[method-assign]
    layer = dataset.layers["seg"]
    tiles.TILE_SLABS.clear()
    CHUNK_CACHE.clear()
    (first,) = await _serve(viewer, sent, [_request("a", 9)])
    assert first["ok"] is True
    fetched = layer.meter.snapshot()["requests"]
    n_chunks = len(list(itertools.product(range(3), range(3))))  # 70 x 90 in 32 x 32 chunks
    assert fetched >= n_chunks
    CHUNK_CACHE.clear()  # whole chunks evicted (other views, other reads)
    (again,) = await _serve(viewer, sent, [_request("b", 9)])
    assert again["ok"] is True and layer.meter.snapshot()["requests"] == fetched
    # a speculative tile (the view's margin) leaves the shared chunk cache alone
    CHUNK_CACHE.clear()
    (spec,) = await _serve(viewer, sent, [_request("c", 20, prefetch=True)])
    assert spec["ok"] is True and len(CHUNK_CACHE) == 0
    viewer.close()


async def test_the_slab_budget_follows_the_cache_budget(dataset: wk.Dataset) -> None:
    old = CHUNK_CACHE.budget_bytes
    viewer = Viewer(dataset)
    sent: list[tuple[dict[str, Any], list[bytes]]] = []
    viewer.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))  # type: ignore[method-assign]
    try:
        wk.set_cache_budget(0)  # no caching wanted: no slabs either
        (tile,) = await _serve(viewer, sent, [_request("z", 3)])
        assert tile["ok"] is True and len(tiles.TILE_SLABS) == 0
    finally:
        wk.set_cache_budget(old)
        viewer.close()
    assert tiles._slabs().budget_bytes == min(tiles.TILE_SLABS_BYTES, old // 8)
