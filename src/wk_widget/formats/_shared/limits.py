"""Limits on what remote metadata and chunks may make us allocate, in one place.

Every decompressor gets an output limit (the chunk's decoded size, or a bound on an
intermediate stage) and stops there instead of allocating what a hostile stream asks
for; image chunks are checked by their headers before decoding; array metadata is checked
for sane numbers of axes and channels and for chunk sizes before any read.
"""

from __future__ import annotations

import bz2
import lzma
import math
import struct
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from ...errors import LimitExceededError

MAX_AXES = 16
MAX_CHANNELS = 1024  # channels explored as layers (NGFF, precomputed num_channels)
MAX_CHUNK_BYTES = 1 << 30  # one decoded chunk (the cache budget is 1 GiB)
MAX_DIM = 1 << 53  # any shape entry (exact in float64, JSON numbers)


class DecodeLimit(ValueError):
    """A chunk decodes to more than its declared size (raised inside decoders; the
    reader turns it into a CorruptChunkError naming the chunk)."""


def bound(nbytes: int) -> int:
    """A chunk's worst-case encoded size, for intermediate stages and response caps."""
    return nbytes + nbytes // 8 + (64 << 10)


def _over(limit: int) -> DecodeLimit:
    return DecodeLimit(f"decodes to more than the {limit} bytes the metadata allows for")


def zlib_bounded(data: Any, limit: int, wbits: int = 15) -> bytes:
    """zlib/gzip (all members of a multi-member stream) decoded to at most `limit` bytes."""
    d = zlib.decompressobj(wbits)
    first = d.decompress(data, limit + 1)
    if d.unconsumed_tail or len(first) > limit:
        raise _over(limit)
    if d.eof and not d.unused_data.strip(b"\x00"):
        return first  # the common case: one member, no copy
    out = bytearray()
    buf = bytes(data)
    while buf:
        d = zlib.decompressobj(wbits)
        out += d.decompress(buf, limit + 1 - len(out))
        if d.unconsumed_tail or len(out) > limit:
            raise _over(limit)
        out += d.flush()
        if not d.eof:
            raise ValueError("truncated compressed stream")
        buf = d.unused_data
        if buf.strip(b"\x00") == b"":
            break
    if len(out) > limit:
        raise _over(limit)
    return bytes(out)


def _stream_bounded(make: Callable[[], Any], data: Any, limit: int) -> bytes:
    out = bytearray()
    buf = bytes(data)
    while buf:
        d = make()
        out += d.decompress(buf, max_length=limit + 1 - len(out))
        if len(out) > limit or not (d.eof or d.needs_input):
            raise _over(limit)
        if not d.eof:
            raise ValueError("truncated compressed stream")
        buf = d.unused_data
    return bytes(out)


def bz2_bounded(data: Any, limit: int) -> bytes:
    return _stream_bounded(bz2.BZ2Decompressor, data, limit)


def lzma_bounded(data: Any, limit: int) -> bytes:
    return _stream_bounded(lzma.LZMADecompressor, data, limit)


def zstd_bounded(data: Any, limit: int) -> Any:
    import imagecodecs

    if limit <= 0:
        return b""
    try:
        return imagecodecs.zstd_decode(data, out=limit)  # allocates `limit`, never what the frame says
    except imagecodecs.ZstdError as exc:
        if "too small" in str(exc):
            raise _over(limit) from None
        raise


def blosc_bounded(data: Any, limit: int) -> Any:
    import imagecodecs

    view = memoryview(data)
    if len(view) >= 16:
        # blosc1 header: uncompressed size at 4, compressed size (header included) at 12
        nbytes, cbytes = struct.unpack_from("<I", view, 4)[0], struct.unpack_from("<I", view, 12)[0]
        if nbytes > limit:
            raise _over(limit)
        if cbytes != len(view):  # a cut chunk would otherwise decode to garbage without an error
            raise ValueError(f"blosc stream is {len(view)} bytes, its header says {cbytes}")
    return imagecodecs.blosc_decode(data, numthreads=1)


def lz4_size_checked(data: Any, limit: int) -> None:
    """numcodecs' LZ4 stores the decoded size in its first 4 bytes (little endian)."""
    view = memoryview(data)
    if len(view) >= 4 and struct.unpack_from("<i", view, 0)[0] > limit:
        raise _over(limit)


class _Bits:
    """JPEG XL's bit reader: least significant bit of each byte first."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int) -> int:
        value = 0
        for i in range(n):
            byte = self.data[(self.pos + i) >> 3] if (self.pos + i) >> 3 < len(self.data) else 0
            value |= ((byte >> ((self.pos + i) & 7)) & 1) << i
        self.pos += n
        return value

    def u32(self) -> int:
        """SizeHeader's U32(1 + u(9), 1 + u(13), 1 + u(18), 1 + u(30))."""
        return 1 + self.read((9, 13, 18, 30)[self.read(2)])


_JXL_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}


def _jxl_codestream(b: bytes) -> bytes | None:
    """The codestream: bare (FF 0A) or inside the ISOBMFF container's jxlc / first jxlp box."""
    if b[:2] == b"\xff\x0a":
        return b
    if b[4:8] != b"JXL ":
        return None
    pos = 0
    while pos + 8 <= len(b):
        size, kind = struct.unpack(">I4s", b[pos : pos + 8])
        header = 8
        if size == 1 and pos + 16 <= len(b):
            size, header = struct.unpack(">Q", b[pos + 8 : pos + 16])[0], 16
        if kind == b"jxlc":
            return b[pos + header :]
        if kind == b"jxlp":
            return b[pos + header + 4 :]  # after the part's 4-byte index
        if size == 0:
            return None
        pos += size
    return None


def jxl_size(data: Any) -> tuple[int, int] | None:
    """(width, height) from a JPEG XL SizeHeader (the first fields after the signature)."""
    code = _jxl_codestream(bytes(memoryview(data)[: 1 << 16]))
    if code is None or code[:2] != b"\xff\x0a":
        return None
    bits = _Bits(code[2:])
    if bits.read(1):  # small: multiples of 8 up to 256
        height = (bits.read(5) + 1) * 8
        ratio = bits.read(3)
        width = (bits.read(5) + 1) * 8 if ratio == 0 else 0
    else:
        height = bits.u32()
        ratio = bits.read(3)
        width = bits.u32() if ratio == 0 else 0
    if ratio:
        num, den = _JXL_RATIOS[ratio]
        width = height * num // den
    return width, height


def image_size(kind: str, data: Any) -> tuple[int, int, int] | None:
    """(width, height, channels) from a PNG, JPEG or JPEG XL header, None when not found
    (JPEG XL's channel count is deep in its metadata: 4, the most a chunk may have, is assumed)."""
    if kind == "jxl":
        size = jxl_size(data)
        return None if size is None else (size[0], size[1], 4)
    b = bytes(memoryview(data)[: 1 << 16])
    if kind == "png":
        if len(b) < 26 or b[:8] != b"\x89PNG\r\n\x1a\n" or b[12:16] != b"IHDR":
            return None
        width, height, depth, color = struct.unpack(">IIBB", b[16:26])
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color, 4)
        return width, height, channels * max(1, depth // 8)
    pos = 2
    while pos + 4 <= len(b):  # JPEG: walk the markers to the first SOFn
        if b[pos] != 0xFF:
            return None
        marker = b[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", b[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and pos + 10 <= len(b):
            height, width = struct.unpack(">HH", b[pos + 5 : pos + 9])
            return width, height, b[pos + 9]
        pos += 2 + length
    return None


def check_image(kind: str, data: Any, limit: int) -> None:
    """The header's size within `limit`, and a JPEG complete: libjpeg fills a cut stream's
    missing rows without an error, so the end-of-image marker is required."""
    if kind == "jpeg" and not bytes(memoryview(data)[-16:]).rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise ValueError("jpeg stream has no end-of-image marker (cut short)")
    size = image_size(kind, data)
    if size is None:
        raise ValueError(f"no {kind} header found")
    if size[0] * size[1] * size[2] > limit:
        raise _over(limit)


def check_array(uri: str, shape: Sequence[int], chunk_shape: Sequence[int], itemsize: int, what: str = "chunk") -> None:
    """Sane numbers before anything is allocated: axes, shape entries, decoded chunk size."""
    if len(shape) > MAX_AXES:
        raise LimitExceededError(uri, f"{len(shape)} axes; at most {MAX_AXES} are supported")
    if any(int(s) > MAX_DIM for s in shape):
        raise LimitExceededError(uri, f"shape {tuple(shape)} is larger than any real dataset")
    nbytes = math.prod(int(c) for c in chunk_shape) * int(itemsize)
    if nbytes > MAX_CHUNK_BYTES:
        raise LimitExceededError(
            uri, f"{what} shape {tuple(chunk_shape)} decodes to {nbytes} bytes, more than {MAX_CHUNK_BYTES}"
        )


def check_channels(uri: str, count: int) -> None:
    if count > MAX_CHANNELS:
        raise LimitExceededError(uri, f"{count} channels; at most {MAX_CHANNELS} can be explored as layers")
