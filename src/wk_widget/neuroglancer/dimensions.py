"""Neuroglancer dimensions (numbers with SI length units) <-> voxel size and unit."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal, localcontext
from typing import Any

from ..units import NANOMETERS_PER_UNIT

_SI_PREFIX_EXPONENTS = {
    "Y": 24, "Z": 21, "E": 18, "P": 15, "T": 12, "G": 9, "M": 6, "k": 3, "h": 2, "da": 1,
    "": 0, "d": -1, "c": -2, "m": -3, "u": -6, "µ": -6, "μ": -6, "n": -9, "p": -12,
    "f": -15, "a": -18, "z": -21, "y": -24,
}  # fmt: skip
# Metric WEBKNOSSOS units by power of ten relative to a nanometer, for choosing one.
_METRIC_UNITS = [
    ("yoctometer", -15), ("zeptometer", -12), ("attometer", -9), ("femtometer", -6),
    ("picometer", -3), ("nanometer", 0), ("micrometer", 3), ("millimeter", 6),
    ("meter", 9), ("kilometer", 12), ("megameter", 15), ("gigameter", 18),
    ("terameter", 21), ("petameter", 24), ("exameter", 27), ("zettameter", 30),
    ("yottameter", 33),
]  # fmt: skip
_NM_LOW = Decimal("0.001")
_NM_HIGH = Decimal(10) ** 6


def _number(value: Any) -> float | None:
    """A finite float from a JSON number, else None (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _length_exponent(unit: Any) -> int | None:
    """Power of ten of a Neuroglancer length unit ("m", "nm", "um", ...) in meters."""
    if not isinstance(unit, str) or not unit.endswith("m"):
        return None
    return _SI_PREFIX_EXPONENTS.get(unit[:-1])


def _pick_unit(values_nm: Sequence[Decimal]) -> tuple[str, int]:
    """Nanometer when the sizes fit it (1 pm .. 1 mm), else the largest metric unit >= 1."""
    low, high = min(values_nm), max(values_nm)
    if low >= _NM_LOW and high < _NM_HIGH:
        return "nanometer", 0
    for name, exponent in reversed(_METRIC_UNITS):
        if low.scaleb(-exponent) >= 1:
            return name, exponent
    return _METRIC_UNITS[0]


def _voxel_size_from_dimensions(dims: Any) -> tuple[tuple[float, float, float], str] | None:
    """x, y, z of a Neuroglancer coordinate space (`{"x": [8e-9, "m"], ...}`), if lengths."""
    if not isinstance(dims, dict):
        return None
    values: list[Decimal] = []
    for axis in ("x", "y", "z"):
        entry = dims.get(axis)
        if not isinstance(entry, list) or len(entry) != 2:
            return None
        scale = _number(entry[0])
        exponent = _length_exponent(entry[1])
        if scale is None or scale <= 0 or exponent is None:
            return None
        values.append(_decimal(scale).scaleb(exponent + 9))  # exact shift to nanometers
    unit, unit_exponent = _pick_unit(values)
    with localcontext() as ctx:
        ctx.prec = 60
        sizes = tuple(float(v.scaleb(-unit_exponent)) for v in values)
    if not all(math.isfinite(s) and s > 0 for s in sizes):
        return None
    return (sizes[0], sizes[1], sizes[2]), unit


def _to_meters(value: float, unit: str) -> float:
    with localcontext() as ctx:
        ctx.prec = 60
        meters = _decimal(value) * _decimal(NANOMETERS_PER_UNIT[unit]) * Decimal("1e-9")
        return float(meters)
