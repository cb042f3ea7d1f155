"""`axisOrder` in datasource-properties.json, per data format, as WEBKNOSSOS and
webknossos-libs read it - one rule for export and import.

Our readers count dimensions in their own array order: Zarr as stored (C order), N5
reversed (the reader presents N5's x-first `dimensions` as a C-order array), precomputed
fixed (x, y, z, c). In the datasource:
- zarr / zarr3: positions in the array's shape (C order), as our readers count them.
- n5: positions in N5's `dimensions`, x first (3D: {"x": 0, "y": 1, "z": 2}); the same for
  `additionalAxes[].index`. Without one, WEBKNOSSOS assumes `AxisOrder.asCxyzFromRank`.
- neuroglancerPrecomputed: no axisOrder (webknossos-libs 4.3 asserts on {"c": 3}; the
  data is x, y, z, c by definition).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

PRECOMPUTED_ORDER: dict[str, int] = {"x": 0, "y": 1, "z": 2, "c": 3}


def as_cxyz_from_rank(rank: int) -> dict[str, int]:
    """WEBKNOSSOS's default axis order of a rank-`rank` array: (c,) x, y, z last."""
    if rank == 2:
        return {"x": 0, "y": 1}
    if rank == 3:
        return {"x": 0, "y": 1, "z": 2}
    return {"c": rank - 4, "x": rank - 3, "y": rank - 2, "z": rank - 1}


def n5_rank(order: Mapping[str, int], extra_indices: Iterable[int] = ()) -> int:
    """The rank an N5 datasource entry implies when the array is not at hand: every
    dimension is x, y, z, c or an additional axis."""
    return max([*order.values(), *extra_indices]) + 1


def flip(order: Mapping[str, int], rank: int) -> dict[str, int]:
    """N5 dimension positions <-> reader dimensions (an involution)."""
    return {k: rank - 1 - v for k, v in order.items()}


def export_axis_order(data_format: str, order: Mapping[str, int], rank: int) -> dict[str, int] | None:
    """The datasource `axisOrder` of a mag whose reader axis order is `order`."""
    if data_format == "neuroglancerPrecomputed":
        return None
    if data_format == "n5":
        return flip(order, rank)
    return dict(order)


def export_axis_index(data_format: str, index: int, rank: int) -> int:
    """The datasource `additionalAxes[].index` of reader dimension `index`."""
    return rank - 1 - index if data_format == "n5" else index


def import_n5_axis_order(given: Mapping[str, int] | None, rank: int) -> dict[str, int]:
    """Reader axis order of an N5 mag from its datasource `axisOrder` (or the default)."""
    return flip(given if given is not None else as_cxyz_from_rank(rank), rank)
