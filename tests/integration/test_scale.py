"""Scale: lazy handles O(1) in chunks, to_xarray, wk.estimate against measured traffic."""

from __future__ import annotations

import json
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import wk_widget as wk
from tests.support.servers import HttpServer
from wk_widget import engine


def _metadata_only_zarr3(root: Path, n: int, chunk: int = 64, shard: int | None = None) -> Path:
    """A zarr v3 array of n^3 uint8 voxels with no chunk written: every chunk is the fill value."""
    root.mkdir(parents=True, exist_ok=True)
    codecs: list[dict[str, object]] = [{"name": "bytes"}]
    grid = chunk
    if shard is not None:
        grid = shard
        codecs = [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": [chunk] * 3, "codecs": [{"name": "bytes"}],
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        }}]
    doc = {
        "zarr_format": 3, "node_type": "array", "shape": [n] * 3, "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [grid] * 3}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 7, "codecs": codecs, "dimension_names": ["x", "y", "z"],
    }
    (root / "zarr.json").write_text(json.dumps(doc))
    return root


def _written_zarr3(root: Path, data: np.ndarray, chunks: int, shards: int | None) -> Path:
    import zarr

    arr = zarr.create_array(
        store=str(root), shape=data.shape, chunks=(chunks,) * 3, shards=(shards,) * 3 if shards else None,
        dtype=data.dtype, compressors=zarr.codecs.ZstdCodec(level=3), fill_value=0,
        dimension_names=["x", "y", "z"],
    )
    arr[...] = data
    return root


def _noise(shape: tuple[int, ...], seed: int = 11) -> np.ndarray:
    # 4 bits of entropy per voxel: compresses to about half everywhere (a steady ratio).
    return np.random.default_rng(seed).integers(0, 16, size=shape, dtype=np.uint8)


@pytest.mark.parametrize("shard", [None, 4096])
def test_huge_handle_is_flat_and_a_slice_reads_only_its_chunks(
    tmp_path: Path, http_server: HttpServer, shard: int | None
) -> None:
    n = 1_000_000  # 10^18 voxels; 64^3 chunks: 3.8e12 chunks
    name = f"huge-{shard}"
    url = http_server.publish(_metadata_only_zarr3(tmp_path / name, n, shard=shard), name)
    layer = next(iter(wk.explore(url).layers.values()))
    mag = layer.mags[0]
    import dask.array  # noqa: F401  (import cost is not the handle's)

    tracemalloc.start()
    data = mag.data
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert data.shape == (1, n, n, n) and mag.dims == ("c", "x", "y", "z")
    assert peak < 16 << 20, f"mag.data took {peak / 1e6:.1f} MB"
    assert data.npartitions <= 1_100_000
    unit = 64 if shard is None else shard
    for axis_chunks in data.chunks[1:]:  # aligned on chunks (or shards)
        assert all(c % unit == 0 for c in axis_chunks[:-1])
    xa = layer.to_xarray(mag=(1, 1, 1))
    assert xa.dims == mag.dims and xa.shape == data.shape

    http_server.reset_stats()
    region = data[0, 5000:5300, 5000:5300, 5000:5300]
    assert int(region.sum().compute()) == 7 * 300**3
    chunks = math.ceil((5300 - 4992) / 64) ** 3  # 4992 = 78 * 64: 5 chunks per axis
    stats = http_server.stats()
    if shard is None:
        assert stats["requests"] == chunks, stats  # one 404 per chunk of the region, nothing else
    else:
        assert stats["requests"] == 1, stats  # the one (missing) shard's index
    est = wk.estimate(region)
    assert est["chunks"] == chunks
    whole = wk.estimate(data)  # arithmetic over the block grid, no per-chunk work
    assert whole["chunks"] == math.ceil(n / 64) ** 3 and not whole["exact"]
    assert whole["bytes"] == whole["uncompressed_bytes"]  # nothing read yet: no ratio known
    assert whole["cost"] > 1e6  # 10^18 bytes of egress


def test_to_xarray_coords_attrs_and_laziness(tmp_path: Path, http_server: HttpServer) -> None:
    data = _noise((96, 80, 64))
    url = http_server.publish(_written_zarr3(tmp_path / "xr", data, 32, None), "xr-scale")
    ds = wk.explore(url, voxel_size=(4.0, 5.0, 40.0))
    layer = next(iter(ds.layers.values()))
    xa = layer.to_xarray(mag=(1, 1, 1))
    import dask.array as da

    assert isinstance(xa.data, da.Array)
    assert xa.dims == ("c", "x", "y", "z")
    assert xa.attrs["unit"] == ds.unit and xa.attrs["layer"] == layer.name and xa.attrs["category"] == "color"
    np.testing.assert_allclose(xa.x.values[:3], [0.0, 4.0, 8.0])
    np.testing.assert_allclose(xa.z.values[-1], 63 * 40.0)
    picked = xa.sel(x=slice(40.0, 80.0), y=25.0, z=200.0).isel(c=0).values
    np.testing.assert_array_equal(picked, data[10:21, 5, 5])


@pytest.mark.parametrize("shards", [None, 64], ids=["unsharded", "sharded"])
def test_estimate_equals_measured(tmp_path: Path, http_server: HttpServer, shards: int | None) -> None:
    data = _noise((160, 128, 96), seed=3)
    name = f"est-{shards}"
    url = http_server.publish(_written_zarr3(tmp_path / name, data, 16 if shards else 32, shards), name)
    layer = next(iter(wk.explore(url).layers.values()))
    engine.CHUNK_CACHE.clear()
    arr = layer.mags[0].data_with_chunks((1, 48, 48, 48))[0, 10:150, 3:120, 20:90]
    est = wk.estimate(arr)
    assert est["exact"] and est["probe_requests"] > 0
    http_server.reset_stats()
    before = wk.measured(arr)
    np.testing.assert_array_equal(arr.compute(scheduler="threads"), data[10:150, 3:120, 20:90])
    after = wk.measured(arr)
    stats = http_server.stats()
    got = {"requests": after["requests"] - before["requests"], "bytes": after["bytes"] - before["bytes"]}
    assert (est["requests"], est["bytes"]) == (got["requests"], got["bytes"]) == (stats["requests"], stats["bytes"])
    assert est["cost"] == pytest.approx(est["requests"] / 1000 * 0.0004 + est["bytes"] / 1e9 * 0.09)
    assert wk.estimate(arr)["bytes"] == 0  # now all in this process's cache
    engine.CHUNK_CACHE.clear()
    again = wk.estimate(arr)  # shard indexes stay cached: only the chunk ranges remain
    priced = wk.estimate(arr, prices={"http": {"egress_per_gb": 1000.0, "get_per_1000": 0.0}})
    assert priced["cost"] == pytest.approx(again["bytes"] / 1e9 * 1000.0)


def test_estimate_from_a_partly_read_layer_within_ten_percent(tmp_path: Path, http_server: HttpServer) -> None:
    data = _noise((192, 192, 128), seed=5)
    url = http_server.publish(_written_zarr3(tmp_path / "partial", data, 32, None), "est-partial")
    layer = next(iter(wk.explore(url).layers.values()))
    engine.CHUNK_CACHE.clear()
    layer.read((0, 0, 0), (64, 64, 64))  # 8 chunks read: the ratio is known from them
    engine.CHUNK_CACHE.clear()
    arr = layer.mags[0].data[0, 64:192, 0:192, 0:128]
    est = wk.estimate(arr, exact_limit=0)
    assert not est["exact"] and est["probe_requests"] == 0
    before = wk.measured(arr)
    arr.sum().compute()
    after = wk.measured(arr)
    measured_bytes = after["bytes"] - before["bytes"]
    assert est["requests"] == after["requests"] - before["requests"]
    assert abs(est["bytes"] - measured_bytes) <= 0.10 * measured_bytes, (est, measured_bytes)
    assert est["uncompressed_bytes"] == 128 * 192 * 128


def test_estimate_of_a_layer_box(tmp_path: Path, http_server: HttpServer) -> None:
    data = _noise((64, 64, 64), seed=8)
    url = http_server.publish(_written_zarr3(tmp_path / "box", data, 32, None), "est-box")
    layer = next(iter(wk.explore(url).layers.values()))
    engine.CHUNK_CACHE.clear()
    est = wk.estimate((layer, (0, 0, 0), (40, 64, 30), (1, 1, 1)))
    before = layer.meter.snapshot()
    layer.read((0, 0, 0), (40, 64, 30))
    after = layer.meter.snapshot()
    assert est["chunks"] == 2 * 2 * 1
    assert est["requests"] == after["requests"] - before["requests"]
    assert est["bytes"] == after["bytes"] - before["bytes"]
