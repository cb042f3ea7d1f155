"""One level of a layer as the contract sees it, and the one way to read a box of it.

`LevelView` maps the contract's dims (extra..., c, x, y, z) onto a level's array dims;
`read_level` is the read path every reader of the package goes through (`Layer.read`, the
dask blocks, the widget's tiles): view -> array box -> `engine.read_box` -> contract dims.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .engine import ChunkCache, LevelHandle, PlaneSlabs, get_reader, read_box
from .formats.base import AdditionalAxis, LayerSpec, MagSpec, dtype_of_element_class
from .storage import RequestMeter, resolve_config

SPATIAL = ("x", "y", "z")


@dataclass(frozen=True)
class LevelView:
    """How the contract's dims (extra..., c, x, y, z) map onto one level's array dims."""

    handle: LevelHandle
    axis_order: Mapping[str, int]
    channel_index: int | None  # fixed channel of the array (NGFF channel layers)
    extra_axes: tuple[AdditionalAxis, ...]
    dtype: str

    def array_box(
        self,
        xyz_start: Sequence[int],
        xyz_stop: Sequence[int],
        channels: tuple[int, int] | None,
        extra: Mapping[str, tuple[int, int]],
        ndim: int,
    ) -> tuple[list[int], list[int]]:
        start = [0] * ndim
        stop = [1] * ndim
        for i, axis in enumerate(SPATIAL):
            if axis in self.axis_order:
                start[self.axis_order[axis]] = int(xyz_start[i])
                stop[self.axis_order[axis]] = int(xyz_stop[i])
        if "c" in self.axis_order:
            c = self.axis_order["c"]
            if self.channel_index is not None:
                start[c], stop[c] = self.channel_index, self.channel_index + 1
            elif channels is not None:
                start[c], stop[c] = channels
        for extra_axis in self.extra_axes:
            lo, hi = extra.get(extra_axis.name, (extra_axis.bounds[0], extra_axis.bounds[0] + 1))
            start[extra_axis.index], stop[extra_axis.index] = lo, hi
        return start, stop

    def to_contract_dims(self, block: np.ndarray) -> np.ndarray:
        """Reorder an array-dims block to (extra..., c, x, y, z), adding size-1 dims."""
        order: list[int | None] = [a.index for a in self.extra_axes]
        order.append(self.axis_order.get("c"))
        order.extend(self.axis_order.get(a) for a in SPATIAL)
        present = [i for i in order if i is not None]
        used = set(present)
        # Any array dim not named (should not happen) is dropped at its first index.
        rest = [d for d in range(block.ndim) if d not in used]
        if rest:
            block = block[tuple(slice(None) if d in used else slice(0, 1) for d in range(block.ndim))]
        moved = np.transpose(block, [*present, *rest])
        if rest:
            moved = moved.reshape(moved.shape[: len(present)])
        shape: list[int] = []
        it = iter(moved.shape)
        for i in order:
            shape.append(next(it) if i is not None else 1)
        return moved.reshape(shape)


def level_view(handle: LevelHandle, mag: MagSpec, layer: LayerSpec) -> LevelView:
    """The view of one mag (`mag`, read through `handle`) of the layer described by `layer`."""
    return LevelView(
        handle=handle,
        axis_order=dict(mag.axis_order),
        channel_index=mag.channel_index,
        extra_axes=tuple(layer.additional_axes),
        dtype=str(dtype_of_element_class(layer.element_class)),
    )


def contract_box(view: LevelView, location: Sequence[tuple[int, int]], ndim: int) -> tuple[list[int], list[int]]:
    """The array box (start, stop) of a box [lo, hi) per contract dim."""
    n_extra = len(view.extra_axes)
    extra = {a.name: location[i] for i, a in enumerate(view.extra_axes)}
    xyz = location[n_extra + 1 :]
    return view.array_box([lo for lo, _ in xyz], [hi for _, hi in xyz], location[n_extra], extra, ndim)


def contract_axis_dims(view: LevelView) -> list[int | None]:
    """For each contract dim (extra..., c, x, y, z): the array dim it maps to, if any."""
    dims: list[int | None] = [a.index for a in view.extra_axes]
    dims.append(None if view.channel_index is not None else view.axis_order.get("c"))
    dims.extend(view.axis_order.get(a) for a in SPATIAL)
    return dims


def resolved_handle(handle: LevelHandle) -> LevelHandle:
    """The handle with its credentials usable in this process (a reference resolved)."""
    config = resolve_config(handle.storage, handle.spec.path.url)
    return handle if config is handle.storage else replace(handle, storage=config)


@dataclass(frozen=True)
class PlaneRead:
    """A read one voxel thick along the spatial axis `normal` ("x", "y" or "z"), such as a
    viewer's tile, that keeps the 2-D slabs it needs in `slabs` (see `engine.PlaneSlabs`);
    `speculative` reads (prefetch) keep their decoded chunks out of the shared cache."""

    slabs: ChunkCache
    normal: str
    speculative: bool = False

    def for_view(self, view: LevelView) -> PlaneSlabs | None:
        axis = view.axis_order.get(self.normal)
        if axis is None:  # e.g. 2-D data without z: nothing to slice
            return None
        return PlaneSlabs(self.slabs, axis, keep_chunks=not self.speculative)


async def read_level(
    view: LevelView,
    location: Sequence[tuple[int, int]],
    meters: Sequence[RequestMeter] = (),
    plane: PlaneRead | None = None,
) -> np.ndarray:
    """The box [lo, hi) per contract dim (extra..., c, x, y, z) of the level, in those dims
    and the layer's dtype."""
    reader = await get_reader(resolved_handle(view.handle))
    start, stop = contract_box(view, location, len(reader.shape))
    planes = plane.for_view(view) if plane is not None else None
    if planes is not None and stop[planes.axis] - start[planes.axis] != 1:
        planes = None  # not one voxel thick: a plain read
    block = await read_box(reader, start, stop, meters, planes=planes)
    out = view.to_contract_dims(block)
    if out.dtype != view.dtype:  # e.g. a uint24 (3 x uint8) layer stored in wider N5 words
        out = out.astype(view.dtype)
    return out


__all__ = [
    "LevelView",
    "PlaneRead",
    "contract_axis_dims",
    "contract_box",
    "level_view",
    "read_level",
    "resolved_handle",
]
