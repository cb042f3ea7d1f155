"""The plumbing every chunk reader shares: where chunk keys live below the array, fetching
(missing objects are None, responses capped), and the decode wrapper (any failure of a
codec or layout is a CorruptChunkError naming the chunk's URI and the cause).

A format's reader subclasses `ChunkReaderBase` and keeps only what is its own: the chunk
key of a grid position, how a chunk decodes, and - for sharded formats - `_fetch_sharded`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

import numpy as np

from ...errors import CorruptChunkError, RemoteDatasetError
from ...storage import RequestMeter, SourceURI, Storage
from ...storage._loop import gather_or_cancel
from ..base import ArrayReader, load_json
from . import limits as _limits


async def _none() -> None:
    return None


async def fetch_metadata(storage: Storage, uri: SourceURI) -> Any | None:
    """Parsed JSON of one metadata file (what `open_reader` reads when exploration kept no
    metadata), None when it does not exist; malformed JSON is a MalformedMetadataError."""
    data = await storage.get(uri.fs_path)
    return None if data is None else load_json(data, uri.url)


class ChunkReaderBase(ArrayReader):
    """Reads chunks of one array stored one object per chunk (or per shard) below `path`."""

    # "cannot decode <what>: <cause>" (what a format calls its unit: "chunk", "N5 block", ...)
    decode_what = "chunk"

    def __init__(
        self,
        storage: Storage,
        path: SourceURI,
        shape: tuple[int, ...],
        chunk_shape: tuple[int, ...],
        dtype: np.dtype[Any],
        fill_value: Any,
        *,
        max_chunk_bytes: int,
        grid_origin: tuple[int, ...] | None = None,
        what: str = "chunk",
    ) -> None:
        self.uri = path.url
        self.shape = shape
        self.chunk_shape = chunk_shape
        self.grid_origin = grid_origin if grid_origin is not None else (0,) * len(shape)
        self.dtype = dtype
        self.fill_value = fill_value
        self._storage = storage
        self._path = path
        self._base = path.fs_path.rstrip("/") if not path.query else None
        # sane numbers before anything is allocated (`what` names the unit in the message)
        _limits.check_array(self.uri, shape, chunk_shape, dtype.itemsize, what)
        self._max_chunk_bytes = max_chunk_bytes  # a cap on any one response for a chunk

    # -- keys ------------------------------------------------------------------------
    def chunk_key(self, coord: tuple[int, ...]) -> str | None:
        """Key below the array of the object holding an unsharded chunk (None: outside the
        grid, reads as the fill value)."""
        raise NotImplementedError

    def _key_path(self, key: str) -> str:
        if self._base is not None:
            return f"{self._base}/{key}"
        return self._path.join(key).fs_path

    def _key_url(self, key: str) -> str:
        return self._path.join(key).url

    @property
    def sharded(self) -> bool:
        return False

    # -- fetching --------------------------------------------------------------------
    async def fetch(self, coords: Sequence[tuple[int, ...]], meters: Sequence[RequestMeter] = ()) -> list[bytes | None]:
        if not coords:
            return []
        if self.sharded:
            return await self._fetch_sharded(coords, meters)
        get = self._storage.get
        cap = self._max_chunk_bytes
        fetches: list[Awaitable[bytes | None]] = []
        for c in coords:
            key = self.chunk_key(c)
            fetches.append(_none() if key is None else get(self._key_path(key), meters=meters, max_bytes=cap))
        return await gather_or_cancel(*fetches)

    async def _fetch_sharded(
        self, coords: Sequence[tuple[int, ...]], meters: Sequence[RequestMeter]
    ) -> list[bytes | None]:
        raise NotImplementedError

    # -- decoding --------------------------------------------------------------------
    def decode(self, coord: tuple[int, ...], data: bytes) -> np.ndarray:
        try:
            arr = self._decode(coord, data)
        except RemoteDatasetError:
            raise
        except Exception as exc:  # every codec or layout failure is a corrupt chunk
            raise CorruptChunkError(self.chunk_key_uri(coord), f"cannot decode {self.decode_what}: {exc}") from None
        return self._fit(arr, self.chunk_extent(coord))

    def _decode(self, coord: tuple[int, ...], data: bytes) -> np.ndarray:
        """The chunk's array (may be stored larger or smaller than its extent)."""
        raise NotImplementedError

    def _fit(self, arr: np.ndarray, extent: tuple[int, ...]) -> np.ndarray:
        """`arr` as exactly `extent`: writers store edge chunks clipped (n5-java) or full
        size (zarr, tensorstore); keep the overlap, fill the rest."""
        if arr.shape == extent:
            return arr
        overlap = tuple(slice(0, min(a, e)) for a, e in zip(arr.shape, extent, strict=True))
        if all(a >= e for a, e in zip(arr.shape, extent, strict=True)):
            # a copy, so that the edge chunk does not pin (and under-report) the full buffer
            return arr[overlap].copy()
        out = np.zeros(extent, dtype=self.dtype) if self.fill_value is None else np.full(extent, self.fill_value, dtype=self.dtype)
        out[overlap] = arr[overlap]
        return out
