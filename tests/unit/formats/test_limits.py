"""Decoders stop at their output limit, for streams written by the real encoders."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib

import imagecodecs
import numpy as np
import pytest
from numcodecs import LZ4

from wk_widget.formats._shared import limits as _limits

ZEROS = bytes(1 << 20)


@pytest.mark.parametrize(
    ("decode", "data"),
    [
        (lambda d, n: _limits.zlib_bounded(d, n, 47), gzip.compress(ZEROS)),
        (lambda d, n: _limits.zlib_bounded(d, n, 47), zlib.compress(ZEROS)),
        (lambda d, n: _limits.zlib_bounded(d, n, 47), gzip.compress(ZEROS[:1000]) + gzip.compress(ZEROS)),
        (_limits.bz2_bounded, bz2.compress(ZEROS)),
        (_limits.lzma_bounded, lzma.compress(ZEROS)),
        (_limits.zstd_bounded, imagecodecs.zstd_encode(ZEROS)),
        (_limits.blosc_bounded, imagecodecs.blosc_encode(ZEROS)),
    ],
)
def test_decoders_stop_at_the_limit(decode, data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(_limits.DecodeLimit):
        decode(data, 4096)
    assert len(decode(data, len(ZEROS) + 2000)) >= len(ZEROS)


def test_lz4_size_header_is_checked() -> None:
    data = LZ4().encode(ZEROS)
    with pytest.raises(_limits.DecodeLimit):
        _limits.lz4_size_checked(data, 4096)
    _limits.lz4_size_checked(data, len(ZEROS))


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_image_headers_are_checked_before_decoding(kind: str) -> None:
    img = np.zeros((300, 200), np.uint8)
    data = imagecodecs.png_encode(img) if kind == "png" else imagecodecs.jpeg_encode(img)
    assert _limits.image_size(kind, data) == (200, 300, 1)
    with pytest.raises(_limits.DecodeLimit):
        _limits.check_image(kind, data, 200 * 299)
    _limits.check_image(kind, data, 200 * 300)


@pytest.mark.parametrize(("height", "width"), [(8, 8), (48, 64), (200, 300), (37, 1000), (256, 256), (5, 17), (3, 4096)])
def test_jpeg_xl_size_header_is_read(height: int, width: int) -> None:
    """Small and large SizeHeader forms and every aspect-ratio shortcut the encoder picks."""
    img = (np.arange(height * width) % 251).astype(np.uint8).reshape(height, width)
    data = imagecodecs.jpegxl_encode(img, lossless=True)
    assert _limits.jxl_size(data) == (width, height)
    with pytest.raises(_limits.DecodeLimit):
        _limits.check_image("jxl", data, width * height * 4 - 1)
    _limits.check_image("jxl", data, width * height * 4)


def test_compresso_header_larger_than_the_chunk_is_refused() -> None:
    import compresso

    from wk_widget.formats._shared.compresso import decode_compresso

    labels = np.zeros((64, 64, 16), dtype=np.uint32, order="F")
    labels[10:30, 5:50, :] = 7
    data = compresso.compress(labels)
    dtype = np.dtype("uint32")
    out = decode_compresso(compresso, data, (64, 64, 16, 1), dtype, (64, 64, 16, 1))
    assert np.array_equal(out[..., 0], labels)
    with pytest.raises(ValueError, match="larger than the chunk size"):
        decode_compresso(compresso, data, (32, 32, 16, 1), dtype, (32, 32, 16, 1))
