"""NGFF axes: parsing, the roles of x/y/z/c, space units and composed coordinate transformations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import MalformedMetadataError, RemoteDatasetError, UnsupportedDataError
from ...units import NANOMETERS_PER_UNIT, normalize_unit

DEFAULT_UNIT = "nanometer"


_DEFAULT_AXES = ("t", "c", "z", "y", "x")  # NGFF <= 0.2 had no axes: always tczyx (the last ndim)


@dataclass(frozen=True)
class _Axis:
    name: str
    type: str | None
    unit: str | None


def _parse_axes(raw: Any, ndim: int, where: str) -> list[_Axis]:
    if raw is None:
        if ndim > len(_DEFAULT_AXES):
            raise MalformedMetadataError(where, f"multiscales has no axes and the arrays have {ndim} dimensions")
        raw = list(_DEFAULT_AXES[len(_DEFAULT_AXES) - ndim :])
    if not isinstance(raw, list) or not raw:
        raise MalformedMetadataError(where, f"multiscales axes must be a non-empty list, got {raw!r}")
    axes: list[_Axis] = []
    for item in raw:
        if isinstance(item, str):  # NGFF 0.3: axis names only
            name = item
            kind: str | None = None
            unit: str | None = None
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            name = item["name"]
            kind = item.get("type") if isinstance(item.get("type"), str) else None
            unit = item.get("unit") if isinstance(item.get("unit"), str) else None
        else:
            raise MalformedMetadataError(where, f"invalid axis {item!r}: axes need a name")
        if kind is None:
            lower = name.lower()
            kind = "space" if lower in ("x", "y", "z") else "channel" if lower == "c" else "time" if lower == "t" else None
        axes.append(_Axis(name, kind, unit))
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        raise MalformedMetadataError(where, f"axis names are not unique: {names}")
    return axes


def _axis_roles(axes: Sequence[_Axis], where: str) -> tuple[dict[str, int], list[int]]:
    """({"x", "y", "z"?, "c"?} -> dimension, the other dimensions)."""
    order: dict[str, int] = {}
    others: list[int] = []
    for dim, axis in enumerate(axes):
        lower = axis.name.lower()
        if axis.type == "space" and lower in ("x", "y", "z") and lower not in order:
            order[lower] = dim
        elif axis.type == "channel" and "c" not in order:
            order["c"] = dim
        else:
            others.append(dim)
    if "x" not in order or "y" not in order:
        raise MalformedMetadataError(
            where, f"the axes {[a.name for a in axes]} have no x and y space axes; x and y are required"
        )
    return order, others


def _space_units(axes: Sequence[_Axis], order: dict[str, int], default_unit: str, where: str) -> tuple[str, list[float]]:
    """(common unit, per x/y/z factor from the axis unit to the common unit); the common unit
    is the smallest of the space axes' units (as WEBKNOSSOS does)."""
    units: list[str] = []
    for key in ("x", "y", "z"):
        if key not in order:
            continue
        axis = axes[order[key]]
        if axis.unit is None or not axis.unit.strip():
            units.append(default_unit)
            continue
        unit = normalize_unit(axis.unit)
        if unit is None:
            raise UnsupportedDataError(where, f"axis {axis.name!r} has unit {axis.unit!r}, which is not a known length unit")
        units.append(unit)
    common = min(units, key=lambda u: NANOMETERS_PER_UNIT[u])
    factors = [NANOMETERS_PER_UNIT[u] / NANOMETERS_PER_UNIT[common] for u in units]
    if len(factors) == 2:
        factors.append(1.0)
    return common, factors


def image_unit(ome: dict[str, Any], default_unit: str = DEFAULT_UNIT) -> str:
    """The common space unit of an image's first multiscale (labels inherit it)."""
    try:
        ms = ome["multiscales"][0]
        raw_axes = ms.get("axes")
        ndim = len(raw_axes) if isinstance(raw_axes, list) else 3
        axes = _parse_axes(raw_axes, ndim, "")
        order, _ = _axis_roles(axes, "")
        return _space_units(axes, order, default_unit, "")[0]
    except (RemoteDatasetError, LookupError, TypeError, AttributeError):
        return default_unit


def _compose(
    transforms: Any, ndim: int, scale: list[float], translation: list[float], where: str
) -> bool:
    """Apply a coordinateTransformations list after (scale, translation); True if it had a scale."""
    if transforms is None:
        return False
    if not isinstance(transforms, list):
        raise MalformedMetadataError(where, f"coordinateTransformations must be a list, got {transforms!r}")
    had_scale = False
    for t in transforms:
        if not isinstance(t, dict):
            raise MalformedMetadataError(where, f"invalid coordinate transformation {t!r}")
        kind = t.get("type")
        if kind == "identity":
            continue
        if kind not in ("scale", "translation"):
            raise UnsupportedDataError(where, f"unsupported coordinate transformation type {kind!r}")
        values = t.get(kind)
        if values is None and "path" in t:
            raise UnsupportedDataError(where, f"{kind} transformations stored in a file ({t['path']!r}) are not supported")
        if (
            not isinstance(values, list)
            or len(values) != ndim
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        ):
            raise MalformedMetadataError(where, f"{kind} must be a list of {ndim} numbers, got {values!r}")
        if kind == "scale":
            had_scale = True
            for d in range(ndim):
                scale[d] *= float(values[d])
                translation[d] *= float(values[d])
        else:
            for d in range(ndim):
                translation[d] += float(values[d])
    return had_scale


def _clean(v: float) -> float:
    """Remove float noise from unit conversions (0.1 um -> 100.00000000000001 nm)."""
    return float(f"{v:.12g}")
