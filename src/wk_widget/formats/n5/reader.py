"""The N5 chunk reader: block headers (default / varlength / object mode) and the compressions."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...errors import SourceNotFoundError
from ...storage import SourceURI, Storage
from .._shared import limits as _limits
from .._shared.bytes_codecs import bounded_decode
from .._shared.codecs import codec_module
from .._shared.reader_base import ChunkReaderBase, fetch_metadata
from ..base import MagSpec
from .metadata import ATTRIBUTES, N5ArrayMeta, parse_attributes

Decompressor = Callable[[Any, int], Any]  # (payload, expected bytes) -> bytes-like


_LZ4_MAGIC = b"LZ4Block"


_LZ4_HEADER = struct.Struct("<iii")


def decode_lz4_blocks(data: Any, expected: int | None = None) -> bytes:
    """Decode lz4-java's LZ4BlockOutputStream framing (what N5's "lz4" writes): blocks of
    magic "LZ4Block", a token (0x10 raw / 0x20 LZ4 | level), compressed and original
    lengths and a checksum (int32 little-endian each), then the block; an empty block ends
    a stream (streams may follow each other)."""
    import imagecodecs

    limit = expected
    view = memoryview(data)
    parts: list[bytes] = []
    pos = 0
    produced = 0
    total = len(view)
    while pos < total:
        if bytes(view[pos : pos + 8]) != _LZ4_MAGIC:
            raise ValueError(f"no LZ4Block magic at offset {pos}")
        if pos + 21 > total:
            raise ValueError("truncated LZ4Block header")
        method = view[pos + 8] & 0xF0
        clen, olen, _checksum = _LZ4_HEADER.unpack_from(view, pos + 9)
        pos += 21
        if clen < 0 or olen < 0 or pos + clen > total:
            raise ValueError("invalid or truncated LZ4Block")
        block = view[pos : pos + clen]
        pos += clen
        produced += olen
        if limit is not None and produced > limit:
            raise _limits.DecodeLimit(f"LZ4 blocks decode to more than the {limit} bytes of the block")
        if olen == 0:
            continue
        if method == 0x10:
            if clen != olen:
                raise ValueError("raw LZ4Block with differing lengths")
            parts.append(bytes(block))
        elif method == 0x20:
            out = imagecodecs.lz4_decode(bytes(block), out=olen)
            if len(out) != olen:
                raise ValueError("LZ4 block decoded to the wrong length")
            parts.append(bytes(out))
        else:
            raise ValueError(f"unknown LZ4Block compression method {method:#x}")
    return b"".join(parts)


# N5 compression type -> the shared bytes codec (raw and lz4 are N5's own)
_SHARED_COMPRESSIONS = {"gzip": "gzip", "bzip2": "bz2", "xz": "xz", "blosc": "blosc", "zstd": "zstd"}


def _decompressor(compression: dict[str, Any], where: str) -> Decompressor:
    """Every decompressor stops at the block's declared size (checked against the block
    size). gzip covers `useZlib` (wbits 47 reads both headers)."""
    kind = compression["type"]
    if kind == "raw":
        return lambda data, expected: data
    if kind == "lz4":  # lz4-java's block framing, N5's own
        codec_module("imagecodecs", kind, where)
        return decode_lz4_blocks
    name = _SHARED_COMPRESSIONS.get(kind)
    decode = bounded_decode(name, where) if name is not None else None
    if decode is None:  # pragma: no cover - parse_attributes rejects it
        raise ValueError(kind)
    return decode


class N5Reader(ChunkReaderBase):
    """Reads blocks of one N5 dataset; dims are the N5 dims reversed (C order).

    Edge blocks are stored smaller (n5-java clips them) or larger (tensorstore writes full
    edge blocks): the base keeps the overlap and fills the rest."""

    decode_what = "N5 block"

    def __init__(self, storage: Storage, path: SourceURI, meta: N5ArrayMeta) -> None:
        cap = _limits.bound(math.prod(meta.chunk_shape) * meta.dtype.itemsize + 4 * meta.ndim + 8)
        fill = meta.dtype.type(0)
        super().__init__(storage, path, meta.shape, meta.chunk_shape, meta.dtype, fill, max_chunk_bytes=cap, what="block")
        self.meta = meta
        self._be_dtype = meta.dtype.newbyteorder(">")
        self._swap = not self._be_dtype.isnative and meta.dtype.itemsize > 1
        # a missing codec module: said now, not per block
        self._decompress = _decompressor(meta.compression, f"{path.url}/{ATTRIBUTES}")
        self._ndim = meta.ndim
        self._head = struct.Struct(f">HH{meta.ndim}I")

    def __repr__(self) -> str:
        return (
            f"N5Reader({self.uri!r}, {self.meta.compression.get('type')}, shape={self.shape}, "
            f"chunks={self.chunk_shape})"
        )

    def block_key(self, coord: Sequence[int]) -> str:
        """Block path below the dataset: grid position in N5 order (`x/y/z`)."""
        return "/".join(str(int(c)) for c in reversed(coord))

    def chunk_key(self, coord: tuple[int, ...]) -> str:
        return self.block_key(coord)

    def chunk_key_uri(self, coord: tuple[int, ...]) -> str:
        return f"{self.uri}/{self.block_key(coord)}"

    def _decode(self, coord: tuple[int, ...], data: bytes) -> np.ndarray:
        head = self._head
        if len(data) < head.size:
            raise ValueError(f"{len(data)} bytes, too short for the block header")
        mode, ndim, *dims = head.unpack_from(data, 0)
        if ndim != self._ndim:
            raise ValueError(f"block header has {ndim} dimensions, the dataset {self._ndim}")
        offset = head.size
        if any(d > b for d, b in zip(dims[::-1], self.chunk_shape, strict=True)):
            raise ValueError(f"block header dims {dims} exceed the block size {list(self.chunk_shape[::-1])}")
        count = 1
        for d in dims:
            count *= d
        if mode == 1:  # varlength: an element count follows
            (nelem,) = struct.unpack_from(">I", data, offset)
            offset += 4
            if nelem < count:
                raise ValueError(
                    f"varlength block holds {nelem} elements, fewer than its {dims} dims"
                )
        elif mode != 0:
            raise ValueError(
                f"unsupported block mode {mode} (only 0 default and 1 varlength hold numeric data)"
            )
        expected = count * self.dtype.itemsize
        payload = memoryview(data)[offset:]
        raw = self._decompress(payload, expected)
        if len(raw) < expected:
            raise ValueError(
                f"{len(raw)} bytes after decompression, expected {expected} for block dims {dims}"
            )
        arr = np.frombuffer(raw, dtype=self._be_dtype, count=count)
        if self._swap:
            arr = arr.byteswap().view(self.dtype)
        elif arr.dtype != self.dtype:
            arr = arr.view(self.dtype)
        return arr.reshape(dims[::-1])


async def fetch_meta(storage: Storage, path: SourceURI) -> N5ArrayMeta:
    """Fetch and parse a dataset's attributes.json."""
    target = path.join(ATTRIBUTES)
    doc = await fetch_metadata(storage, target)
    if doc is None:
        raise SourceNotFoundError(path.url, "no N5 dataset here (attributes.json not found)")
    if isinstance(doc, dict) and "dimensions" not in doc:
        raise SourceNotFoundError(path.url, "attributes.json describes a group, not an N5 dataset")
    return parse_attributes(doc, target.url)


async def open_reader(storage: Storage, mag: MagSpec, data_format: str | None = None) -> N5Reader:
    """The reader of one N5 dataset (data_format "n5").

    Uses `mag.array_meta` (an `N5ArrayMeta` kept from exploration) when present, else
    fetches the level's attributes.json.
    """
    meta = mag.array_meta
    if not isinstance(meta, N5ArrayMeta):
        meta = await fetch_meta(storage, mag.path)
    return N5Reader(storage, mag.path, meta)
