"""Dask arrays over remote levels: one task per chunk region, picklable storage settings.

The graph is a single `map_blocks` (Blockwise) layer, so it stays small for terabyte
volumes; each task carries a `_BlockReader`, which holds only the level's picklable
description and rebuilds the storage and reader in whatever process runs it.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .engine import get_reader, read_box
from .storage import run_sync

if TYPE_CHECKING:
    import dask.array

    from .model import LevelView

TARGET_BLOCK_BYTES = 32 << 20


def _axis_chunks(extent: int, origin: int, step: int) -> tuple[int, ...]:
    """Block sizes along one axis whose boundaries lie on the grid origin + k * step."""
    if extent <= 0:
        return (0,)
    cuts = {b for b in range(origin % step, extent, step) if 0 < b < extent}
    if 0 < origin < extent:
        cuts.add(origin)
    bounds = [0, *sorted(cuts), extent]
    return tuple(b - a for a, b in itertools.pairwise(bounds))


class _BlockReader:
    """Reads one block of a level in the contract's dims (picklable)."""

    def __init__(self, view: LevelView, dims_meta: tuple[int, ...]) -> None:
        self.view = view
        self.dims_meta = dims_meta

    def __call__(self, block_info: dict[Any, Any] | None = None) -> np.ndarray:
        assert block_info is not None
        location = block_info[None]["array-location"]
        return run_sync(self._read(location))

    async def _read(self, location: list[tuple[int, int]]) -> np.ndarray:
        view = self.view
        reader = await get_reader(view.handle)
        n_extra = len(view.extra_axes)
        extra = {a.name: location[i] for i, a in enumerate(view.extra_axes)}
        c_lo, c_hi = location[n_extra]
        xyz = location[n_extra + 1 :]
        start, stop = view.array_box(
            [lo for lo, _ in xyz], [hi for _, hi in xyz], (c_lo, c_hi), extra, len(reader.shape)
        )
        block = await read_box(reader, start, stop)
        return view.to_contract_dims(block)


def level_to_dask(view: LevelView, shape: tuple[int, ...]) -> dask.array.Array:
    import dask.array as da

    reader = run_sync(get_reader(view.handle))
    n_extra = len(view.extra_axes)
    axis_dim: list[int | None] = [a.index for a in view.extra_axes]
    axis_dim.append(None if view.channel_index is not None else view.axis_order.get("c"))
    axis_dim.extend(view.axis_order.get(a) for a in ("x", "y", "z"))
    # Storage chunks per contract axis; then grow spatial blocks towards TARGET_BLOCK_BYTES.
    base = [reader.chunk_shape[d] if d is not None else max(1, shape[i]) for i, d in enumerate(axis_dim)]
    base = [max(1, b) for b in base]
    mult = [1] * len(shape)
    itemsize = np.dtype(view.dtype).itemsize
    for i in reversed(range(n_extra + 1, len(shape))):
        while True:
            size = itemsize * math.prod(min(shape[j], base[j] * mult[j]) for j in range(len(shape)))
            if size * 2 > TARGET_BLOCK_BYTES or base[i] * mult[i] >= shape[i]:
                break
            mult[i] *= 2
    chunks = []
    for i, d in enumerate(axis_dim):
        origin = reader.grid_origin[d] if d is not None else 0
        step = base[i] * mult[i]
        chunks.append(_axis_chunks(shape[i], origin, step))
    fn = _BlockReader(view, tuple(shape))
    meta = np.empty((0,) * len(shape), dtype=view.dtype)
    from dask.base import tokenize

    token = tokenize(view.handle.key, sorted(view.axis_order.items()), view.channel_index, shape)
    return da.map_blocks(fn, dtype=view.dtype, chunks=tuple(chunks), meta=meta, name=f"wk-level-{token}")
