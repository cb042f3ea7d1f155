"""The Zarr chunk reader: chunk keys, concurrent fetches, sharded arrays (one cached index read per shard, coalesced ranges)."""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import (
    CorruptChunkError,
    LimitExceededError,
    RemoteDatasetError,
    SourceNotFoundError,
)
from ...storage import RequestMeter, SourceURI, Storage
from ...storage._loop import gather_or_cancel
from .._shared import limits as _limits
from .._shared.ranges import COALESCE_GAP, coalesce_ranges
from ..base import (
    ArrayReader,
    MagSpec,
    load_json,
)
from .codecs import _compile
from .metadata import EMPTY_INDEX_ENTRY, ZarrArrayMeta, parse_array_meta

INDEX_CACHE_ENTRIES = 4096


INDEX_CACHE_BYTES = 256 * 1024 * 1024


_MISSING = object()


class ZarrArrayReader(ArrayReader):
    """Reads chunks of one Zarr v2/v3 array; for sharded arrays the unit is the inner chunk."""

    def __init__(self, storage: Storage, path: SourceURI, meta: ZarrArrayMeta) -> None:
        self.uri = path.url
        self.meta = meta
        self.shape = meta.shape
        self.chunk_shape = meta.read_shape
        self.grid_origin = (0,) * meta.ndim
        self.dtype = meta.dtype
        self.fill_value = meta.fill_value
        self._storage = storage
        self._path = path
        self._base = path.fs_path.rstrip("/") if not path.query else None
        _limits.check_array(self.uri, meta.shape, meta.read_shape, meta.dtype.itemsize)
        nbytes = math.prod(meta.read_shape) * meta.dtype.itemsize
        self._max_chunk_bytes = _limits.bound(nbytes) * (8 if getattr(meta, "filters", None) else 1)
        compiled = _compile(meta, self.uri)
        if compiled.index_size is not None and compiled.index_size > _limits.MAX_CHUNK_BYTES // 16:
            raise LimitExceededError(self.uri, f"shard index of {compiled.index_size} bytes; too many chunks per shard")
        self._decode_chunk = compiled.decoder
        self._index_decoder = compiled.index_decoder
        self._index_size = compiled.index_size
        self._cps = compiled.chunks_per_shard
        self._sharded = compiled.index_decoder is not None
        self._index_at_end = meta.sharding is not None and meta.sharding.index_location == "end"
        self._index_cache: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._index_cache_bytes = 0
        self._index_pending: dict[tuple[int, ...], asyncio.Future[Any]] = {}

    def __repr__(self) -> str:
        return f"ZarrArrayReader({self.uri!r}, v{self.meta.zarr_format}, shape={self.shape}, chunks={self.chunk_shape})"

    # -- keys ------------------------------------------------------------------------
    def _key_path(self, key: str) -> str:
        if self._base is not None:
            return f"{self._base}/{key}"
        return self._path.join(key).fs_path

    def _key_url(self, key: str) -> str:
        return self._path.join(key).url

    def _shard_of(self, coord: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        shard = tuple(c // k for c, k in zip(coord, self._cps, strict=True))
        inner = tuple(c % k for c, k in zip(coord, self._cps, strict=True))
        return shard, inner

    def chunk_key_uri(self, coord: tuple[int, ...]) -> str:
        if self._sharded:
            shard, inner = self._shard_of(coord)
            return f"{self._key_url(self.meta.chunk_key(shard))} (inner chunk {list(inner)})"
        return self._key_url(self.meta.chunk_key(coord))

    # -- fetching --------------------------------------------------------------------
    async def fetch(self, coords: Sequence[tuple[int, ...]], meters: Sequence[RequestMeter] = ()) -> list[bytes | None]:
        if not coords:
            return []
        if not self._sharded:
            get = self._storage.get
            key = self.meta.chunk_key
            cap = self._max_chunk_bytes
            return await gather_or_cancel(*(get(self._key_path(key(c)), meters=meters, max_bytes=cap) for c in coords))
        out: list[bytes | None] = [None] * len(coords)
        groups: dict[tuple[int, ...], list[tuple[int, int]]] = {}
        cps = self._cps
        for i, coord in enumerate(coords):
            shard = []
            linear = 0
            for c, k in zip(coord, cps, strict=True):
                shard.append(c // k)
                linear = linear * k + c % k
            groups.setdefault(tuple(shard), []).append((i, linear))
        await gather_or_cancel(*(self._fetch_in_shard(s, items, out, meters) for s, items in groups.items()))
        return out

    async def _fetch_in_shard(
        self,
        shard: tuple[int, ...],
        items: list[tuple[int, int]],
        out: list[bytes | None],
        meters: Sequence[RequestMeter],
    ) -> None:
        index = await self._shard_index(shard, meters)
        if index is None:
            return
        ranges: list[tuple[int, int, int]] = []
        for i, linear in items:
            offset, nbytes = int(index[linear, 0]), int(index[linear, 1])
            if offset == EMPTY_INDEX_ENTRY or nbytes == EMPTY_INDEX_ENTRY:
                continue
            if nbytes > self._max_chunk_bytes:
                raise CorruptChunkError(
                    self._key_url(self.meta.chunk_key(shard)),
                    f"shard index names a chunk of {nbytes} bytes, more than the {self._max_chunk_bytes} its shape allows for",
                )
            ranges.append((offset, nbytes, i))
        if not ranges:
            return
        batches = coalesce_ranges(ranges, gap=COALESCE_GAP)
        path = self._key_path(self.meta.chunk_key(shard))
        await gather_or_cancel(*(self._fetch_batch(path, shard, b, out, meters) for b in batches))

    async def _fetch_batch(
        self,
        path: str,
        shard: tuple[int, ...],
        batch: tuple[int, int, list[tuple[int, int, int]]],
        out: list[bytes | None],
        meters: Sequence[RequestMeter],
    ) -> None:
        start, end, members = batch
        data = await self._storage.get_range(path, start, end - start, meters=meters)
        if data is None:
            return
        if len(data) > end - start:  # a server that ignores Range sent the whole shard
            data = data[start:end]
        if len(data) < end - start:
            raise CorruptChunkError(
                self._key_url(self.meta.chunk_key(shard)),
                f"shard is shorter than its index says (bytes {start}..{end} requested, {len(data)} received)",
            )
        if len(members) == 1 and members[0][1] == len(data):
            out[members[0][2]] = bytes(data)
            return
        view = memoryview(data)
        for offset, nbytes, i in members:
            out[i] = bytes(view[offset - start : offset - start + nbytes])

    async def _shard_index(self, shard: tuple[int, ...], meters: Sequence[RequestMeter]) -> Any:
        cached = self._index_cache.get(shard, _MISSING)
        if cached is not _MISSING:
            self._index_cache.move_to_end(shard)
            return cached
        future = self._index_pending.get(shard)
        if future is None:
            future = asyncio.ensure_future(self._load_index(shard, meters))
            self._index_pending[shard] = future

            def done(f: asyncio.Future[Any], shard: tuple[int, ...] = shard) -> None:
                self._index_pending.pop(shard, None)
                if not f.cancelled() and f.exception() is None:
                    self._remember_index(shard, f.result())

            future.add_done_callback(done)
        return await asyncio.shield(future)

    def _remember_index(self, shard: tuple[int, ...], index: Any) -> None:
        if shard in self._index_cache:
            return
        self._index_cache[shard] = index
        self._index_cache_bytes += index.nbytes if index is not None else 0
        while self._index_cache and (
            len(self._index_cache) > INDEX_CACHE_ENTRIES or self._index_cache_bytes > INDEX_CACHE_BYTES
        ):
            _, old = self._index_cache.popitem(last=False)
            self._index_cache_bytes -= old.nbytes if old is not None else 0

    async def _load_index(self, shard: tuple[int, ...], meters: Sequence[RequestMeter]) -> np.ndarray | None:
        key = self.meta.chunk_key(shard)
        path = self._key_path(key)
        size = self._index_size
        if self._index_at_end:
            data = await self._storage.get_range(path, -size, None, meters=meters)
        else:
            data = await self._storage.get_range(path, 0, size, meters=meters)
        if data is None:
            return None
        if len(data) > size:  # a server that ignores Range sent the whole shard
            data = data[-size:] if self._index_at_end else data[:size]
        if len(data) != size:
            raise CorruptChunkError(self._key_url(key), f"shard index has {len(data)} bytes, expected {size}")
        assert self._index_decoder is not None
        try:
            index = self._index_decoder(data)
        except Exception as exc:
            raise CorruptChunkError(self._key_url(key), f"cannot decode the shard index: {exc}") from None
        return np.ascontiguousarray(index).reshape(-1, 2)

    # -- decoding --------------------------------------------------------------------
    def decode(self, coord: tuple[int, ...], data: bytes) -> np.ndarray:
        try:
            arr = self._decode_chunk(data)
        except RemoteDatasetError:
            raise
        except Exception as exc:
            raise CorruptChunkError(self.chunk_key_uri(coord), f"cannot decode chunk: {exc}") from None
        extent = self.chunk_extent(coord)
        if arr.shape != extent:
            # a copy, so that the edge chunk does not pin (and under-report) the full buffer
            arr = arr[tuple(slice(0, e) for e in extent)].copy()
        return arr


async def fetch_array_meta(storage: Storage, path: SourceURI, data_format: str | None = None) -> ZarrArrayMeta:
    """Fetch and parse a level's metadata: `.zarray` for "zarr", `zarr.json` for "zarr3",
    both concurrently (zarr.json preferred) when the format is not known."""
    names = {"zarr": [".zarray"], "zarr3": ["zarr.json"]}.get(data_format or "", ["zarr.json", ".zarray"])
    results = await asyncio.gather(*(storage.get(path.join(n).fs_path) for n in names))
    for name, data in zip(names, results, strict=True):
        if data is not None:
            return parse_array_meta(load_json(data, path.join(name).url), path.url, name)
    raise SourceNotFoundError(path.url, f"no Zarr array here ({' or '.join(names)} not found)")


async def open_reader(storage: Storage, mag: MagSpec, data_format: str | None = None) -> ZarrArrayReader:
    """The reader of one resolution level (data_format "zarr" or "zarr3").

    Uses `mag.array_meta` (a `ZarrArrayMeta` kept from exploration) when present, else
    fetches the level's metadata (`data_format` saves the probe of the other file name).
    """
    meta = mag.array_meta
    if not isinstance(meta, ZarrArrayMeta):
        meta = await fetch_array_meta(storage, mag.path, data_format)
    return ZarrArrayReader(storage, mag.path, meta)
