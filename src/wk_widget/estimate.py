"""`wk.estimate`: what a read or a dask compute will fetch, and what it may cost.

The plan follows the engine exactly: every dask block is one `read_box`, whose chunks not
in this process's cache are fetched in `fetch_groups`; a sharded Zarr group reads each
shard's index once (unless cached) and then coalesced byte ranges. Where the plan is small
enough (`exact_limit` chunks) the sizes are looked up: shard indexes are read (the probe
does not fill the reader's cache, so the forecast stays the cost of a cold read) and other
chunks are HEADed; the probe's own requests are reported as `probe_requests`. Otherwise
the bytes are the stored size of the chunks at the compression ratio seen so far on that
level (uncompressed when nothing was read yet).
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._dask import LevelArray, level_arrays_of, meters_for
from .engine import CHUNK_CACHE, _grid_range, compression_seen, fetch_groups, get_reader
from .formats._shared.ranges import coalesce_ranges
from .formats._shared.reader_base import ChunkReaderBase
from .formats.base import ArrayReader
from .formats.zarr import COALESCE_GAP, EMPTY_INDEX_ENTRY
from .levels import contract_axis_dims, contract_box, resolved_handle
from .storage import RequestMeter, run_sync

# USD, list prices of internet egress (first tier) and GET requests; override per call with
# `prices=` or for the session with `set_prices`.
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "s3": {"egress_per_gb": 0.09, "get_per_1000": 0.0004},
    "gs": {"egress_per_gb": 0.12, "get_per_1000": 0.0004},
    "http": {"egress_per_gb": 0.09, "get_per_1000": 0.0004},  # most HTTPS hosting is S3/GCS behind
    "file": {"egress_per_gb": 0.0, "get_per_1000": 0.0},
}
_prices: dict[str, dict[str, float]] = {k: dict(v) for k, v in DEFAULT_PRICES.items()}
EXACT_LIMIT = 20_000
# The axis (x, y, z) normal to each of the viewer's planes (widget.protocol.PLANE_AXES[plane][2]).
PLANE_NORMAL = {"xy": 2, "xz": 1, "yz": 0}


def set_prices(prices: Mapping[str, Mapping[str, float]]) -> None:
    """Override the price table: {"s3": {"egress_per_gb": ..., "get_per_1000": ...}, ...}."""
    for scheme, entry in prices.items():
        _prices.setdefault(scheme, {}).update({k: float(v) for k, v in entry.items()})


def cost_of(requests: int, nbytes: int, scheme: str, prices: Mapping[str, Mapping[str, float]] | None = None) -> float:
    table = {**_prices, **(prices or {})}
    entry = table.get(scheme) or table["s3"]
    return requests / 1000 * float(entry.get("get_per_1000", 0.0)) + nbytes / 1e9 * float(entry.get("egress_per_gb", 0.0))


# -- object paths of unsharded chunks (for sizes) ------------------------------------------


def _object_path(reader: ArrayReader, coord: tuple[int, ...]) -> str | None:
    if not isinstance(reader, ChunkReaderBase):
        return None
    key = reader.chunk_key(coord)
    return None if key is None else reader._key_path(key)


def _sharded_zarr(reader: ArrayReader) -> bool:
    return bool(getattr(reader, "_sharded", False))


def _sharded(reader: ArrayReader) -> bool:
    return isinstance(reader, ChunkReaderBase) and reader.sharded


async def _object_size(reader: ArrayReader, path: str, probe: RequestMeter) -> int:
    storage = reader._storage  # type: ignore[attr-defined]
    fs = await storage._filesystem()

    async def info() -> Any:
        return await fs._info(path)

    found = await storage._attempt(info, path, (probe,))
    return int(found.get("size") or 0) if isinstance(found, dict) else 0


# -- the plan ----------------------------------------------------------------------------


class _Plan:
    def __init__(self) -> None:
        self.chunks = 0
        self.requests = 0
        self.bytes = 0
        self.uncompressed = 0
        self.exact = True
        self.probe = RequestMeter()
        self.schemes: dict[str, int] = {}


def _chunks_per_axis(reader: ArrayReader, lo: int, hi: int, d: int) -> int:
    return len(_grid_range(lo, hi, reader.grid_origin[d], reader.chunk_shape[d], reader.shape[d]))


async def _plan_array(plan: _Plan, array: LevelArray, exact_limit: int) -> None:
    handle = resolved_handle(array.view.handle)
    reader = await get_reader(handle)
    ndim = len(reader.shape)
    # Blocks form a grid: the chunks they read are a product, per array dim, of the chunks
    # each block along the contract axis mapped to that dim touches (no enumeration).
    first = [(e, e + (b[0] if b else 0)) for e, b in zip(array.origin, array.blocks, strict=True)]
    base_start, base_stop = contract_box(array.view, first, ndim)
    dim_ranges: list[list[tuple[int, int]]] = [[(base_start[d], base_stop[d])] for d in range(ndim)]
    for axis, d in enumerate(contract_axis_dims(array.view)):
        if d is not None:
            edges = list(itertools.accumulate(array.blocks[axis], initial=array.origin[axis]))
            dim_ranges[d] = [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]
    n_chunks = math.prod(sum(_chunks_per_axis(reader, lo, hi, d) for lo, hi in dim_ranges[d]) for d in range(ndim))
    plan.chunks += n_chunks
    chunk_bytes = math.prod(reader.chunk_shape) * np.dtype(reader.dtype).itemsize
    plan.uncompressed += n_chunks * chunk_bytes
    scheme = handle.storage.scheme
    plan.schemes[scheme] = plan.schemes.get(scheme, 0) + n_chunks
    if n_chunks > exact_limit:
        _plan_estimated(plan, reader, n_chunks, chunk_bytes, dim_ranges)
        return
    await _plan_exact(plan, reader, array, ndim, dim_ranges)


def _plan_estimated(
    plan: _Plan, reader: ArrayReader, n_chunks: int, chunk_bytes: int, dim_ranges: list[list[tuple[int, int]]]
) -> None:
    plan.exact = False
    stored, seen = compression_seen(reader)
    ratio = stored / (seen * chunk_bytes) if seen else 1.0
    plan.bytes += round(n_chunks * chunk_bytes * ratio)
    if _sharded(reader):
        unit = getattr(getattr(reader, "meta", None), "chunk_shape", reader.chunk_shape)
        shards = math.prod(
            sum(len(_grid_range(lo, hi, reader.grid_origin[d], unit[d], reader.shape[d])) for lo, hi in dim_ranges[d])
            for d in range(len(reader.shape))
        )
        plan.requests += 2 * shards  # an index read and (about) one coalesced range each
    else:
        plan.requests += n_chunks


async def _plan_exact(
    plan: _Plan, reader: ArrayReader, array: LevelArray, ndim: int, dim_ranges: list[list[tuple[int, int]]]
) -> None:
    reader_id = id(reader)
    seen: set[tuple[int, ...]] = set()
    groups: list[list[tuple[int, ...]]] = []
    for location in array.block_boxes():
        start, stop = contract_box(array.view, location, ndim)
        ranges = [
            _grid_range(start[d], stop[d], reader.grid_origin[d], reader.chunk_shape[d], reader.shape[d])
            for d in range(ndim)
        ]
        owned = [
            c for c in itertools.product(*ranges)
            if c not in seen and CHUNK_CACHE.get((reader_id, c)) is None
        ]
        seen.update(owned)
        if owned:
            groups.extend(fetch_groups(owned))
    if _sharded_zarr(reader):
        await _plan_sharded_zarr(plan, reader, groups)
    elif _sharded(reader):
        n = sum(len(g) for g in groups)
        chunk_bytes = math.prod(reader.chunk_shape) * np.dtype(reader.dtype).itemsize
        _plan_estimated(plan, reader, n, chunk_bytes, dim_ranges)
    else:
        coords = [c for g in groups for c in g]
        paths = [_object_path(reader, c) for c in coords]
        sizes = await asyncio.gather(*(_object_size(reader, p, plan.probe) for p in paths if p is not None))
        plan.requests += sum(p is not None for p in paths)
        plan.bytes += sum(sizes)


async def _plan_sharded_zarr(plan: _Plan, reader: Any, groups: list[list[tuple[int, ...]]]) -> None:
    indexes: dict[tuple[int, ...], Any] = {}
    cps = reader._cps
    wanted: list[dict[tuple[int, ...], list[int]]] = []
    for group in groups:
        per_shard: dict[tuple[int, ...], list[int]] = {}
        for coord in group:
            shard, inner = reader._shard_of(coord)
            linear = 0
            for c, k in zip(inner, cps, strict=True):
                linear = linear * k + c
            per_shard.setdefault(shard, []).append(linear)
        wanted.append(per_shard)
    shards = {s for per in wanted for s in per}
    cached = {s for s in shards if s in reader._index_cache}
    missing = sorted(shards - cached)
    loaded = await asyncio.gather(*(reader._load_index(s, (plan.probe,)) for s in missing))
    indexes.update(zip(missing, loaded, strict=True))
    indexes.update({s: reader._index_cache[s] for s in cached})
    for s in missing:  # the read will fetch these indexes itself
        plan.requests += 1
        plan.bytes += reader._index_size if indexes[s] is not None else 0
    for per_shard in wanted:
        for shard, linears in per_shard.items():
            index = indexes[shard]
            if index is None:
                continue
            ranges = []
            for i, linear in enumerate(linears):
                offset, nbytes = int(index[linear, 0]), int(index[linear, 1])
                if offset == EMPTY_INDEX_ENTRY or nbytes == EMPTY_INDEX_ENTRY:
                    continue
                ranges.append((offset, nbytes, i))
            for start, end, _ in coalesce_ranges(ranges, gap=COALESCE_GAP):
                plan.requests += 1
                plan.bytes += end - start


# -- the public function -----------------------------------------------------------------


def _box_array(layer: Any, offset: Sequence[int], size: Sequence[int], mag: Any) -> LevelArray:
    level = layer.get_mag(mag)
    m = level.mag
    start = [int(offset[i]) // m[i] for i in range(3)]
    stop = [start[i] + max(0, int(size[i]) // m[i]) for i in range(3)]
    shape = level.shape
    n_lead = len(shape) - 3
    origin = (0,) * n_lead + tuple(start)
    window = tuple(shape[:n_lead]) + tuple(b - a for a, b in zip(start, stop, strict=True))
    return LevelArray(layer._level_view(level), window, "", origin, tuple((w,) for w in window))


async def plane_cost_async(layer: Any, plane: str, mag: Sequence[int], slice_index: int) -> dict[str, Any]:
    """What panning the whole plane `slice_index` (at `mag`, in the view `plane`) would cost:
    every chunk the plane touches, at the compression ratio seen so far (no probe)."""
    w_ax = PLANE_NORMAL[plane]
    bb = layer.bounding_box
    offset = list(bb.top_left)
    size = list(bb.size)
    m = layer.get_mag(mag).mag
    offset[w_ax], size[w_ax] = int(slice_index) * m[w_ax], m[w_ax]
    plan = _Plan()
    array = _box_array(layer, offset, size, mag)
    await _plan_array(plan, array, exact_limit=0)
    scheme = array.view.handle.storage.scheme
    return {"bytes": plan.bytes, "requests": plan.requests, "cost": cost_of(plan.requests, plan.bytes, scheme)}


def estimate(
    obj: Any,
    *,
    prices: Mapping[str, Mapping[str, float]] | None = None,
    exact_limit: int = EXACT_LIMIT,
) -> dict[str, Any]:
    """What computing `obj` will fetch: a dask array from `mag.data` (or a slice of it), or
    `(layer, offset, size, mag)` for a `layer.read` (offset and size in mag-1 voxels).

    Returns "chunks", "requests", "bytes" (int), "cost" (float, USD), and "exact" (sizes
    looked up, not estimated), "uncompressed_bytes", "probe_requests", "prices"."""
    if isinstance(obj, tuple) and len(obj) == 4:
        arrays = [_box_array(*obj)]
    else:
        arrays = level_arrays_of(obj)
        if not arrays:
            raise TypeError("wk.estimate takes a dask array from mag.data (or a slice of it), or (layer, offset, size, mag)")
    plan = _Plan()

    async def run() -> None:
        for array in arrays:
            await _plan_array(plan, array, exact_limit)

    run_sync(run())
    scheme = max(plan.schemes, key=lambda k: plan.schemes[k]) if plan.schemes else "s3"
    table = {**_prices, **(prices or {})}
    return {
        "chunks": int(plan.chunks),
        "requests": int(plan.requests),
        "bytes": int(plan.bytes),
        "cost": float(cost_of(plan.requests, plan.bytes, scheme, prices)),
        "exact": plan.exact,
        "uncompressed_bytes": int(plan.uncompressed),
        "probe_requests": plan.probe.snapshot()["requests"],
        "storage": scheme,
        "prices": dict(table.get(scheme) or table["s3"]),
    }


def measured(obj: Any) -> dict[str, int]:
    """Requests and bytes fetched so far in this process by reads of `obj`'s level arrays
    (the `mag.data` they come from and its slices)."""

    total = {"requests": 0, "bytes": 0}
    for array in level_arrays_of(obj):
        snap = meters_for(array.meter_key)[0].snapshot()
        total["requests"] += snap["requests"]
        total["bytes"] += snap["bytes"]
    return total
