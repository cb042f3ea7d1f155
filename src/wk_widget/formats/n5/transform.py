"""COSEM `transform` attributes of N5 datasets (scale, translate, axes) and the axis order they imply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import (
    MalformedMetadataError,
)
from ..base import (
    AdditionalAxis,
)
from .metadata import DEFAULT_UNIT, _unit_of


@dataclass
class _Transform:
    axes: list[str]  # reader (C) order
    scale: list[float]
    units: list[str]
    translate: list[float]

    def index(self, axis: str) -> int | None:
        return self.axes.index(axis) if axis in self.axes else None

    def xyz(self) -> tuple[list[float], list[str]]:
        values, units = [], []
        for a in ("x", "y", "z"):
            i = self.index(a)
            values.append(self.scale[i] if i is not None else 1.0)
            units.append(self.units[i] if i is not None else self.units[0])
        return values, units


def _parse_transform(doc: Any, where: str, what: str) -> _Transform:
    if not isinstance(doc, dict):
        raise MalformedMetadataError(where, f"{what}: transform must be a JSON object")
    axes = doc.get("axes")
    scale = doc.get("scale")
    if not isinstance(axes, list) or not all(isinstance(a, str) for a in axes):
        raise MalformedMetadataError(
            where, f"{what}: transform axes must be a list of names, not {axes!r}"
        )
    n = len(axes)
    if (
        not isinstance(scale, list)
        or len(scale) != n
        or not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in scale)
    ):
        raise MalformedMetadataError(
            where, f"{what}: transform scale must be {n} positive numbers, not {scale!r}"
        )
    translate = doc.get("translate", [0.0] * n)
    if (
        not isinstance(translate, list)
        or len(translate) != n
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in translate)
    ):
        raise MalformedMetadataError(
            where, f"{what}: transform translate must be {n} numbers, not {translate!r}"
        )
    units_raw = doc.get("units")
    if units_raw is None:
        units = [DEFAULT_UNIT] * n
    elif isinstance(units_raw, list) and len(units_raw) == n:
        units = [_unit_of(u, where) for u in units_raw]
    else:
        raise MalformedMetadataError(
            where, f"{what}: transform units must be {n} strings, not {units_raw!r}"
        )
    names = [a.strip().lower() for a in axes]
    t = _Transform(names, [float(v) for v in scale], units, [float(v) for v in translate])
    if str(doc.get("ordering", "C")).upper() == "F":  # listed in N5 (F) order: reverse
        t = _Transform(t.axes[::-1], t.scale[::-1], t.units[::-1], t.translate[::-1])
    if "x" not in t.axes or "y" not in t.axes:
        raise MalformedMetadataError(where, f"{what}: transform axes {axes!r} name no x and y axes")
    return t


def _items_datasets(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for item in items for d in item.get("datasets", []) if isinstance(d, dict)]


def _cosem_axis_order(
    t: _Transform, shape: Sequence[int]
) -> tuple[dict[str, int], list[AdditionalAxis]]:
    order: dict[str, int] = {}
    additional: list[AdditionalAxis] = []
    for dim, name in enumerate(t.axes):
        if name in ("x", "y", "z") and name not in order:
            order[name] = dim
        elif name in ("c", "channel", "channels") and "c" not in order:
            order["c"] = dim
        else:
            additional.append(AdditionalAxis(name or f"dim{dim}", (0, int(shape[dim])), dim))
    return order, additional
