"""Bytes-to-bytes codecs, one table for every format: Zarr v2 compressors, Zarr v3
bytes-to-bytes codecs and N5 compression types name the same few algorithms.

Each entry turns the place named in messages (`where`) into a bounded decode function
`(data, limit) -> bytes-like` that never produces (or allocates) more than `limit` bytes
(see `limits`). Modules a codec needs are imported when the entry is looked up - when a
reader is compiled - so a missing one is an UnsupportedDataError naming the package.
Format quirks (names, N5's lz4-java framing, numcodecs fallbacks) stay in thin adapters
in the format's folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import limits as _limits
from .codecs import codec_module

BoundedDecode = Callable[[Any, int], Any]  # (encoded bytes, decoded-size limit) -> bytes-like
BytesDecoder = Callable[[Any], Any]  # a BoundedDecode with its limit bound


def _gzip(data: Any, limit: int) -> bytes:
    # wbits 47: gzip or zlib headers; every member of a multi-member stream (pigz)
    return _limits.zlib_bounded(data, limit, 47)


def _imagecodecs(decode: BoundedDecode) -> Callable[[str, str], BoundedDecode]:
    def make(name: str, where: str) -> BoundedDecode:
        codec_module("imagecodecs", name, where)  # a missing module: say so now
        return decode

    return make


def _plain(decode: BoundedDecode) -> Callable[[str, str], BoundedDecode]:
    return lambda name, where: decode


def crc32c_check(value: Callable[[Any], int], data: Any) -> Any:
    """The body of `data` whose last 4 bytes are its crc32c (little endian), checked."""
    view = memoryview(data)
    if len(view) < 4:
        raise ValueError("too short for a crc32c checksum")
    body = view[:-4]
    stored = int.from_bytes(view[-4:], "little")
    actual = value(bytes(body))
    if stored != actual:
        raise ValueError(f"crc32c checksum mismatch (stored {stored:#010x}, computed {actual:#010x})")
    return body


def _crc32c(name: str, where: str) -> BoundedDecode:
    # google-crc32c: the implementation zarr-python itself depends on (hardware accelerated)
    crc32c = codec_module("google_crc32c", name, where)
    return lambda data, limit: crc32c_check(crc32c.value, data)


# canonical name -> (name, where) -> bounded decode
BYTES_CODECS: Mapping[str, Callable[[str, str], BoundedDecode]] = {
    "gzip": _plain(_gzip),  # zlib streams too (wbits 47)
    "bz2": _plain(_limits.bz2_bounded),
    "xz": _plain(_limits.lzma_bounded),
    "zstd": _imagecodecs(_limits.zstd_bounded),
    "blosc": _imagecodecs(_limits.blosc_bounded),
    "crc32c": _crc32c,
}


def bounded_decode(name: str, where: str) -> BoundedDecode | None:
    """The bounded decode function of codec `name`, None when the table has no such codec."""
    make = BYTES_CODECS.get(name)
    return None if make is None else make(name, where)


def bytes_decoder(name: str, where: str, limit: int) -> BytesDecoder | None:
    """`bounded_decode` with its limit bound (what a compiled codec chain calls)."""
    decode = bounded_decode(name, where)
    if decode is None:
        return None
    return lambda data: decode(data, limit)
