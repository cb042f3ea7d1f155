"""The precomputed chunk reader: chunk keys, sharded lookups (cached minishard indices, coalesced ranges) and decoding."""

from __future__ import annotations

import asyncio
import math
import zlib
from collections.abc import Awaitable, Sequence
from functools import partial
from types import ModuleType
from typing import Any

import numpy as np

from ...errors import CorruptChunkError, SourceNotFoundError
from ...storage import RequestMeter, SourceURI, Storage
from ...storage._loop import gather_or_cancel
from .._shared import limits as _limits
from .._shared.cache import LRU, MISSING, SingleFlight, cached_load
from .._shared.codecs import codec_module, imagecodecs_codec
from .._shared.compresso import decode_compresso
from .._shared.murmur import hash64_uint64
from .._shared.ranges import COALESCE_GAP
from .._shared.reader_base import ChunkReaderBase, fetch_metadata
from .._shared.shard_index import chunk_ranges, read_chunks, read_range
from ..base import MagSpec
from .cseg import _Bad, validate_compressed_segmentation
from .info import (
    _CODEC_MODULES,
    _GZIP_MAGIC,
    _INFO,
    INDEX_CACHE_BYTES,
    INDEX_CACHE_ENTRIES,
    PrecomputedScale,
    parse_info,
)
from .sharding import _minishard_nbytes, _MinishardIndex, _MortonEncoder, parse_minishard_index

_MAX_MINISHARD_INDEX = 64 << 20


class PrecomputedReader(ChunkReaderBase):
    """Reads chunks of one precomputed scale; dims (x, y, z, c), absolute coordinates."""

    def __init__(self, storage: Storage, path: SourceURI, scale: PrecomputedScale) -> None:
        chunk_shape = (*scale.chunk_size, scale.num_channels)
        # jpeg/png/compressed_segmentation may exceed the raw size a little: twice is ample
        cap = 2 * _limits.bound(math.prod(chunk_shape) * scale.dtype.itemsize)
        origin = (*scale.voxel_offset, 0)
        fill = scale.dtype.type(0)
        super().__init__(storage, path, scale.shape, chunk_shape, scale.dtype, fill, max_chunk_bytes=cap, grid_origin=origin)
        self.scale = scale
        self.decode_what = f"{scale.encoding} chunk"
        self._le_dtype = scale.dtype.newbyteorder("<")
        self._grid = scale.grid_shape
        self._sharding = scale.sharding
        self._encoding = scale.encoding
        self._codec = _codec_for(scale.encoding, f"{path.url}/info")
        if scale.sharding is not None:
            sh = scale.sharding
            self._morton = _MortonEncoder(self._grid)
            self._minishard_mask = (1 << sh.minishard_bits) - 1
            self._shard_mask = (1 << sh.shard_bits) - 1
            self._shard_digits = -(-sh.shard_bits // 4)
            self._index_end = 16 << sh.minishard_bits
            # shard-index entries ((name, minishard) -> [start, end); (name, -1): no shard)
            self._entries: LRU[tuple[str, int], tuple[int, int] | None] = LRU(
                INDEX_CACHE_ENTRIES * 4, INDEX_CACHE_BYTES // 8
            )
            self._minishards: LRU[tuple[str, str, int], _MinishardIndex | None] = LRU(INDEX_CACHE_ENTRIES, INDEX_CACHE_BYTES)
            self._loads: SingleFlight[tuple[str, str, int], Any] = SingleFlight()
            self._gzip_data = sh.data_encoding == "gzip"
        else:
            self._gzip_data = False

    def __repr__(self) -> str:
        return (
            f"PrecomputedReader({self.uri!r}, {self._encoding}, shape={self.shape}, chunks={self.chunk_shape}, "
            f"sharded={self._sharding is not None})"
        )

    # -- keys ------------------------------------------------------------------------
    @property
    def sharded(self) -> bool:
        return self._sharding is not None

    def chunk_name(self, coord: Sequence[int]) -> str:
        """Unsharded file name of a chunk: `x0-x1_y0-y1_z0-z1` in absolute coordinates."""
        parts = []
        for i in range(3):
            begin = self.grid_origin[i] + coord[i] * self.chunk_shape[i]
            end = min(begin + self.chunk_shape[i], self.shape[i])
            parts.append(f"{begin}-{end}")
        return "_".join(parts)

    def chunk_key(self, coord: tuple[int, ...]) -> str | None:
        return self.chunk_name(coord) if self._in_grid(coord) else None

    def chunk_id(self, coord: Sequence[int]) -> int:
        """Sharded chunk id: the compressed Morton code of the grid position."""
        return self._morton(coord)

    def shard_and_minishard(self, chunk_id: int) -> tuple[int, int]:
        sh = self._sharding
        assert sh is not None
        shifted = chunk_id >> sh.preshift_bits
        hashed = hash64_uint64(shifted) if sh.hash == "murmurhash3_x86_128" else shifted
        return (hashed >> sh.minishard_bits) & self._shard_mask, hashed & self._minishard_mask

    def shard_name(self, shard: int) -> str:
        return f"{shard:0{self._shard_digits}x}.shard" if self._shard_digits else f"{shard:x}.shard"

    def chunk_key_uri(self, coord: tuple[int, ...]) -> str:
        if self._sharding is None:
            return f"{self.uri}/{self.chunk_name(coord)}"
        cid = self.chunk_id(coord)
        shard, _ = self.shard_and_minishard(cid)
        return f"{self.uri}/{self.shard_name(shard)} (chunk {list(coord[:3])}, id {cid})"

    def _in_grid(self, coord: Sequence[int]) -> bool:
        g = self._grid
        return 0 <= coord[0] < g[0] and 0 <= coord[1] < g[1] and 0 <= coord[2] < g[2]

    # -- fetching (sharded) ----------------------------------------------------------
    async def _fetch_sharded(
        self, coords: Sequence[tuple[int, ...]], meters: Sequence[RequestMeter]
    ) -> list[bytes | None]:
        out: list[bytes | None] = [None] * len(coords)
        groups: dict[int, list[tuple[int, int, int]]] = {}
        for i, coord in enumerate(coords):
            if not self._in_grid(coord):
                continue
            cid = self._morton(coord)
            shard, minishard = self.shard_and_minishard(cid)
            groups.setdefault(shard, []).append((i, minishard, cid))
        await gather_or_cancel(*(self._fetch_in_shard(s, items, out, meters) for s, items in groups.items()))
        return out

    async def _fetch_in_shard(
        self,
        shard: int,
        items: list[tuple[int, int, int]],
        out: list[bytes | None],
        meters: Sequence[RequestMeter],
    ) -> None:
        name = self.shard_name(shard)
        path = self._key_path(name)
        minishards = sorted({m for _, m, _ in items})
        entries = await self._shard_index_entries(name, path, minishards, meters)
        wanted: list[tuple[int, tuple[int, int]]] = []
        for m in minishards:
            entry = entries[m]
            if entry is not None and entry[1] > entry[0]:  # an empty range: no chunks
                wanted.append((m, entry))
        # each minishard index cached, and read once however many ask at once
        indices = await gather_or_cancel(
            *(
                cached_load(
                    self._minishards,
                    self._loads,
                    ("minishard", name, m),
                    partial(self._load_minishard, name, path, m, e, meters),
                    _minishard_nbytes,
                )
                for m, e in wanted
            )
        )
        by_minishard = {m: index for (m, _), index in zip(wanted, indices, strict=True)}

        def lookup(minishard: int, cid: int) -> tuple[int, int] | None:
            index = by_minishard.get(minishard)
            return None if index is None else index.lookup(cid)

        ranges = chunk_ranges(
            ((i, lookup(m, cid)) for i, m, cid in items),
            self._max_chunk_bytes,
            f"{self.uri}/{name}",
            lambda n: f"minishard index names a chunk of {n} bytes; refused",
        )
        if ranges:
            # A short answer (truncated shard) gives short chunks, which decode() reports.
            await read_chunks(self._storage, path, ranges, out, meters, gap=COALESCE_GAP)

    async def _shard_index_entries(
        self, name: str, path: str, minishards: list[int], meters: Sequence[RequestMeter]
    ) -> dict[int, tuple[int, int] | None]:
        """Shard-index entries (absolute [start, end) of each minishard index), None when
        the shard does not exist. Entries of nearby minishards share one range request."""
        result: dict[int, tuple[int, int] | None] = {}
        if self._entries.get((name, -1)) is not MISSING:  # the shard file does not exist
            return dict.fromkeys(minishards)
        waiting: dict[int, asyncio.Future[Any]] = {}
        missing: list[int] = []
        for m in minishards:
            cached = self._entries.get((name, m))
            if cached is not MISSING:
                result[m] = cached
                continue
            future = self._loads.pending(("entry", name, m))
            if future is not None:
                waiting[m] = future
            else:
                missing.append(m)
        if missing:
            runs: list[list[int]] = [[missing[0]]]
            for m in missing[1:]:
                if (m - runs[-1][-1] - 1) * 16 <= COALESCE_GAP:
                    runs[-1].append(m)
                else:
                    runs.append([m])
            for run in runs:
                load = self._loads.spawn(self._load_entries(name, path, run, meters))
                for m in run:
                    waiting[m] = self._loads.future(("entry", name, m), partial(_pick, load, m))
        for m, future in waiting.items():
            result[m] = await asyncio.shield(future)
        return result

    async def _load_entries(
        self, name: str, path: str, run: list[int], meters: Sequence[RequestMeter]
    ) -> dict[int, tuple[int, int] | None]:
        first, last = run[0], run[-1]
        data = await read_range(self._storage, path, first * 16, (last - first + 1) * 16, meters)
        out: dict[int, tuple[int, int] | None] = {}
        if data is None:
            self._entries.put((name, -1), None, 16)  # remembered: no more requests for it
            return dict.fromkeys(run)
        if len(data) != (last - first + 1) * 16:
            raise CorruptChunkError(
                f"{self.uri}/{name}",
                f"shard index is truncated ({len(data)} bytes at offset {first * 16})",
            )
        table = np.frombuffer(data, dtype="<u8").reshape(-1, 2)
        for m in run:
            s, e = int(table[m - first, 0]), int(table[m - first, 1])
            if e < s:
                raise CorruptChunkError(f"{self.uri}/{name}", f"shard index entry {m} has end {e} < start {s}")
            entry = (self._index_end + s, self._index_end + e)
            out[m] = entry
            self._entries.put((name, m), entry, 16)
        return out

    async def _load_minishard(
        self,
        name: str,
        path: str,
        minishard: int,
        entry: tuple[int, int],
        meters: Sequence[RequestMeter],
    ) -> _MinishardIndex | None:
        start, end = entry
        where = f"{self.uri}/{name}"
        if end - start > _MAX_MINISHARD_INDEX:
            raise CorruptChunkError(where, f"minishard index {minishard} claims {end - start} bytes; refused")
        data = await read_range(self._storage, path, start, end - start, meters)
        if data is None:
            return None
        if len(data) != end - start:
            raise CorruptChunkError(where, f"minishard index {minishard} is truncated")
        assert self._sharding is not None
        try:
            if self._sharding.minishard_index_encoding == "gzip":
                data = _limits.zlib_bounded(data, _MAX_MINISHARD_INDEX, 47)
        except (zlib.error, ValueError) as exc:
            raise CorruptChunkError(where, f"cannot decompress minishard index {minishard}: {exc}") from None
        if len(data) % 24:
            raise CorruptChunkError(where, f"minishard index {minishard} has {len(data)} bytes, not a multiple of 24")
        return parse_minishard_index(data, self._index_end)

    # -- decoding --------------------------------------------------------------------
    def _decode(self, coord: tuple[int, ...], data: bytes) -> np.ndarray:
        extent = self.chunk_extent(coord)
        if self._gzip_data:
            data = _limits.zlib_bounded(data, self._max_chunk_bytes, 47)
        encoding = self._encoding
        if encoding == "raw":
            return self._decode_raw(data, extent)
        if encoding == "compressed_segmentation":
            return self._decode_cseg(data, extent)
        if encoding == "compresso":
            assert self._codec is not None
            return decode_compresso(self._codec, data, extent, self.dtype, self.chunk_shape)
        return self._decode_image(data, extent)

    def _decode_raw(self, data: bytes, extent: tuple[int, ...]) -> np.ndarray:
        itemsize = self.dtype.itemsize
        nbytes = extent[0] * extent[1] * extent[2] * extent[3] * itemsize
        shape = extent
        if len(data) != nbytes:
            full = self.chunk_shape
            if len(data) == full[0] * full[1] * full[2] * full[3] * itemsize:
                shape = full  # stored padded to the full chunk size
            elif data[:2] == _GZIP_MAGIC:
                full_bytes = full[0] * full[1] * full[2] * full[3] * itemsize
                return self._decode_raw(_limits.zlib_bounded(data, full_bytes, 47), extent)
            else:
                raise _Bad(
                    f"{len(data)} bytes, expected {nbytes} for {list(extent)} {self.dtype.name} voxels"
                )
        arr = np.frombuffer(data, dtype=self._le_dtype).reshape(shape[::-1]).transpose(3, 2, 1, 0)
        if shape != extent:
            arr = arr[: extent[0], : extent[1], : extent[2], : extent[3]]
        if not self._le_dtype.isnative:
            arr = arr.astype(self.dtype)
        return arr

    def _decode_image(self, data: bytes, extent: tuple[int, ...]) -> np.ndarray:
        imagecodecs = self._codec
        assert imagecodecs is not None
        full = self.chunk_shape
        # The header's size is checked before the decoder allocates what it says.
        _limits.check_image(self._encoding, data, full[0] * full[1] * full[2] * max(full[3], 4))
        if self._encoding == "jpeg":
            img = imagecodecs.jpeg_decode(data)
        elif self._encoding == "jxl":  # laid out like jpeg: width x, height y * z
            img = imagecodecs.jpegxl_decode(data)
        else:
            img = imagecodecs.png_decode(data)
        channels = extent[3]
        pixels = img.shape[0] * img.shape[1]
        img_channels = img.shape[2] if img.ndim == 3 else 1
        if img_channels != channels:
            if channels == 1 and img_channels in (3, 4) and self._encoding == "jpeg":
                img = img[..., 0]  # a grey image stored as RGB
            else:
                raise _Bad(f"image has {img_channels} channels, the volume {channels}")
        shape = extent
        voxels = extent[0] * extent[1] * extent[2]
        if pixels != voxels:
            full = self.chunk_shape
            if pixels == full[0] * full[1] * full[2]:
                shape = full
            else:
                raise _Bad(f"image has {pixels} pixels, expected {voxels} for {list(extent[:3])}")
        if img.dtype != self.dtype:
            img = img.astype(self.dtype)
        arr = img.reshape(shape[2], shape[1], shape[0], channels).transpose(2, 1, 0, 3)
        if shape != extent:
            arr = arr[: extent[0], : extent[1], : extent[2]]
        return arr

    def _decode_cseg(self, data: bytes, extent: tuple[int, ...]) -> np.ndarray:
        compressed_segmentation = self._codec
        assert compressed_segmentation is not None

        block = self.scale.compressed_segmentation_block_size
        assert block is not None
        if data[:2] == _GZIP_MAGIC:
            data = _limits.zlib_bounded(data, self._max_chunk_bytes, 47)
        data = bytes(data)
        item_words = self.dtype.itemsize // 4
        try:
            validate_compressed_segmentation(data, extent[:3], extent[3], block, item_words)
            volume = extent
        except _Bad:
            full = self.chunk_shape
            if full == extent:
                raise
            # some writers store edge chunks at the full chunk size
            validate_compressed_segmentation(data, full[:3], full[3], block, item_words)
            volume = full
        arr = compressed_segmentation.decompress(
            data, tuple(volume), self.dtype, tuple(block), order="F"
        )
        if arr.ndim == 3:
            arr = arr[..., None]
        if volume != extent:
            arr = arr[: extent[0], : extent[1], : extent[2]]
        return arr


def _codec_for(encoding: str, where: str) -> ModuleType | None:
    if encoding not in _CODEC_MODULES:
        return None
    module, imagecodec = _CODEC_MODULES[encoding]
    if imagecodec is not None:
        return imagecodecs_codec(imagecodec, encoding, where)
    return codec_module(module, encoding, where)


async def _pick(load: Awaitable[dict[int, Any]], key: int) -> Any:
    return (await load)[key]


async def fetch_scale(storage: Storage, path: SourceURI) -> PrecomputedScale:
    """The scale whose folder is `path`: looks for the `info` in the parent folders."""
    target = path.url.rstrip("/")
    root = path
    for _ in range(3):  # keys may be nested paths ("a/b")
        root = root.parent()
        info = await fetch_metadata(storage, root.join(_INFO))
        if info is None:
            continue
        where = root.join(_INFO).url
        scales = parse_info(info, where)
        for scale in scales:
            if root.join(scale.key).url.rstrip("/") == target:
                return scale
        raise SourceNotFoundError(path.url, f"no scale of {where} has the key {path.name!r}")
    raise SourceNotFoundError(path.url, "no precomputed info file found in the parent folder")


async def open_reader(storage: Storage, mag: MagSpec, data_format: str | None = None) -> PrecomputedReader:
    """The reader of one scale (data_format "neuroglancerPrecomputed").

    Uses `mag.array_meta` (a `PrecomputedScale` kept from exploration) when present, else
    reads the `info` of the parent folder and picks the scale whose key is the mag path.
    """
    scale = mag.array_meta
    if not isinstance(scale, PrecomputedScale):
        scale = await fetch_scale(storage, mag.path)
    return PrecomputedReader(storage, mag.path, scale)
