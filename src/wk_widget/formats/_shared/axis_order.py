"""`axisOrder` in datasource-properties.json, per data format, as WEBKNOSSOS and
webknossos-libs read it - one rule object for export and import, declared by each format
in its `Format.axis_order` (look one up with `formats.axis_order(data_format)`).

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


def implied_rank(order: Mapping[str, int], extra_indices: Iterable[int] = ()) -> int:
    """The rank a datasource entry implies when the array is not at hand (what N5's
    counting needs): every dimension is x, y, z, c or an additional axis."""
    return max([*order.values(), *extra_indices]) + 1


def flip(order: Mapping[str, int], rank: int) -> dict[str, int]:
    """N5 dimension positions <-> reader dimensions (an involution)."""
    return {k: rank - 1 - v for k, v in order.items()}


class PlainAxisOrder:
    """Zarr / zarr3: the datasource counts positions in the array's shape, as our readers do."""

    rank_dependent = False

    def default(self, rank: int) -> dict[str, int]:
        order = {"x": rank - 3, "y": rank - 2, "z": rank - 1}
        if rank >= 4:
            order["c"] = rank - 4
        return order

    def to_datasource(self, order: Mapping[str, int], rank: int) -> dict[str, int] | None:
        return dict(order)

    def axis_index_to_datasource(self, index: int, rank: int) -> int:
        return index

    def from_datasource(self, given: Mapping[str, int] | None, rank: int) -> dict[str, int]:
        return dict(given) if given is not None else self.default(rank)


class N5AxisOrder:
    """N5: the datasource counts positions in N5's `dimensions` (x first); our reader
    presents them reversed, so both directions `flip`."""

    rank_dependent = True

    def default(self, rank: int) -> dict[str, int]:
        return flip(as_cxyz_from_rank(rank), rank)

    def to_datasource(self, order: Mapping[str, int], rank: int) -> dict[str, int] | None:
        return flip(order, rank)

    def axis_index_to_datasource(self, index: int, rank: int) -> int:
        return rank - 1 - index

    def from_datasource(self, given: Mapping[str, int] | None, rank: int) -> dict[str, int]:
        return flip(given if given is not None else as_cxyz_from_rank(rank), rank)


class FixedAxisOrder:
    """A format whose reader order is fixed by definition (precomputed: x, y, z, c): the
    datasource names no axisOrder."""

    rank_dependent = False

    def __init__(self, order: Mapping[str, int]) -> None:
        self.order = dict(order)

    def default(self, rank: int) -> dict[str, int]:
        return dict(self.order)

    def to_datasource(self, order: Mapping[str, int], rank: int) -> dict[str, int] | None:
        return None

    def axis_index_to_datasource(self, index: int, rank: int) -> int:
        return index

    def from_datasource(self, given: Mapping[str, int] | None, rank: int) -> dict[str, int]:
        return dict(self.order)


PLAIN = PlainAxisOrder()
N5 = N5AxisOrder()
PRECOMPUTED = FixedAxisOrder(PRECOMPUTED_ORDER)
