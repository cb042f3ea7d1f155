"""`axisOrder` in the datasource by data format, for callers not yet asking the registry.

TODO(issue 12, B5): delete once model/dataset uses `formats.axis_order(df)` directly.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import axis_order
from ._shared.axis_order import (
    PRECOMPUTED_ORDER,
    as_cxyz_from_rank,
    flip,
    import_n5_axis_order,
    n5_rank,
)


def export_axis_order(data_format: str, order: Mapping[str, int], rank: int) -> dict[str, int] | None:
    """The datasource `axisOrder` of a mag whose reader axis order is `order`."""
    return axis_order(data_format).to_datasource(order, rank)


def export_axis_index(data_format: str, index: int, rank: int) -> int:
    """The datasource `additionalAxes[].index` of reader dimension `index`."""
    return axis_order(data_format).axis_index_to_datasource(index, rank)


__all__ = [
    "PRECOMPUTED_ORDER",
    "as_cxyz_from_rank",
    "export_axis_index",
    "export_axis_order",
    "flip",
    "import_n5_axis_order",
    "n5_rank",
]
