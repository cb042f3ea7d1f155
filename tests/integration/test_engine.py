"""The chunk engine through the public API: reads, cache budget, fill values, dask, distributed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

import wk_widget as wk
from tests.support.servers import HttpServer
from wk_widget.engine import CHUNK_CACHE, ChunkCache
from wk_widget.errors import CorruptChunkError, RemoteDatasetError

SHAPE_ZYX = (37, 70, 90)  # partial edge chunks on every axis
CHUNKS = (16, 32, 32)


@pytest.fixture(scope="module")
def volume() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 60000, size=SHAPE_ZYX, dtype=np.uint16)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, volume: np.ndarray, http_server: HttpServer) -> dict[str, str]:
    root = tmp_path_factory.mktemp("engine")
    arr = zarr.create_array(store=str(root / "v3.zarr"), shape=SHAPE_ZYX, chunks=CHUNKS, dtype="uint16", zarr_format=3)
    arr[...] = volume
    sharded = zarr.create_array(
        store=str(root / "sharded.zarr"), shape=SHAPE_ZYX, chunks=CHUNKS, shards=(32, 64, 64), dtype="uint16", zarr_format=3
    )
    sharded[...] = volume
    # Sparse: only some chunks written; the rest must read as the fill value.
    sparse = zarr.create_array(
        store=str(root / "sparse.zarr"), shape=SHAPE_ZYX, chunks=CHUNKS, dtype="uint16", zarr_format=2, fill_value=7
    )
    sparse[0:16, 0:32, 0:32] = volume[0:16, 0:32, 0:32]
    # Corrupt: a copy whose first chunk is garbage.
    corrupt = zarr.create_array(store=str(root / "corrupt.zarr"), shape=SHAPE_ZYX, chunks=CHUNKS, dtype="uint16", zarr_format=3)
    corrupt[...] = volume
    (root / "corrupt.zarr" / "c" / "0" / "0" / "0").write_bytes(b"\x00garbage\xff" * 10)
    base = http_server.publish(root, "engine")
    return {name: f"{base}/{name}.zarr" for name in ("v3", "sharded", "sparse", "corrupt")}


def _xyz(volume: np.ndarray) -> np.ndarray:
    return np.transpose(volume, (2, 1, 0))


@pytest.mark.parametrize("variant", ["v3", "sharded"])
def test_random_boxes_match(served: dict[str, str], volume: np.ndarray, variant: str) -> None:
    layer = next(iter(wk.explore(served[variant]).layers.values()))
    truth = _xyz(volume)
    rng = np.random.default_rng(1)
    for _ in range(12):
        size = rng.integers(1, [90, 70, 37])
        offset = [int(rng.integers(0, s - z + 1)) for s, z in zip((90, 70, 37), size, strict=True)]
        got = layer.read(offset, size)
        want = truth[offset[0] : offset[0] + size[0], offset[1] : offset[1] + size[1], offset[2] : offset[2] + size[2]]
        assert got.shape == (1, *size)
        np.testing.assert_array_equal(got[0], want)
    # Beyond the data: fill value (0), same shape.
    got = layer.read((80, 60, 30), (20, 20, 20))
    assert got.shape == (1, 20, 20, 20)
    np.testing.assert_array_equal(got[0, :10, :10, :7], truth[80:, 60:, 30:])
    assert not got[0, 10:].any() and not got[0, :, 10:].any() and not got[0, :, :, 7:].any()


def test_missing_chunks_read_as_fill_value(served: dict[str, str], volume: np.ndarray) -> None:
    layer = next(iter(wk.explore(served["sparse"]).layers.values()))
    got = layer.read((0, 0, 0), (90, 70, 37))[0]
    truth = _xyz(volume)
    np.testing.assert_array_equal(got[:32, :32, :16], truth[:32, :32, :16])
    assert (got[32:, :, :] == 7).all() and (got[:, 32:, :] == 7).all() and (got[:, :, 16:] == 7).all()


def test_corrupt_chunk_names_the_chunk(served: dict[str, str]) -> None:
    layer = next(iter(wk.explore(served["corrupt"]).layers.values()))
    with pytest.raises(CorruptChunkError) as info:
        layer.read((0, 0, 0), (10, 10, 10))
    assert "corrupt.zarr" in str(info.value) and "c/0/0/0" in str(info.value)
    assert isinstance(info.value, RemoteDatasetError)
    # Other chunks still read.
    assert layer.read((40, 40, 20), (5, 5, 5)).shape == (1, 5, 5, 5)


def test_warm_reads_hit_the_cache(served: dict[str, str]) -> None:
    layer = next(iter(wk.explore(served["v3"]).layers.values()))
    layer.read((0, 0, 0), (64, 64, 16))
    before = layer.meter.snapshot()
    layer.read((0, 0, 0), (64, 64, 16))
    assert layer.meter.snapshot() == before  # no request: served from the cache


def test_cache_stays_within_budget() -> None:
    cache = ChunkCache(budget_bytes=10_000)
    for i in range(100):
        cache.put(("r", i), np.zeros(1000, dtype=np.uint8))
        assert cache.nbytes <= 10_000
    assert len(cache) == 10
    assert cache.get(("r", 99)) is not None and cache.get(("r", 0)) is None
    cache.budget_bytes = 3_000
    assert cache.nbytes <= 3_000 and len(cache) == 3


def test_shared_cache_budget_is_respected(served: dict[str, str]) -> None:
    old = CHUNK_CACHE.budget_bytes
    try:
        wk.set_cache_budget(200_000)  # a few 16x32x32 uint16 chunks (32 KiB each)
        layer = next(iter(wk.explore(served["sharded"]).layers.values()))
        layer.read((0, 0, 0), (90, 70, 37))
        assert CHUNK_CACHE.nbytes <= 200_000
    finally:
        wk.set_cache_budget(old)


def test_dask_array(served: dict[str, str], volume: np.ndarray) -> None:
    layer = next(iter(wk.explore(served["sharded"]).layers.values()))
    mag = layer.mags[0]
    assert mag.dims == ("c", "x", "y", "z")
    data = mag.data
    assert data.shape == (1, 90, 70, 37)
    assert data.dtype == np.uint16
    np.testing.assert_array_equal(data[0, 10:50, 5:60, 3:30].compute(), _xyz(volume)[10:50, 5:60, 3:30])
    assert len(data.dask) <= 50  # one small Blockwise layer, not one key per voxel
    assert int(data.sum().compute()) == int(volume.astype(np.uint64).sum())


def test_distributed_local_cluster(served: dict[str, str], volume: np.ndarray, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    layer = next(iter(wk.explore(served["v3"]).layers.values()))
    data = layer.mags[0].data
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, local_directory=str(tmp_path)) as cluster, Client(cluster) as client:
        total = client.compute(data.sum()).result()
        maximum = client.compute(data.max()).result()
    assert int(total) == int(volume.astype(np.uint64).sum())
    assert int(maximum) == int(volume.max())


def test_accounting_matches_the_server(served: dict[str, str], http_server: HttpServer) -> None:
    """Per-layer requests and bytes are what the data owner's server actually served."""
    ds = wk.explore(served["sharded"])
    layer = next(iter(ds.layers.values()))
    CHUNK_CACHE.clear()
    http_server.reset_stats()
    layer.read((0, 0, 0), (90, 70, 37))
    stats = http_server.stats()
    mine = layer.meter.snapshot()
    assert mine["requests"] == stats["requests"] > 0
    assert mine["bytes"] == stats["bytes"]
    assert set(stats["methods"]) == {"GET"}
    assert ds.request_stats()[layer.name] == mine


def test_concurrent_reads_share_chunk_fetches(served: dict[str, str], http_server: HttpServer) -> None:
    """Reads running at the same time (viewer tiles, dask tasks) fetch each chunk once."""
    import asyncio

    from wk_widget.storage import run_sync

    layer = next(iter(wk.explore(served["v3"]).layers.values()))
    CHUNK_CACHE.clear()
    http_server.reset_stats()

    async def many() -> list[np.ndarray]:
        boxes = [((x, y, 0), (20, 20, 10)) for x in (0, 5, 10) for y in (0, 7)]  # all in chunk 0
        return await asyncio.gather(*(layer.read_async(o, s) for o, s in boxes))

    results = run_sync(many())
    assert len(results) == 6
    assert http_server.stats()["requests"] == 1, http_server.stats()["paths"]


def test_cancelled_read_does_not_break_others(served: dict[str, str], volume: np.ndarray) -> None:
    import asyncio

    from wk_widget.storage import run_sync

    layer = next(iter(wk.explore(served["sharded"]).layers.values()))
    CHUNK_CACHE.clear()

    async def scenario() -> np.ndarray:
        first = asyncio.ensure_future(layer.read_async((0, 0, 0), (90, 70, 37)))
        await asyncio.sleep(0)  # let it register its chunks as in flight
        second = asyncio.ensure_future(layer.read_async((0, 0, 0), (90, 70, 37)))
        await asyncio.sleep(0.001)
        first.cancel()
        return await second

    got = run_sync(scenario())
    np.testing.assert_array_equal(got[0], _xyz(volume))


def test_read_cancelled_before_its_fetches_start_does_not_hang_others(served: dict[str, str], volume: np.ndarray) -> None:
    """A read cancelled right after registering its chunks as in flight (its fetch tasks
    never ran) must not leave later reads of those chunks waiting forever."""
    import asyncio

    from wk_widget.storage import run_sync

    layer = next(iter(wk.explore(served["v3"]).layers.values()))
    layer.read((80, 60, 30), (1, 1, 1))  # the reader is open: the next read registers at once
    CHUNK_CACHE.clear()

    async def scenario() -> np.ndarray:
        first = asyncio.ensure_future(layer.read_async((0, 0, 0), (64, 64, 16)))
        await asyncio.sleep(0)  # runs `first` up to its gather: chunks registered, fetches not started
        first.cancel()
        return await asyncio.wait_for(layer.read_async((0, 0, 0), (64, 64, 16)), timeout=20)

    got = run_sync(scenario())
    np.testing.assert_array_equal(got[0], _xyz(volume)[:64, :64, :16])
