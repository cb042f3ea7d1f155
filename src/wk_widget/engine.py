"""The chunk engine shared by `Layer.read`, the dask arrays and the viewer.

Given a box of one resolution level (in the array's own dims), it finds the chunks the
box touches, takes what it can from a bounded cache of decoded chunks, fetches the rest
concurrently through the format's `ArrayReader` (bounded by the storage's semaphore),
decodes on a thread pool (the codecs release the GIL) while other fetches are still in
flight, and assembles the result. Missing chunks read as the fill value.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import LimitExceededError
from .formats import open_reader
from .formats.base import ArrayReader, MagSpec
from .storage import RequestMeter, StorageConfig, get_storage, run_sync
from .storage._loop import gather_or_cancel

DEFAULT_CACHE_BYTES = 1 << 30  # 1 GiB of decoded chunks
DEFAULT_MAX_REQUESTS = 4096  # chunks one read (or one viewer tile) may fetch
_max_requests = DEFAULT_MAX_REQUESTS


def set_request_limit(max_requests: int) -> None:
    """Refuse reads (and viewer tiles) that would need more than `max_requests` chunk
    requests (default 4096): tiny chunks otherwise cost millions of requests."""
    global _max_requests
    value = int(max_requests)
    if value < 1:
        raise ValueError("max_requests must be at least 1")
    _max_requests = value


class ChunkCache:
    """LRU cache of decoded chunks within a byte budget (thread-safe)."""

    def __init__(self, budget_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self._budget = int(budget_bytes)
        self._entries: OrderedDict[Any, np.ndarray] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def budget_bytes(self) -> int:
        return self._budget

    @budget_bytes.setter
    def budget_bytes(self, value: int) -> None:
        with self._lock:
            self._budget = max(0, int(value))
            self._evict()

    @property
    def nbytes(self) -> int:
        return self._nbytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Any) -> np.ndarray | None:
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Any, value: np.ndarray) -> None:
        size = value.nbytes
        with self._lock:
            if size > self._budget:
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._nbytes -= old.nbytes
            value.flags.writeable = False
            self._entries[key] = value
            self._nbytes += size
            self._evict()

    def _evict(self) -> None:
        while self._nbytes > self._budget and self._entries:
            _, value = self._entries.popitem(last=False)
            self._nbytes -= value.nbytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._nbytes = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "entries": len(self._entries),
                "bytes": self._nbytes,
                "budget_bytes": self._budget,
                "hits": self.hits,
                "misses": self.misses,
            }


CHUNK_CACHE = ChunkCache()


@dataclass(frozen=True)
class PlaneSlabs:
    """How a read one voxel thick along array dim `axis` (a viewer's tile) uses `cache`, a
    cache of 2-D slabs: per chunk, the one plane of it the read needs, copied out. A 64^3
    chunk is 64x its slab, so slabs let revisited views skip fetch and decode long after
    the whole chunks left the shared cache. `keep_chunks=False` (speculative reads) keeps
    the decoded chunks out of the shared cache: only their slabs are kept."""

    cache: ChunkCache
    axis: int
    keep_chunks: bool = True


_decode_pool: ThreadPoolExecutor | None = None
_decode_pool_pid: int | None = None
_pool_lock = threading.Lock()


def set_cache_budget(nbytes: int) -> None:
    """Set the memory budget of the decoded-chunk cache shared by reads, dask and the viewer
    (the viewer's cache of tile slabs takes at most an eighth of it besides, up to 128 MiB)."""
    CHUNK_CACHE.budget_bytes = nbytes


def _pool() -> ThreadPoolExecutor:
    global _decode_pool, _decode_pool_pid
    with _pool_lock:
        if _decode_pool is None or _decode_pool_pid != os.getpid():
            workers = max(2, min(8, (os.cpu_count() or 2)))
            _decode_pool = ThreadPoolExecutor(workers, thread_name_prefix="wk_widget-decode")
            _decode_pool_pid = os.getpid()
        return _decode_pool


@dataclass(frozen=True)
class LevelHandle:
    """A picklable reference to one resolution level: where it is and how to open it."""

    storage: StorageConfig
    data_format: str
    spec: MagSpec

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.storage, self.data_format, self.spec.path.url)


_readers: dict[tuple[Any, ...], asyncio.Future[ArrayReader]] = {}
_readers_pid: int | None = None


async def get_reader(handle: LevelHandle) -> ArrayReader:
    """The (process-wide, shared) reader of a level; opened once, concurrently safe."""
    global _readers_pid
    if _readers_pid != os.getpid():
        _readers.clear()
        _readers_pid = os.getpid()
    key = (id(asyncio.get_running_loop()), *handle.key)
    future = _readers.get(key)
    if future is None or (future.done() and (future.cancelled() or future.exception() is not None)):
        storage = get_storage(handle.storage)
        future = asyncio.ensure_future(open_reader(storage, handle.data_format, handle.spec))
        _readers[key] = future
    return await asyncio.shield(future)


def _grid_range(start: int, stop: int, origin: int, chunk: int, shape: int) -> range:
    lo = max(start, origin)
    hi = min(stop, shape)
    if hi <= lo:
        return range(0)
    return range((lo - origin) // chunk, (hi - 1 - origin) // chunk + 1)


async def read_box(
    reader: ArrayReader,
    start: Sequence[int],
    stop: Sequence[int],
    meters: Sequence[RequestMeter] = (),
    cache: ChunkCache | None = None,
    planes: PlaneSlabs | None = None,
) -> np.ndarray:
    """Voxels [start, stop) of the array (its own dims); outside the data: fill value.
    With `planes`, the box must be one voxel thick along `planes.axis`."""
    cache = CHUNK_CACHE if cache is None else cache
    ndim = len(reader.shape)
    start = tuple(int(s) for s in start)
    stop = tuple(int(s) for s in stop)
    out_shape = tuple(max(0, b - a) for a, b in zip(start, stop, strict=True))
    ranges = [
        _grid_range(start[d], stop[d], reader.grid_origin[d], reader.chunk_shape[d], reader.shape[d])
        for d in range(ndim)
    ]
    needed = math.prod(len(r) for r in ranges)
    if needed > _max_requests:  # refused before anything is allocated or fetched
        raise LimitExceededError(
            reader.uri,
            f"this read needs {needed} chunks of shape {tuple(reader.chunk_shape)}, more than the "
            f"{_max_requests} requests allowed; read a coarser mag or a smaller box "
            "(or raise the limit with wk_widget.set_request_limit)",
        )
    out = np.full(out_shape, reader.fill_value, dtype=reader.dtype)
    if 0 in out_shape:
        return out
    coords = list(itertools.product(*ranges))
    if not coords:
        return out
    reader_id = id(reader)
    if planes is not None and stop[planes.axis] - start[planes.axis] != 1:
        raise ValueError("a plane read must be one voxel thick along its axis")

    def place(coord: tuple[int, ...], chunk: np.ndarray, slab: bool = False) -> None:
        src: list[slice] = []
        dst: list[slice] = []
        for d in range(ndim):
            c0 = reader.grid_origin[d] + coord[d] * reader.chunk_shape[d]
            if slab and planes is not None and d == planes.axis:
                c0 = start[d]  # a slab holds just this plane of its chunk
            lo = max(start[d], c0)
            hi = min(stop[d], c0 + chunk.shape[d])
            if hi <= lo:
                return
            src.append(slice(lo - c0, hi - c0))
            dst.append(slice(lo - start[d], hi - start[d]))
        out[tuple(dst)] = chunk[tuple(src)]

    def slab_key(coord: tuple[int, ...]) -> tuple[Any, ...]:
        assert planes is not None
        return (reader_id, coord, planes.axis, start[planes.axis])

    def keep_slab(coord: tuple[int, ...], chunk: np.ndarray) -> None:
        if planes is None:
            return
        axis = planes.axis
        i = start[axis] - (reader.grid_origin[axis] + coord[axis] * reader.chunk_shape[axis])
        if 0 <= i < chunk.shape[axis]:  # a copy: a view would keep the whole chunk alive
            planes.cache.put(slab_key(coord), np.ascontiguousarray(np.take(chunk, [i], axis=axis)))

    def from_caches(coord: tuple[int, ...]) -> bool:
        if planes is not None:
            slab = planes.cache.get(slab_key(coord))
            if slab is not None:
                place(coord, slab, slab=True)
                return True
        chunk = cache.get((reader_id, coord))
        if chunk is None:
            return False
        place(coord, chunk)
        keep_slab(coord, chunk)
        return True

    keep_chunks = planes is None or planes.keep_chunks
    pending = [c for c in coords if not from_caches(c)]
    loop = asyncio.get_running_loop()
    pool = _pool()

    def decode_and_place(pairs: list[tuple[tuple[int, ...], bytes]]) -> list[tuple[tuple[int, ...], np.ndarray]]:
        decoded = []
        for coord, data in pairs:
            chunk = reader.decode(coord, data)
            record_compression(reader, len(data))
            if keep_chunks:
                cache.put((reader_id, coord), chunk)
            place(coord, chunk)
            keep_slab(coord, chunk)
            decoded.append((coord, chunk))
        return decoded

    async def fetch_group(group: list[tuple[int, ...]]) -> None:
        payloads = await reader.fetch(group, meters)
        present = [(c, p) for c, p in zip(group, payloads, strict=True) if p is not None]
        decoded = await loop.run_in_executor(pool, decode_and_place, present) if present else []
        chunks = dict(decoded)
        for coord in group:  # absent chunks resolve to None: the fill value
            future = _inflight.get((reader_id, coord))
            if future is not None and not future.done():
                future.set_result(chunks.get(coord))

    async def fetch_owned(owned: list[tuple[int, ...]]) -> None:
        # Batches in chunk order let decoding start while later fetches are in flight,
        # and keep neighbouring chunks (same shard) together for range coalescing.
        await gather_or_cancel(*(fetch_group(g) for g in fetch_groups(owned)))

    def release(owned: list[tuple[int, ...]]) -> None:
        """Give up what this read promised to fetch and did not deliver (it failed or was
        cancelled): waiters then fetch those chunks themselves. Runs in the read itself,
        not in its child tasks, which never start when the read is cancelled early."""
        for coord in owned:
            future = _inflight.pop((reader_id, coord), None)
            if future is not None and not future.done():
                future.cancel()

    async def wait_shared(shared: list[tuple[tuple[int, ...], asyncio.Future[np.ndarray | None]]]) -> list[tuple[int, ...]]:
        retry: list[tuple[int, ...]] = []
        for coord, future in shared:
            try:
                chunk = await asyncio.shield(future)
            except asyncio.CancelledError:
                if future.cancelled():  # its owner was cancelled, we were not
                    retry.append(coord)
                    continue
                raise
            if chunk is not None:
                place(coord, chunk)
                keep_slab(coord, chunk)
        return retry

    # A chunk already being fetched by another read is awaited, not fetched again.
    while pending:
        owned: list[tuple[int, ...]] = []
        shared: list[tuple[tuple[int, ...], asyncio.Future[np.ndarray | None]]] = []
        for coord in pending:
            key = (reader_id, coord)
            future = _inflight.get(key)
            if future is None:
                if from_caches(coord):
                    continue
                _inflight[key] = loop.create_future()
                owned.append(coord)
            else:
                shared.append((coord, future))
        try:
            results = await asyncio.gather(
                fetch_owned(owned) if owned else asyncio.sleep(0),
                wait_shared(shared),
            )
        finally:
            release(owned)
        pending = results[1]
    return out


_inflight: dict[tuple[int, tuple[int, ...]], asyncio.Future[np.ndarray | None]] = {}


def fetch_groups(owned: list[tuple[int, ...]]) -> list[list[tuple[int, ...]]]:
    """The batches one read fetches its chunks in (`wk.estimate` plans with the same)."""
    n_batches = max(1, min(len(owned), 16, math.ceil(len(owned) / 4)))
    size = math.ceil(len(owned) / n_batches)
    return [owned[i : i + size] for i in range(0, len(owned), size)]


# Stored bytes and chunks decoded per reader: the compression ratio seen so far, which
# `wk.estimate` uses where the sizes of what a read would fetch are not known.
_compression: dict[int, list[int]] = {}


def record_compression(reader: ArrayReader, nbytes: int) -> None:
    entry = _compression.setdefault(id(reader), [0, 0])
    entry[0] += nbytes
    entry[1] += 1


def compression_seen(reader: ArrayReader) -> tuple[int, int]:
    """(stored bytes, chunks) decoded so far by this process from `reader`."""
    entry = _compression.get(id(reader), [0, 0])
    return entry[0], entry[1]


async def read_level_box(
    handle: LevelHandle,
    start: Sequence[int],
    stop: Sequence[int],
    meters: Sequence[RequestMeter] = (),
) -> np.ndarray:
    reader = await get_reader(handle)
    return await read_box(reader, start, stop, meters)


def read_level_box_sync(
    handle: LevelHandle, start: Sequence[int], stop: Sequence[int], meters: Sequence[RequestMeter] = ()
) -> np.ndarray:
    return run_sync(read_level_box(handle, start, stop, meters))
