"""N5 arrays and multiscale groups: explorers and the chunk reader.

- `parse_attributes` turns an N5 dataset's `attributes.json` into a typed `N5ArrayMeta`
  (pure; what `MagSpec.array_meta` holds).
- `EXPLORERS`, in WEBKNOSSOS's order:
  * "n5-multiscales-cosem": a group whose `attributes.json` has `multiscales[].datasets[]`
    with `path` and `transform {axes, scale, units, translate, ordering}` (COSEM/OpenOrganelle);
  * "n5-multiscales-bdv": a group with `multiScale: true` and/or `downsamplingFactors` /
    `scales` (BigDataViewer / n5-viewer / Saalfeld style; n5-viewer may keep
    `downsamplingFactors` only on each level, found by reading s0, s1, ... as Neuroglancer
    does), levels `s0 .. sN`, base
    `resolution` (or `pixelResolution`), missing units = micrometer;
  * "n5": a plain array (`dimensions`, `blockSize`, `dataType`, `compression`), mag 1.
- `open_reader` builds an `N5Reader`.

Dimension order: N5 lists dimensions fastest first (`dimensions[0]` is x). The reader's
dims are the N5 dims reversed (3D: (z, y, x), C order): reader axis order {"x": 2, "y": 1,
"z": 0} for 3D. A datasource counts positions in N5's `dimensions` instead ({"x": 0, "y": 1,
"z": 2}); `datasource_axes` converts both ways. COSEM transform `axes` are listed in
that reversed (C) order unless `"ordering": "F"`; BDV `axes`, `resolution` and
`downsamplingFactors` are in N5 order.

Blocks: big-endian, header (mode uint16, ndim uint16, ndim x uint32 block dims, and for
mode 1 "varlength" a uint32 element count), then the compressed payload. Edge blocks may be
stored clipped (n5-java) or full size (tensorstore); both decode. Mode 2 (object) is not
numeric data and reads as a corrupt chunk. Compressions: raw, gzip (also `useZlib`), bzip2,
xz, blosc, zstd (frames with or without a content size) and lz4 (lz4-java's
LZ4BlockOutputStream framing, as n5's Lz4Compression writes it); the pre-1.0
`compressionType` attribute is understood too.

Decisions where the conventions are silent:
- `boundingBox.topLeft` is always 0 (WEBKNOSSOS reads N5 arrays from index 0, so an
  exported datasource must not shift them). A COSEM `translate` of the finest level is
  kept as WEBKNOSSOS's affine `coordinateTransformations` entry (translation in mag-1
  voxels), like NGFF translations; the readers ignore it.
- The bounding box is the finest level's x/y/z size times its mag.
- Mags come from `downsamplingFactors` (BDV) or from each level's voxel size divided by
  the finest one (COSEM, the finest = smallest largest dimension, as WEBKNOSSOS); each
  must be a power of two per axis, else UnsupportedDataError. Mags are sorted finest first.
- Units: a missing or empty unit is micrometer; a time unit among the axes' units
  (Neuroglancer's test data has ["nm", "s"]) means no voxel size; units that differ between x, y and z are
  converted to nanometers. A plain array uses its own `pixelResolution` / `resolution` /
  `transform` when it has one, else it has no voxel size (None).
- A channel axis (`c` in COSEM axes, or the 4th dim from the end of a plain/BDV array)
  gives one layer per channel (`<name>_c<i>`, `channelIndex` i), like plain Zarr arrays;
  other extra axes become additional axes.
- OME-NGFF-style multiscales inside N5 attributes are reported as unsupported.
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import (
    CorruptChunkError,
    MalformedMetadataError,
    RemoteDatasetError,
    SourceNotFoundError,
    UnsupportedDataError,
)
from ...storage import RequestMeter, SourceURI, Storage
from ...storage._loop import gather_or_cancel
from ...units import NANOMETERS_PER_UNIT, normalize_unit
from .._shared import limits as _limits
from .._shared.axis_order import N5 as N5_AXIS_ORDER
from .._shared.codecs import codec_module
from .._shared.layers import category_from_name, folder_name, plain_axis_order, sanitize_name
from ..base import (
    AdditionalAxis,
    ArrayReader,
    BoundingBox,
    DataFormat,
    ExploreContext,
    Explorer,
    Format,
    LayerSpec,
    MagSpec,
    NotThisFormat,
    element_class_of,
)

__all__ = [
    "COMPRESSIONS",
    "EXPLORERS",
    "N5ArrayMeta",
    "N5Reader",
    "decode_lz4_blocks",
    "fetch_meta",
    "open_reader",
    "parse_attributes",
]

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

# --------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------


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
    mag = []
    for r in ratios:
        m = round(r)
        if m < 1 or abs(r - m) > 1e-3 * m or (m & (m - 1)) != 0:
            raise UnsupportedDataError(
                where, f"{what}: mag {[round(x, 4) for x in ratios]} is not a power of two per axis"
            )
        mag.append(m)
    return (mag[0], mag[1], mag[2])


# --------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Plain array
# --------------------------------------------------------------------------------------


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


async def _explore_array(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    attrs = await ctx.fetch_json(uri, ATTRIBUTES)
    if attrs is None:
        raise NotThisFormat("no attributes.json")
    if not isinstance(attrs, dict):
        raise NotThisFormat("attributes.json is not a JSON object")
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


# --------------------------------------------------------------------------------------
# COSEM multiscales
# --------------------------------------------------------------------------------------


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


async def _explore_cosem(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    attrs = await ctx.fetch_json(uri, ATTRIBUTES)
    if attrs is None:
        raise NotThisFormat("no attributes.json")
    if not isinstance(attrs, dict) or "multiscales" not in attrs:
        raise NotThisFormat("attributes.json has no multiscales")
    where = uri.join(ATTRIBUTES).url
    items = attrs["multiscales"]
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise MalformedMetadataError(where, "multiscales must be a non-empty list of objects")
    plans: list[list[tuple[SourceURI, Any]]] = []
    for k, item in enumerate(items):
        datasets = item.get("datasets")
        if not isinstance(datasets, list) or not datasets:
            raise MalformedMetadataError(
                where, f"multiscales[{k}].datasets must be a non-empty list"
            )
        plan = []
        for d in datasets:
            if (
                not isinstance(d, dict)
                or not isinstance(d.get("path"), str)
                or not d["path"].strip("/")
            ):
                raise MalformedMetadataError(
                    where, f"multiscales[{k}].datasets entries need a path"
                )
            plan.append((uri.join(d["path"]), d.get("transform")))
        plans.append(plan)
    all_paths = list({p.url: p for plan in plans for p, _ in plan}.values())
    docs = await asyncio.gather(*(ctx.fetch_json(p, ATTRIBUTES) for p in all_paths))
    level_docs = dict(zip((p.url for p in all_paths), docs, strict=True))
    layers: list[LayerSpec] = []
    for plan in plans:
        levels: list[tuple[SourceURI, N5ArrayMeta, _Transform]] = []
        for path, transform_doc in plan:
            level_where = path.join(ATTRIBUTES).url
            doc = level_docs[path.url]
            if doc is None:
                raise MalformedMetadataError(
                    level_where,
                    "the multiscales metadata names this level, but it has no attributes.json",
                )
            meta = parse_attributes(doc, level_where)
            if transform_doc is None:  # COSEM also keeps the transform on each level
                transform_doc = doc.get("transform")
            if transform_doc is None:
                if "coordinateTransformations" in next(
                    (d for d in _items_datasets(items) if d.get("path") == path.name), {}
                ):
                    raise UnsupportedDataError(
                        where, "OME-NGFF-style multiscales in N5 attributes are not supported"
                    )
                raise MalformedMetadataError(
                    where, f"dataset {path.name!r} has no transform (COSEM multiscales)"
                )
            t = _parse_transform(transform_doc, where, f"dataset {path.name!r}")
            if len(t.axes) != meta.ndim:
                raise MalformedMetadataError(
                    level_where,
                    f"{meta.ndim} dimensions, but the transform names {len(t.axes)} axes",
                )
            levels.append((path, meta, t))
        sizes_nm = []
        for _, _, t in levels:
            values, units = t.xyz()
            sizes_nm.append(
                [v * NANOMETERS_PER_UNIT[u] for v, u in zip(values, units, strict=True)]
            )
        base_i = min(range(len(levels)), key=lambda i: max(sizes_nm[i]))
        base = sizes_nm[base_i]
        out_levels = []
        for (path, meta, _t), nm in zip(levels, sizes_nm, strict=True):
            mag = _power_of_two_mag(
                [a / b for a, b in zip(nm, base, strict=True)], where, f"dataset {path.name!r}"
            )
            out_levels.append(_Level(path, meta, mag))
        _, base_meta, base_t = levels[base_i]
        axis_order, additional = _cosem_axis_order(base_t, base_meta.shape)
        for level in out_levels:
            _check_rank(level, base_meta.ndim)
        voxel_size, unit = _voxel_size(*base_t.xyz())
        transforms = None
        shift = []
        for a in ("x", "y", "z"):
            i = base_t.index(a)
            shift.append(base_t.translate[i] / base_t.scale[i] if i is not None else 0.0)
        if any(abs(s) > 1e-9 for s in shift):
            # A translation of the finest level, in its voxels: shown as WEBKNOSSOS's affine.
            tx, ty, tz = (round(s, 6) for s in shift)
            transforms = [
                {
                    "type": "affine",
                    "matrix": [[1, 0, 0, tx], [0, 1, 0, ty], [0, 0, 1, tz], [0, 0, 0, 1]],
                }
            ]
        layers.extend(
            _layers(
                uri,
                out_levels,
                axis_order,
                additional,
                "n5-multiscales-cosem",
                voxel_size,
                unit,
                transforms,
            )
        )
    return layers


# --------------------------------------------------------------------------------------
# BigDataViewer / Saalfeld compact multiscales
# --------------------------------------------------------------------------------------


def _factors(value: Any, where: str) -> list[list[float]]:
    if (
        not isinstance(value, list)
        or not value
        or not all(
            isinstance(f, list)
            and f
            and all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in f)
            for f in value
        )
    ):
        raise MalformedMetadataError(
            where, f"downsamplingFactors/scales must be a list of lists of numbers, not {value!r}"
        )
    return [[float(v) for v in f] for f in value]


async def _explore_bdv(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    attrs = await ctx.fetch_json(uri, ATTRIBUTES)
    if attrs is None:
        raise NotThisFormat("no attributes.json")
    if not isinstance(attrs, dict):
        raise NotThisFormat("attributes.json is not a JSON object")
    if "dimensions" in attrs:
        raise NotThisFormat("attributes.json describes an array, not a multiscale group")
    raw = attrs.get("downsamplingFactors", attrs.get("scales"))
    where = uri.join(ATTRIBUTES).url
    per_level: list[Any] | None = None
    if raw is None:
        # n5-viewer may keep `downsamplingFactors` only on each level s0 .. sN
        per_level = await _per_level_attributes(ctx, uri)
        if per_level is None:
            if attrs.get("multiScale") is True:
                raise MalformedMetadataError(
                    where, "multiScale group without downsamplingFactors or scales"
                )
            raise NotThisFormat("attributes.json has no multiScale, downsamplingFactors or scales")
        raw = [doc.get("downsamplingFactors") for doc in per_level]
    elif attrs.get("multiScale") is not True and not (
        isinstance(raw, list) and raw and isinstance(raw[0], list)
    ):
        raise NotThisFormat("attributes.json has no multiScale, downsamplingFactors or scales")
    factors = _factors(raw, where)
    paths = [uri.join(f"s{i}") for i in range(len(factors))]
    if per_level is not None:
        metas = [parse_attributes(d, p.join(ATTRIBUTES).url) for p, d in zip(paths, per_level, strict=True)]
    else:
        metas = await _level_metas(ctx, paths)
    rank = metas[0].ndim
    if rank < 2:
        raise UnsupportedDataError(
            paths[0].join(ATTRIBUTES).url, f"a {rank}-dimensional array has no x and y axes"
        )
    axes = attrs.get("axes")
    names = list(reversed(axes)) if isinstance(axes, list) and len(axes) == rank else None
    axis_order, additional = plain_axis_order(metas[0].shape, names)
    levels = []
    for path, meta, factor in zip(paths, metas, factors, strict=True):
        level = _Level(path, meta, (1, 1, 1))
        _check_rank(level, rank)
        if len(factor) < min(rank, 3) and len(factor) != rank:
            raise MalformedMetadataError(
                where, f"downsampling factor {factor} of {path.name} has too few entries"
            )
        level.mag = _power_of_two_mag(
            _xyz_from_n5(factor, axis_order, rank, 1.0), where, f"level {path.name}"
        )
        levels.append(level)
    voxel_size: tuple[float, float, float] | None = None
    unit: str | None = None
    own = _own_resolution(attrs, rank, where)
    if own is not None:
        values = _xyz_from_n5(own[0], axis_order, rank, 1.0)
        units = _xyz_from_n5(own[1], axis_order, rank, own[1][0])
        voxel_size, unit = _voxel_size(values, units)
    return _layers(uri, levels, axis_order, additional, "n5-multiscales-bdv", voxel_size, unit)


_MAX_LEVELS = 32


async def _per_level_attributes(ctx: ExploreContext, uri: SourceURI) -> list[dict[str, Any]] | None:
    """Attributes of s0, s1, ... while they exist and carry `downsamplingFactors`
    (as Neuroglancer reads n5-viewer groups), or None when s0 has none."""
    docs: list[dict[str, Any]] = []
    for i in range(_MAX_LEVELS):
        doc = await ctx.fetch_json(uri.join(f"s{i}"), ATTRIBUTES)
        if not isinstance(doc, dict) or "downsamplingFactors" not in doc or "dimensions" not in doc:
            break
        docs.append(doc)
    return docs or None


COSEM_EXPLORER = Explorer("n5-multiscales-cosem", (ATTRIBUTES,), frozenset({"n5"}), _explore_cosem)
BDV_EXPLORER = Explorer("n5-multiscales-bdv", (ATTRIBUTES,), frozenset({"n5"}), _explore_bdv)
N5_EXPLORER = Explorer("n5", (ATTRIBUTES,), frozenset({"n5"}), _explore_array)
EXPLORERS: list[Explorer] = [COSEM_EXPLORER, BDV_EXPLORER, N5_EXPLORER]


# --------------------------------------------------------------------------------------
# Codecs
# --------------------------------------------------------------------------------------

Decompressor = Callable[[Any, int], Any]  # (payload, expected bytes) -> bytes-like

_LZ4_MAGIC = b"LZ4Block"
_LZ4_HEADER = struct.Struct("<iii")


def decode_lz4_blocks(data: Any, expected: int | None = None) -> bytes:
    """Decode lz4-java's LZ4BlockOutputStream framing (what N5's "lz4" writes): blocks of
    magic "LZ4Block", a token (0x10 raw / 0x20 LZ4 | level), compressed and original
    lengths and a checksum (int32 little-endian each), then the block; an empty block ends
    a stream (streams may follow each other)."""
    import imagecodecs

    limit = expected
    view = memoryview(data)
    parts: list[bytes] = []
    pos = 0
    produced = 0
    total = len(view)
    while pos < total:
        if bytes(view[pos : pos + 8]) != _LZ4_MAGIC:
            raise ValueError(f"no LZ4Block magic at offset {pos}")
        if pos + 21 > total:
            raise ValueError("truncated LZ4Block header")
        method = view[pos + 8] & 0xF0
        clen, olen, _checksum = _LZ4_HEADER.unpack_from(view, pos + 9)
        pos += 21
        if clen < 0 or olen < 0 or pos + clen > total:
            raise ValueError("invalid or truncated LZ4Block")
        block = view[pos : pos + clen]
        pos += clen
        produced += olen
        if limit is not None and produced > limit:
            raise _limits.DecodeLimit(f"LZ4 blocks decode to more than the {limit} bytes of the block")
        if olen == 0:
            continue
        if method == 0x10:
            if clen != olen:
                raise ValueError("raw LZ4Block with differing lengths")
            parts.append(bytes(block))
        elif method == 0x20:
            out = imagecodecs.lz4_decode(bytes(block), out=olen)
            if len(out) != olen:
                raise ValueError("LZ4 block decoded to the wrong length")
            parts.append(bytes(out))
        else:
            raise ValueError(f"unknown LZ4Block compression method {method:#x}")
    return b"".join(parts)


def _decompressor(compression: dict[str, Any]) -> Decompressor:
    kind = compression["type"]
    if kind == "raw":
        return lambda data, expected: data
    # Every decompressor stops at the block's declared size (checked against the block size).
    if kind == "gzip":  # gzip or, with useZlib, zlib: wbits 47 accepts both
        return lambda data, expected: _limits.zlib_bounded(data, expected, 47)
    if kind == "bzip2":
        return _limits.bz2_bounded
    if kind == "xz":
        return _limits.lzma_bounded
    if kind == "blosc":
        return _limits.blosc_bounded
    if kind == "zstd":
        return _limits.zstd_bounded
    if kind == "lz4":
        return decode_lz4_blocks
    raise ValueError(kind)  # pragma: no cover - parse_attributes rejects it


# --------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------


class N5Reader(ArrayReader):
    """Reads blocks of one N5 dataset; dims are the N5 dims reversed (C order)."""

    def __init__(self, storage: Storage, path: SourceURI, meta: N5ArrayMeta) -> None:
        self.uri = path.url
        self.meta = meta
        self.shape = meta.shape
        self.chunk_shape = meta.chunk_shape
        self.grid_origin = (0,) * meta.ndim
        self.dtype = meta.dtype
        self.fill_value = meta.dtype.type(0)
        self._storage = storage
        self._path = path
        self._base = path.fs_path.rstrip("/") if not path.query else None
        self._be_dtype = meta.dtype.newbyteorder(">")
        self._swap = not self._be_dtype.isnative and meta.dtype.itemsize > 1
        kind = meta.compression["type"]
        if kind in ("blosc", "zstd", "lz4"):  # a missing module: say so now, not per block
            codec_module("imagecodecs", kind, f"{path.url}/{ATTRIBUTES}")
        self._decompress = _decompressor(meta.compression)
        _limits.check_array(self.uri, meta.shape, meta.chunk_shape, meta.dtype.itemsize, "block")
        self._max_block_bytes = _limits.bound(math.prod(meta.chunk_shape) * meta.dtype.itemsize + 4 * meta.ndim + 8)
        self._ndim = meta.ndim
        self._head = struct.Struct(f">HH{meta.ndim}I")

    def __repr__(self) -> str:
        return (
            f"N5Reader({self.uri!r}, {self.meta.compression.get('type')}, shape={self.shape}, "
            f"chunks={self.chunk_shape})"
        )

    def block_key(self, coord: Sequence[int]) -> str:
        """Block path below the dataset: grid position in N5 order (`x/y/z`)."""
        return "/".join(str(int(c)) for c in reversed(coord))

    def _key_path(self, key: str) -> str:
        if self._base is not None:
            return f"{self._base}/{key}"
        return self._path.join(key).fs_path

    def chunk_key_uri(self, coord: tuple[int, ...]) -> str:
        return f"{self.uri}/{self.block_key(coord)}"

    async def fetch(
        self, coords: Sequence[tuple[int, ...]], meters: Sequence[RequestMeter] = ()
    ) -> list[bytes | None]:
        if not coords:
            return []
        get = self._storage.get
        cap = self._max_block_bytes
        return await gather_or_cancel(
            *(get(self._key_path(self.block_key(c)), meters=meters, max_bytes=cap) for c in coords)
        )

    def decode(self, coord: tuple[int, ...], data: bytes) -> np.ndarray:
        try:
            arr = self._decode(data)
        except RemoteDatasetError:
            raise
        except Exception as exc:  # every codec or layout failure is a corrupt chunk
            raise CorruptChunkError(
                self.chunk_key_uri(coord), f"cannot decode N5 block: {exc}"
            ) from None
        extent = self.chunk_extent(coord)
        if arr.shape == extent:
            return arr
        # The block is stored smaller (n5-java clips edge blocks) or larger (tensorstore
        # writes full edge blocks): keep the overlap, fill the rest.
        overlap = tuple(slice(0, min(a, e)) for a, e in zip(arr.shape, extent, strict=True))
        if all(a >= e for a, e in zip(arr.shape, extent, strict=True)):
            return arr[overlap]
        out = np.zeros(extent, dtype=self.dtype)
        out[overlap] = arr[overlap]
        return out

    def _decode(self, data: bytes) -> np.ndarray:
        head = self._head
        if len(data) < head.size:
            raise ValueError(f"{len(data)} bytes, too short for the block header")
        mode, ndim, *dims = head.unpack_from(data, 0)
        if ndim != self._ndim:
            raise ValueError(f"block header has {ndim} dimensions, the dataset {self._ndim}")
        offset = head.size
        if any(d > b for d, b in zip(dims[::-1], self.chunk_shape, strict=True)):
            raise ValueError(f"block header dims {dims} exceed the block size {list(self.chunk_shape[::-1])}")
        count = 1
        for d in dims:
            count *= d
        if mode == 1:  # varlength: an element count follows
            (nelem,) = struct.unpack_from(">I", data, offset)
            offset += 4
            if nelem < count:
                raise ValueError(
                    f"varlength block holds {nelem} elements, fewer than its {dims} dims"
                )
        elif mode != 0:
            raise ValueError(
                f"unsupported block mode {mode} (only 0 default and 1 varlength hold numeric data)"
            )
        expected = count * self.dtype.itemsize
        payload = memoryview(data)[offset:]
        raw = self._decompress(payload, expected)
        if len(raw) < expected:
            raise ValueError(
                f"{len(raw)} bytes after decompression, expected {expected} for block dims {dims}"
            )
        arr = np.frombuffer(raw, dtype=self._be_dtype, count=count)
        if self._swap:
            arr = arr.byteswap().view(self.dtype)
        elif arr.dtype != self.dtype:
            arr = arr.view(self.dtype)
        return arr.reshape(dims[::-1])


# --------------------------------------------------------------------------------------
# Opening a reader
# --------------------------------------------------------------------------------------


async def fetch_meta(storage: Storage, path: SourceURI) -> N5ArrayMeta:
    """Fetch and parse a dataset's attributes.json."""
    target = path.join(ATTRIBUTES)
    data = await storage.get(target.fs_path)
    if data is None:
        raise SourceNotFoundError(path.url, "no N5 dataset here (attributes.json not found)")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedMetadataError(target.url, f"malformed JSON: {exc}") from None
    if isinstance(doc, dict) and "dimensions" not in doc:
        raise SourceNotFoundError(path.url, "attributes.json describes a group, not an N5 dataset")
    return parse_attributes(doc, target.url)


async def open_reader(storage: Storage, mag: MagSpec) -> N5Reader:
    """The reader of one N5 dataset (data_format "n5").

    Uses `mag.array_meta` (an `N5ArrayMeta` kept from exploration) when present, else
    fetches the level's attributes.json.
    """
    meta = mag.array_meta
    if not isinstance(meta, N5ArrayMeta):
        meta = await fetch_meta(storage, mag.path)
    return N5Reader(storage, mag.path, meta)


async def _open_level(storage: Storage, mag: MagSpec, data_format: DataFormat) -> N5Reader:
    return await open_reader(storage, mag)


FORMAT = Format(
    name="n5",
    explorers=tuple(EXPLORERS),
    data_formats=("n5",),
    open_reader=_open_level,
    uri_prefixes={"n5": "n5"},
    neuroglancer_prefix={"n5": "n5"},
    metadata_files={ATTRIBUTES: None},
    axis_order={"n5": N5_AXIS_ORDER},
)
