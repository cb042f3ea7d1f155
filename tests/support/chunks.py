"""Every chunk of an ArrayReader fetched at once and decoded into one array: what the
per-format unit tests compare with what the writers wrote (the conformance suite in
`wk_widget.testing` checks chunk by chunk instead)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from wk_widget.storage import RequestMeter, run_sync
from wk_widget.testing.readers import grid

__all__ = ["Chunks", "grid", "read_chunks"]


@dataclass(frozen=True)
class Chunks:
    array: np.ndarray  # [grid_origin, shape); chunks not stored read as the fill value
    coords: list[tuple[int, ...]]  # the whole grid, in fetch order
    raw: list[bytes | None]  # what `fetch` returned for each, None where not stored

    @property
    def missing(self) -> int:
        return sum(data is None for data in self.raw)


def read_chunks(reader: Any, meters: tuple[RequestMeter, ...] = ()) -> Chunks:
    coords = grid(reader)
    raw = run_sync(reader.fetch(coords, meters))
    shape = [s - o for s, o in zip(reader.shape, reader.grid_origin, strict=True)]
    out = np.full(shape, reader.fill_value, dtype=reader.dtype)
    for coord, data in zip(coords, raw, strict=True):
        if data is None:
            continue
        arr = reader.decode(coord, data)
        assert arr.shape == reader.chunk_extent(coord), coord
        assert arr.dtype == reader.dtype and arr.dtype.isnative, coord
        out[tuple(slice(c * k, c * k + e) for c, k, e in zip(coord, reader.chunk_shape, arr.shape, strict=True))] = arr
    return Chunks(out, coords, raw)
