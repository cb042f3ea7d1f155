"""Layer naming, category and plain-array axis orders shared by the formats' explorers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ...storage import SourceURI
from ..base import (
    INTEGER_ELEMENT_CLASSES,
    AdditionalAxis,
    Category,
)

_SEG_NAMES = frozenset({"segmentation", "labels"})


def category_from_name(name: str, element_class: str) -> tuple[Category, str]:
    """(category, category_source) by WEBKNOSSOS's name rule, used only when no real signal
    decides: the whole name `segmentation` or `labels` (any case) with an integer type is a
    segmentation; everything else (`cells_labels`, `em_seg_raw`, ...) is color."""
    if element_class in INTEGER_ELEMENT_CLASSES and (name or "").strip().lower() in _SEG_NAMES:
        return "segmentation", "name"
    return "color", "default"


_NAME_JUNK = re.compile(r"[^A-Za-z0-9_-]+")


def sanitize_name(text: Any) -> str:
    """Keep ASCII letters, digits, `_` and `-` (what layer names may contain)."""
    return _NAME_JUNK.sub("", str(text)) if text is not None else ""


def folder_name(uri: SourceURI) -> str:
    """The folder name without the usual container suffixes, for naming layers."""
    name = uri.name
    for suffix in (".ome.zarr", ".zarr", ".n5"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


_CHANNEL_NAMES = ("c", "channel", "channels")


def plain_axis_order(
    shape: Sequence[int], dimension_names: Sequence[str | None] | None = None
) -> tuple[dict[str, int], list[AdditionalAxis]]:
    """Axis order of an array without multiscale metadata.

    When `dimension_names` name x and y, the names decide (z, c/channel optional; every other
    dimension is an additional axis). Otherwise the axes count from the end: x = last,
    y = second to last, z = third to last (2D arrays have no z); of the leading dimensions a
    named one is "c" if named c/channel, else an additional axis under its name; unnamed,
    the 4th from last is "c" and earlier ones are additional axes ("t" if there is exactly
    one, else "dim<i>").
    """
    ndim = len(shape)
    names = [n.strip().lower() if isinstance(n, str) and n.strip() else None for n in (dimension_names or [None] * ndim)]
    order: dict[str, int] = {}
    extra: list[tuple[str | None, int]] = []
    if "x" in names and "y" in names and len(set(n for n in names if n)) == len([n for n in names if n]):
        for dim, n in enumerate(names):
            if n in ("x", "y", "z"):
                order[n] = dim
            elif n in _CHANNEL_NAMES and "c" not in order:
                order["c"] = dim
            else:
                extra.append((n, dim))
    else:
        order["x"] = ndim - 1
        order["y"] = ndim - 2
        if ndim >= 3:
            order["z"] = ndim - 3
        for dim in range(ndim - 3 - 1, -1, -1):
            n = names[dim]
            is_channel = n in _CHANNEL_NAMES or (n is None and dim == ndim - 4)
            if is_channel and "c" not in order:
                order["c"] = dim
            else:
                extra.append((n, dim))
        extra.sort(key=lambda e: e[1])
    unnamed = [dim for n, dim in extra if n is None]
    taken = {n for n, _ in extra if n}
    axes: list[AdditionalAxis] = []
    for n, dim in extra:
        if n is None:
            n = "t" if len(unnamed) == 1 and "t" not in taken else f"dim{dim}"
        axes.append(AdditionalAxis(n, (0, int(shape[dim])), dim))
    return order, axes


def is_power_of_two(v: int) -> bool:
    return v > 0 and (v & (v - 1)) == 0


def power_of_two_mags(ratios: Sequence[float]) -> tuple[int, ...] | None:
    """Each resolution ratio to the finest level as a power-of-two mag (0.1 % float noise
    allowed), or None if any is not one."""
    mag = []
    for r in ratios:
        m = round(r)
        if m < 1 or abs(r - m) > 1e-3 * m or not is_power_of_two(m):
            return None
        mag.append(m)
    return tuple(mag)
