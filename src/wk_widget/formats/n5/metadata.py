"""N5 metadata: a dataset's `attributes.json` parsed into `N5ArrayMeta` (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import (
    MalformedMetadataError,
    UnsupportedDataError,
)
from ...units import NANOMETERS_PER_UNIT, normalize_unit
from .._shared.layers import power_of_two_mags
from ..base import (
    element_class_of,
)

ATTRIBUTES = "attributes.json"


_TIME_UNITS = frozenset({"s", "ms", "us", "ns", "sec", "second", "seconds", "min", "h"})


COMPRESSIONS = ("raw", "gzip", "bzip2", "blosc", "zstd", "xz", "lz4")


_DTYPES = (
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "float32",
    "float64",
)


DEFAULT_UNIT = "micrometer"  # N5 multiscales without units (WEBKNOSSOS)


@dataclass(frozen=True)
class N5ArrayMeta:
    """One N5 dataset's attributes, normalised. Lists are in N5 order (x first)."""

    dimensions: tuple[int, ...]
    block_size: tuple[int, ...]
    dtype: np.dtype[Any]  # native byte order
    compression: dict[str, Any] = field(
        default_factory=lambda: {"type": "raw"}, hash=False, compare=False
    )

    @property
    def ndim(self) -> int:
        return len(self.dimensions)

    @property
    def shape(self) -> tuple[int, ...]:
        """Reader shape: the N5 dimensions reversed."""
        return self.dimensions[::-1]

    @property
    def chunk_shape(self) -> tuple[int, ...]:
        return self.block_size[::-1]


def _int_list(value: Any, what: str, where: str, *, minimum: int) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise MalformedMetadataError(
            where, f"{what} must be a non-empty list of integers, not {value!r}"
        )
    out = []
    for v in value:
        if (
            isinstance(v, bool)
            or not isinstance(v, int | float)
            or not math.isfinite(v)
            or not float(v).is_integer()
        ):
            raise MalformedMetadataError(where, f"{what} must be a list of integers, not {value!r}")
        if int(v) < minimum:
            raise MalformedMetadataError(where, f"{what} must be >= {minimum}, not {value!r}")
        out.append(int(v))
    return tuple(out)


def _compression(attrs: dict[str, Any], where: str) -> dict[str, Any]:
    comp = attrs.get("compression")
    if comp is None:  # N5 before 1.0: "compressionType": "gzip"
        comp = {"type": attrs.get("compressionType", "raw")}
    elif isinstance(comp, str):
        comp = {"type": comp}
    if not isinstance(comp, dict) or not isinstance(comp.get("type"), str):
        raise MalformedMetadataError(
            where, f"compression must be an object with a type, not {comp!r}"
        )
    kind = comp["type"].lower()
    if kind not in COMPRESSIONS:
        raise UnsupportedDataError(
            where,
            f"unsupported N5 compression {comp['type']!r} (supported: {', '.join(COMPRESSIONS)})",
        )
    return {**comp, "type": kind}


def parse_attributes(attrs: Any, where: str = "") -> N5ArrayMeta:
    """Typed metadata of an N5 dataset (`dimensions`, `blockSize`, `dataType`, `compression`)."""
    if not isinstance(attrs, dict):
        raise MalformedMetadataError(where, "attributes.json must be a JSON object")
    dims = _int_list(attrs.get("dimensions"), "dimensions", where, minimum=0)
    block = _int_list(attrs.get("blockSize"), "blockSize", where, minimum=1)
    if len(block) != len(dims):
        raise MalformedMetadataError(
            where, f"blockSize {list(block)} and dimensions {list(dims)} differ in length"
        )
    raw_type = attrs.get("dataType")
    if not isinstance(raw_type, str):
        raise MalformedMetadataError(where, f"dataType must be a string, not {raw_type!r}")
    name = raw_type.strip().lower()
    if name not in _DTYPES:
        raise UnsupportedDataError(where, f"unsupported N5 dataType {raw_type!r}")
    dtype = np.dtype(name)
    element_class_of(dtype, where)
    return N5ArrayMeta(dims, block, dtype, _compression(attrs, where))


def _unit_of(text: Any, where: str) -> str:
    """WEBKNOSSOS unit name of an N5 unit string; missing/empty is micrometer."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return DEFAULT_UNIT
    unit = normalize_unit(str(text))
    if unit is None:
        raise MalformedMetadataError(where, f"unknown space unit {text!r}")
    return unit


def _voxel_size(
    values: Sequence[float], units: Sequence[str]
) -> tuple[tuple[float, float, float], str]:
    """x, y, z sizes in one unit: their own when all agree, else nanometers."""
    if len(set(units)) == 1:
        return (float(values[0]), float(values[1]), float(values[2])), units[0]
    nm = [float(v) * NANOMETERS_PER_UNIT[u] for v, u in zip(values, units, strict=True)]
    return (nm[0], nm[1], nm[2]), "nanometer"


def _power_of_two_mag(ratios: Sequence[float], where: str, what: str) -> tuple[int, int, int]:
    mag = power_of_two_mags(ratios)
    if mag is None or len(mag) != 3:
        raise UnsupportedDataError(where, f"{what}: mag {[round(x, 4) for x in ratios]} is not a power of two per axis")
    return (mag[0], mag[1], mag[2])
