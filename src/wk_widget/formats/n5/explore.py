"""N5 layers: naming, voxel size and axis order of N5 arrays, and the plain-array explorer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import (
    MalformedMetadataError,
    UnsupportedDataError,
)
from ...storage import SourceURI
from .._shared import limits as _limits
from .._shared.layers import category_from_name, folder_name, plain_axis_order, sanitize_name
from ..base import (
    AdditionalAxis,
    BoundingBox,
    ExploreContext,
    LayerSpec,
    MagSpec,
    NotThisFormat,
    element_class_of,
)
from .metadata import (
    _TIME_UNITS,
    ATTRIBUTES,
    DEFAULT_UNIT,
    N5ArrayMeta,
    _unit_of,
    _voxel_size,
    parse_attributes,
)
from .transform import _cosem_axis_order, _parse_transform, _Transform


def _layer_name(uri: SourceURI) -> str:
    return sanitize_name(folder_name(uri)) or sanitize_name(uri.name) or "layer"


@dataclass
class _Level:
    path: SourceURI
    meta: N5ArrayMeta
    mag: tuple[int, int, int]


def _layers(
    uri: SourceURI,
    levels: list[_Level],
    axis_order: dict[str, int],
    additional: list[AdditionalAxis],
    format_name: str,
    voxel_size: tuple[float, float, float] | None,
    unit: str | None,
    coordinate_transformations: list[dict[str, Any]] | None = None,
) -> list[LayerSpec]:
    levels = sorted(levels, key=lambda lv: (lv.mag[0] * lv.mag[1] * lv.mag[2], lv.mag))
    finest = levels[0]
    where = finest.path.join(ATTRIBUTES).url
    element_class = element_class_of(finest.meta.dtype, where)
    shape = finest.meta.shape
    size = tuple(
        shape[axis_order[a]] * finest.mag[i] if a in axis_order else 1
        for i, a in enumerate(("x", "y", "z"))
    )
    name = _layer_name(uri)
    category, source = category_from_name(name, element_class)
    channels = shape[axis_order["c"]] if "c" in axis_order else 1
    _limits.check_channels(where, channels)  # one layer each: refuse absurd counts early
    layers = []
    for ch in range(channels) if "c" in axis_order else [None]:
        layers.append(
            LayerSpec(
                name=name if ch is None or channels == 1 else f"{name}_c{ch}",
                category=category,
                data_format="n5",
                element_class=element_class,
                bounding_box=BoundingBox((0, 0, 0), (size[0], size[1], size[2])),
                mags=[MagSpec(lv.mag, lv.path, dict(axis_order), ch, lv.meta) for lv in levels],
                num_channels=1,
                voxel_size=voxel_size,
                unit=unit,
                additional_axes=list(additional),
                coordinate_transformations=coordinate_transformations,
                category_source=source,
                source_uri=uri.url,
                format_name=format_name,
                dataset_name=uri.name or None,
                multiscale_group=len(levels) > 1,  # a plain array is one level
            )
        )
    return layers


def _check_rank(level: _Level, rank: int) -> None:
    if level.meta.ndim != rank:
        raise MalformedMetadataError(
            level.path.join(ATTRIBUTES).url,
            f"{level.meta.ndim} dimensions, but the multiscale metadata describes {rank}",
        )


async def _level_metas(ctx: ExploreContext, paths: Sequence[SourceURI]) -> list[N5ArrayMeta]:
    """Attributes of all levels, fetched concurrently; a missing level is an error."""
    docs = await asyncio.gather(*(ctx.fetch_json(p, ATTRIBUTES) for p in paths))
    metas = []
    for path, doc in zip(paths, docs, strict=True):
        where = path.join(ATTRIBUTES).url
        if doc is None:
            raise MalformedMetadataError(
                where, "the multiscale metadata names this level, but it has no attributes.json"
            )
        metas.append(parse_attributes(doc, where))
    return metas


def _own_resolution(
    attrs: dict[str, Any], rank: int, where: str
) -> tuple[list[float], list[str]] | None:
    """A dataset's or group's base resolution (N5 order) and units, if it declares one:
    `resolution` (+ `units` list or `unit`) or n5-viewer's `pixelResolution`."""
    values: Any = None
    unit: Any = None
    pixel = attrs.get("pixelResolution")
    if isinstance(pixel, dict):
        values, unit = pixel.get("dimensions"), pixel.get("unit")
    elif isinstance(pixel, list):
        values = pixel
    if values is None:
        values = attrs.get("resolution")
    if values is None:
        return None
    if (
        not isinstance(values, list)
        or len(values) < min(rank, 2)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in values)
    ):
        raise MalformedMetadataError(
            where, f"resolution must be a list of positive numbers, not {values!r}"
        )
    units_raw = attrs.get("units")
    if isinstance(units_raw, list) and any(
        isinstance(u, str) and u.strip() in _TIME_UNITS for u in units_raw
    ):
        return None  # a time axis among the spatial ones (Neuroglancer's "s"): no voxel size
    if isinstance(units_raw, list):
        units = [_unit_of(u, where) for u in units_raw]
    else:
        units = [_unit_of(unit if unit is not None else attrs.get("unit"), where)] * len(values)
    if len(units) < len(values):
        units += [units[-1] if units else DEFAULT_UNIT] * (len(values) - len(units))
    return [float(v) for v in values], units


def _xyz_from_n5(
    values: Sequence[Any], axis_order: dict[str, int], rank: int, default: Any
) -> list[Any]:
    """x, y, z entries of an N5-ordered list, given the reader axis order."""
    out = []
    for a in ("x", "y", "z"):
        if a in axis_order and rank - 1 - axis_order[a] < len(values):
            out.append(values[rank - 1 - axis_order[a]])
        else:
            out.append(default)
    return out


async def _attributes_object(ctx: ExploreContext, uri: SourceURI) -> dict[str, Any]:
    """The folder's attributes.json as a JSON object, else NotThisFormat."""
    attrs = await ctx.fetch_json(uri, ATTRIBUTES)
    if attrs is None:
        raise NotThisFormat("no attributes.json")
    if not isinstance(attrs, dict):
        raise NotThisFormat("attributes.json is not a JSON object")
    return attrs


async def _explore_array(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    attrs = await _attributes_object(ctx, uri)
    if "dimensions" not in attrs:
        raise NotThisFormat("attributes.json describes a group, not an array (no dimensions)")
    where = uri.join(ATTRIBUTES).url
    meta = parse_attributes(attrs, where)
    if meta.ndim < 2:
        raise UnsupportedDataError(where, f"a {meta.ndim}-dimensional array has no x and y axes")
    voxel_size: tuple[float, float, float] | None = None
    unit: str | None = None
    own = _own_resolution(attrs, meta.ndim, where)
    transform: _Transform | None = None
    if own is None and isinstance(attrs.get("transform"), dict):
        # a COSEM level opened on its own: its transform names the axes and the voxel size
        try:
            transform = _parse_transform(attrs["transform"], where, "array")
        except MalformedMetadataError:
            transform = None
        if transform is not None and len(transform.axes) != meta.ndim:
            transform = None
    if transform is not None:
        axis_order, additional = _cosem_axis_order(transform, meta.shape)
        voxel_size, unit = _voxel_size(*transform.xyz())
    else:
        axes = attrs.get("axes")
        names = list(reversed(axes)) if isinstance(axes, list) and len(axes) == meta.ndim else None
        axis_order, additional = plain_axis_order(meta.shape, names)
        if own is not None:
            values = _xyz_from_n5(own[0], axis_order, meta.ndim, 1.0)
            units = _xyz_from_n5(own[1], axis_order, meta.ndim, own[1][0])
            voxel_size, unit = _voxel_size(values, units)
    return _layers(
        uri, [_Level(uri, meta, (1, 1, 1))], axis_order, additional, "n5", voxel_size, unit
    )
