"""OME-NGFF images: v0.4 (Zarr v2, `.zattrs`) and OME-Zarr v0.5 (Zarr v3, `zarr.json`
`attributes.ome`), including the `labels/` group.

What WEBKNOSSOS does (see shared/reference/webknossos-remote-datasets.md, section 3), and
where we do better: units may be UDUNITS names or abbreviations (`nm`, `um`, `µm`, ...);
a labels image without units inherits its parent image's unit; a translation of the
finest dataset (and of the multiscale) becomes an affine `coordinateTransformations` entry
(in mag-1 voxels, as WEBKNOSSOS writes it) while the bounding box keeps topLeft 0; the
multiscale-level scale counts too; omero gives the default view configuration; channel
labels are sanitised to letters, digits, `_` and `-`.

Exploration cost: the root metadata (prefetched), then every level's array metadata and
the labels group concurrently, then each label image's metadata, then its levels.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import MalformedMetadataError, RemoteDatasetError, UnsupportedDataError
from ...storage import SourceURI
from ...units import NANOMETERS_PER_UNIT, normalize_unit
from .._shared import limits as _limits
from .._shared.layers import category_from_name, folder_name, sanitize_name
from ..base import (
    AdditionalAxis,
    BoundingBox,
    Category,
    ExploreContext,
    Explorer,
    Format,
    LayerSpec,
    MagSpec,
    NotThisFormat,
    element_class_of,
)
from ..zarr import (
    ZarrArrayMeta,
    parse_zarr_json,
    parse_zarray,
    validate_readable,
)

__all__ = [
    "EXPLORERS",
    "NGFF_V04_EXPLORER",
    "NGFF_V05_EXPLORER",
    "layers_from_ome_attributes",
    "view_configuration_from_omero",
]

logger = logging.getLogger(__name__)

DEFAULT_UNIT = "nanometer"
_DEFAULT_AXES = ("t", "c", "z", "y", "x")  # NGFF <= 0.2 had no axes: always tczyx (the last ndim)


@dataclass(frozen=True)
class _Axis:
    name: str
    type: str | None
    unit: str | None


def _note(ctx: ExploreContext, text: str) -> None:
    """Tell the user about something skipped (the orchestrator may collect `ctx.notes`)."""
    logger.warning("%s", text)
    notes = getattr(ctx, "notes", None)
    if isinstance(notes, list):
        notes.append(text)


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


def _is_power_of_two(v: int) -> bool:
    return v > 0 and (v & (v - 1)) == 0


def _clean(v: float) -> float:
    """Remove float noise from unit conversions (0.1 um -> 100.00000000000001 nm)."""
    return float(f"{v:.12g}")


def _hex_color(text: Any) -> list[int] | None:
    if not isinstance(text, str):
        return None
    h = text.strip().lstrip("#")
    if len(h) == 8:
        h = h[:6]
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    if not re.fullmatch(r"[0-9a-fA-F]{6}", h):
        return None
    return [int(h[i : i + 2], 16) for i in (0, 2, 4)]


def view_configuration_from_omero(channel: Any) -> dict[str, Any] | None:
    """WEBKNOSSOS defaultViewConfiguration of one omero channel (None if it says nothing)."""
    if not isinstance(channel, dict):
        return None
    config: dict[str, Any] = {}
    color = _hex_color(channel.get("color"))
    if color is not None:
        config["color"] = color
    window = channel.get("window")
    if isinstance(window, dict):
        start, end = window.get("start"), window.get("end")
        if isinstance(start, int | float) and isinstance(end, int | float):
            config["intensityRange"] = [start, end]
        for key in ("min", "max"):
            if isinstance(window.get(key), int | float):
                config[key] = window[key]
    if isinstance(channel.get("inverted"), bool):
        config["isInverted"] = channel["inverted"]
    if isinstance(channel.get("active"), bool):
        config["isDisabled"] = not channel["active"]
    return config or None


def _label_value(entry: Any) -> int | None:
    value = entry.get("label-value") if isinstance(entry, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**64 else None


def image_label_segments(image_label: Any) -> dict[str, dict[str, Any]] | None:
    """OME-NGFF `image-label` -> {str(id): {"color": [r, g, b], "properties": {...}}}.

    Only well-formed entries are kept; None when the metadata gives nothing usable.
    """
    if not isinstance(image_label, dict):
        return None
    out: dict[str, dict[str, Any]] = {}
    colors = image_label.get("colors")
    for entry in colors if isinstance(colors, list) else []:
        sid = _label_value(entry)
        rgba = entry.get("rgba") if sid is not None else None
        if (
            isinstance(rgba, list)
            and len(rgba) in (3, 4)
            and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in rgba)
        ):
            out.setdefault(str(sid), {})["color"] = [int(c) for c in rgba[:3]]
    props = image_label.get("properties")
    for entry in props if isinstance(props, list) else []:
        sid = _label_value(entry)
        if sid is None:
            continue
        extra = {str(k): v for k, v in entry.items() if k != "label-value" and isinstance(v, str | int | float | bool)}
        if extra:
            out.setdefault(str(sid), {})["properties"] = extra
    return out or None


def _declared_largest_segment_id(*docs: Any) -> int | None:
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        for key in ("largestSegmentId", "largest_segment_id"):
            value = doc.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                return value
    return None


async def _fetch_level_meta(
    ctx: ExploreContext, level: SourceURI, zarr_version: int
) -> ZarrArrayMeta:
    name = ".zarray" if zarr_version == 2 else "zarr.json"
    doc = await ctx.fetch_json(level, name)
    if doc is None:
        raise MalformedMetadataError(
            level.url, f"resolution level listed in the multiscales metadata has no {name}"
        )
    return parse_zarray(doc, level.url) if zarr_version == 2 else parse_zarr_json(doc, level.url)


async def _fetch_multiscale_metas(
    ctx: ExploreContext, uri: SourceURI, ome: dict[str, Any], zarr_version: int, where: str
) -> list[list[ZarrArrayMeta]]:
    multiscales = ome.get("multiscales")
    if not isinstance(multiscales, list) or not multiscales:
        raise MalformedMetadataError(where, "multiscales must be a non-empty list")
    jobs: list[list[Any]] = []
    for ms in multiscales:
        if not isinstance(ms, dict):
            raise MalformedMetadataError(where, f"invalid multiscales entry {ms!r}")
        datasets = ms.get("datasets")
        if not isinstance(datasets, list) or not datasets:
            raise MalformedMetadataError(where, "a multiscale needs a non-empty list of datasets")
        paths = []
        for ds in datasets:
            if not isinstance(ds, dict) or not isinstance(ds.get("path"), str):
                raise MalformedMetadataError(where, f"invalid dataset {ds!r}: a dataset needs a path")
            paths.append(ds["path"])
        jobs.append([_fetch_level_meta(ctx, uri.join(p), zarr_version) for p in paths])
    flat = await asyncio.gather(*(j for job in jobs for j in job))
    out: list[list[ZarrArrayMeta]] = []
    i = 0
    for job in jobs:
        out.append(list(flat[i : i + len(job)]))
        i += len(job)
    return out


def _multiscale_layers(
    uri: SourceURI,
    ome: dict[str, Any],
    ms: dict[str, Any],
    metas: list[ZarrArrayMeta],
    *,
    format_name: str,
    default_unit: str,
    dataset_name: str,
    label_name: str | None,
    where: str,
) -> list[LayerSpec]:
    datasets = ms["datasets"]
    first = metas[0]
    ndim = first.ndim
    axes = _parse_axes(ms.get("axes"), ndim, where)
    if len(axes) != ndim:
        raise MalformedMetadataError(
            where, f"{len(axes)} axes {[a.name for a in axes]} but the array {datasets[0]['path']!r} has {ndim} dimensions"
        )
    for ds, meta in zip(datasets, metas, strict=True):
        if meta.ndim != ndim:
            raise MalformedMetadataError(
                uri.join(ds["path"]).url, f"has {meta.ndim} dimensions, the multiscale's first level {ndim}"
            )
        if meta.dtype != first.dtype:
            raise MalformedMetadataError(
                uri.join(ds["path"]).url, f"data type {meta.dtype} differs from the first level's {first.dtype}"
            )
    order, others = _axis_roles(axes, where)
    unit, unit_factors = _space_units(axes, order, default_unit, where)
    element_class = element_class_of(first.dtype, uri.join(datasets[0]["path"]).url)
    for ds, meta in zip(datasets, metas, strict=True):
        validate_readable(meta, uri.join(ds["path"]).url)

    # Scale and translation of every dataset (dataset transforms, then the multiscale's).
    scales: list[list[float]] = []
    translations: list[list[float]] = []
    for ds, meta in zip(datasets, metas, strict=True):
        scale = [1.0] * ndim
        translation = [0.0] * ndim
        had_scale = _compose(ds.get("coordinateTransformations"), ndim, scale, translation, where)
        if not had_scale:  # NGFF <= 0.3: no transforms; derive from the shapes
            scale = [
                first.shape[d] / meta.shape[d] if meta.shape[d] and d in order.values() else 1.0
                for d in range(ndim)
            ]
            translation = [0.0] * ndim
        _compose(ms.get("coordinateTransformations"), ndim, scale, translation, where)
        scales.append(scale)
        translations.append(translation)
    space = [order[k] for k in ("x", "y", "z") if k in order]
    voxel_in_axis_units: list[float] = []
    for d in space:
        finest = min(s[d] for s in scales)
        if finest <= 0:
            raise MalformedMetadataError(where, f"scale of axis {axes[d].name!r} must be positive")
        voxel_in_axis_units.append(finest)
    mags: list[tuple[int, int, int]] = []
    for ds, scale in zip(datasets, scales, strict=True):
        mag = [round(scale[d] / v) for d, v in zip(space, voxel_in_axis_units, strict=True)]
        if len(mag) == 2:
            mag.append(1)
        if not all(_is_power_of_two(m) for m in mag):
            ratio = [_clean(scale[d] / v) for d, v in zip(space, voxel_in_axis_units, strict=True)]
            raise UnsupportedDataError(
                uri.join(ds["path"]).url,
                f"mag {mag} (scale ratio {ratio} to the finest level) is not a power of two per axis",
            )
        mags.append((mag[0], mag[1], mag[2]))
    if len(set(mags)) != len(mags):
        raise MalformedMetadataError(where, f"several datasets have the same mag: {[list(m) for m in mags]}")
    ranked = sorted(range(len(mags)), key=lambda i: (mags[i][0] * mags[i][1] * mags[i][2], mags[i]))
    finest_i = ranked[0]
    finest_meta = metas[finest_i]

    def xyz_shape(meta: ZarrArrayMeta) -> tuple[int, int, int]:
        return (
            meta.shape[order["x"]],
            meta.shape[order["y"]],
            meta.shape[order["z"]] if "z" in order else 1,
        )

    if mags[finest_i] == (1, 1, 1):
        size = xyz_shape(finest_meta)
    else:
        size = tuple(  # type: ignore[assignment]
            max(xyz_shape(metas[i])[k] * mags[i][k] for i in range(len(mags))) for k in range(3)
        )
    voxel_size = (
        _clean(voxel_in_axis_units[0] * unit_factors[0]),
        _clean(voxel_in_axis_units[1] * unit_factors[1]),
        _clean(voxel_in_axis_units[2] * unit_factors[2]) if "z" in order else 1.0,
    )

    # Translation of the finest level, in its voxels -> WEBKNOSSOS affine entry.
    coordinate_transformations: list[dict[str, Any]] | None = None
    t = translations[finest_i]
    offset = [_clean(t[d] / v) for d, v in zip(space, voxel_in_axis_units, strict=True)]
    if len(offset) == 2:
        offset.append(0.0)
    if any(o != 0 for o in offset):
        coordinate_transformations = [
            {
                "type": "affine",
                "matrix": [
                    [1.0, 0.0, 0.0, offset[0]],
                    [0.0, 1.0, 0.0, offset[1]],
                    [0.0, 0.0, 1.0, offset[2]],
                    [0.0, 0.0, 0.0, 1.0],
                ],
            }
        ]

    additional = [
        AdditionalAxis(sanitize_name(axes[d].name) or f"dim{d}", (0, int(finest_meta.shape[d])), d) for d in others
    ]
    channel_count = finest_meta.shape[order["c"]] if "c" in order else 1
    _limits.check_channels(uri.url, channel_count)  # one layer each: refuse absurd counts early

    # Names, categories and view configurations per channel.
    if label_name is not None:
        base = f"labels-{sanitize_name(label_name) or 'labels'}"
        category: Category = "segmentation"
        category_source = "ome-labels"
        omero_channels: list[Any] = []
    else:
        base = sanitize_name(ms.get("name")) or sanitize_name(folder_name(uri)) or "image"
        omero = ome.get("omero")
        raw_channels = omero.get("channels") if isinstance(omero, dict) else None
        omero_channels = raw_channels if isinstance(raw_channels, list) else []
    names: list[str] = []
    for ch in range(channel_count):
        label = omero_channels[ch].get("label") if ch < len(omero_channels) and isinstance(omero_channels[ch], dict) else None
        name = sanitize_name(label) if label is not None else ""
        if not name:
            name = base if channel_count == 1 else f"{base}_c{ch}"
        names.append(name)
    counts = Counter(names)  # linear in channels (names.count was quadratic)
    duplicated = {name for name, n in counts.items() if n > 1}
    names = [f"{name}_c{ch}" if name in duplicated else name for ch, name in enumerate(names)]

    largest = (
        _declared_largest_segment_id(ome.get("image-label"), ms.get("metadata"), ms) if label_name is not None else None
    )
    layers: list[LayerSpec] = []
    for ch in range(channel_count):
        if label_name is None:
            category, category_source = category_from_name(names[ch], element_class)
            if category == "color":
                category, category_source = category_from_name(base, element_class)
        channel_index = ch if "c" in order else None
        layer_mags = [
            MagSpec(mags[i], uri.join(datasets[i]["path"]), dict(order), channel_index, metas[i]) for i in ranked
        ]
        layers.append(
            LayerSpec(
                name=names[ch],
                category=category,
                data_format=first.data_format,
                element_class=element_class,
                bounding_box=BoundingBox((0, 0, 0), size),
                mags=layer_mags,
                num_channels=1,
                voxel_size=voxel_size,
                unit=unit,
                largest_segment_id=largest,
                segment_metadata=image_label_segments(ome.get("image-label")) if label_name is not None else None,
                additional_axes=list(additional),
                default_view_configuration=(
                    view_configuration_from_omero(omero_channels[ch]) if ch < len(omero_channels) else None
                ),
                coordinate_transformations=coordinate_transformations,
                category_source=category_source,
                source_uri=uri.url,
                format_name=format_name,
                dataset_name=dataset_name,
            )
        )
    return layers


def _dataset_name(ome: dict[str, Any], uri: SourceURI) -> str:
    try:
        name = ome["multiscales"][0].get("name")
    except (LookupError, AttributeError, TypeError):
        name = None
    if isinstance(name, str) and sanitize_name(name):
        return name
    return uri.name


async def layers_from_ome_attributes(
    ctx: ExploreContext,
    uri: SourceURI,
    ome: dict[str, Any],
    zarr_version: int,
    *,
    format_name: str,
    default_unit: str = DEFAULT_UNIT,
    dataset_name: str | None = None,
    label_name: str | None = None,
) -> list[LayerSpec]:
    """Layers of one NGFF image given its OME attributes (`.zattrs` content or
    `attributes.ome`); fetches the levels' array metadata concurrently."""
    where = uri.join(".zattrs" if zarr_version == 2 else "zarr.json").url
    metas = await _fetch_multiscale_metas(ctx, uri, ome, zarr_version, where)
    name = dataset_name or _dataset_name(ome, uri)
    layers: list[LayerSpec] = []
    for ms, ms_metas in zip(ome["multiscales"], metas, strict=True):
        layers.extend(
            _multiscale_layers(
                uri,
                ome,
                ms,
                ms_metas,
                format_name=format_name,
                default_unit=default_unit,
                dataset_name=name,
                label_name=label_name,
                where=where,
            )
        )
    return layers


def _ome_of_zarr_json(doc: Any) -> dict[str, Any] | None:
    if not isinstance(doc, dict):
        return None
    attrs = doc.get("attributes")
    if not isinstance(attrs, dict):
        return None
    ome = attrs.get("ome")
    if isinstance(ome, dict):
        return ome
    if "multiscales" in attrs or "labels" in attrs:  # NGFF < 0.5 attributes in a Zarr v3 group
        return attrs
    return None


async def _label_layers(
    ctx: ExploreContext,
    uri: SourceURI,
    zarr_version: int,
    *,
    format_name: str,
    parent_unit: str,
    dataset_name: str,
) -> list[LayerSpec]:
    group_file = "labels/.zattrs" if zarr_version == 2 else "labels/zarr.json"
    try:
        doc = await ctx.fetch_json(uri, group_file)
    except RemoteDatasetError as exc:
        _note(ctx, f"{uri.join(group_file).url}: labels skipped: {exc.cause}")
        return []
    if doc is None:
        return []
    group = doc if zarr_version == 2 else _ome_of_zarr_json(doc)
    labels = group.get("labels") if isinstance(group, dict) else None
    if not isinstance(labels, list) or not all(isinstance(p, str) for p in labels):
        _note(ctx, f"{uri.join(group_file).url}: labels skipped: no list of label paths")
        return []

    async def one(path: str) -> list[LayerSpec]:
        label_uri = uri.join("labels", path)
        image_file = ".zattrs" if zarr_version == 2 else "zarr.json"
        try:
            label_doc = await ctx.fetch_json(label_uri, image_file)
            if label_doc is None:
                raise MalformedMetadataError(label_uri.url, f"label image listed in labels/ has no {image_file}")
            ome = label_doc if zarr_version == 2 else _ome_of_zarr_json(label_doc)
            if not isinstance(ome, dict) or "multiscales" not in ome:
                raise MalformedMetadataError(label_uri.join(image_file).url, "label image has no multiscales")
            return await layers_from_ome_attributes(
                ctx,
                label_uri,
                ome,
                zarr_version,
                format_name=format_name,
                default_unit=parent_unit,
                dataset_name=dataset_name,
                label_name=path,
            )
        except RemoteDatasetError as exc:
            _note(ctx, f"label image {path!r} skipped: {exc}")
            return []

    results = await asyncio.gather(*(one(p) for p in labels))
    return [layer for result in results for layer in result]


def _format_name(ome: dict[str, Any], fallback: str) -> str:
    version = ome.get("version")
    if not isinstance(version, str):
        try:
            version = ome["multiscales"][0].get("version")
        except (LookupError, AttributeError, TypeError):
            version = None
    return f"ngff-{version}" if isinstance(version, str) and version else fallback


async def _explore_image(ctx: ExploreContext, uri: SourceURI, ome: dict[str, Any], zarr_version: int, fallback: str) -> list[LayerSpec]:
    format_name = _format_name(ome, fallback)
    dataset_name = _dataset_name(ome, uri)
    images, labels = await asyncio.gather(
        layers_from_ome_attributes(ctx, uri, ome, zarr_version, format_name=format_name, dataset_name=dataset_name),
        _label_layers(
            ctx,
            uri,
            zarr_version,
            format_name=format_name,
            parent_unit=image_unit(ome),
            dataset_name=dataset_name,
        ),
    )
    return images + labels


async def _explore_bioformats2raw(
    ctx: ExploreContext, uri: SourceURI, zarr_version: int, fallback: str
) -> list[LayerSpec]:
    """A bioformats2raw container: images in the series groups `0`, `1`, ... (listed in
    `OME/`'s `series` when present, else just `0`); navigated by metadata, not listing."""
    meta_name = ".zattrs" if zarr_version == 2 else "zarr.json"
    fetched: list[Any] = await asyncio.gather(
        ctx.fetch_json(uri, f"OME/{meta_name}"), ctx.fetch_json(uri, f"0/{meta_name}")
    )
    ome_doc = fetched[0]
    ome_group = ome_doc if zarr_version == 2 else _ome_of_zarr_json(ome_doc)
    series = ome_group.get("series") if isinstance(ome_group, dict) else None
    if not isinstance(series, list) or not series or not all(isinstance(p, str) for p in series):
        series = ["0"]

    async def one(path: str) -> list[LayerSpec]:
        image = uri.join(path)
        doc = await ctx.fetch_json(image, meta_name)
        ome = doc if zarr_version == 2 else _ome_of_zarr_json(doc)
        if not isinstance(ome, dict) or "multiscales" not in ome:
            _note(ctx, f"{image.url}: bioformats2raw series {path!r} skipped: no multiscale image")
            return []
        return await _explore_image(ctx, image, ome, zarr_version, fallback)

    results = await asyncio.gather(*(one(p) for p in series))
    layers = [layer for result in results for layer in result]
    if not layers:
        raise MalformedMetadataError(uri.join(meta_name).url, "bioformats2raw container without any multiscale image")
    return layers


def _not_an_image(attrs: dict[str, Any], where: str) -> NotThisFormat:
    for key, what in (("plate", "an HCS plate"), ("well", "an HCS well"), ("labels", "a labels group")):
        if key in attrs:
            return NotThisFormat(f"{where} describes {what}, not a multiscale image")
    return NotThisFormat(f"{where} has no multiscales")


async def _explore_v04(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    attrs = await ctx.fetch_json(uri, ".zattrs")
    if attrs is None:
        raise NotThisFormat("no .zattrs")
    if not isinstance(attrs, dict):
        raise NotThisFormat(".zattrs is not a JSON object")
    inner = attrs.get("ome")
    ome: dict[str, Any] = inner if isinstance(inner, dict) and "multiscales" in inner else attrs
    if "multiscales" not in ome:
        if "bioformats2raw.layout" in ome:
            return await _explore_bioformats2raw(ctx, uri, 2, "ngff-0.4")
        raise _not_an_image(attrs, ".zattrs")
    return await _explore_image(ctx, uri, ome, 2, "ngff-0.4")


async def _explore_v05(ctx: ExploreContext, uri: SourceURI) -> list[LayerSpec]:
    doc = await ctx.fetch_json(uri, "zarr.json")
    if doc is None:
        raise NotThisFormat("no zarr.json")
    if not isinstance(doc, dict) or doc.get("zarr_format") != 3:
        raise NotThisFormat("zarr.json is not Zarr v3 metadata")
    if doc.get("node_type") != "group":
        raise NotThisFormat(f"zarr.json describes a {doc.get('node_type')!r} node, not an OME-Zarr group")
    ome = _ome_of_zarr_json(doc)
    if ome is None:
        raise NotThisFormat("zarr.json has no attributes.ome")
    if "multiscales" not in ome:
        if "bioformats2raw.layout" in ome:
            return await _explore_bioformats2raw(ctx, uri, 3, "ngff-0.5")
        raise _not_an_image(ome, "zarr.json attributes.ome")
    return await _explore_image(ctx, uri, ome, 3, "ngff-0.5")


NGFF_V04_EXPLORER = Explorer("ngff-0.4", (".zattrs",), frozenset({"zarr", "zarr2"}), _explore_v04)
NGFF_V05_EXPLORER = Explorer("ngff-0.5", ("zarr.json",), frozenset({"zarr", "zarr3"}), _explore_v05)

EXPLORERS: list[Explorer] = [NGFF_V04_EXPLORER, NGFF_V05_EXPLORER]

# Explore-only: its arrays are Zarr (data formats "zarr"/"zarr3", read by the zarr format).
FORMAT = Format(name="ngff", explorers=tuple(EXPLORERS))
