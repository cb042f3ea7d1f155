"""Dask arrays over remote levels whose cost does not grow with the number of chunks.

`level_to_dask` wraps a `LevelArray` (a lazily indexed, picklable array object) with
`da.from_array`: dask describes its blocks with one Blockwise layer (no per-block Python
object), and its slice optimisation fuses `x[a:b]` into the block's getter, so computing a
small region of a huge block reads only that region's chunks. A `LevelArray` holds the
level's description; its credentials pickle as references (`storage.credential_refs`) and
its meters stay in the process that made it.
"""

from __future__ import annotations

import itertools
import math
import threading
import uuid
import weakref
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .engine import get_reader
from .formats.base import ArrayReader
from .levels import LevelView, contract_axis_dims, read_level, resolved_handle
from .storage import RequestMeter, run_sync

if TYPE_CHECKING:
    import dask.array

TARGET_BLOCK_BYTES = 32 << 20
MAX_BLOCKS = 1_000_000  # per array by default: dask's own bookkeeping stays small

ChunksArg = str | int | Sequence[int | None] | None

_meters: dict[str, tuple[RequestMeter, ...]] = {}
_meters_lock = threading.Lock()


def meters_for(key: str) -> tuple[RequestMeter, ...]:
    """The meters of `key` in this process: the layer's and dataset's where the array was
    made, a meter of its own elsewhere (read it on workers with `client.run`)."""
    with _meters_lock:
        found = _meters.get(key)
        if found is None:
            found = _meters[key] = (RequestMeter(),)
        return found


def _axis_chunks(extent: int, origin: int, step: int) -> tuple[int, ...]:
    """Block sizes along one axis whose boundaries lie on the grid origin + k * step."""
    if extent <= 0:
        return (0,)
    step = max(1, step)
    first = origin % step
    if first == 0:
        first = step
    if first >= extent:
        return (extent,)
    n_full = (extent - first) // step
    last = extent - first - n_full * step
    return (first, *(step,) * n_full, *((last,) if last else ()))


def storage_unit(reader: ArrayReader) -> tuple[int, ...]:
    """The unit a request reads naturally: the shard of a sharded Zarr array, else the chunk."""
    meta = getattr(reader, "meta", None)
    if getattr(meta, "sharding", None) is not None:
        return tuple(int(v) for v in meta.chunk_shape)  # type: ignore[union-attr]
    return tuple(reader.chunk_shape)


class LevelArray:
    """A window of a level in the contract's dims (extra..., c, x, y, z), read lazily by
    `__getitem__`; `origin` is the window's start in the level, `blocks` its dask chunks.

    Picklable without secrets: the level handle's credentials pickle as a reference, the
    meters are named by `meter_key`.
    """

    def __init__(
        self,
        view: LevelView,
        shape: tuple[int, ...],
        meter_key: str,
        origin: tuple[int, ...] | None = None,
        blocks: tuple[tuple[int, ...], ...] = (),
    ) -> None:
        self.view = view
        self.shape = tuple(shape)
        self.dtype = np.dtype(view.dtype)
        self.ndim = len(shape)
        self.meter_key = meter_key
        self.origin = origin if origin is not None else (0,) * len(shape)
        self.blocks = blocks

    def __repr__(self) -> str:
        return f"LevelArray({self.view.handle.spec.path.url!r}, origin={self.origin}, shape={self.shape}, dtype={self.dtype})"

    def block_boxes(self) -> Iterator[list[tuple[int, int]]]:
        """The level box [lo, hi) per dim that each dask block of this window reads."""
        edges = [list(itertools.accumulate(b, initial=o)) for b, o in zip(self.blocks, self.origin, strict=True)]
        for idx in itertools.product(*(range(len(b)) for b in self.blocks)):
            yield [(e[i], e[i + 1]) for e, i in zip(edges, idx, strict=True)]

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        bounds: list[tuple[int, int]] = []
        local: list[Any] = []
        for k, n, o in zip(key, self.shape, self.origin, strict=True):
            if isinstance(k, slice):
                r = range(*k.indices(n))
                if len(r) == 0:
                    bounds.append((o, o))
                    local.append(slice(None))
                    continue
                lo, hi = min(r[0], r[-1]), max(r[0], r[-1]) + 1
                bounds.append((o + lo, o + hi))
                local.append(slice(None) if r.step == 1 else np.arange(r.start, r.stop, r.step) - lo)
            else:
                i = int(k) + (n if int(k) < 0 else 0)
                if not 0 <= i < n:
                    raise IndexError(f"index {k} out of range for an axis of {n}")
                bounds.append((o + i, o + i + 1))
                local.append(0)
        block = run_sync(read_level(self.view, bounds, meters_for(self.meter_key)))
        # Apply steps and integer picks one axis at a time (numpy would pair index arrays).
        for axis in reversed(range(self.ndim)):
            pick = local[axis]
            if isinstance(pick, slice) and pick == slice(None):
                continue
            block = block[(slice(None),) * axis + (pick,)]
        return block


def _basic_window(key: Any, shape: tuple[int, ...]) -> tuple[list[tuple[int, int]], list[int | None]] | None:
    """For a key of slices (step 1) and ints: the window [lo, hi) per dim and the int picks;
    None for anything else (steps, arrays, new axes), which dask handles itself."""
    if not isinstance(key, tuple):
        key = (key,)
    if sum(k is Ellipsis for k in key) > 1:
        return None
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (len(shape) - len(key) + 1) + key[i + 1 :]
    if len(key) > len(shape):
        return None
    key = key + (slice(None),) * (len(shape) - len(key))
    window: list[tuple[int, int]] = []
    picks: list[int | None] = []
    for k, n in zip(key, shape, strict=True):
        if isinstance(k, slice):
            lo, hi, step = k.indices(n)
            if step != 1:
                return None
            window.append((lo, max(lo, hi)))
            picks.append(None)
        elif isinstance(k, int | np.integer) and not isinstance(k, bool):
            i = int(k) + (n if int(k) < 0 else 0)
            if not 0 <= i < n:
                return None  # dask raises its own IndexError
            window.append((i, i + 1))
            picks.append(0)
        else:
            return None
    return window, picks


def _clip_blocks(blocks: tuple[int, ...], lo: int, hi: int) -> tuple[int, ...]:
    """The blocks of [lo, hi) cut on the boundaries of `blocks` (so storage alignment holds)."""
    if hi <= lo:
        return (0,)
    out: list[int] = []
    edge = 0
    for b in blocks:
        a, z = max(edge, lo), min(edge + b, hi)
        if z > a:
            out.append(z - a)
        edge += b
        if edge >= hi:
            break
    return tuple(out)


def _array_class() -> type:
    import dask.array as da

    global _WK_ARRAY
    if _WK_ARRAY is None:

        class WkArray(da.Array):
            """A dask array over a level window whose basic slicing narrows the window: a
            small region of a huge array reads only its own chunks, in O(1) graph size."""

            __slots__ = ()

            def __getitem__(self, key: Any) -> Any:
                source = self._wk_source()
                found = _basic_window(key, self.shape) if source is not None else None
                if source is None or found is None:
                    return super().__getitem__(key)
                window, picks = found
                origin = tuple(o + lo for o, (lo, _) in zip(source.origin, window, strict=True))
                shape = tuple(hi - lo for lo, hi in window)
                blocks = tuple(_clip_blocks(b, lo, hi) for b, (lo, hi) in zip(self.chunks, window, strict=True))
                narrowed = _wrap(LevelArray(source.view, shape, source.meter_key, origin, blocks))
                if any(p is not None for p in picks):
                    return da.Array.__getitem__(narrowed, tuple(slice(None) if p is None else p for p in picks))
                return narrowed

            def _wk_source(self) -> LevelArray | None:
                return _SOURCES.get(self.name)

        _WK_ARRAY = WkArray
    return _WK_ARRAY


_WK_ARRAY: type | None = None
# dask name -> its window; weak: the graph holds the window as long as the array lives
_SOURCES: weakref.WeakValueDictionary[str, LevelArray] = weakref.WeakValueDictionary()


def _wrap(array: LevelArray) -> dask.array.Array:
    import dask.array as da
    from dask.base import tokenize

    view = array.view
    token = tokenize(
        view.handle.spec.path.url, view.handle.data_format, sorted(view.axis_order.items()),
        view.channel_index, array.origin, array.shape, array.blocks, array.meter_key,
    )
    name = f"wk-level-{token}"
    plain = da.from_array(
        array,
        chunks=array.blocks,
        name=name,
        asarray=False,
        fancy=False,
        inline_array=True,
        meta=np.empty((0,) * array.ndim, dtype=array.dtype),
    )
    _SOURCES[name] = array
    cls = _array_class()
    return cast("dask.array.Array", cls(plain.dask, plain.name, plain.chunks, meta=plain._meta))


def default_block_shape(reader: ArrayReader, view: LevelView, shape: tuple[int, ...]) -> list[int]:
    """Storage-aligned blocks near TARGET_BLOCK_BYTES, grown until at most MAX_BLOCKS."""
    n_extra = len(view.extra_axes)
    dims = contract_axis_dims(view)
    unit = storage_unit(reader)
    base = [max(1, unit[d] if d is not None else shape[i]) for i, d in enumerate(dims)]
    for i in range(n_extra):  # extra axes (time, ...) one index per block
        base[i] = 1 if dims[i] is not None else base[i]
    itemsize = np.dtype(view.dtype).itemsize
    block = list(base)
    spatial = range(n_extra + 1, len(shape))

    def nbytes() -> int:
        return itemsize * math.prod(min(shape[j], block[j]) for j in range(len(shape)))

    for i in reversed(spatial):
        while nbytes() * 2 <= TARGET_BLOCK_BYTES and block[i] < shape[i]:
            block[i] *= 2

    def n_blocks() -> int:
        return math.prod(max(1, math.ceil(shape[j] / block[j])) for j in range(len(shape)))

    while n_blocks() > MAX_BLOCKS:
        growable = [i for i in spatial if block[i] < shape[i]] or [i for i in range(len(shape)) if block[i] < shape[i]]
        if not growable:
            break
        axis = max(growable, key=lambda j: math.ceil(shape[j] / block[j]))
        block[axis] *= 2
    return block


def block_chunks(
    reader: ArrayReader, view: LevelView, shape: tuple[int, ...], chunks: ChunksArg = None
) -> tuple[tuple[int, ...], ...]:
    """Dask chunks of the contract dims, aligned on the storage grid.

    `chunks`: None (default policy), "storage" (one block per chunk, or shard when sharded),
    an int (that block size on every spatial axis), or one entry per dim (an int, or -1 /
    None for the whole axis)."""
    dims = contract_axis_dims(view)
    ndim = len(shape)
    if chunks is None:
        block = default_block_shape(reader, view, shape)
    elif chunks == "storage":
        unit = storage_unit(reader)
        block = [unit[d] if d is not None else shape[i] for i, d in enumerate(dims)]
    elif isinstance(chunks, int):
        block = [chunks if i >= ndim - 3 else (shape[i] if dims[i] is None else 1) for i in range(ndim)]
    elif isinstance(chunks, Sequence) and not isinstance(chunks, str) and len(chunks) == ndim:
        block = [shape[i] if (c is None or c == -1) else int(c) for i, c in enumerate(chunks)]
    else:
        raise ValueError(f"chunks must be None, 'storage', an int or {ndim} entries (dims {ndim}), got {chunks!r}")
    if any(b < 1 for b in block):
        raise ValueError(f"block sizes must be positive, got {block}")
    out = []
    for i, d in enumerate(dims):
        origin = reader.grid_origin[d] if d is not None else 0
        out.append(_axis_chunks(shape[i], origin, block[i]))
    return tuple(out)


def level_to_dask(
    view: LevelView,
    shape: tuple[int, ...],
    meters: Sequence[RequestMeter] = (),
    chunks: ChunksArg = None,
) -> dask.array.Array:
    reader = run_sync(get_reader(resolved_handle(view.handle)))
    blocks = block_chunks(reader, view, shape, chunks)
    meter_key = uuid.uuid4().hex
    with _meters_lock:  # its own meter first (`wk.measured`), then the layer's and dataset's
        _meters[meter_key] = (RequestMeter(), *meters)
    return _wrap(LevelArray(view, tuple(shape), meter_key, None, blocks))


def level_arrays_of(arr: Any) -> list[LevelArray]:
    """The level windows a dask array reads (those made by `level_to_dask` and its slices)."""
    found = _SOURCES.get(getattr(arr, "name", ""))
    if found is not None:
        return [found]
    out: list[LevelArray] = []
    for layer in arr.__dask_graph__().layers.values():
        for value, _ in getattr(layer, "indices", None) or ():
            if isinstance(value, LevelArray) and all(value is not o for o in out):
                out.append(value)
    return out


__all__ = ["LevelArray", "block_chunks", "level_arrays_of", "level_to_dask", "meters_for"]
