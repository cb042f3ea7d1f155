"""Neuroglancer precomputed `compresso` chunks (cloud-volume / igneous write them for
segmentations): decoded with the `compresso` package, the reference implementation."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

_MAGIC = b"cpso"


def decode_compresso(
    module: ModuleType, data: bytes, extent: tuple[int, ...], dtype: np.dtype[Any], full: tuple[int, ...]
) -> np.ndarray:
    """One chunk -> array (x, y, z, 1) cropped to `extent`; the stream carries its own shape
    (writers may store edge chunks at the full chunk size `full`, never larger: a header that
    declares more is refused before the decoder allocates it)."""
    if bytes(data[:4]) != _MAGIC:
        raise ValueError("not a compresso stream (no 'cpso' magic)")
    header = module.header(data)
    shape = (int(header["sx"]), int(header["sy"]), int(header["sz"]))
    if any(s < e for s, e in zip(shape, extent[:3], strict=True)):
        raise ValueError(f"compresso chunk is {list(shape)}, smaller than {list(extent[:3])}")
    if any(s > f for s, f in zip(shape, full[:3], strict=True)):
        raise ValueError(f"compresso chunk declares {list(shape)}, larger than the chunk size {list(full[:3])}")
    arr = np.asarray(module.decompress(data)).reshape(shape, order="F")
    arr = arr[: extent[0], : extent[1], : extent[2], None]
    return arr.astype(dtype, copy=False)
