"""Segment-id tiles as a palette: the tile's distinct ids plus a small index per pixel.

A 256 x 256 uint32 tile of a segmentation holds a few dozen ids; sending each pixel's
index (one byte, two above 256 ids) instead of its 4 or 8 id bytes makes the browser
inflate 4-8x less and colour one entry per id instead of every pixel.

Payload (``"png-palette"``): uint32 LE count n, the n ids as little-endian values of the
tile's dtype, then an 8-bit gray PNG of the index's byte planes (``h * k`` rows of ``w``,
k = 1 for n <= 256, else 2), unfiltered like the id planes of ``render.encode_value_tile``.
"""

from __future__ import annotations

from typing import Any

import imagecodecs
import numpy as np

PALETTE_MAX_IDS = 65536
_PNG_FILTER_NONE = 8  # libpng's filter flag


def encode_palette_tile(img: np.ndarray) -> bytes | None:
    """The palette payload of a 2-D id tile, or None when it would not pay: ids of 1 byte,
    or so many distinct ids (noise, above a quarter of the pixels) that the table alone
    outweighs the saving."""
    if img.ndim != 2 or img.dtype.itemsize < 2:
        return None
    ids, index = _palette(img.reshape(-1))
    n = int(ids.size)
    if n > 256 and (n > min(PALETTE_MAX_IDS, img.size // 4) or img.dtype.itemsize < 4):
        return None
    h, w = img.shape
    if n <= 256:
        planes = index.astype(np.uint8).reshape(h, w)
    else:
        le = index.astype("<u2").reshape(h, w)
        planes = np.ascontiguousarray(le.view(np.uint8).reshape(h, w, 2).transpose(2, 0, 1)).reshape(2 * h, w)
    png = bytes(imagecodecs.png_encode(planes, level=1, strategy=3, filter=_PNG_FILTER_NONE))
    table = np.ascontiguousarray(ids, dtype=ids.dtype.newbyteorder("<")).tobytes()
    return np.uint32(n).astype("<u4").tobytes() + table + png


def _palette(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(flat, return_inverse=True)`, through the runs of equal ids: a segmentation
    tile has a few hundred runs, so sorting those instead of every pixel is ~5x cheaper
    (0.65 instead of 3.4 ms for 256 x 256 uint32)."""
    starts = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    if starts.size > flat.size // 8:  # noise: runs do not pay
        return np.unique(flat, return_inverse=True)
    starts = np.concatenate(([0], starts))
    ids, run_index = np.unique(flat[starts], return_inverse=True)
    lengths = np.diff(np.append(starts, flat.size))
    return ids, np.repeat(run_index, lengths)


def decode_palette_tile(data: bytes, dtype: Any, h: int, w: int) -> np.ndarray:
    """The inverse of `encode_palette_tile` (the browser has its own in js/src/png.ts)."""
    dt = np.dtype(dtype).newbyteorder("<")
    if len(data) < 4:
        raise ValueError("palette tile too short")
    n = int(np.frombuffer(data[:4], dtype="<u4")[0])
    end = 4 + n * dt.itemsize
    if n < 1 or n > PALETTE_MAX_IDS or len(data) < end:
        raise ValueError(f"bad palette of {n} ids")
    ids = np.frombuffer(data[4:end], dtype=dt)
    k = 1 if n <= 256 else 2
    planes = np.asarray(imagecodecs.png_decode(data[end:]), dtype=np.uint8)
    if planes.shape != (k * h, w):
        raise ValueError(f"unexpected PNG shape {planes.shape} for a {h}x{w} palette index")
    index = planes.astype(np.intp) if k == 1 else planes[:h].astype(np.intp) | (planes[h:].astype(np.intp) << 8)
    if index.max(initial=0) >= n:
        raise ValueError("palette index out of range")
    return ids[index].reshape(h, w)
