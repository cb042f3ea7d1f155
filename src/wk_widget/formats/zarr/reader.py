"""The Zarr chunk reader: chunk keys, concurrent fetches, sharded arrays (one cached index read per shard, coalesced ranges)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import CorruptChunkError, LimitExceededError, SourceNotFoundError
from ...storage import RequestMeter, SourceURI, Storage
from ...storage._loop import gather_or_cancel
from .._shared import limits as _limits
from .._shared.cache import LRU, SingleFlight, cached_load
from .._shared.ranges import COALESCE_GAP
from .._shared.reader_base import ChunkReaderBase, fetch_metadata
from .._shared.shard_index import chunk_ranges, read_chunks, read_range
from ..base import MagSpec
from .codecs import _compile
from .metadata import EMPTY_INDEX_ENTRY, ZarrArrayMeta, parse_array_meta

INDEX_CACHE_ENTRIES = 4096
INDEX_CACHE_BYTES = 256 * 1024 * 1024


def _index_nbytes(index: np.ndarray | None) -> int:
    return index.nbytes if index is not None else 0


class ZarrArrayReader(ChunkReaderBase):
    """Reads chunks of one Zarr v2/v3 array; for sharded arrays the unit is the inner chunk."""

    def __init__(self, storage: Storage, path: SourceURI, meta: ZarrArrayMeta) -> None:
        nbytes = math.prod(meta.read_shape) * meta.dtype.itemsize
        cap = _limits.bound(nbytes) * (8 if getattr(meta, "filters", None) else 1)
        super().__init__(storage, path, meta.shape, meta.read_shape, meta.dtype, meta.fill_value, max_chunk_bytes=cap)
        self.meta = meta
        compiled = _compile(meta, self.uri)
        if compiled.index_size is not None and compiled.index_size > _limits.MAX_CHUNK_BYTES // 16:
            raise LimitExceededError(self.uri, f"shard index of {compiled.index_size} bytes; too many chunks per shard")
        self._decode_chunk = compiled.decoder
        self._index_decoder = compiled.index_decoder
        self._index_size = compiled.index_size
        self._cps = compiled.chunks_per_shard
        self._sharded = compiled.index_decoder is not None
        self._index_at_end = meta.sharding is not None and meta.sharding.index_location == "end"
        self._index_cache: LRU[tuple[int, ...], np.ndarray | None] = LRU(INDEX_CACHE_ENTRIES, INDEX_CACHE_BYTES)
        self._index_loads: SingleFlight[tuple[int, ...], np.ndarray | None] = SingleFlight()

    def __repr__(self) -> str:
        return f"ZarrArrayReader({self.uri!r}, v{self.meta.zarr_format}, shape={self.shape}, chunks={self.chunk_shape})"

    # -- keys ------------------------------------------------------------------------
    @property
    def sharded(self) -> bool:
        return self._sharded

    def chunk_key(self, coord: tuple[int, ...]) -> str:
        return self.meta.chunk_key(coord)

    def _shard_of(self, coord: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        shard = tuple(c // k for c, k in zip(coord, self._cps, strict=True))
        inner = tuple(c % k for c, k in zip(coord, self._cps, strict=True))
        return shard, inner

    def chunk_key_uri(self, coord: tuple[int, ...]) -> str:
        if self._sharded:
            shard, inner = self._shard_of(coord)
            return f"{self._key_url(self.meta.chunk_key(shard))} (inner chunk {list(inner)})"
        return self._key_url(self.meta.chunk_key(coord))

    # -- fetching (sharded) ----------------------------------------------------------
    async def _fetch_sharded(
        self, coords: Sequence[tuple[int, ...]], meters: Sequence[RequestMeter]
    ) -> list[bytes | None]:
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
        url = self._key_url(self.meta.chunk_key(shard))
        cap = self._max_chunk_bytes

        def entry(linear: int) -> tuple[int, int] | None:
            offset, nbytes = int(index[linear, 0]), int(index[linear, 1])
            return None if offset == EMPTY_INDEX_ENTRY or nbytes == EMPTY_INDEX_ENTRY else (offset, nbytes)

        ranges = chunk_ranges(
            ((i, entry(linear)) for i, linear in items),
            cap,
            url,
            lambda n: f"shard index names a chunk of {n} bytes, more than the {cap} its shape allows for",
        )
        if not ranges:
            return

        def short(start: int, end: int, received: int) -> CorruptChunkError:
            return CorruptChunkError(
                url, f"shard is shorter than its index says (bytes {start}..{end} requested, {received} received)"
            )

        path = self._key_path(self.meta.chunk_key(shard))
        await read_chunks(self._storage, path, ranges, out, meters, short, gap=COALESCE_GAP)

    async def _shard_index(self, shard: tuple[int, ...], meters: Sequence[RequestMeter]) -> Any:
        """The shard's index (cached; one read however many ask at once), None: no shard."""
        return await cached_load(
            self._index_cache, self._index_loads, shard, lambda: self._load_index(shard, meters), _index_nbytes
        )

    async def _load_index(self, shard: tuple[int, ...], meters: Sequence[RequestMeter]) -> np.ndarray | None:
        key = self.meta.chunk_key(shard)
        size = self._index_size
        data = await read_range(self._storage, self._key_path(key), 0, size, meters, suffix=self._index_at_end)
        if data is None:
            return None
        if len(data) != size:
            raise CorruptChunkError(self._key_url(key), f"shard index has {len(data)} bytes, expected {size}")
        assert self._index_decoder is not None
        try:
            index = self._index_decoder(data)
        except Exception as exc:
            raise CorruptChunkError(self._key_url(key), f"cannot decode the shard index: {exc}") from None
        return np.ascontiguousarray(index).reshape(-1, 2)

    # -- decoding --------------------------------------------------------------------
    def _decode(self, coord: tuple[int, ...], data: bytes) -> np.ndarray:
        return self._decode_chunk(data)


async def fetch_array_meta(storage: Storage, path: SourceURI, data_format: str | None = None) -> ZarrArrayMeta:
    """Fetch and parse a level's metadata: `.zarray` for "zarr", `zarr.json` for "zarr3",
    both concurrently (zarr.json preferred) when the format is not known."""
    names = {"zarr": [".zarray"], "zarr3": ["zarr.json"]}.get(data_format or "", ["zarr.json", ".zarray"])
    docs = await asyncio.gather(*(fetch_metadata(storage, path.join(n)) for n in names))
    for name, doc in zip(names, docs, strict=True):
        if doc is not None:
            return parse_array_meta(doc, path.url, name)
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
